build-clang/lib/base/buf.o: lib/base/buf.c include/ims/base.h

include/ims/base.h:
