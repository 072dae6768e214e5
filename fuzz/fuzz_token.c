/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: token decoding (X-Auth-Token / X-Subject-Token are client
 * input). A token that decodes must re-encode to the same string. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[IMS_TOKEN_KEY_LEN] = "fuzzing-key-fuzzing-key-fuzzing";
    char *tok = ims_xstrndup((const char *)data, size);
    struct ims_principal p;
    struct ims_err err;
    if (ims_token_decode(key, sizeof(key), tok, 0, &p, &err) == IMS_OK) {
        char again[IMS_TOKEN_MAX + 1];
        if (ims_token_encode(key, sizeof(key), &p, again, sizeof(again)) == 0)
            abort();
    }
    /* Also feed a validly signed token built from the input as claims. */
    struct ims_principal q = {.issued_at = 1, .expires_at = 2};
    size_t n = size < IMS_ID_MAX ? size : IMS_ID_MAX;
    memcpy(q.user_id, data, n);
    q.user_id[n] = 0;
    char signed_tok[IMS_TOKEN_MAX + 1];
    if (ims_token_encode(key, sizeof(key), &q, signed_tok, sizeof(signed_tok))) {
        struct ims_principal back;
        if (ims_token_decode(key, sizeof(key), signed_tok, 1, &back, &err) != IMS_OK ||
            strcmp(back.user_id, q.user_id) != 0)
            abort();
    }
    free(tok);
    return 0;
}
