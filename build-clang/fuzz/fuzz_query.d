build-clang/fuzz/fuzz_query.o: fuzz/fuzz_query.c fuzz/fuzz.h \
  include/ims/query.h include/ims/base.h include/ims/kv.h

fuzz/fuzz.h:

include/ims/query.h:

include/ims/base.h:

include/ims/kv.h:
