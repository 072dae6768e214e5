build-clang/src/imsctl/main.o: src/imsctl/main.c \
  src/imsctl/../common/settings.h include/ims/config.h \
  include/ims/base.h include/ims/service.h include/ims/auth.h \
  include/ims/db.h include/ims/image.h include/ims/kv.h \
  include/ims/query.h include/ims/patch.h include/ims/store.h

src/imsctl/../common/settings.h:

include/ims/config.h:

include/ims/base.h:

include/ims/service.h:

include/ims/auth.h:

include/ims/db.h:

include/ims/image.h:

include/ims/kv.h:

include/ims/query.h:

include/ims/patch.h:

include/ims/store.h:
