build-clang/lib/base/str.o: lib/base/str.c include/ims/base.h

include/ims/base.h:
