build-clang/lib/core/images.o: lib/core/images.c include/ims/service.h \
  include/ims/auth.h include/ims/base.h include/ims/config.h \
  include/ims/db.h include/ims/image.h include/ims/kv.h \
  include/ims/query.h include/ims/patch.h include/ims/store.h

include/ims/service.h:

include/ims/auth.h:

include/ims/base.h:

include/ims/config.h:

include/ims/db.h:

include/ims/image.h:

include/ims/kv.h:

include/ims/query.h:

include/ims/patch.h:

include/ims/store.h:
