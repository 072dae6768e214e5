/* SPDX-License-Identifier: Apache-2.0
 * The IMS calls that make images from servers and their disks: POST
 * /v2/cloudimages/action with instance_id, data_images or volume_id
 * (reference creating_an_image). Each authorizes (the route's actions, the
 * target's enterprise project), parses its body
 * (include/ims/server_request.h), checks what the compute source and the
 * repository can say now (include/ims/server_images.h) and queues the job. */
#include "api-int.h"
#include "ims/jobs.h"
#include "ims/server_images.h"

static bool admitted(struct ims_request *req)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    if (req->body.len) {
        json_error_t je;
        body = json_loadb(req->body.data, req->body.len, 0, &je);
    }
    enum ims_rc rc = api_ims_authorize(req, body, &err);
    json_decref(body);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return rc == IMS_OK;
}

void api_ims_server_image(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_server_image_request r;
    enum ims_rc rc = ims_server_image_request_parse(false, req->body.data, req->body.len, &r, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    char server_id[IMS_COMPUTE_ID_CAP];
    rc = ims_server_image_check(req->svc, req->principal, &r, server_id, &err);
    enum ims_server_image_kind kind = r.kind;
    ims_server_image_request_release(&r);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    /* the job parses the body again; server_id marks the server busy */
    json_error_t je;
    json_t *body = json_loadb(req->body.data, req->body.len, 0, &je);
    json_t *in = json_pack("{s:o}", "body", body ? body : json_object());
    if (server_id[0])
        json_object_set_new(in, IMS_SERVER_JOB_KEY, json_string(server_id));
    const char *type = kind == IMS_SI_SERVER ? IMS_JOB_BY_INSTANCE
                       : kind == IMS_SI_DATA ? IMS_JOB_VOLUMES_TO_DATA
                                             : IMS_JOB_VOLUME_TO_SYSTEM;
    api_ims_submit(req, type, in);
}
