build-clang/lib/db/migrations.o: lib/db/migrations.c lib/db/db-int.h \
  include/ims/db.h include/ims/base.h include/ims/image.h \
  include/ims/kv.h include/ims/query.h

lib/db/db-int.h:

include/ims/db.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:

include/ims/query.h:
