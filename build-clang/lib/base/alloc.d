build-clang/lib/base/alloc.o: lib/base/alloc.c include/ims/base.h

include/ims/base.h:
