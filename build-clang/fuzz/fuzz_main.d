build-clang/fuzz/fuzz_main.o: fuzz/fuzz_main.c fuzz/fuzz.h

fuzz/fuzz.h:
