build-clang/tests/unit/test_query.o: tests/unit/test_query.c \
  include/ims/query.h include/ims/base.h include/ims/kv.h

include/ims/query.h:

include/ims/base.h:

include/ims/kv.h:
