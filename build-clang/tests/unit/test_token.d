build-clang/tests/unit/test_token.o: tests/unit/test_token.c \
  include/ims/auth.h include/ims/base.h

include/ims/auth.h:

include/ims/base.h:
