build-clang/lib/db/db.o: lib/db/db.c lib/db/db-int.h include/ims/db.h \
  include/ims/base.h include/ims/image.h include/ims/kv.h \
  include/ims/query.h

lib/db/db-int.h:

include/ims/db.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:

include/ims/query.h:
