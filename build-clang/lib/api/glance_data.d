build-clang/lib/api/glance_data.o: lib/api/glance_data.c \
  lib/api/api-int.h include/ims/api.h include/ims/http.h \
  include/ims/base.h include/ims/kv.h include/ims/service.h \
  include/ims/auth.h include/ims/config.h include/ims/db.h \
  include/ims/image.h include/ims/query.h include/ims/patch.h \
  include/ims/store.h include/ims/json_writer.h

lib/api/api-int.h:

include/ims/api.h:

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:

include/ims/service.h:

include/ims/auth.h:

include/ims/config.h:

include/ims/db.h:

include/ims/image.h:

include/ims/query.h:

include/ims/patch.h:

include/ims/store.h:

include/ims/json_writer.h:
