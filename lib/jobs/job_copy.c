/* SPDX-License-Identifier: Apache-2.0
 * imsCopyImageInRegionJob: replicate an image within the region through
 * lib/core/copy.c. Steps (ctx->job->progress): 0 choose the copy's id and
 * save it; 1 stage the copy (an "importing" row without data, which the API
 * cannot write); 2 give it the source's blob and make it active (a copy
 * found active already must hold the source's data). A resumed job repeats its current step;
 * an abandoned one has its staged row removed. */
#include "jobs-int.h"
#include "ims/authz.h"
#include "ims/copy.h"
#include "ims/image.h"

static void spec_of(struct ims_job_ctx *ctx, struct ims_copy_spec *spec)
{
    spec->name = json_string_value(json_object_get(ctx->input, "name"));
    spec->description = json_string_value(json_object_get(ctx->input, "description"));
    spec->enterprise_project_id = json_string_value(json_object_get(ctx->input, "enterprise_project_id"));
}

static enum ims_rc fail_with(struct ims_job_ctx *ctx, enum ims_rc rc, const char *code, const struct ims_err *err)
{
    bool system = rc == IMS_E_IO || rc == IMS_E_DB || rc == IMS_E_INTERNAL;
    return ims_job_failf(ctx, system || !code ? "IMG.0061" : code, "%s", ims_job_err_msg(ctx, rc, err));
}

/* The copy route's deferred action (spec/api-permissions.tsv): a copy
 * placed in an enterprise project also needs ims:serverImages:create there.
 * Checked at every take, like the job's own actions (job_authz.c). */
static enum ims_rc target_ep_allowed(struct ims_job_ctx *ctx, const struct ims_copy_spec *spec)
{
    if (!spec->enterprise_project_id)
        return IMS_OK;
    static const char action[] = "ims:serverImages:create";
    struct ims_authz_result extra;
    struct ims_err err = {0};
    enum ims_rc rc = ims_authorize(ctx->svc, &ctx->principal, action, true, true, &extra, &err);
    if (rc == IMS_OK && !ims_authz_allows(&extra, spec->enterprise_project_id))
        rc = ims_fail(&err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed.", action);
    ims_authz_result_release(&extra);
    if (rc == IMS_E_FORBIDDEN)
        return ims_job_failf(ctx, "IMG.0161", "You do not have permission: %s", err.msg);
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, "IMG.0061", &err);
}

enum ims_rc ims_job_copy_run(struct ims_job_ctx *ctx)
{
    const char *src_id = json_string_value(json_object_get(ctx->input, "image_id"));
    struct ims_copy_spec spec;
    spec_of(ctx, &spec);
    struct ims_err err = {0};
    if (!src_id || !spec.name)
        return ims_job_failf(ctx, "IMG.0001", "The replication request is incomplete.");
    if (target_ep_allowed(ctx, &spec) != IMS_OK) {
        ims_job_copy_abandon(ctx);
        return IMS_E_FORBIDDEN;
    }
    if (!json_string_value(json_object_get(ctx->entities, "image_id"))) {
        char id[IMS_UUID_LEN + 1];
        ims_uuid_new(id);
        json_object_set_new(ctx->entities, "image_name", json_string(spec.name));
        json_object_set_new(ctx->entities, "image_id", json_string(id));
        if (!ims_job_step(ctx, 1))
            return IMS_E_INTERNAL;
    }
    const char *new_id = json_string_value(json_object_get(ctx->entities, "image_id"));
    if (ctx->job->progress < 2) {
        /* The rules again: the source may have changed since the request. */
        struct ims_image src;
        const char *code = NULL;
        enum ims_rc rc = ims_images_copy_check(ctx->svc, &ctx->principal, src_id, &spec, &src, &code, &err);
        if (rc != IMS_OK)
            return fail_with(ctx, rc, code, &err);
        rc = ims_images_copy_stage(ctx->svc, &ctx->principal, &src, new_id, &spec, &err);
        ims_image_release(&src);
        if (rc != IMS_OK)
            return fail_with(ctx, rc, "IMG.0061", &err);
        if (!ims_job_step(ctx, 2))
            return IMS_E_INTERNAL;
    }
    enum ims_rc rc = ims_images_copy_finish(ctx->svc, src_id, new_id, &err);
    if (rc != IMS_OK) {
        ims_images_copy_abandon(ctx->svc, new_id);
        return fail_with(ctx, rc, rc == IMS_E_NOTFOUND ? "IMG.0027" : "IMG.0061", &err);
    }
    return IMS_OK;
}

void ims_job_copy_abandon(struct ims_job_ctx *ctx)
{
    const char *new_id = json_string_value(json_object_get(ctx->entities, "image_id"));
    if (new_id)
        ims_images_copy_abandon(ctx->svc, new_id);
}
