build-clang/lib/base/json_writer.o: lib/base/json_writer.c \
  include/ims/json_writer.h include/ims/base.h

include/ims/json_writer.h:

include/ims/base.h:
