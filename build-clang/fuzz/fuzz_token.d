build-clang/fuzz/fuzz_token.o: fuzz/fuzz_token.c fuzz/fuzz.h \
  include/ims/auth.h include/ims/base.h

fuzz/fuzz.h:

include/ims/auth.h:

include/ims/base.h:
