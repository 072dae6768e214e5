/* SPDX-License-Identifier: Apache-2.0
 * Glance's import task (api_image_import) as a job: its id is the task's
 * (a UUID, the image's os_glance_import_task), its input Glance's task
 * input ({"image_id", "import_req", "backend": [stores]}). Steps
 * (ctx->job->progress): 0 the image "importing" (lib/core/glance_import.c
 * checks the lock is still the task's; copy-image's stays active); 1 the
 * data into the default store (glance-direct: the staged file;
 * web-download: the URI's, fetched again when resumed) and the image
 * "active", or, with all_stores_must_succeed and other stores to go,
 * still "importing" (Glance's set_active only for the last store); 2 the
 * data copied to every other store the task names (copy-image: every
 * one; lib/core/image_stores.c), then the image active and the lock
 * dropped (the default store keeps the data only if the task named it). A
 * resumed job repeats its step (the staged data stays until
 * the import commits; a store holding the data is skipped); a job that
 * fails or is abandoned gives the image back to queued (if it was not
 * active yet) with its stores in os_glance_failed_import, as Glance's
 * reverts do. With all_stores_must_succeed false, a store whose copy
 * fails goes into os_glance_failed_import and the task goes on; with it
 * true (the default) a failing task reverts: the copies it made go, and
 * an image not yet active goes back to queued without its data. */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"
#include "ims/glance_import.h"
#include "ims/image.h"
#include "ims/image_stores.h"

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

/* Every store must succeed (Glance's default): a failure reverts the
 * copies made, as Glance's flow reverts each _ImportToStore, and the
 * image becomes active only with the last store's data. */
static bool all_must_succeed(struct ims_job_ctx *ctx)
{
    json_t *req = json_object_get(ctx->input, "import_req");
    return !json_is_false(json_object_get(req, "all_stores_must_succeed"));
}

static enum ims_rc failed(struct ims_job_ctx *ctx, const char *image_id, enum ims_rc rc, const struct ims_err *err)
{
    struct ims_strlist stores = {0};
    stores_of(ctx, &stores);
    ims_glance_import_fail(ctx->svc, image_id, ctx->job->id, &stores, all_must_succeed(ctx));
    ims_strlist_release(&stores);
    return ims_job_failf(ctx, "IMG.0061", "%s", ims_job_err_msg(ctx, rc, err));
}

/* The image is active and no longer locked by the task: a resumed task
 * whose last commit went through before the crash. */
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

/* The task's data is the image's already (a resumed task whose step 1
 * committed before the crash, its step not saved): step 1 is not repeated
 * (its staged data is gone, and a second download would replace it). */
static bool data_in(struct ims_job_ctx *ctx, const char *image_id)
{
    struct ims_image img;
    struct ims_err err = {0};
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), image_id, &img, &err) != IMS_OK)
        return false;
    bool in = ims_glance_import_has_data(&img) &&
              ims_streq(ims_kvlist_get(&img.props, IMS_PROP_IMPORT_TASK), ctx->job->id);
    ims_image_release(&img);
    return in;
}

static bool keep_going(void *arg)
{
    return !ims_job_should_stop(arg);
}

static bool stopping(struct ims_job_ctx *ctx, enum ims_rc rc)
{
    if (rc == IMS_E_BUSY && ims_job_should_stop(ctx)) { /* the engine stops: resumed later, from this step */
        ctx->interrupted = true;
        return true;
    }
    return false;
}

/* Step 1: the data into the default store; the image active. */
static enum ims_rc import_data(struct ims_job_ctx *ctx, const char *image_id, const char *name, json_t *method,
                               struct ims_err *err)
{
    bool set_active = !all_must_succeed(ctx);
    if (ims_streq(name, "glance-direct"))
        return ims_glance_import_staged(ctx->svc, image_id, ctx->job->id, set_active, err);
    if (ims_streq(name, "web-download"))
        return ims_glance_import_web(ctx->svc, image_id, ctx->job->id,
                                     json_string_value(json_object_get(method, "uri")), set_active, keep_going, ctx,
                                     err);
    return ims_fail(err, IMS_E_BADREQ, "Import method %s is not available at this site.", name);
}

/* Step 2: a copy in each store the task names that lacks one. */
static enum ims_rc copy_data(struct ims_job_ctx *ctx, const char *image_id, struct ims_err *err)
{
    bool all_must = all_must_succeed(ctx);
    struct ims_strlist stores = {0};
    stores_of(ctx, &stores);
    enum ims_rc rc = IMS_OK;
    for (size_t i = 0; i < stores.n && rc == IMS_OK; i++) {
        rc = ims_image_copy_to_store(ctx->svc, image_id, ctx->job->id, stores.items[i], keep_going, ctx, err);
        if (rc != IMS_OK && !all_must && !stopping(ctx, rc)) {
            ims_warn("image %s: copy to store %s failed: %s (all_stores_must_succeed is false: going on)", image_id,
                     stores.items[i], err->msg);
            rc = ims_glance_import_store_failed(ctx->svc, image_id, ctx->job->id, stores.items[i], err);
        }
    }
    ims_strlist_release(&stores);
    return rc;
}

/* The data went to the default store first: it stays there only if the
 * task named that store. */
static enum ims_rc drop_unrequested_default(struct ims_job_ctx *ctx, const char *image_id, struct ims_err *err)
{
    const char *ids[1];
    if (ims_glance_stores(ctx->svc, ids, 1) < 1)
        return IMS_OK;
    struct ims_strlist stores = {0};
    stores_of(ctx, &stores);
    bool named = ims_strlist_contains(&stores, ids[0]);
    ims_strlist_release(&stores);
    return named ? IMS_OK : ims_image_unrequested_store_drop(ctx->svc, image_id, ctx->job->id, ids[0], err);
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
    bool copy = ims_streq(name, "copy-image");
    if (ctx->job->progress < 2 && !copy && !data_in(ctx, image_id)) {
        enum ims_rc rc = import_data(ctx, image_id, name, method, &err);
        if (stopping(ctx, rc))
            return rc;
        if (rc != IMS_OK)
            return failed(ctx, image_id, rc, &err);
        if (!ims_job_step(ctx, 2))
            return IMS_E_INTERNAL;
        if (already_done(ctx, image_id)) /* the default store was the only one */
            return IMS_OK;
    }
    enum ims_rc rc = copy_data(ctx, image_id, &err);
    if (rc == IMS_OK && !copy)
        rc = drop_unrequested_default(ctx, image_id, &err);
    if (rc == IMS_OK)
        rc = ims_glance_import_finish(ctx->svc, image_id, ctx->job->id, &err);
    if (stopping(ctx, rc))
        return rc;
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
    ims_glance_import_fail(ctx->svc, image_id, ctx->job->id, &stores, all_must_succeed(ctx));
    ims_strlist_release(&stores);
}
