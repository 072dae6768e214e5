build-clang/lib/db/repo_members.o: lib/db/repo_members.c lib/db/db-int.h \
  include/ims/db.h include/ims/base.h include/ims/image.h \
  include/ims/kv.h include/ims/query.h

lib/db/db-int.h:

include/ims/db.h:

include/ims/base.h:

include/ims/image.h:

include/ims/kv.h:

include/ims/query.h:
