build-clang/tests/unit/test_router.o: tests/unit/test_router.c \
  include/ims/http.h include/ims/base.h include/ims/kv.h

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:
