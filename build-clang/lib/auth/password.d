build-clang/lib/auth/password.o: lib/auth/password.c include/ims/auth.h \
  include/ims/base.h

include/ims/auth.h:

include/ims/base.h:
