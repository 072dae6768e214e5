build-clang/lib/base/kv.o: lib/base/kv.c include/ims/kv.h \
  include/ims/base.h

include/ims/kv.h:

include/ims/base.h:
