build-clang/tests/unit/test_patch.o: tests/unit/test_patch.c \
  include/ims/patch.h include/ims/base.h include/ims/image.h \
  include/ims/kv.h

include/ims/patch.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:
