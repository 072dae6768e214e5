build-clang/lib/query/filter_expr.o: lib/query/filter_expr.c \
  lib/query/query-int.h include/ims/base.h include/ims/kv.h

lib/query/query-int.h:

include/ims/base.h:

include/ims/kv.h:
