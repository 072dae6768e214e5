/* SPDX-License-Identifier: Apache-2.0
 * Images from object-storage files (imsImportImageJob,
 * imsImportDataImageJob) and registration (imsNativeImportImageJob),
 * through lib/core/image_import.c and import_file.c.
 *
 * The job's input is the request as the client sent it (route + body,
 * parsed again with the same rules at every take) and the registered
 * image's id. Steps (ctx->job->progress): 0 choose the images' ids and
 * save them in entities; 1 create the queued images; 2 + i import file i
 * (the system disk, then the data disks). A resumed job repeats its current
 * step: an image already active is done, one left in saving by a dead
 * process is queued again by start-up recovery. A failed or abandoned
 * import removes the images it made (registration: the image goes back to
 * queued): nothing partial is left. The object-storage permission is
 * checked again at every take, like the job's own actions. */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"

#define OBS_READ "obs:object:GetObject"
#define OBS_WRITE "obs:object:PutObject"

static const char *const route_names[] = {"file", "quick", "data"};

/* The request again, with the rules it was accepted with. */
static enum ims_rc request_of(struct ims_job_ctx *ctx, struct ims_import_request *ret)
{
    const char *route = json_string_value(json_object_get(ctx->input, "route"));
    json_t *body = json_object_get(ctx->input, "body");
    int which = -1;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(route_names); i++)
        if (ims_streq(route, route_names[i]))
            which = (int)i;
    char *s = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ims_err err = {0};
    enum ims_rc rc = which < 0 || !s ? ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "The job's request is damaged.")
                                     : ims_import_request_parse((enum ims_import_route)which, s, strlen(s), ret, &err);
    free(s);
    return rc == IMS_OK ? IMS_OK : ims_job_fail_with(ctx, rc, &err);
}

static void choose_ids(struct ims_job_ctx *ctx, const struct ims_import_request *r)
{
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    json_object_set_new(ctx->entities, "image_name", json_string(r->image.name));
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    json_object_set_new(ctx->entities, "process_percent", json_integer(0));
    for (size_t i = 0; i < r->n_data; i++)
        ims_job_sub_job_add(ctx, r->data_images[i].name);
}

/* Removes every image the job made (a failed import leaves none). */
static void discard_all(struct ims_job_ctx *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *id = ims_job_image_id(ctx, i);
        if (id)
            ims_import_discard(ctx->svc, id);
    }
}

static size_t images_of(struct ims_job_ctx *ctx)
{
    return 1 + json_array_size(ims_job_sub_jobs(ctx));
}

static enum ims_rc import_one(struct ims_job_ctx *ctx, const struct ims_import_request *r, size_t which)
{
    const struct ims_import_image *im = which == 0 ? &r->image : &r->data_images[which - 1];
    struct ims_err err = {0};
    const char *id = ims_job_image_id(ctx, which);
    if (ims_job_image_active(ctx, which)) { /* done before a restart */
        if (!r->quick) /* a crash may have come between the commit and the checksum job */
            ims_job_checksum_later(ctx, id);
        return IMS_OK;
    }
    if (which > 0)
        ims_job_sub_job_set(ctx, which - 1, "RUNNING", NULL, NULL);
    struct ims_job_progress pg = {.ctx = ctx, .index = which, .count = images_of(ctx), .last = -1};
    struct ims_import_progress prog = {.report = ims_job_progress_report, .ctx = &pg};
    struct ims_import_opts o = {.quick = r->quick, .iso = ims_streq(r->type, "IsoImage"), .min_disk = im->min_disk};
    enum ims_rc rc = ims_import_file(ctx->svc, id, &im->file, &o, &prog, &err);
    rc = ims_job_image_made(ctx, which, rc, &err);
    if (rc == IMS_OK && !r->quick)
        ims_job_checksum_later(ctx, id);
    return rc;
}

enum ims_rc ims_job_import_run(struct ims_job_ctx *ctx)
{
    struct ims_import_request r;
    if (request_of(ctx, &r) != IMS_OK)
        return IMS_E_BADREQ;
    enum ims_rc rc = ims_job_action_allowed(ctx, OBS_READ, "IMG.0161");
    if (rc != IMS_OK) {
        ims_job_import_abandon(ctx);
        goto out;
    }
    if (!ims_job_image_id(ctx, 0)) {
        choose_ids(ctx, &r);
        if (!ims_job_step(ctx, 1)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    size_t n = images_of(ctx);
    if (ctx->job->progress < 2) {
        struct ims_err err = {0};
        for (size_t i = 0; i < n && rc == IMS_OK; i++)
            rc = ims_import_create(ctx->svc, &ctx->principal, &r, i, ims_job_image_id(ctx, i), &err);
        if (rc != IMS_OK) {
            discard_all(ctx, n);
            ims_job_fail_with(ctx, rc, &err);
            goto out;
        }
        if (!ims_job_step(ctx, 2)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    for (size_t i = (size_t)ctx->job->progress - 2; i < n; i++) {
        rc = import_one(ctx, &r, i);
        if (ctx->interrupted)
            goto out;
        if (rc != IMS_OK) {
            discard_all(ctx, n);
            goto out;
        }
        if (!ims_job_step(ctx, (int64_t)i + 3)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    json_object_set_new(ctx->entities, "process_percent", json_integer(100));
out:
    ims_import_request_release(&r);
    return rc;
}

void ims_job_import_abandon(struct ims_job_ctx *ctx)
{
    discard_all(ctx, ims_job_image_id(ctx, 0) ? images_of(ctx) : 0);
}

/* ---- registration ---- */

enum ims_rc ims_job_register_run(struct ims_job_ctx *ctx)
{
    const char *id = json_string_value(json_object_get(ctx->input, "image_id"));
    json_t *body = json_object_get(ctx->input, "body");
    char *bs = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ims_err err = {0};
    struct ims_obs_url url = {0};
    if (!id || !bs || ims_register_request_parse(bs, strlen(bs), &url, &err) != IMS_OK) {
        free(bs);
        return ims_job_failf(ctx, "IMG.0001", "The job's request is damaged.");
    }
    free(bs);
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    enum ims_rc rc = ims_job_action_allowed(ctx, OBS_READ, "IMG.0161");
    struct ims_image img;
    char *declared = NULL, origin[2200];
    snprintf(origin, sizeof(origin), "file,%s:%s", url.bucket, url.object);
    if (rc == IMS_OK) {
        /* the rules again: the image may have changed since the request */
        rc = ims_images_get(ctx->svc, &ctx->principal, id, &img, &err);
        if (rc == IMS_OK) {
            /* registered before a restart, by this job's file */
            bool done = ims_streq(img.status, "active") &&
                        ims_streq(ims_kvlist_get(&img.props, "__data_origin"), origin);
            declared = img.disk_format ? ims_xstrdup(img.disk_format) : NULL;
            ims_image_release(&img);
            if (done)
                goto out;
            rc = ims_register_check(ctx->svc, &ctx->principal, id, &err);
        }
        if (rc == IMS_OK) {
            struct ims_job_progress pg = {.ctx = ctx, .index = 0, .count = 1, .last = -1};
            struct ims_import_progress prog = {.report = ims_job_progress_report, .ctx = &pg};
            struct ims_import_opts o = {.declared = declared, .iso = ims_streq(declared, "iso")};
            rc = ims_import_file(ctx->svc, id, &url, &o, &prog, &err);
            if (rc == IMS_OK)
                ims_job_checksum_later(ctx, id);
        }
        if (rc == IMS_E_NOTFOUND)
            ims_job_failf(ctx, "IMG.0027", "%s", err.msg);
        else if (rc != IMS_OK && !(rc == IMS_E_BUSY && ctx->interrupted))
            ims_job_fail_with(ctx, rc, &err);
    }
out:
    free(declared);
    ims_obs_url_release(&url);
    if (rc == IMS_OK)
        json_object_set_new(ctx->entities, "process_percent", json_integer(100));
    return rc;
}

/* ---- export ---- */

enum ims_rc ims_job_export_run(struct ims_job_ctx *ctx)
{
    const char *id = json_string_value(json_object_get(ctx->input, "image_id"));
    json_t *body = json_object_get(ctx->input, "body");
    char *bs = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!id || !bs) {
        free(bs);
        return ims_job_failf(ctx, "IMG.0001", "The job's request is damaged.");
    }
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    struct ims_err err = {0};
    struct ims_export_request r;
    enum ims_rc rc = ims_export_request_parse(bs, strlen(bs), &r, &err);
    free(bs);
    if (rc != IMS_OK)
        return ims_job_fail_with(ctx, rc, &err);
    if (ims_job_action_allowed(ctx, OBS_WRITE, "IMG.0161") != IMS_OK) {
        ims_export_request_release(&r);
        return IMS_E_FORBIDDEN;
    }
    rc = ims_export_check(ctx->svc, &ctx->principal, id, &r, &err);
    if (rc == IMS_OK) {
        struct ims_job_progress pg = {.ctx = ctx, .index = 0, .count = 1, .last = -1};
        struct ims_import_progress prog = {.report = ims_job_progress_report, .ctx = &pg};
        /* the job's id marks the object, so a resumed job knows its own */
        rc = ims_export_file(ctx->svc, id, &r, ctx->job->id, ctx->job->attempts > 1, &prog, &err);
    }
    ims_export_request_release(&r);
    if (rc == IMS_E_BUSY && ctx->interrupted)
        return rc;
    if (rc != IMS_OK)
        return rc == IMS_E_NOTFOUND ? ims_job_failf(ctx, "IMG.0027", "%s", err.msg) : ims_job_fail_with(ctx, rc, &err);
    json_object_set_new(ctx->entities, "process_percent", json_integer(100));
    return IMS_OK;
}
