build-clang/lib/store/file.o: lib/store/file.c include/ims/store.h \
  include/ims/base.h include/ims/kv.h

include/ims/store.h:

include/ims/base.h:

include/ims/kv.h:
