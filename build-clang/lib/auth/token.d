build-clang/lib/auth/token.o: lib/auth/token.c include/ims/auth.h \
  include/ims/base.h

include/ims/auth.h:

include/ims/base.h:
