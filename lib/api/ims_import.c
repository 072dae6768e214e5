/* SPDX-License-Identifier: Apache-2.0
 * The IMS calls that move image files between imsd and object storage:
 * POST /v2/cloudimages/action with image_url, POST
 * /v2/cloudimages/quickimport/action, POST /v1/cloudimages/dataimages/action,
 * PUT /v1/cloudimages/{image_id}/upload (registration) and POST
 * /v1/cloudimages/{image_id}/file (export). Each authorizes (the route's
 * actions, the target's enterprise project, the object-storage permission),
 * parses its body (include/ims/import_request.h) and checks the rules that
 * need no waiting (include/ims/imports.h), with the reference's IMS error
 * codes. */
#include "api-int.h"
#include "ims/imports.h"

/* The parsed body (NULL when it is not JSON: authorization still runs,
 * the parser then says what is wrong), authorized. false after answering. */
static bool admitted(struct ims_request *req)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    if (req->body.len) {
        json_error_t je;
        body = json_loadb(req->body.data, req->body.len, 0, &je);
    }
    enum ims_rc rc = api_ims_authorize(req, body, &err);
    if (rc == IMS_OK)
        rc = api_ims_authorize_obs(req, body, &err);
    json_decref(body);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return rc == IMS_OK;
}

/* What is checked and valid but whose job is not built yet. */
static void not_yet(struct ims_request *req)
{
    struct ims_err err = {0};
    ims_fail(&err, IMS_E_NOTIMPL, "%s %s is not available yet in this version of imsd.", req->method_name,
             req->route->pattern);
    api_fail(req, IMS_E_NOTIMPL, &err);
}

static void import(struct ims_request *req, enum ims_import_route route)
{
    struct ims_err err = {0};
    struct ims_import_request r;
    enum ims_rc rc = ims_import_request_parse(route, req->body.data, req->body.len, &r, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    rc = ims_import_check(req->svc, req->principal, &r, &err);
    ims_import_request_release(&r);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    not_yet(req);
}

void api_ims_create_image(struct ims_request *req)
{
    /* Without image_url the image comes from a server or a disk: a later
     * issue (api_ims_unavailable authorizes it and answers 501). */
    json_error_t je;
    json_t *body = req->body.len ? json_loadb(req->body.data, req->body.len, 0, &je) : NULL;
    bool from_file = json_is_object(body) && json_object_get(body, "image_url");
    json_decref(body);
    if (!from_file) {
        api_ims_unavailable(req);
        return;
    }
    if (admitted(req))
        import(req, IMS_IMPORT_FILE);
}

void api_ims_quick_import(struct ims_request *req)
{
    if (admitted(req))
        import(req, IMS_IMPORT_QUICK);
}

void api_ims_data_import(struct ims_request *req)
{
    if (admitted(req))
        import(req, IMS_IMPORT_DATA_FILE);
}

void api_ims_register(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_obs_url url;
    enum ims_rc rc = ims_register_request_parse(req->body.data, req->body.len, &url, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_obs_url_release(&url);
    rc = ims_register_check(req->svc, req->principal, ims_req_param(req, 0), &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    not_yet(req);
}

void api_ims_export(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_export_request r;
    enum ims_rc rc = ims_export_request_parse(req->body.data, req->body.len, &r, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    rc = ims_export_check(req->svc, req->principal, ims_req_param(req, 0), &r, &err);
    ims_export_request_release(&r);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    not_yet(req);
}
