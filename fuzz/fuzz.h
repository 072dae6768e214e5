/* SPDX-License-Identifier: Apache-2.0
 * The libFuzzer entry point every target in fuzz/ defines; fuzz_main.c
 * calls it to replay a corpus without libFuzzer. */
#ifndef IMS_FUZZ_H
#define IMS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
