build-clang/src/common/settings.o: src/common/settings.c \
  src/common/settings.h include/ims/config.h include/ims/base.h

src/common/settings.h:

include/ims/config.h:

include/ims/base.h:
