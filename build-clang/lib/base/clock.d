build-clang/lib/base/clock.o: lib/base/clock.c include/ims/base.h

include/ims/base.h:
