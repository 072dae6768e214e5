/* SPDX-License-Identifier: Apache-2.0
 * Glance v2 interoperable import: GET /v2/info/import and /v2/info/stores,
 * DELETE /v2/stores/{store_id}/{image_id},
 * PUT /v2/images/{id}/stage (streamed into the staging area) and POST
 * /v2/images/{id}/import (the image's import lock, then the task's job). */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/config.h"
#include "ims/glance_import.h"
#include "ims/image_stores.h"
#include "ims/import_request.h"
#include "ims/jobs.h"

void api_info_import(struct ims_request *req)
{
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "import-methods");
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "description", "Import methods available.");
    ims_jw_kstr(&w, "type", "array");
    ims_jw_key(&w, "value");
    ims_jw_arr_begin(&w);
    for (const char *const *m = ims_glance_import_methods(req->svc); *m; m++)
        ims_jw_str(&w, *m);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_jw_obj_end(&w);
}

void api_info_stores(struct ims_request *req)
{
    const char *ids[IMS_STORES_MAX];
    size_t n = ims_glance_stores(req->svc, ids, IMS_ARRAY_SIZE(ids));
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "stores");
    for (size_t i = 0; i < n; i++) {
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "id", ids[i]);
        if (i == 0) /* Glance writes the flag as a string */
            ims_jw_kstr(&w, "default", "true");
        ims_jw_obj_end(&w);
    }
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
}

/* DELETE /v2/stores/{store_id}/{image_id}: the image's data in one store
 * removed (Glance 2.10, multi-store only). */
void api_store_image_delete(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc =
        ims_image_delete_from_store(req->svc, req->principal, ims_req_param(req, 0), ims_req_param(req, 1), &err);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    else
        ims_resp_empty(req, 204);
}

/* ---- PUT /v2/images/{image_id}/stage ---- */
static enum ims_rc stage_begin(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    if (!ims_glance_import_method_enabled(req->svc, "glance-direct")) {
        ims_http_error(req, 404, "'glance-direct' method is not available at this site.");
        return IMS_E_NOTFOUND;
    }
    if (!api_content_type_is(req, "application/octet-stream")) {
        rc = ims_fail(&err, IMS_E_MEDIA, "Unsupported Content-Type: image data must be application/octet-stream.");
        goto out;
    }
    int64_t expected = -1;
    const char *cl = ims_req_header(req, "Content-Length");
    if (cl && ims_parse_i64(cl, 0, INT64_MAX, &expected) && expected > req->svc->cfg->max_image_size) {
        rc = ims_fail(&err, IMS_E_TOOLARGE, "The incoming image is too large: %lld bytes is more than the %lld "
                                            "allowed.", (long long)expected, (long long)req->svc->cfg->max_image_size);
        goto out;
    }
    struct ims_stage *s = NULL;
    rc = ims_stage_begin(req->svc, req->principal, ims_req_param(req, 0), cl ? expected : -1, &s, &err);
    req->sink_state = s;
out:
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return rc;
}

static enum ims_rc stage_data(struct ims_request *req, const char *p, size_t n)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_stage_write(req->sink_state, p, n, &err);
    if (rc != IMS_OK) {
        ims_stage_abort(IMS_TAKE_PTR(req->sink_state));
        api_fail(req, rc, &err);
    }
    return rc;
}

static size_t stage_room(struct ims_request *req, void (*wake)(void *arg), void *arg)
{
    return ims_stage_room(req->sink_state, wake, arg);
}

static void stage_end(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_stage_finish(IMS_TAKE_PTR(req->sink_state), &err);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    else
        ims_resp_empty(req, 204);
}

static void stage_abort(struct ims_request *req)
{
    ims_stage_abort(IMS_TAKE_PTR(req->sink_state));
}

const struct ims_body_sink api_images_stage = {
    .begin = stage_begin,
    .data = stage_data,
    .room = stage_room,
    .end = stage_end,
    .abort = stage_abort,
};

/* ---- POST /v2/images/{image_id}/import ---- */
static bool lock_stale(void *ctx, const char *task_id)
{
    return ims_task_stale(ctx, task_id);
}

/* Glance's task input: {"image_id", "import_req": the body as sent,
 * "backend": [the stores]}. */
static char *task_input(struct ims_request *req, const struct ims_glance_import_task *t)
{
    json_t *body = json_loadb(req->body.data, req->body.len, 0, NULL);
    json_t *stores = json_array();
    for (size_t i = 0; i < t->stores.n; i++)
        json_array_append_new(stores, json_string(t->stores.items[i]));
    json_t *in = json_pack("{s:s,s:o,s:o}", "image_id", t->image_id, "import_req", body ? body : json_object(),
                           "backend", stores);
    char *s = in ? json_dumps(in, JSON_COMPACT) : NULL;
    json_decref(in);
    return s;
}

void api_images_import(struct ims_request *req)
{
    struct ims_err err = {0};
    struct ims_glance_import_body body = {0};
    enum ims_rc rc = ims_glance_import_parse(req->body.data, req->body.len, &body, &err);
    if (rc == IMS_OK && !ims_glance_import_method_enabled(req->svc, body.method))
        rc = ims_fail(&err, IMS_E_BADREQ, "Unknown import method name '%s'.", body.method);
    /* Glance filters the URI before it takes the lock (the task filters
     * every hop again when it fetches) */
    if (rc == IMS_OK && ims_streq(body.method, "web-download"))
        rc = ims_glance_web_uri_check(req->svc, body.uri, &err);
    if (rc != IMS_OK) {
        ims_glance_import_body_release(&body);
        api_fail(req, rc, &err);
        return;
    }
    struct ims_glance_import_task t = {.body = &body};
    snprintf(t.image_id, sizeof(t.image_id), "%s", ims_req_param(req, 0));
    ims_uuid_new(t.task_id);
    rc = ims_glance_import_lock(req->svc, req->principal, &t, lock_stale, req->svc, &err);
    if (rc == IMS_OK && t.nothing_to_do) { /* copy-image: every store has it already */
        ims_resp_empty(req, 202);
        ims_glance_import_task_release(&t);
        ims_glance_import_body_release(&body);
        return;
    }
    char *input = rc == IMS_OK ? task_input(req, &t) : NULL;
    if (rc == IMS_OK && !input)
        rc = ims_fail(&err, IMS_E_INTERNAL, "cannot encode the task's input");
    if (rc == IMS_OK) {
        rc = ims_job_submit_as(req->svc, req->principal, IMS_JOB_GLANCE_IMPORT, input, t.task_id, &err);
        if (rc != IMS_OK) /* the lock goes with the task that never was */
            ims_glance_import_unlock(req->svc, t.image_id, t.task_id);
    }
    free(input);
    if (rc == IMS_OK)
        ims_resp_empty(req, 202);
    else
        api_fail(req, rc, &err);
    ims_glance_import_task_release(&t);
    ims_glance_import_body_release(&body);
}
