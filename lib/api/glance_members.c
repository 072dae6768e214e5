/* SPDX-License-Identifier: Apache-2.0
 * Glance v2 image members; their bodies through a pure parser
 * (api_member_body_parse, fuzzed by fuzz/fuzz_member_bodies.c). */
#include <string.h>

#include "api-int.h"
#include "ims/members.h"

static void member_json(struct ims_jw *w, const struct ims_member *m)
{
    char created[21], updated[21];
    ims_time_iso(m->created_at, created);
    ims_time_iso(m->updated_at, updated);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "created_at", created);
    ims_jw_kstr(w, "image_id", m->image_id);
    ims_jw_kstr(w, "member_id", m->member_id);
    ims_jw_kstr(w, "schema", "/v2/schemas/member");
    ims_jw_kstr(w, "status", m->status);
    ims_jw_kstr(w, "updated_at", updated);
    ims_jw_obj_end(w);
}

static void reply_member(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_member *m)
{
    if (rc != IMS_OK) {
        api_fail(req, rc, err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    member_json(&w, m);
    ims_member_release(m);
}

enum ims_rc api_member_body_parse(const char *data, size_t len, const char *key, char **ret, struct ims_err *err)
{
    json_error_t je;
    json_t *body = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return ims_fail(err, IMS_E_BADREQ, "Malformed JSON in request body: %s (line %d, column %d).", je.text,
                        je.line, je.column);
    json_t *v = json_object_get(body, key); /* NULL when body is no object */
    enum ims_rc rc = IMS_OK;
    if (!json_is_string(v))
        rc = ims_fail(err, IMS_E_BADREQ, "Request body must be a JSON object with a string '%s'.", key);
    else if (strlen(json_string_value(v)) != json_string_length(v))
        rc = ims_fail(err, IMS_E_BADREQ, "Invalid '%s': NUL characters are not allowed.", key);
    else
        *ret = ims_xstrdup(json_string_value(v));
    json_decref(body);
    return rc;
}

/* The body's string field `key`, or NULL after answering 400. */
static char *body_string(struct ims_request *req, const char *key)
{
    char *s = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = api_member_body_parse(req->body.data, req->body.len, key, &s, &err);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return s;
}

void api_members_create(struct ims_request *req)
{
    _cleanup_free_ char *member = body_string(req, "member");
    if (!member)
        return;
    struct ims_member m;
    struct ims_err err = {0};
    enum ims_rc rc = ims_members_add(req->svc, req->principal, ims_req_param(req, 0), member, &m, &err);
    reply_member(req, rc, &err, &m);
}

void api_members_update(struct ims_request *req)
{
    _cleanup_free_ char *status = body_string(req, "status");
    if (!status)
        return;
    struct ims_member m;
    struct ims_err err = {0};
    enum ims_rc rc =
        ims_members_update(req->svc, req->principal, ims_req_param(req, 0), ims_req_param(req, 1), status, &m, &err);
    reply_member(req, rc, &err, &m);
}

void api_members_show(struct ims_request *req)
{
    struct ims_member m;
    struct ims_err err = {0};
    enum ims_rc rc = ims_members_get(req->svc, req->principal, ims_req_param(req, 0), ims_req_param(req, 1), &m, &err);
    reply_member(req, rc, &err, &m);
}

void api_members_list(struct ims_request *req)
{
    struct ims_member *ms = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = ims_members_list(req->svc, req->principal, ims_req_param(req, 0), &ms, &n, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "members");
    for (size_t i = 0; i < n; i++) {
        member_json(&w, &ms[i]);
        ims_member_release(&ms[i]);
    }
    ims_jw_arr_end(&w);
    ims_jw_kstr(&w, "schema", "/v2/schemas/members");
    ims_jw_obj_end(&w);
    free(ms);
}

void api_members_delete(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_members_delete(req->svc, req->principal, ims_req_param(req, 0), ims_req_param(req, 1), &err);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    else
        ims_resp_empty(req, 204);
}
