/* SPDX-License-Identifier: Apache-2.0
 * The libFuzzer entry point every target in fuzz/ defines; fuzz_main.c
 * calls it to replay a corpus without libFuzzer. And the checks the targets
 * share. */
#ifndef IMS_FUZZ_H
#define IMS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which, and abort. */
static inline void fuzz_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

/* What the IMS body parsers promise: success, or 400 with an IMS code. */
static inline void fuzz_check_ims_refusal(enum ims_rc rc, const struct ims_err *err)
{
    fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "parsers fail with 400 only");
    if (rc != IMS_OK)
        fuzz_check(err->code[0] && strncmp(err->code, "IMG.", 4) == 0, "a refusal carries an IMS code");
}

#endif
