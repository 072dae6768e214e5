build-clang/lib/query/image_query.o: lib/query/image_query.c \
  include/ims/query.h include/ims/base.h include/ims/kv.h \
  lib/query/query-int.h

include/ims/query.h:

include/ims/base.h:

include/ims/kv.h:

lib/query/query-int.h:
