build-clang/fuzz/fuzz_json_writer.o: fuzz/fuzz_json_writer.c fuzz/fuzz.h \
  include/ims/json_writer.h include/ims/base.h

fuzz/fuzz.h:

include/ims/json_writer.h:

include/ims/base.h:
