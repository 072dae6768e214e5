build-clang/lib/query/patch.o: lib/query/patch.c include/ims/patch.h \
  include/ims/base.h include/ims/image.h include/ims/kv.h

include/ims/patch.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:
