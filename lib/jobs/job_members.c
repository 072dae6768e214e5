/* SPDX-License-Identifier: Apache-2.0
 * Batch sharing jobs (reference ims_apis/image_sharing): add, update and
 * delete members of many images at once, through the native member rules
 * of lib/core/members.c. One step per image; each pair's outcome is kept in
 * entities.results, so a resumed job goes on after the last saved image
 * (every operation is repeatable: adding an existing member or removing an
 * absent one changes nothing). */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/members.h"

static json_t *results_of(struct ims_job_ctx *ctx)
{
    json_t *r = json_object_get(ctx->entities, "results");
    if (!json_is_array(r)) {
        r = json_array();
        json_object_set_new(ctx->entities, "results", r);
    }
    return r;
}

static void record(struct ims_job_ctx *ctx, const char *image_id, const char *project_id, const char *code,
                   const char *msg)
{
    json_t *one = json_pack("{s:s,s:s,s:s}", "image_id", image_id, "project_id", project_id, "status",
                            code ? "failed" : "success");
    if (code) {
        json_object_set_new(one, "error_code", json_string(code));
        json_object_set_new(one, "error_msg", json_string(msg));
        if (!ctx->error_code[0])
            ims_job_failf(ctx, code, "%s", msg);
    }
    json_array_append_new(results_of(ctx), one);
}

/* The job fails when any pair failed (error of the first one). */
static enum ims_rc outcome(struct ims_job_ctx *ctx)
{
    return ctx->error_code[0] ? IMS_E_BADREQ : IMS_OK;
}

/* Restores the first failure of a resumed job from its saved results. */
static void restore_failure(struct ims_job_ctx *ctx)
{
    size_t i;
    json_t *r;
    json_array_foreach(results_of(ctx), i, r)
    {
        const char *code = json_string_value(json_object_get(r, "error_code"));
        if (code) {
            ims_job_failf(ctx, code, "%s", json_string_value(json_object_get(r, "error_msg")) ?: "");
            return;
        }
    }
}

typedef void (*pair_fn)(struct ims_job_ctx *ctx, const char *image_id, const char *project_id, const char *status);

static enum ims_rc each_image(struct ims_job_ctx *ctx, json_t *projects, const char *status, pair_fn fn)
{
    json_t *images = json_object_get(ctx->input, "images");
    restore_failure(ctx);
    for (size_t i = (size_t)ctx->job->progress; i < json_array_size(images); i++) {
        const char *image_id = json_string_value(json_array_get(images, i));
        for (size_t k = 0; k < json_array_size(projects); k++)
            fn(ctx, image_id ? image_id : "", json_string_value(json_array_get(projects, k)) ?: "", status);
        if (!ims_job_step(ctx, (int64_t)i + 1))
            return IMS_E_INTERNAL;
    }
    return outcome(ctx);
}

static void add_pair(struct ims_job_ctx *ctx, const char *image_id, const char *project_id, const char *status)
{
    struct ims_err err = {0};
    const char *code = NULL;
    enum ims_rc rc = ims_members_share(ctx->svc, &ctx->principal, image_id, project_id, &code, &err);
    if (rc != IMS_OK)
        record(ctx, image_id, project_id, code, ims_job_err_msg(ctx, rc, &err));
    else
        record(ctx, image_id, project_id, NULL, NULL);
}

static const char *member_code(enum ims_rc rc)
{
    switch (rc) {
    case IMS_E_NOTFOUND: return "IMG.0027";
    case IMS_E_FORBIDDEN: return "IMG.0161";
    default: return "IMG.0001";
    }
}

static void update_pair(struct ims_job_ctx *ctx, const char *image_id, const char *project_id, const char *status)
{
    struct ims_err err = {0};
    struct ims_member m;
    enum ims_rc rc = ims_members_update(ctx->svc, &ctx->principal, image_id, project_id, status, &m, &err);
    if (rc == IMS_OK) {
        ims_member_release(&m);
        record(ctx, image_id, project_id, NULL, NULL);
    } else {
        record(ctx, image_id, project_id, member_code(rc), ims_job_err_msg(ctx, rc, &err));
    }
}

static void delete_pair(struct ims_job_ctx *ctx, const char *image_id, const char *project_id, const char *status)
{
    struct ims_err err = {0};
    struct ims_image img;
    enum ims_rc rc = ims_images_get(ctx->svc, &ctx->principal, image_id, &img, &err);
    if (rc != IMS_OK) {
        record(ctx, image_id, project_id, member_code(rc), ims_job_err_msg(ctx, rc, &err));
        return;
    }
    bool owner = ims_images_can_modify(&ctx->principal, &img);
    ims_image_release(&img);
    if (!owner) {
        record(ctx, image_id, project_id, "IMG.0047",
               "This operation can be performed only by the image owner.");
        return;
    }
    rc = ims_members_delete(ctx->svc, &ctx->principal, image_id, project_id, &err);
    /* Not a member (or the image has no members at all): nothing to stop. */
    if (rc == IMS_OK || rc == IMS_E_NOTFOUND || rc == IMS_E_FORBIDDEN)
        record(ctx, image_id, project_id, NULL, NULL);
    else
        record(ctx, image_id, project_id, member_code(rc), ims_job_err_msg(ctx, rc, &err));
}

enum ims_rc ims_job_members_add(struct ims_job_ctx *ctx)
{
    return each_image(ctx, json_object_get(ctx->input, "projects"), NULL, add_pair);
}

enum ims_rc ims_job_members_delete(struct ims_job_ctx *ctx)
{
    return each_image(ctx, json_object_get(ctx->input, "projects"), NULL, delete_pair);
}

enum ims_rc ims_job_members_update(struct ims_job_ctx *ctx)
{
    json_t *one = json_pack("[O]", json_object_get(ctx->input, "project_id"));
    enum ims_rc rc = each_image(ctx, one, json_string_value(json_object_get(ctx->input, "status")), update_pair);
    json_decref(one);
    return rc;
}
