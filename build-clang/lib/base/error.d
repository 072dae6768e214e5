build-clang/lib/base/error.o: lib/base/error.c include/ims/base.h

include/ims/base.h:
