/* SPDX-License-Identifier: Apache-2.0
 * What the IAM management handlers share: Keystone's error shape, the
 * admission check (IAM admin of the caller's account), the body parsers
 * (lib/api/iam_bodies.c) and query readers answering 400 naming the field,
 * and resource links. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api-int.h"
#include "ims/iam_admin.h"

void api_keystone_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err)
{
    ims_http_keystone_error(req, api_status(rc), api_client_message(req, rc, err));
}

const char *api_iam_domain(struct ims_request *req) { return req->principal->domain_id; }

bool api_iam_admit(struct ims_request *req, const char *action)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_admin_check(req->svc, req->principal, action, &err);
    if (rc == IMS_OK)
        return true;
    api_keystone_fail(req, rc, &err);
    return false;
}

bool api_iam_guarded(struct ims_request *req, enum ims_iam_holder holder, const char *id)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_cloud_roles_guard(req->svc, req->principal, api_iam_domain(req), holder, id, &err);
    if (rc == IMS_OK)
        return true;
    api_keystone_fail(req, rc, &err);
    return false;
}

static bool bad(struct ims_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(struct ims_request *req, const char *fmt, ...)
{
    struct ims_err err;
    char msg[sizeof(err.msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ims_fail(&err, IMS_E_BADREQ, "%s", msg);
    api_keystone_fail(req, IMS_E_BADREQ, &err);
    return false;
}

json_t *api_iam_body(struct ims_request *req, const char *key, json_t **ret_body)
{
    struct ims_err err = {0};
    json_t *obj;
    if (api_iam_body_parse(req->body.data, req->body.len, key, ret_body, &obj, &err) != IMS_OK) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
        return NULL;
    }
    return obj;
}

bool api_iam_query_bool(struct ims_request *req, const char *key, int *ret)
{
    const char *v = ims_kvlist_get(&req->query, key);
    *ret = -1;
    if (!v)
        return true;
    if (!strcasecmp(v, "true") || !strcmp(v, "1"))
        *ret = 1;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0"))
        *ret = 0;
    else
        return bad(req, "Invalid value for query parameter '%s': true or false is required.", key);
    return true;
}

bool api_iam_other_domain_filter(struct ims_request *req)
{
    const char *d = ims_kvlist_get(&req->query, "domain_id");
    return d && !ims_streq(d, api_iam_domain(req));
}

void api_iam_links(struct ims_jw *w, struct ims_request *req, const char *path, const char *id)
{
    _cleanup_free_ char *self = ims_xasprintf("%s%s/%s", ims_req_base_url(req), path, id);
    ims_jw_key(w, "links");
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "self", self);
    ims_jw_obj_end(w);
}

void api_iam_list_links(struct ims_jw *w, struct ims_request *req)
{
    _cleanup_free_ char *self = ims_xasprintf("%s%s", ims_req_base_url(req), req->path);
    ims_jw_key(w, "links");
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "self", self);
    ims_jw_knull(w, "previous");
    ims_jw_knull(w, "next");
    ims_jw_obj_end(w);
}

void api_iam_done(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int status)
{
    if (rc != IMS_OK)
        api_keystone_fail(req, rc, err);
    else
        ims_resp_empty(req, status ? status : 204);
}

void api_iam_reply_one(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int status,
                       const char *key, api_iam_writer write, const void *item)
{
    if (rc != IMS_OK) {
        api_keystone_fail(req, rc, err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, key);
    write(&w, req, item);
    ims_jw_obj_end(&w);
}

void api_iam_reply_list(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, const char *key,
                        api_iam_writer write, const void *items, size_t n, size_t size)
{
    if (rc != IMS_OK) {
        api_keystone_fail(req, rc, err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, key);
    ims_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        write(&w, req, (const char *)items + i * size);
    ims_jw_arr_end(&w);
    api_iam_list_links(&w, req);
    ims_jw_obj_end(&w);
}
