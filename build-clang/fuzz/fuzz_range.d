build-clang/fuzz/fuzz_range.o: fuzz/fuzz_range.c fuzz/fuzz.h \
  include/ims/http.h include/ims/base.h include/ims/kv.h

fuzz/fuzz.h:

include/ims/http.h:

include/ims/base.h:

include/ims/kv.h:
