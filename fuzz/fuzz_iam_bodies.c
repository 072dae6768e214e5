/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: every JSON body of the IAM management API, through the
 * parsers its handlers call (lib/api/iam_bodies.c). The first byte chooses
 * the body, the rest is the body as sent:
 *   0 user (POST /v3/users, PATCH /v3/users/{id})
 *   1 group (POST /v3/groups, PATCH /v3/groups/{id})
 *   2 project, create (POST /v3/projects)   3 project, update (PATCH)
 *   4 enterprise project (POST, PUT /v1.0/enterprise-projects)
 *   5 enterprise project action (enable / disable)
 *   6 custom policy (POST, PATCH /v3.0/OS-ROLE/roles): the re-serialised
 *     document then goes to the policy engine, as core does with it.
 * Invariants: a refusal says why in valid text; what is accepted is what the body holds
 * (strings without NUL, the caller's own domain, a document that is JSON). */
#include <stdlib.h>
#include <string.h>

#include "../lib/api/api-int.h"
#include "fuzz.h"
#include "ims/policy.h"

#define DOMAIN "d0main"

static void check(bool ok)
{
    if (!ok)
        abort();
}

/* A string the parser returned: the body's, with no NUL inside. */
static void check_field(json_t *obj, const char *key, const char *got)
{
    if (!got)
        return;
    json_t *v = json_object_get(obj, key);
    check(json_is_string(v) && json_string_value(v) == got && strlen(got) == json_string_length(v));
}

static void check_domain(json_t *obj)
{
    json_t *d = json_object_get(obj, "domain_id");
    check(!d || (json_is_string(d) && strcmp(json_string_value(d), DOMAIN) == 0));
}

static void one(int kind, json_t *obj)
{
    struct ims_err err = {0};
    bool ok;
    if (kind == 0) {
        struct ims_iam_user_input in;
        ok = api_iam_user_parse(obj, DOMAIN, &in, &err);
        if (ok) {
            check_domain(obj);
            check_field(obj, "name", in.name);
            check_field(obj, "password", in.password);
            check_field(obj, "description", in.description);
            check_field(obj, "default_project_id", in.default_project_id);
            check(in.enabled >= -1 && in.enabled <= 1);
        }
    } else if (kind == 1) {
        const char *name, *description;
        ok = api_iam_group_parse(obj, DOMAIN, &name, &description, &err);
        if (ok) {
            check_domain(obj);
            check_field(obj, "name", name);
            check_field(obj, "description", description);
        }
    } else if (kind == 2 || kind == 3) {
        struct api_iam_project_input in;
        ok = api_iam_project_parse(obj, DOMAIN, kind == 2, &in, &err);
        if (ok) {
            check_field(obj, "name", in.name);
            check_field(obj, "description", in.description);
            if (kind == 2) {
                check_domain(obj);
                check(in.name && (!in.parent_id || strcmp(in.parent_id, DOMAIN) == 0));
            } else {
                check(in.name || in.description || in.enabled >= 0);
            }
        }
    } else if (kind == 4) {
        const char *name, *description, *type;
        ok = api_iam_ep_parse(obj, &name, &description, &type, &err);
        if (ok) {
            check_field(obj, "name", name);
            check_field(obj, "description", description);
            check_field(obj, "type", type);
        }
    } else {
        struct ims_iam_policy_input in;
        char *doc = NULL;
        ok = api_iam_policy_parse(obj, &in, &doc, &err);
        if (ok) {
            check_field(obj, "display_name", in.display_name);
            check_field(obj, "type", in.type);
            check_field(obj, "description", in.description);
            check(in.document == doc);
            if (doc) {
                json_t *again = json_loads(doc, 0, NULL);
                check(json_is_object(again));
                json_decref(again);
                struct ims_policy *pol;
                struct ims_err perr = {0};
                if (ims_policy_parse(doc, strlen(doc), &pol, &perr) == IMS_OK)
                    ims_policy_free(pol);
                else
                    check(perr.msg[0] != 0);
            }
        }
        free(doc);
    }
    check(ok || (err.msg[0] != 0 && ims_text_valid(err.msg)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % 7;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (kind == 5) {
        int action = api_iam_ep_action_parse(body, len);
        check(action >= -1 && action <= 1);
        return 0;
    }
    static const char *const keys[] = {"user", "group", "project", "project", NULL, NULL, "role"};
    json_t *root, *obj;
    struct ims_err err = {0};
    if (api_iam_body_parse(body, len, keys[kind], &root, &obj, &err) != IMS_OK) {
        check(err.msg[0] != 0 && ims_text_valid(err.msg));
        return 0;
    }
    check(json_is_object(obj));
    one(kind, obj);
    json_decref(root);
    return 0;
}
