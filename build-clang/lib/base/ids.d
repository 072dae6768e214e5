build-clang/lib/base/ids.o: lib/base/ids.c include/ims/base.h

include/ims/base.h:
