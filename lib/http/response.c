/* SPDX-License-Identifier: Apache-2.0
 * Response helpers for handlers. */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "http-int.h"
#include "ims/json_writer.h"

const char *ims_req_param(struct ims_request *req, size_t i)
{
    return i < req->nparams ? req->params[i] : NULL;
}

void ims_resp_header(struct ims_request *req, const char *name, const char *value)
{
    ims_kvlist_add(&req->resp.headers, name, value);
}

struct ims_buf *ims_resp_json_buf(struct ims_request *req, int status)
{
    req->resp.status = status;
    req->resp.content_type = "application/json";
    ims_buf_reset(&req->resp.body);
    return &req->resp.body;
}

void ims_resp_json(struct ims_request *req, int status, const char *json, size_t len)
{
    ims_buf_add(ims_resp_json_buf(req, status), json, len);
}

void ims_resp_empty(struct ims_request *req, int status)
{
    req->resp.status = status;
    req->resp.content_type = NULL;
    ims_buf_reset(&req->resp.body);
}

const char *ims_http_reason(int status)
{
    const char *r = MHD_get_reason_phrase_for((unsigned)status);
    return r && *r ? r : "Error";
}

void ims_http_keystone_error(struct ims_request *req, int status, const char *message)
{
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "error");
    ims_jw_obj_begin(&w);
    ims_jw_kint(&w, "code", status);
    ims_jw_kstr(&w, "title", ims_http_reason(status));
    ims_jw_kstr(&w, "message", message && *message ? message : ims_http_reason(status));
    ims_jw_obj_end(&w);
    ims_jw_obj_end(&w);
}

void ims_http_error(struct ims_request *req, int status, const char *message)
{
    if (req->route && (req->route->flags & IMS_ROUTE_KEYSTONE_ERRORS)) {
        ims_http_keystone_error(req, status, message);
        return;
    }
    char code[64];
    snprintf(code, sizeof(code), "%d %s", status, ims_http_reason(status));
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "code", code);
    ims_jw_kstr(&w, "title", ims_http_reason(status));
    ims_jw_kstr(&w, "message", message && *message ? message : ims_http_reason(status));
    ims_jw_obj_end(&w);
}
