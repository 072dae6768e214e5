/* SPDX-License-Identifier: Apache-2.0
 * The one mapping from core results to HTTP statuses, and request-body
 * helpers every handler shares. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api-int.h"

int api_status(enum ims_rc rc)
{
    switch (rc) {
    case IMS_OK: return 200;
    case IMS_E_BADREQ: return 400;
    case IMS_E_UNAUTH: return 401;
    case IMS_E_FORBIDDEN: return 403;
    case IMS_E_NOTFOUND: return 404;
    case IMS_E_METHOD: return 405;
    case IMS_E_CONFLICT: return 409;
    case IMS_E_TOOLARGE: return 413;
    case IMS_E_MEDIA: return 415;
    case IMS_E_RANGE: return 416;
    case IMS_E_TOOMANY: return 429;
    case IMS_E_BUSY: return 503;
    case IMS_E_NOTIMPL: return 501;
    case IMS_E_IO: return 503;
    case IMS_E_DB:
    case IMS_E_INTERNAL: return 500;
    }
    return 500;
}

void api_ims_fail(struct ims_request *req, int status, const char *code, const char *message)
{
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "error");
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "code", code);
    ims_jw_kstr(&w, "message", message);
    ims_jw_obj_end(&w);
    ims_jw_obj_end(&w);
}

/* IMS routes answer with IMS error codes (spec/ims-error-codes.tsv):
 * the reference reports a missing image as 400 IMG.0027 and a refused
 * permission as 403 IMG.0026. */
static void ims_shape(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, const char *msg)
{
    /* A code the core chose (ims_fail_code) wins; the tsv gives its status. */
    if (err && err->code[0] && rc != IMS_E_FORBIDDEN && rc != IMS_E_NOTIMPL) {
        api_ims_fail(req, api_status(rc) >= 500 ? api_status(rc) : 400, err->code, msg);
        return;
    }
    switch (rc) {
    case IMS_E_FORBIDDEN: api_ims_fail(req, 403, "IMG.0026", msg); return;
    case IMS_E_NOTFOUND: api_ims_fail(req, 400, "IMG.0027", msg); return;
    case IMS_E_NOTIMPL: api_ims_fail(req, 501, "IMG.0105", msg); return;
    default: api_ims_fail(req, api_status(rc), "IMG.0001", msg); return;
    }
}

/* A server-side failure's detail (file paths, SQL, errno text) goes to the
 * log only: the client gets the request id that finds it there. */
const char *api_client_message(struct ims_request *req, enum ims_rc rc, const struct ims_err *err)
{
    const char *msg = err && err->msg[0] ? err->msg : ims_rc_name(rc);
    if (api_status(rc) < 500 || rc == IMS_E_NOTIMPL)
        return msg;
    ims_error("%s %s %s: %s", req->request_id, req->method_name, req->path, msg);
    static _Thread_local char text[160]; /* read by the caller before this thread's next request */
    snprintf(text, sizeof(text),
             "The server could not complete the request; the server log has the cause under request id %s.",
             req->request_id);
    return text;
}

void api_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err)
{
    int status = api_status(rc);
    const char *msg = api_client_message(req, rc, err);
    if (status == 401)
        ims_resp_header(req, "WWW-Authenticate", "Keystone uri=\"/v3\"");
    if (err && err->retry_after && (rc == IMS_E_TOOMANY || rc == IMS_E_BUSY)) {
        char secs[16];
        snprintf(secs, sizeof(secs), "%u", err->retry_after);
        ims_resp_header(req, "Retry-After", secs);
    }
    if (req->route && (req->route->flags & IMS_ROUTE_IMS_ERRORS) && status != 401)
        ims_shape(req, rc, err, msg);
    else
        ims_http_error(req, status, msg);
}

json_t *api_json_body(struct ims_request *req)
{
    json_error_t je;
    json_t *v = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        struct ims_err err;
        ims_fail(&err, IMS_E_BADREQ, "Malformed JSON in request body: %s (line %d, column %d).", je.text, je.line,
                 je.column);
        api_fail(req, IMS_E_BADREQ, &err);
    }
    return v;
}

void api_json_list_begin(struct ims_request *req, struct ims_jw *w, int status, const char *key)
{
    ims_jw_init(w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(w);
    ims_jw_key(w, key);
    ims_jw_arr_begin(w);
}

bool api_content_type_is(struct ims_request *req, const char *type)
{
    const char *ct = ims_req_header(req, "Content-Type");
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}
