/* SPDX-License-Identifier: Apache-2.0
 * The request bodies of the IAM management API as pure parsers: bytes in,
 * the fields a handler passes to core out, or IMS_E_BADREQ with the
 * message naming the field. No request, no service: the handlers answer
 * with Keystone's error shape, and fuzz/fuzz_iam_bodies.c runs every
 * parser here on arbitrary bytes. Strings are borrowed from the body. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api-int.h"

static bool refuse(struct ims_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refuse(struct ims_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[sizeof(err->msg)];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ims_fail(err, IMS_E_BADREQ, "%s", msg);
    return false;
}

enum ims_rc api_iam_body_parse(const char *data, size_t len, const char *key, json_t **ret_body, json_t **ret_obj,
                               struct ims_err *err)
{
    json_error_t je;
    json_t *body = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return ims_fail(err, IMS_E_BADREQ, "Malformed JSON in request body: %s (line %d, column %d).", je.text,
                        je.line, je.column);
    json_t *obj = key ? json_object_get(body, key) : body;
    if (!json_is_object(obj)) {
        json_decref(body);
        return key ? ims_fail(err, IMS_E_BADREQ, "Invalid input for field '%s': an object is required.", key)
                   : ims_fail(err, IMS_E_BADREQ, "The request body must be a JSON object.");
    }
    *ret_body = body;
    *ret_obj = obj;
    return IMS_OK;
}

bool api_iam_str(json_t *obj, const char *what, const char *key, const char **ret, struct ims_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_string(v))
        return refuse(err, "Invalid input for field '%s.%s': a string is required.", what, key);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return refuse(err, "Invalid input for field '%s.%s': NUL characters are not allowed.", what, key);
    *ret = s;
    return true;
}

bool api_iam_bool(json_t *obj, const char *what, const char *key, int *ret, struct ims_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return refuse(err, "Invalid input for field '%s.%s': true or false is required.", what, key);
    *ret = json_is_true(v);
    return true;
}

bool api_iam_own_domain(json_t *obj, const char *what, const char *domain, struct ims_err *err)
{
    const char *d = NULL;
    if (!api_iam_str(obj, what, "domain_id", &d, err))
        return false;
    if (d && !ims_streq(d, domain))
        return refuse(err, "Invalid input for field '%s.domain_id': it must be the caller's account.", what);
    return true;
}

bool api_iam_user_parse(json_t *u, const char *domain, struct ims_iam_user_input *in, struct ims_err *err)
{
    *in = (struct ims_iam_user_input){.enabled = -1};
    return api_iam_own_domain(u, "user", domain, err) && api_iam_str(u, "user", "name", &in->name, err) &&
           api_iam_str(u, "user", "password", &in->password, err) &&
           api_iam_str(u, "user", "description", &in->description, err) &&
           api_iam_str(u, "user", "default_project_id", &in->default_project_id, err) &&
           api_iam_bool(u, "user", "enabled", &in->enabled, err);
}

bool api_iam_group_parse(json_t *g, const char *domain, const char **name, const char **description,
                         struct ims_err *err)
{
    *name = *description = NULL;
    return api_iam_own_domain(g, "group", domain, err) && api_iam_str(g, "group", "name", name, err) &&
           api_iam_str(g, "group", "description", description, err);
}

bool api_iam_project_parse(json_t *p, const char *domain, bool create, struct api_iam_project_input *in,
                           struct ims_err *err)
{
    *in = (struct api_iam_project_input){.enabled = -1};
    if (create) {
        if (!api_iam_own_domain(p, "project", domain, err) || !api_iam_str(p, "project", "name", &in->name, err) ||
            !api_iam_str(p, "project", "description", &in->description, err) ||
            !api_iam_str(p, "project", "parent_id", &in->parent_id, err))
            return false;
        if (!in->name)
            return refuse(err, "Invalid input for field 'project.name': it is required.");
        if (in->parent_id && !ims_streq(in->parent_id, domain))
            return refuse(err,
                          "Invalid input for field 'project.parent_id': projects are created under the account.");
        return true;
    }
    if (!api_iam_str(p, "project", "name", &in->name, err) ||
        !api_iam_str(p, "project", "description", &in->description, err) ||
        !api_iam_bool(p, "project", "enabled", &in->enabled, err))
        return false;
    if (!in->name && !in->description && in->enabled < 0)
        return refuse(err, "Invalid input for field 'project': name or description is required.");
    return true;
}

bool api_iam_ep_parse(json_t *b, const char **name, const char **description, const char **type,
                      struct ims_err *err)
{
    *name = *description = *type = NULL;
    return api_iam_str(b, "enterprise_project", "name", name, err) &&
           api_iam_str(b, "enterprise_project", "description", description, err) &&
           api_iam_str(b, "enterprise_project", "type", type, err);
}

int api_iam_ep_action_parse(const char *data, size_t len)
{
    json_t *b = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, NULL);
    const char *action = json_string_value(json_object_get(b, "action"));
    int r = ims_streq(action, "enable") ? 1 : ims_streq(action, "disable") ? 0 : -1;
    json_decref(b);
    return r;
}

bool api_iam_policy_parse(json_t *role, struct ims_iam_policy_input *in, char **doc, struct ims_err *err)
{
    *in = (struct ims_iam_policy_input){0};
    *doc = NULL;
    if (!api_iam_str(role, "role", "display_name", &in->display_name, err) ||
        !api_iam_str(role, "role", "type", &in->type, err) ||
        !api_iam_str(role, "role", "description", &in->description, err))
        return false;
    json_t *policy = json_object_get(role, "policy");
    if (policy && !json_is_object(policy))
        return refuse(err, "Invalid input for field 'role.policy': an object is required.");
    /* Re-serialised for the policy engine and the repository. */
    if (policy)
        in->document = *doc = json_dumps(policy, JSON_COMPACT);
    return true;
}
