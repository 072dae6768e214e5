/* SPDX-License-Identifier: Apache-2.0
 * Glance's import task (api_image_import) as a job: its id is the task's
 * (a UUID, the image's os_glance_import_task), its input Glance's task
 * input ({"image_id", "import_req", "backend": [stores]}). Steps
 * (ctx->job->progress): 0 the image "importing" (lib/core/glance_import.c
 * checks the lock is still the task's); 1 the data into the store
 * (glance-direct: the staged file; web-download: the URI's, fetched again
 * when resumed) and the image "active". A resumed job
 * repeats its step (the staged data stays until the import commits); a job
 * that fails or is abandoned gives the image back to queued with its
 * store in os_glance_failed_import, as Glance's reverts do. */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"
#include "ims/glance_import.h"
#include "ims/image.h"

static void stores_of(struct ims_job_ctx *ctx, struct ims_strlist *ret)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ctx->input, "backend"), i, v)
    {
        if (json_is_string(v))
            ims_strlist_add(ret, json_string_value(v));
    }
}

static enum ims_rc failed(struct ims_job_ctx *ctx, const char *image_id, enum ims_rc rc, const struct ims_err *err)
{
    struct ims_strlist stores = {0};
    stores_of(ctx, &stores);
    ims_glance_import_fail(ctx->svc, image_id, ctx->job->id, &stores);
    ims_strlist_release(&stores);
    return ims_job_failf(ctx, "IMG.0061", "%s", ims_job_err_msg(ctx, rc, err));
}

/* A resumed task whose commit went through before the crash: the image is
 * active and no longer locked by it. */
static bool already_done(struct ims_job_ctx *ctx, const char *image_id)
{
    struct ims_image img;
    struct ims_err err = {0};
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), image_id, &img, &err) != IMS_OK)
        return false;
    bool done = ims_streq(img.status, "active") && img.blob &&
                !ims_streq(ims_kvlist_get(&img.props, IMS_PROP_IMPORT_TASK), ctx->job->id);
    ims_image_release(&img);
    return done;
}

static bool keep_going(void *arg)
{
    return !ims_job_should_stop(arg);
}

enum ims_rc ims_job_glance_import_run(struct ims_job_ctx *ctx)
{
    const char *image_id = json_string_value(json_object_get(ctx->input, "image_id"));
    json_t *method = json_object_get(json_object_get(ctx->input, "import_req"), "method");
    const char *name = json_string_value(json_object_get(method, "name"));
    struct ims_err err = {0};
    if (!image_id || !ims_uuid_valid(image_id) || !name)
        return ims_job_failf(ctx, "IMG.0001", "The task's input is damaged.");
    json_object_set_new(ctx->entities, "image_id", json_string(image_id));
    if (ctx->job->progress < 1) {
        struct ims_strlist stores = {0};
        stores_of(ctx, &stores);
        enum ims_rc rc = ims_glance_import_begin(ctx->svc, image_id, ctx->job->id, &stores, &err);
        ims_strlist_release(&stores);
        if (rc != IMS_OK)
            return failed(ctx, image_id, rc, &err);
        if (!ims_job_step(ctx, 1))
            return IMS_E_INTERNAL;
    }
    if (already_done(ctx, image_id))
        return IMS_OK;
    enum ims_rc rc;
    if (ims_streq(name, "glance-direct"))
        rc = ims_glance_import_staged(ctx->svc, image_id, ctx->job->id, &err);
    else if (ims_streq(name, "web-download"))
        rc = ims_glance_import_web(ctx->svc, image_id, ctx->job->id, json_string_value(json_object_get(method, "uri")),
                                   keep_going, ctx, &err);
    else
        rc = ims_fail(&err, IMS_E_BADREQ, "Import method %s is not available at this site.", name);
    if (rc == IMS_E_BUSY && ims_job_should_stop(ctx)) { /* the engine stops: resumed later, from this step */
        ctx->interrupted = true;
        return rc;
    }
    if (rc != IMS_OK)
        return failed(ctx, image_id, rc, &err);
    return IMS_OK;
}

void ims_job_glance_import_abandon(struct ims_job_ctx *ctx)
{
    const char *image_id = json_string_value(json_object_get(ctx->input, "image_id"));
    if (!image_id)
        return;
    struct ims_strlist stores = {0};
    stores_of(ctx, &stores);
    ims_glance_import_fail(ctx->svc, image_id, ctx->job->id, &stores);
    ims_strlist_release(&stores);
}
