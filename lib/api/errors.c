/* SPDX-License-Identifier: Apache-2.0
 * The one mapping from core results to HTTP statuses, and request-body
 * helpers every handler shares. */
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
    case IMS_E_NOTIMPL: return 501;
    case IMS_E_IO: return 503;
    case IMS_E_DB:
    case IMS_E_INTERNAL: return 500;
    }
    return 500;
}

void api_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err)
{
    int status = api_status(rc);
    if (status >= 500)
        ims_error("%s %s %s: %s", req->request_id, req->method_name, req->path, err ? err->msg : ims_rc_name(rc));
    if (status == 401)
        ims_resp_header(req, "WWW-Authenticate", "Keystone uri=\"/v3\"");
    ims_http_error(req, status, err && err->msg[0] ? err->msg : ims_rc_name(rc));
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
