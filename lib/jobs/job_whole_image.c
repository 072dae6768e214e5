/* SPDX-License-Identifier: Apache-2.0
 * Full-ECS images (imsCreateWholeImageByInstanceJob from a server,
 * imsCreateWholeImageByBackupJob from a backup), through
 * lib/core/whole_images.c and import_disk.c.
 *
 * The input is the request as the client sent it (parsed again at every
 * take) and the server or backup it reads. The backup service's action is
 * checked again at every take, like the job's own. Steps
 * (ctx->job->progress): 0 from a server, back it up (the backup's id is
 * saved in entities at once, so a resumed job takes the same backup), then
 * choose the images' ids: the full-ECS image's, and one data-disk image
 * per data disk of the backup (sub-jobs); 1 create them queued; 2 + i
 * make disk i's data from the backup's copy (the system disk into the
 * full-ECS image). A failure removes every image the job made and the
 * backup it made: nothing is left. */
#include <string.h>

#include "jobs-int.h"
#include "ims/authz.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/server_images.h"

static enum ims_rc fail_with(struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err)
{
    bool system = rc == IMS_E_IO || rc == IMS_E_DB || rc == IMS_E_INTERNAL || !err->code[0];
    return ims_job_failf(ctx, system ? "IMG.0061" : err->code, "%s", ims_job_err_msg(ctx, rc, err));
}

static enum ims_rc request_of(struct ims_job_ctx *ctx, struct ims_server_image_request *ret)
{
    json_t *body = json_object_get(ctx->input, "body");
    char *s = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ims_err err = {0};
    enum ims_rc rc = !s ? ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "The job's request is damaged.")
                        : ims_server_image_request_parse(true, s, strlen(s), ret, &err);
    free(s);
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

/* The submitter may still use the backup service as the request needs. */
static enum ims_rc backup_allowed(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    struct ims_authz_result acc;
    struct ims_err err = {0};
    const char *action = ims_whole_backup_action(r);
    enum ims_rc rc = ims_authorize(ctx->svc, &ctx->principal, action, true, false, &acc, &err);
    ims_authz_result_release(&acc);
    if (rc == IMS_E_FORBIDDEN)
        return ims_job_failf(ctx, "IMG.0165", "You do not have permission: %s", err.msg);
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

struct progress {
    struct ims_job_ctx *ctx;
    size_t index, count;
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

static void sub_job_set(struct ims_job_ctx *ctx, size_t i, const char *status, const char *code, const char *reason)
{
    json_t *sj = json_array_get(sub_jobs(ctx), i);
    if (!sj)
        return;
    json_object_set_new(sj, "status", json_string(status));
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

static const char *image_name_of(struct ims_job_ctx *ctx, size_t which)
{
    if (which == 0)
        return json_string_value(json_object_get(ctx->entities, "image_name"));
    json_t *sj = json_array_get(sub_jobs(ctx), which - 1);
    return json_string_value(json_object_get(json_object_get(sj, "entities"), "image_name"));
}

static const char *backup_id_of(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    return r->backup_id ? r->backup_id : json_string_value(json_object_get(ctx->entities, "backup_id"));
}

static size_t disks_of(struct ims_job_ctx *ctx)
{
    return 1 + json_array_size(sub_jobs(ctx));
}

static void choose_ids(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, const struct ims_backup *b)
{
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    json_object_set_new(ctx->entities, "image_name", json_string(r->name));
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    json_object_set_new(ctx->entities, "process_percent", json_integer(0));
    if (b->nvolumes < 2)
        return;
    json_t *subs = json_array(), *list = json_array();
    for (size_t i = 1; i < b->nvolumes; i++) {
        char job_id[33], name[160];
        ims_hexid_new(job_id, 16);
        ims_uuid_new(id);
        snprintf(name, sizeof(name), "%.120s-data%zu", r->name, i);
        json_array_append_new(list, json_string(job_id));
        json_array_append_new(subs, json_pack("{s:s,s:s,s:s,s:n,s:n,s:{s:s,s:s}}", "job_id", job_id, "job_type",
                                              IMS_JOB_IMPORT_DATA_IMAGE, "status", "INIT", "error_code",
                                              "fail_reason", "entities", "image_name", name, "image_id", id));
    }
    json_object_set_new(ctx->entities, "sub_jobs_result", subs);
    json_object_set_new(ctx->entities, "sub_jobs_list", list);
}

/* Removes the images the job made, and the backup it made. */
static void discard_all(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    if (json_object_get(ctx->entities, "image_id"))
        for (size_t i = 0; i < disks_of(ctx); i++)
            ims_import_discard(ctx->svc, image_id_of(ctx, i));
    const char *made = json_string_value(json_object_get(ctx->entities, "backup_id"));
    if (made && (!r || !r->backup_id))
        ims_whole_backup_remove(ctx->svc, made);
}

static enum ims_rc get_backup(struct ims_job_ctx *ctx, const struct ims_server_image_request *r,
                              struct ims_backup *b)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_whole_backup_get(ctx->svc, &ctx->principal, r, backup_id_of(ctx, r), b, &err);
    if (rc == IMS_OK && json_object_get(ctx->entities, "image_id") && b->nvolumes != disks_of(ctx)) {
        ims_backup_release(b);
        rc = ims_fail_code(&err, IMS_E_BADREQ, "IMG.0032", "The backup changed.");
    }
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

/* Step 0. */
static enum ims_rc plan(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    struct ims_err err = {0};
    struct ims_backup b;
    if (!backup_id_of(ctx, r)) {
        enum ims_rc rc = ims_whole_backup_make(ctx->svc, &ctx->principal, r->instance_id, &b, &err);
        if (rc != IMS_OK)
            return fail_with(ctx, rc, &err);
        json_object_set_new(ctx->entities, "backup_id", json_string(b.id));
        ims_backup_release(&b);
        if (!ims_job_step(ctx, 0))
            return IMS_E_BUSY;
    }
    if (get_backup(ctx, r, &b) != IMS_OK)
        return IMS_E_BADREQ;
    choose_ids(ctx, r, &b);
    ims_backup_release(&b);
    return ims_job_step(ctx, 1) ? IMS_OK : IMS_E_BUSY;
}

/* Step 1: the data-disk images first, so the full-ECS image can name them. */
static enum ims_rc create_all(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    struct ims_backup b;
    if (get_backup(ctx, r, &b) != IMS_OK)
        return IMS_E_BADREQ;
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    size_t n = disks_of(ctx);
    char *ids = ims_xstrdup("");
    for (size_t i = 1; i < n && rc == IMS_OK; i++) {
        rc = ims_whole_image_create(ctx->svc, &ctx->principal, r, &b, i, image_id_of(ctx, i), image_name_of(ctx, i),
                                    NULL, &err);
        char *more = ims_xasprintf("%s%s%s", ids, i > 1 ? "," : "", image_id_of(ctx, i));
        free(ids);
        ids = more;
    }
    if (rc == IMS_OK)
        rc = ims_whole_image_create(ctx->svc, &ctx->principal, r, &b, 0, image_id_of(ctx, 0), NULL, ids, &err);
    free(ids);
    ims_backup_release(&b);
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

static enum ims_rc make_one(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, size_t which)
{
    const char *id = image_id_of(ctx, which);
    struct ims_image img;
    struct ims_err err = {0};
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), id, &img, NULL) == IMS_OK) {
        bool active = ims_streq(img.status, "active");
        ims_image_release(&img);
        if (active)
            return IMS_OK;
    }
    if (which > 0)
        sub_job_set(ctx, which - 1, "RUNNING", NULL, NULL);
    struct ims_backup b;
    if (get_backup(ctx, r, &b) != IMS_OK)
        return IMS_E_BADREQ;
    char origin[128];
    snprintf(origin, sizeof(origin), "server_backup,%s", b.id);
    struct progress pg = {.ctx = ctx, .index = which, .count = disks_of(ctx), .last = -1};
    struct ims_import_progress prog = {.report = report, .ctx = &pg};
    /* the backup's copies never change: shared, not copied */
    enum ims_rc rc = ims_disk_import(ctx->svc, id, &b.volumes[which], true, origin, &prog, &err);
    ims_backup_release(&b);
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

enum ims_rc ims_job_whole_image_run(struct ims_job_ctx *ctx)
{
    struct ims_server_image_request r;
    if (request_of(ctx, &r) != IMS_OK)
        return IMS_E_BADREQ;
    enum ims_rc rc = backup_allowed(ctx, &r);
    if (rc != IMS_OK) {
        discard_all(ctx, &r);
        goto out;
    }
    if (!json_object_get(ctx->entities, "image_id")) {
        rc = plan(ctx, &r);
        if (rc != IMS_OK) {
            if (!ctx->interrupted && rc != IMS_E_BUSY)
                discard_all(ctx, &r);
            goto out;
        }
    }
    if (ctx->job->progress < 2) {
        if ((rc = create_all(ctx, &r)) != IMS_OK) {
            discard_all(ctx, &r);
            goto out;
        }
        if (!ims_job_step(ctx, 2)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    for (size_t i = (size_t)ctx->job->progress - 2; i < disks_of(ctx); i++) {
        rc = make_one(ctx, &r, i);
        if (ctx->interrupted)
            goto out;
        if (rc != IMS_OK) {
            discard_all(ctx, &r);
            goto out;
        }
        if (!ims_job_step(ctx, (int64_t)i + 3)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    json_object_set_new(ctx->entities, "process_percent", json_integer(100));
out:
    ims_server_image_request_release(&r);
    return rc;
}

void ims_job_whole_image_abandon(struct ims_job_ctx *ctx)
{
    discard_all(ctx, NULL);
}
