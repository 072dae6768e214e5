/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the body of Glance's POST /v2/images/{id}/import
 * (lib/query/glance_import_body.c). Whatever parses must respect the
 * limits (a method name, stores of bounded length and number, no control
 * characters, C1 included); every refusal must be a 400. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/import_request.h"

static bool clean(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && ims_text_valid(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ims_glance_import_body b;
    struct ims_err err = {0};
    enum ims_rc rc = ims_glance_import_parse((const char *)data, size, &b, &err);
    fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "the parser fails with 400 only");
    if (rc != IMS_OK) {
        fuzz_check(err.msg[0] != 0, "a refusal says why");
        return 0;
    }
    fuzz_check(b.method && clean(b.method, 64), "method name");
    fuzz_check(!b.uri || clean(b.uri, IMS_GLANCE_URI_MAX), "uri");
    fuzz_check(b.stores.n <= IMS_GLANCE_STORES_MAX, "store count");
    fuzz_check(!(b.all_stores && b.stores_given), "all_stores excludes stores");
    for (size_t i = 0; i < b.stores.n; i++)
        fuzz_check(clean(b.stores.items[i], IMS_GLANCE_STORE_ID_MAX), "store id");
    ims_glance_import_body_release(&b);
    return 0;
}
