build-clang/lib/core/image.o: lib/core/image.c include/ims/image.h \
  include/ims/base.h include/ims/kv.h

include/ims/image.h:

include/ims/base.h:

include/ims/kv.h:
