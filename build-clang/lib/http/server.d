build-clang/lib/http/server.o: lib/http/server.c include/ims/http.h \
  include/ims/base.h include/ims/kv.h lib/http/http-int.h \
  include/ims/query.h

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:

lib/http/http-int.h:

include/ims/query.h:
