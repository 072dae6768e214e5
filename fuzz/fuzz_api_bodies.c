/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the JSON request bodies handlers parse themselves. First
 * byte selects the parser: even = POST /v3/auth/tokens, odd = POST
 * /v2/images (as a non-admin and as an admin). */
#include <jansson.h>
#include <string.h>

#include "../lib/api/api-int.h"
#include "fuzz.h"
#include "ims/auth.h"
#include "ims/identity.h"
#include "ims/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    json_error_t je;
    json_t *body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return 0;
    struct ims_err err;
    if (data[0] % 2 == 0) {
        struct ims_auth_request ar = {0};
        api_parse_auth(body, &ar, &err);
    } else {
        for (int admin = 0; admin < 2; admin++) {
            struct ims_principal p = {.is_admin = admin != 0};
            strcpy(p.project_id, "p1");
            struct ims_image img;
            ims_image_init(&img);
            api_image_draft(body, &p, &img, &err);
            ims_image_release(&img);
        }
    }
    json_decref(body);
    return 0;
}
