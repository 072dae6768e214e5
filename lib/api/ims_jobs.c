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

#define BATCH_IMAGES_MAX 100
#define BATCH_PROJECTS_MAX 256

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

/* Submits the job and answers {"job_id": ...}. Takes input. */
static void submit(struct ims_request *req, const char *type, json_t *input)
{
    struct ims_err err = {0};
    char *s = json_dumps(input, JSON_COMPACT);
    json_decref(input);
    char id[65];
    enum ims_rc rc = s ? ims_job_submit(req->svc, req->principal, type, s, id, &err)
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

/* A JSON array of 1..max distinct non-empty strings of at most maxlen
 * characters (duplicates dropped), or NULL after answering 400. */
static json_t *string_set(struct ims_request *req, json_t *body, const char *key, size_t max, size_t maxlen,
                          bool uuid)
{
    json_t *a = json_object_get(body, key);
    char msg[160];
    if (!json_is_array(a) || json_array_size(a) == 0) {
        snprintf(msg, sizeof(msg), "'%s' must be a non-empty array of strings.", key);
        bad(req, "IMG.0001", msg);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > maxlen) {
            snprintf(msg, sizeof(msg), "'%s' must hold strings of 1 to %zu characters.", key, maxlen);
            bad(req, "IMG.0001", msg);
            json_decref(out);
            return NULL;
        }
        if (uuid && !ims_uuid_valid(s)) {
            snprintf(msg, sizeof(msg), "The image ID %.64s is incorrect.", s);
            bad(req, "IMG.0066", msg);
            json_decref(out);
            return NULL;
        }
        bool seen = false;
        size_t k;
        json_t *o;
        json_array_foreach(out, k, o) seen = seen || strcmp(json_string_value(o), s) == 0;
        if (!seen)
            json_array_append_new(out, json_string(s));
    }
    if (json_array_size(out) > max) {
        snprintf(msg, sizeof(msg), "At most %zu entries are allowed in '%s'.", max, key);
        bad(req, "IMG.0001", msg);
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Whether every entry is a well-formed project id; answers 400 IMG.0067
 * (without echoing the entry) when one is not. */
static bool projects_valid(struct ims_request *req, json_t *projects)
{
    size_t i;
    json_t *v;
    json_array_foreach(projects, i, v)
    {
        if (!ims_project_id_valid(json_string_value(v))) {
            bad(req, "IMG.0067", "The project ID is incorrect: 'projects' must hold project IDs.");
            return false;
        }
    }
    return true;
}

void api_ims_members_batch(struct ims_request *req)
{
    if (!req->body.len) {
        bad(req, "IMG.0007", "The request body is empty.");
        return;
    }
    json_t *body = api_json_body(req);
    if (!body)
        return;
    json_t *input = NULL, *images = NULL, *projects = NULL;
    const char *type = NULL;
    if (!json_is_object(body)) {
        bad(req, "IMG.0001", "The request body must be a JSON object.");
        goto out;
    }
    if (!(images = string_set(req, body, "images", BATCH_IMAGES_MAX, IMS_UUID_LEN, true)))
        goto out;
    if (req->method == IMS_PUT) {
        type = IMS_JOB_UPDATE_MEMBERS;
        const char *project = json_string_value(json_object_get(body, "project_id"));
        const char *status = json_string_value(json_object_get(body, "status"));
        json_t *vault = json_object_get(body, "vault_id");
        if (!project || !*project || strlen(project) > IMS_ID_MAX) {
            bad(req, "IMG.0067", "'project_id' must be the ID of your project.");
            goto out;
        }
        if (!ims_streq(project, req->principal->project_id)) {
            bad(req, "IMG.0067", "Only the recipient project (the one of your token) may accept or reject images "
                                 "shared with it.");
            goto out;
        }
        if (!ims_streq(status, "accepted") && !ims_streq(status, "rejected")) {
            bad(req, "IMG.0001", "'status' must be accepted or rejected.");
            goto out;
        }
        if (vault && !json_is_string(vault)) {
            bad(req, "IMG.0001", "'vault_id' must be a string.");
            goto out;
        }
        input = json_pack("{s:O,s:s,s:s}", "images", images, "project_id", project, "status", status);
        if (vault)
            json_object_set(input, "vault_id", vault);
    } else {
        type = req->method == IMS_POST ? IMS_JOB_ADD_MEMBERS : IMS_JOB_DEL_MEMBERS;
        if (!(projects = string_set(req, body, "projects", BATCH_PROJECTS_MAX, IMS_ID_MAX, false)))
            goto out;
        if (!projects_valid(req, projects))
            goto out;
        if (req->method == IMS_POST && json_array_size(projects) == 1 &&
            ims_streq(json_string_value(json_array_get(projects, 0)), req->principal->project_id)) {
            bad(req, "IMG.0076", "You cannot share an image with yourself.");
            goto out;
        }
        input = json_pack("{s:O,s:O}", "images", images, "projects", projects);
    }
    submit(req, type, input);
out:
    json_decref(images);
    json_decref(projects);
    json_decref(body);
}

/* IMS image names: 1-128 characters, letters (any script), digits, spaces,
 * hyphens, underscores and periods; no space at either end. */
static const char *check_name(const char *name)
{
    if (!name || !*name)
        return "IMG.0013";
    size_t n = strlen(name);
    if (n > 128)
        return "IMG.0002";
    if (name[0] == ' ' || name[n - 1] == ' ')
        return "IMG.0003";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!(*p >= 0x80 || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == ' ' || *p == '-' || *p == '_' || *p == '.'))
            return "IMG.0003";
    return NULL;
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
    json_t *jname = json_object_get(body, "name"), *jdesc = json_object_get(body, "description");
    json_t *jep = json_object_get(body, "enterprise_project_id"), *jcmk = json_object_get(body, "cmk_id");
    const char *name = json_string_value(jname), *desc = json_string_value(jdesc);
    const char *code = jname && !name ? "IMG.0003" : check_name(name);
    if (code) {
        bad(req, code, ims_streq(code, "IMG.0013")   ? "The image name is not specified."
                       : ims_streq(code, "IMG.0002") ? "The image name contains more than 128 characters."
                                                     : "The image name format is invalid.");
        goto out;
    }
    if ((jdesc && !json_is_null(jdesc) && !desc) || (desc && strlen(desc) > 1024)) {
        bad(req, "IMG.0004", "The description must be a string of at most 1024 characters.");
        goto out;
    }
    if (desc && strpbrk(desc, "<>\r\n")) {
        bad(req, "IMG.0054", "The image description may not contain angle brackets or line breaks.");
        goto out;
    }
    if (jep && !json_is_null(jep) && !json_is_string(jep)) {
        bad(req, "IMG.0155", "'enterprise_project_id' must be a string.");
        goto out;
    }
    if (jcmk && !json_is_null(jcmk) && (!json_is_string(jcmk) || *json_string_value(jcmk))) {
        bad(req, "IMG.0095", "The KMS key does not exist (this deployment has no key management service).");
        goto out;
    }
    const char *ep = json_string_value(jep);
    struct ims_copy_spec spec = {.name = name, .description = desc, .enterprise_project_id = ep && *ep ? ep : "0"};
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
    json_t *input = json_pack("{s:s,s:s,s:s}", "image_id", ims_req_param(req, 0), "name", name,
                              "enterprise_project_id", spec.enterprise_project_id);
    if (desc && *desc)
        json_object_set_new(input, "description", json_string(desc));
    submit(req, IMS_JOB_COPY_IN_REGION, input);
out:
    json_decref(body);
}
