build-clang/tests/unit/test_range.o: tests/unit/test_range.c \
  include/ims/http.h include/ims/base.h include/ims/kv.h

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:
