build-clang/lib/http/range.o: lib/http/range.c lib/http/http-int.h \
  include/ims/http.h include/ims/base.h include/ims/kv.h \
  include/ims/query.h

lib/http/http-int.h:

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:

include/ims/query.h:
