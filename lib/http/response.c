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

/* Glance answers errors with webob's bodies, chosen by the Accept header:
 * text/plain for a client that accepts any type (python-glanceclient sends
 * requests' default, the any-type range, and prints the text), text/html,
 * or the flat JSON {"code", "title", "message"} for a client asking for
 * JSON. glanceclient
 * reads a JSON error body as {"<key>": {"message": ...}}, so the flat JSON
 * made it fail with AttributeError; it is served only on request. */
static void webob_text(struct ims_request *req, int status, const char *message, bool html)
{
    char code[64];
    snprintf(code, sizeof(code), "%d %s", status, ims_http_reason(status));
    req->resp.status = status;
    req->resp.content_type = html ? "text/html; charset=UTF-8" : "text/plain; charset=UTF-8";
    struct ims_buf *b = &req->resp.body;
    ims_buf_reset(b);
    if (!html) { /* webob's plain_body: status, blank line, explanation, <br /><br /> as two newlines */
        ims_buf_adds(b, code);
        ims_buf_adds(b, "\n\n");
        ims_buf_adds(b, message);
        ims_buf_adds(b, "\n\n  ");
        return;
    }
    ims_buf_adds(b, "<html>\n <head>\n  <title>");
    ims_buf_adds(b, code);
    ims_buf_adds(b, "</title>\n </head>\n <body>\n  <h1>");
    ims_buf_adds(b, code);
    ims_buf_adds(b, "</h1>\n  ");
    for (const char *p = message; *p; p++) {
        switch (*p) {
        case '<': ims_buf_adds(b, "&lt;"); break;
        case '>': ims_buf_adds(b, "&gt;"); break;
        case '&': ims_buf_adds(b, "&amp;"); break;
        case '"': ims_buf_adds(b, "&#34;"); break;
        case '\'': ims_buf_adds(b, "&#x27;"); break;
        default: ims_buf_add(b, p, 1);
        }
    }
    ims_buf_adds(b, "<br /><br />\n\n\n </body>\n</html>");
}

void ims_http_error(struct ims_request *req, int status, const char *message)
{
    if (req->route && (req->route->flags & IMS_ROUTE_KEYSTONE_ERRORS)) {
        ims_http_keystone_error(req, status, message);
        return;
    }
    if (!message || !*message)
        message = ims_http_reason(status);
    /* Glance's routes only: the IMS routes (their 401s come here) keep JSON,
     * which IMS clients parse, and so does what fails before any route
     * matched (request heads, caps, unknown paths). */
    if (req->route && !(req->route->flags & IMS_ROUTE_IMS_ERRORS)) {
        static const char *const offers[] = {"text/plain", "text/html", "application/json"};
        size_t chosen = ims_http_accept_choose(ims_req_header(req, "Accept"), offers, 3);
        if (chosen != 2) {
            webob_text(req, status, message, chosen == 1);
            return;
        }
    }
    char code[64];
    snprintf(code, sizeof(code), "%d %s", status, ims_http_reason(status));
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "code", code);
    ims_jw_kstr(&w, "title", ims_http_reason(status));
    ims_jw_kstr(&w, "message", message);
    ims_jw_obj_end(&w);
}
