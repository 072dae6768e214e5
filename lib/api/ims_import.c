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
#include <string.h>

#include "api-int.h"
#include "ims/imports.h"
#include "ims/jobs.h"

/* The body authorized, the object-storage action included. */
static bool admitted(struct ims_request *req) { return api_ims_admitted(req, true); }

/* The job's input: what the client sent, parsed again by the job with the
 * same rules; plus the image the route names. */
static json_t *input_of(struct ims_request *req, const char *route)
{
    json_error_t je;
    json_t *body = json_loadb(req->body.data, req->body.len, 0, &je);
    json_t *in = json_pack("{s:o}", "body", body ? body : json_object());
    if (route)
        json_object_set_new(in, "route", json_string(route));
    if (strstr(req->route->pattern, "{image_id}"))
        json_object_set_new(in, "image_id", json_string(ims_req_param(req, 0)));
    return in;
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
    /* the files: what can be known now is said now */
    for (size_t i = 0; rc == IMS_OK && i <= r.n_data; i++)
        rc = ims_import_source_check(req->svc, i ? &r.data_images[i - 1].file : &r.image.file, r.quick, &err);
    bool data = r.image.data;
    ims_import_request_release(&r);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    static const char *const names[] = {"file", "quick", "data"};
    api_ims_submit(req, data ? IMS_JOB_IMPORT_DATA_IMAGE : IMS_JOB_IMPORT_IMAGE, input_of(req, names[route]));
}

void api_ims_create_image(struct ims_request *req)
{
    /* Without image_url the image comes from a server or a disk
     * (lib/api/ims_server_images.c). */
    json_error_t je;
    json_t *body = req->body.len ? json_loadb(req->body.data, req->body.len, 0, &je) : NULL;
    bool from_file = json_is_object(body) && json_object_get(body, "image_url");
    json_decref(body);
    if (!from_file) {
        api_ims_server_image(req);
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
    const char *id = ims_req_param(req, 0);
    struct ims_job_alone alone;
    rc = ims_register_check(req->svc, req->principal, id, &err);
    if (rc == IMS_OK) {
        ims_register_alone(id, &alone);
        rc = ims_job_alone_check(req->svc, req->principal, &alone, 1, &err);
    }
    if (rc == IMS_OK)
        rc = ims_import_source_check(req->svc, &url, false, &err);
    ims_obs_url_release(&url);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    /* of concurrent registrations that all passed, one is recorded */
    json_t *input = input_of(req, NULL);
    json_object_set_new(input, IMS_REGISTER_JOB_MARK, json_string(id));
    api_ims_submit_alone(req, IMS_JOB_NATIVE_IMPORT, input, &alone, 1);
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
    const char *id = ims_req_param(req, 0);
    struct ims_job_alone alone;
    rc = ims_export_check(req->svc, req->principal, id, &r, &err);
    if (rc == IMS_OK) {
        ims_export_alone(id, &alone);
        rc = ims_job_alone_check(req->svc, req->principal, &alone, 1, &err);
    }
    if (rc == IMS_OK)
        rc = ims_export_target_check(req->svc, &r.target, &err);
    ims_export_request_release(&r);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    /* of concurrent exports that all passed, one is recorded */
    json_t *input = input_of(req, NULL);
    json_object_set_new(input, IMS_EXPORT_JOB_MARK, json_string(id));
    api_ims_submit_alone(req, IMS_JOB_NATIVE_EXPORT, input, &alone, 1);
}
