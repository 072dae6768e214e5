build-clang/lib/query/patch_parse.o: lib/query/patch_parse.c \
  include/ims/patch.h include/ims/base.h include/ims/image.h \
  include/ims/kv.h

include/ims/patch.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:
