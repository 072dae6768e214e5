build-clang/src/imsd/main.o: src/imsd/main.c \
  src/imsd/../common/settings.h include/ims/config.h include/ims/base.h \
  include/ims/api.h include/ims/http.h include/ims/kv.h \
  include/ims/service.h include/ims/auth.h include/ims/db.h \
  include/ims/image.h include/ims/query.h include/ims/patch.h \
  include/ims/store.h

src/imsd/../common/settings.h:

include/ims/config.h:

include/ims/base.h:

include/ims/api.h:

include/ims/http.h:

include/ims/kv.h:

include/ims/service.h:

include/ims/auth.h:

include/ims/db.h:

include/ims/image.h:

include/ims/query.h:

include/ims/patch.h:

include/ims/store.h:
