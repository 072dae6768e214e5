build-clang/lib/http/response.o: lib/http/response.c lib/http/http-int.h \
  include/ims/http.h include/ims/base.h include/ims/kv.h \
  include/ims/query.h include/ims/json_writer.h

lib/http/http-int.h:

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:

include/ims/query.h:

include/ims/json_writer.h:
