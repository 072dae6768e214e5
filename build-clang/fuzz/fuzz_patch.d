build-clang/fuzz/fuzz_patch.o: fuzz/fuzz_patch.c fuzz/fuzz.h \
  include/ims/patch.h include/ims/base.h include/ims/image.h \
  include/ims/kv.h

fuzz/fuzz.h:

include/ims/patch.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:
