/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the Range header parser. Input: 8 bytes of body size, then
 * the header. Checks the invariants a download relies on. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t body;
    memcpy(&body, data, 8);
    body %= (1ULL << 50);
    char *h = ims_xstrndup((const char *)data + 8, size - 8);
    uint64_t first = 0, last = 0;
    if (ims_range_parse(h, body, &first, &last) == IMS_OK) {
        if (!(first <= last && last < body))
            abort();
    }
    free(h);
    return 0;
}
