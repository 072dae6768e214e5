/* SPDX-License-Identifier: Apache-2.0
 * Full-ECS images (imsCreateWholeImageByInstanceJob from a server,
 * imsCreateWholeImageByBackupJob from a backup), through
 * lib/core/whole_images.c and import_disk.c.
 *
 * The input is the request as the client sent it (parsed again at every
 * take) and the server or backup it reads. The backup service's action is
 * checked again at every take, like the job's own. Steps
 * (ctx->job->progress): 0 from a server, choose the backup's id and save
 * it in entities, then back the server up as that backup (a job killed
 * before, while or after the backup is made finds it again, or removes it
 * when it fails: no backup is left behind), then
 * choose the images' ids: the full-ECS image's, and one data-disk image
 * per data disk of the backup (sub-jobs); 1 create them queued; 2 + i
 * make disk i's data from the backup's copy (the system disk into the
 * full-ECS image). A failure removes every image the job made and the
 * backup it made: nothing is left. */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/server_images.h"

static const char *backup_id_of(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    return r->backup_id ? r->backup_id : json_string_value(json_object_get(ctx->entities, "backup_id"));
}

static size_t disks_of(struct ims_job_ctx *ctx)
{
    return 1 + json_array_size(ims_job_sub_jobs(ctx));
}

static void choose_ids(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, const struct ims_backup *b)
{
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    json_object_set_new(ctx->entities, "image_name", json_string(r->name));
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    json_object_set_new(ctx->entities, "process_percent", json_integer(0));
    for (size_t i = 1; i < b->nvolumes; i++) {
        char name[160];
        snprintf(name, sizeof(name), "%.120s-data%zu", r->name, i);
        ims_job_sub_job_add(ctx, name);
    }
}

/* Removes the images the job made, and the backup it made. */
static void discard_all(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    if (json_object_get(ctx->entities, "image_id"))
        for (size_t i = 0; i < disks_of(ctx); i++)
            ims_import_discard(ctx->svc, ims_job_image_id(ctx, i));
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
    return rc == IMS_OK ? IMS_OK : ims_job_fail_with(ctx, rc, &err);
}

/* Step 0. */
static enum ims_rc plan(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    struct ims_err err = {0};
    struct ims_backup b;
    if (!r->backup_id) {
        /* the backup's id is recorded before the backup is made: a job
         * killed at any moment finds it again, or removes it if it fails */
        if (!backup_id_of(ctx, r)) {
            char id[IMS_UUID_LEN + 1];
            ims_uuid_new(id);
            json_object_set_new(ctx->entities, "backup_id", json_string(id));
            if (!ims_job_step(ctx, 0))
                return IMS_E_BUSY;
        }
        enum ims_rc rc = ims_whole_backup_make(ctx->svc, &ctx->principal, r->instance_id, backup_id_of(ctx, r), &b,
                                               &err);
        if (rc != IMS_OK)
            return ims_job_fail_with(ctx, rc, &err);
        ims_backup_release(&b);
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
        rc = ims_whole_image_create(ctx->svc, &ctx->principal, r, &b, i, ims_job_image_id(ctx, i), ims_job_image_name(ctx, i),
                                    NULL, &err);
        char *more = ims_xasprintf("%s%s%s", ids, i > 1 ? "," : "", ims_job_image_id(ctx, i));
        free(ids);
        ids = more;
    }
    if (rc == IMS_OK)
        rc = ims_whole_image_create(ctx->svc, &ctx->principal, r, &b, 0, ims_job_image_id(ctx, 0), NULL, ids, &err);
    free(ids);
    ims_backup_release(&b);
    return rc == IMS_OK ? IMS_OK : ims_job_fail_with(ctx, rc, &err);
}

static enum ims_rc make_one(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, size_t which)
{
    struct ims_err err = {0};
    if (ims_job_image_active(ctx, which)) /* done before a restart */
        return IMS_OK;
    if (which > 0)
        ims_job_sub_job_set(ctx, which - 1, "RUNNING", NULL, NULL);
    struct ims_backup b;
    if (get_backup(ctx, r, &b) != IMS_OK)
        return IMS_E_BADREQ;
    char origin[128];
    snprintf(origin, sizeof(origin), "server_backup,%s", b.id);
    struct ims_job_progress pg = {.ctx = ctx, .index = which, .count = disks_of(ctx), .last = -1};
    struct ims_import_progress prog = {.report = ims_job_progress_report, .ctx = &pg};
    /* the backup's copies never change: shared, not copied */
    enum ims_rc rc =
        ims_disk_import(ctx->svc, ims_job_image_id(ctx, which), &b.volumes[which], true, origin, &prog, &err);
    ims_backup_release(&b);
    return ims_job_image_made(ctx, which, rc, &err);
}

enum ims_rc ims_job_whole_image_run(struct ims_job_ctx *ctx)
{
    struct ims_server_image_request r;
    if (ims_job_server_request(ctx, true, &r) != IMS_OK)
        return IMS_E_BADREQ;
    /* the backup service's action, as the request needs it */
    enum ims_rc rc = ims_job_action_allowed(ctx, ims_whole_backup_action(&r), "IMG.0165");
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
