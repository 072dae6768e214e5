/* SPDX-License-Identifier: Apache-2.0
 * Asynchronous IMS calls: querying a job (GET /v1/{project_id}/jobs/{job_id})
 * and the calls that answer with a job id at once and leave the work to the
 * job engine (lib/jobs/): batch sharing (POST/PUT/DELETE
 * /v1/cloudimages/members) and replication within a region (POST
 * /v1/cloudimages/{image_id}/copy). The request is checked here (shape,
 * rules that need no waiting); everything slow runs in a worker. */
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/copy.h"
#include "ims/image.h"
#include "ims/jobs.h"

static void iso_ms(int64_t ms, char out[32])
{
    char base[21];
    ims_time_iso(ms / 1000, base); /* YYYY-MM-DDTHH:MM:SSZ */
    snprintf(out, 32, "%.19s.%03dZ", base, (int)(ms % 1000));
}

static void job_json(struct ims_jw *w, const struct ims_job *j)
{
    char t[32];
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "job_id", j->id);
    ims_jw_kstr(w, "job_type", j->type);
    iso_ms(j->begin_time ? j->begin_time : j->created_at, t);
    ims_jw_kstr(w, "begin_time", t);
    if (j->end_time) {
        iso_ms(j->end_time, t);
        ims_jw_kstr(w, "end_time", t);
    } else {
        ims_jw_knull(w, "end_time");
    }
    ims_jw_kstr(w, "status", j->status);
    ims_jw_kstr(w, "error_code", j->error_code);
    ims_jw_kstr(w, "fail_reason", j->fail_reason);
    ims_jw_key(w, "entities");
    /* The documented shape from the start: member jobs always carry results. */
    json_error_t je;
    json_t *ent = json_loads(j->entities ? j->entities : "{}", 0, &je);
    if (!json_is_object(ent)) {
        json_decref(ent);
        ent = json_object();
    }
    if (strstr(j->type, "Members") && !json_object_get(ent, "results"))
        json_object_set_new(ent, "results", json_array());
    char *s = json_dumps(ent, JSON_COMPACT);
    ims_jw_raw(w, s ? s : "{}", s ? strlen(s) : 2);
    free(s);
    json_decref(ent);
    ims_jw_obj_end(w);
}

void api_ims_job_show(struct ims_request *req)
{
    struct ims_err err = {0};
    const char *project = ims_req_param(req, 0), *id = ims_req_param(req, 1);
    struct ims_job j;
    /* Another project's job, or a job under another project's URL, does not
     * exist for the caller. */
    enum ims_rc rc = ims_streq(project, req->principal->project_id)
                         ? ims_job_get(req->svc, req->principal, id, &j, &err)
                         : ims_fail(&err, IMS_E_NOTFOUND, "Job %s could not be found.", id);
    if (rc == IMS_E_NOTFOUND) {
        api_ims_fail(req, 404, "IMG.0023", err.msg);
        return;
    }
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    job_json(&w, &j);
    ims_job_release(&j);
}

static void bad(struct ims_request *req, const char *code, const char *msg)
{
    api_ims_fail(req, 400, code, msg);
}

void api_ims_submit(struct ims_request *req, const char *type, json_t *input)
{
    api_ims_submit_alone(req, type, input, NULL, 0);
}

void api_ims_submit_alone(struct ims_request *req, const char *type, json_t *input, const struct ims_job_alone *alone,
                          size_t n_alone)
{
    struct ims_err err = {0};
    char *s = json_dumps(input, JSON_COMPACT);
    json_decref(input);
    char id[65];
    enum ims_rc rc = s ? ims_job_submit_alone(req->svc, req->principal, type, s, alone, n_alone, id, &err)
                       : ims_fail(&err, IMS_E_INTERNAL, "cannot encode the job");
    free(s);
    if (rc != IMS_OK) {
        if (rc == IMS_E_DB || rc == IMS_E_INTERNAL)
            api_ims_fail(req, 500, "IMG.0018", api_client_message(req, rc, &err));
        else
            api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "job_id", id);
    ims_jw_obj_end(&w);
}

void api_ims_members_batch(struct ims_request *req)
{
    struct ims_err err = {0};
    const char *type;
    json_t *input;
    if (api_ims_members_parse(req->body.data, req->body.len, req->method, req->principal->project_id, &type, &input,
                              &err) != IMS_OK) {
        api_fail(req, IMS_E_BADREQ, &err);
        return;
    }
    api_ims_submit(req, type, input);
}

void api_ims_copy(struct ims_request *req)
{
    struct ims_err err = {0};
    if (!req->body.len) {
        bad(req, "IMG.0007", "The request body is empty.");
        return;
    }
    json_t *body = api_json_body(req);
    if (!body)
        return;
    if (!json_is_object(body)) {
        bad(req, "IMG.0001", "The request body must be a JSON object.");
        json_decref(body);
        return;
    }
    /* Authorization first: the image's enterprise project, and
     * ims:serverImages:create where the copy goes. */
    enum ims_rc rc = api_ims_authorize(req, body, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        json_decref(body);
        return;
    }
    struct ims_copy_spec spec;
    if (api_ims_copy_parse(body, &spec, &err) != IMS_OK) {
        api_fail(req, IMS_E_BADREQ, &err);
        goto out;
    }
    struct ims_image src;
    const char *refusal = NULL;
    rc = ims_images_copy_check(req->svc, req->principal, ims_req_param(req, 0), &spec, &src, &refusal, &err);
    if (rc == IMS_E_NOTFOUND || rc == IMS_E_FORBIDDEN) {
        api_fail(req, rc, &err);
        goto out;
    }
    if (rc != IMS_OK) {
        api_ims_fail(req, api_status(rc), refusal ? refusal : "IMG.0001", api_client_message(req, rc, &err));
        goto out;
    }
    ims_image_release(&src);
    json_t *input = json_pack("{s:s,s:s,s:s}", "image_id", ims_req_param(req, 0), "name", spec.name,
                              "enterprise_project_id", spec.enterprise_project_id);
    if (spec.description && *spec.description)
        json_object_set_new(input, "description", json_string(spec.description));
    api_ims_submit(req, IMS_JOB_COPY_IN_REGION, input);
out:
    json_decref(body);
}
