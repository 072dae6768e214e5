build-clang/lib/base/log.o: lib/base/log.c include/ims/base.h

include/ims/base.h:
