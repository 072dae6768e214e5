build-clang/lib/query/query_string.o: lib/query/query_string.c \
  include/ims/query.h include/ims/base.h include/ims/kv.h

include/ims/query.h:

include/ims/base.h:

include/ims/kv.h:
