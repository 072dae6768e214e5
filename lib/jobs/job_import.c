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
#include "ims/authz.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"

#define OBS_READ "obs:object:GetObject"
#define OBS_WRITE "obs:object:PutObject"

static const char *const route_names[] = {"file", "quick", "data"};

static enum ims_rc fail_with(struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err)
{
    bool system = rc == IMS_E_IO || rc == IMS_E_DB || rc == IMS_E_INTERNAL || !err->code[0];
    return ims_job_failf(ctx, system ? "IMG.0061" : err->code, "%s", ims_job_err_msg(ctx, rc, err));
}

/* The submitter may still read (import) or write (export) object storage. */
static enum ims_rc obs_allowed(struct ims_job_ctx *ctx, const char *action)
{
    struct ims_authz_result acc;
    struct ims_err err = {0};
    enum ims_rc rc = ims_authorize(ctx->svc, &ctx->principal, action, true, false, &acc, &err);
    ims_authz_result_release(&acc);
    if (rc == IMS_E_FORBIDDEN)
        return ims_job_failf(ctx, "IMG.0161", "You do not have permission: %s", err.msg);
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

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
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

/* Progress of one file, as entities.process_percent over the whole job. */
struct progress {
    struct ims_job_ctx *ctx;
    size_t index, count; /* this file, of count */
    int last;
    int64_t last_ms;
};

static bool report(void *arg, int percent)
{
    struct progress *pg = arg;
    int total = (int)((pg->index * 100 + (size_t)percent) / pg->count);
    int64_t now = ims_job_now_ms();
    if (total == pg->last || (now - pg->last_ms < 1000 && percent < 100))
        return !pg->ctx->interrupted;
    pg->last = total;
    pg->last_ms = now;
    json_object_set_new(pg->ctx->entities, "process_percent", json_integer(total));
    return ims_job_step(pg->ctx, pg->ctx->job->progress);
}

static json_t *sub_jobs(struct ims_job_ctx *ctx)
{
    return json_object_get(ctx->entities, "sub_jobs_result");
}

/* The data disks' sub-jobs, as the reference shows them. */
static void sub_job_set(struct ims_job_ctx *ctx, size_t i, const char *status, const char *code, const char *reason)
{
    json_t *sj = json_array_get(sub_jobs(ctx), i);
    if (!sj)
        return;
    json_object_set_new(sj, "status", json_string(status));
    int64_t now = ims_job_now_ms();
    if (ims_streq(status, "RUNNING") && !json_object_get(sj, "begin_ms"))
        json_object_set_new(sj, "begin_ms", json_integer(now));
    if (ims_streq(status, "SUCCESS") || ims_streq(status, "FAIL"))
        json_object_set_new(sj, "end_ms", json_integer(now));
    json_object_set_new(sj, "error_code", code ? json_string(code) : json_null());
    json_object_set_new(sj, "fail_reason", reason ? json_string(reason) : json_null());
}

static const char *image_id_of(struct ims_job_ctx *ctx, size_t which)
{
    if (which == 0)
        return json_string_value(json_object_get(ctx->entities, "image_id"));
    json_t *sj = json_array_get(sub_jobs(ctx), which - 1);
    return json_string_value(json_object_get(json_object_get(sj, "entities"), "image_id"));
}

static void choose_ids(struct ims_job_ctx *ctx, const struct ims_import_request *r)
{
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    json_object_set_new(ctx->entities, "image_name", json_string(r->image.name));
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    json_object_set_new(ctx->entities, "process_percent", json_integer(0));
    if (!r->n_data)
        return;
    json_t *subs = json_array(), *list = json_array();
    for (size_t i = 0; i < r->n_data; i++) {
        char job_id[33];
        ims_hexid_new(job_id, 16);
        ims_uuid_new(id);
        json_array_append_new(list, json_string(job_id));
        json_array_append_new(subs, json_pack("{s:s,s:s,s:s,s:n,s:n,s:{s:s,s:s}}", "job_id", job_id, "job_type",
                                              IMS_JOB_IMPORT_DATA_IMAGE, "status", "INIT", "error_code",
                                              "fail_reason", "entities", "image_name", r->data_images[i].name,
                                              "image_id", id));
    }
    json_object_set_new(ctx->entities, "sub_jobs_result", subs);
    json_object_set_new(ctx->entities, "sub_jobs_list", list);
}

/* Removes every image the job made (a failed import leaves none). */
static void discard_all(struct ims_job_ctx *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *id = image_id_of(ctx, i);
        if (id)
            ims_import_discard(ctx->svc, id);
    }
}

static size_t images_of(struct ims_job_ctx *ctx)
{
    return 1 + json_array_size(sub_jobs(ctx));
}

static enum ims_rc import_one(struct ims_job_ctx *ctx, const struct ims_import_request *r, size_t which)
{
    const struct ims_import_image *im = which == 0 ? &r->image : &r->data_images[which - 1];
    const char *id = image_id_of(ctx, which);
    struct ims_image img;
    struct ims_err err = {0};
    /* done before a restart */
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), id, &img, NULL) == IMS_OK) {
        bool active = ims_streq(img.status, "active");
        ims_image_release(&img);
        if (active)
            return IMS_OK;
    }
    if (which > 0)
        sub_job_set(ctx, which - 1, "RUNNING", NULL, NULL);
    struct progress pg = {.ctx = ctx, .index = which, .count = images_of(ctx), .last = -1};
    struct ims_import_progress prog = {.report = report, .ctx = &pg};
    struct ims_import_opts o = {.quick = r->quick, .iso = ims_streq(r->type, "IsoImage"), .min_disk = im->min_disk};
    enum ims_rc rc = ims_import_file(ctx->svc, id, &im->file, &o, &prog, &err);
    if (rc == IMS_E_BUSY && ctx->interrupted)
        return rc;
    if (rc != IMS_OK) {
        fail_with(ctx, rc, &err);
        if (which > 0)
            sub_job_set(ctx, which - 1, "FAIL", ctx->error_code, ctx->fail_reason);
        return rc;
    }
    if (which > 0)
        sub_job_set(ctx, which - 1, "SUCCESS", NULL, NULL);
    return IMS_OK;
}

enum ims_rc ims_job_import_run(struct ims_job_ctx *ctx)
{
    struct ims_import_request r;
    if (request_of(ctx, &r) != IMS_OK)
        return IMS_E_BADREQ;
    enum ims_rc rc = obs_allowed(ctx, OBS_READ);
    if (rc != IMS_OK) {
        ims_job_import_abandon(ctx);
        goto out;
    }
    if (!image_id_of(ctx, 0)) {
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
            rc = ims_import_create(ctx->svc, &ctx->principal, &r, i, image_id_of(ctx, i), &err);
        if (rc != IMS_OK) {
            discard_all(ctx, n);
            fail_with(ctx, rc, &err);
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
    discard_all(ctx, image_id_of(ctx, 0) ? images_of(ctx) : 0);
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
    enum ims_rc rc = obs_allowed(ctx, OBS_READ);
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
            struct progress pg = {.ctx = ctx, .index = 0, .count = 1, .last = -1};
            struct ims_import_progress prog = {.report = report, .ctx = &pg};
            struct ims_import_opts o = {.declared = declared, .iso = ims_streq(declared, "iso")};
            rc = ims_import_file(ctx->svc, id, &url, &o, &prog, &err);
        }
        if (rc == IMS_E_NOTFOUND)
            ims_job_failf(ctx, "IMG.0027", "%s", err.msg);
        else if (rc != IMS_OK && !(rc == IMS_E_BUSY && ctx->interrupted))
            fail_with(ctx, rc, &err);
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
        return fail_with(ctx, rc, &err);
    if (obs_allowed(ctx, OBS_WRITE) != IMS_OK) {
        ims_export_request_release(&r);
        return IMS_E_FORBIDDEN;
    }
    rc = ims_export_check(ctx->svc, &ctx->principal, id, &r, &err);
    if (rc == IMS_OK) {
        struct progress pg = {.ctx = ctx, .index = 0, .count = 1, .last = -1};
        struct ims_import_progress prog = {.report = report, .ctx = &pg};
        rc = ims_export_file(ctx->svc, id, &r, &prog, &err);
    }
    ims_export_request_release(&r);
    if (rc == IMS_E_BUSY && ctx->interrupted)
        return rc;
    if (rc != IMS_OK)
        return rc == IMS_E_NOTFOUND ? ims_job_failf(ctx, "IMG.0027", "%s", err.msg) : fail_with(ctx, rc, &err);
    json_object_set_new(ctx->entities, "process_percent", json_integer(100));
    return IMS_OK;
}
