/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the Glance image member bodies, through the parser their
 * handlers call (api_member_body_parse, lib/api/glance_members.c). The
 * first byte chooses the body, the rest is the body as sent:
 *   even  POST /v2/images/{id}/members          {"member": "<project id>"}
 *   odd   PUT /v2/images/{id}/members/{member}  {"status": "accepted"}
 * Invariants: a refusal is a 400 that says why in valid text; what is
 * accepted is the body's string, whole (no NUL inside), and then passes
 * through the same checks core applies without harm. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/api/api-int.h"
#include "fuzz.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *key = data[0] % 2 ? "status" : "member";
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *got = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = api_member_body_parse(body, len, key, &got, &err);
    if (rc != IMS_OK) {
        check(rc == IMS_E_BADREQ && got == NULL && err.msg[0] && ims_text_valid(err.msg));
        return 0;
    }
    /* The accepted value is the body's: parse it again and compare. */
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    check(j != NULL);
    json_t *v = json_object_get(j, key);
    check(json_is_string(v) && strlen(got) == json_string_length(v) && strcmp(got, json_string_value(v)) == 0);
    json_decref(j);
    /* what core then asks of it */
    (void)ims_project_id_valid(got);
    (void)ims_text_valid(got);
    free(got);
    return 0;
}
