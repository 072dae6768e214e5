/* SPDX-License-Identifier: Apache-2.0
 * The IMS calls that make images from servers and their disks: POST
 * /v2/cloudimages/action with instance_id, data_images or volume_id
 * (reference creating_an_image), and full-ECS images, POST
 * /v1/cloudimages/wholeimages/action (creating_a_full-ecs_image). Each
 * authorizes (the route's actions, the target's enterprise project; for
 * full-ECS images the backup service's action too), parses its body
 * (include/ims/server_request.h), checks what the compute source and the
 * repository can say now (include/ims/server_images.h) and queues the job. */
#include "api-int.h"
#include "ims/authz.h"
#include "ims/jobs.h"
#include "ims/server_images.h"

static bool admitted(struct ims_request *req) { return api_ims_admitted(req, false); }

/* The backup service's action the full-ECS request needs, evaluated by
 * the policy engine on the caller's project grants, as the object-storage
 * actions are (api_ims_authorize_obs). */
static enum ims_rc backup_authorize(struct ims_request *req, const struct ims_server_image_request *r,
                                    struct ims_err *err)
{
    const char *action = ims_whole_backup_action(r);
    struct ims_authz_result acc;
    enum ims_rc rc = ims_authorize(req->svc, req->principal, action, true, false, &acc, err);
    ims_authz_result_release(&acc);
    if (rc == IMS_E_FORBIDDEN)
        ims_fail(err, rc, "Policy doesn't allow %s to be performed.", action);
    return rc;
}

static void create(struct ims_request *req, bool whole)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_server_image_request r;
    enum ims_rc rc = ims_server_image_request_parse(whole, req->body.data, req->body.len, &r, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    if (whole)
        rc = backup_authorize(req, &r, &err);
    char server_id[IMS_COMPUTE_ID_CAP];
    if (rc == IMS_OK)
        rc = ims_server_image_check(req->svc, req->principal, &r, server_id, &err);
    enum ims_server_image_kind kind = r.kind;
    char *backup_id = r.backup_id ? ims_xstrdup(r.backup_id) : NULL;
    struct ims_job_alone alone[2];
    size_t n_alone = rc == IMS_OK ? ims_server_image_alone(&r, server_id, alone) : 0;
    ims_server_image_request_release(&r);
    if (rc != IMS_OK) {
        free(backup_id);
        api_fail(req, rc, &err);
        return;
    }
    /* the job parses the body again; server_id marks the server busy */
    json_error_t je;
    json_t *body = json_loadb(req->body.data, req->body.len, 0, &je);
    json_t *in = json_pack("{s:o}", "body", body ? body : json_object());
    if (server_id[0])
        json_object_set_new(in, IMS_SERVER_JOB_KEY, json_string(server_id));
    if (backup_id) /* one full-ECS image per backup: taken while the job runs */
        json_object_set_new(in, IMS_BACKUP_JOB_KEY, json_string(backup_id));
    free(backup_id);
    static const char *const types[] = {
        [IMS_SI_SERVER] = IMS_JOB_BY_INSTANCE, [IMS_SI_DATA] = IMS_JOB_VOLUMES_TO_DATA,
        [IMS_SI_VOLUME] = IMS_JOB_VOLUME_TO_SYSTEM, [IMS_SI_WHOLE_SERVER] = IMS_JOB_WHOLE_BY_INSTANCE,
        [IMS_SI_WHOLE_BACKUP] = IMS_JOB_WHOLE_BY_BACKUP,
    };
    api_ims_submit_alone(req, types[kind], in, alone, n_alone);
}

void api_ims_server_image(struct ims_request *req)
{
    create(req, false);
}

void api_ims_whole_image(struct ims_request *req)
{
    create(req, true);
}
