build-clang/lib/db/sqlite.o: lib/db/sqlite.c include/ims/db.h \
  include/ims/base.h include/ims/image.h include/ims/kv.h \
  include/ims/query.h

include/ims/db.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:

include/ims/query.h:
