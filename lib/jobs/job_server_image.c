/* SPDX-License-Identifier: Apache-2.0
 * Images from servers and their disks (imsCreateImageByInstance: a
 * server's system disk, plus data disks as sub-jobs;
 * imsVolumesToSysDataImagesJob: data disks alone, one sub-job each;
 * imsVolumeCreateImageJob: a system-disk image from a data disk), through
 * lib/core/server_images.c and import_disk.c.
 *
 * The job's input is the request as the client sent it, parsed again with
 * the same rules at every take, and the server it reads (so a second image
 * job of that server is refused while this one waits or runs). Steps
 * (ctx->job->progress): 0 choose the images' ids and save them in
 * entities; 1 create the queued images, each from its disk as the compute
 * source has it then; 2 + i make image i's data (the system disk first,
 * then the data disks). A resumed job repeats its current step: an image
 * already active is done, one left in saving by a dead process is queued
 * again by start-up recovery. A failure removes every image the job made:
 * nothing partial is left. */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/server_images.h"

static bool chosen(struct ims_job_ctx *ctx)
{
    return json_object_get(ctx->entities, "process_percent") != NULL;
}

static void choose_ids(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    if (r->kind != IMS_SI_DATA) {
        char id[IMS_UUID_LEN + 1];
        ims_uuid_new(id);
        json_object_set_new(ctx->entities, "image_name", json_string(r->name));
        json_object_set_new(ctx->entities, "image_id", json_string(id));
    }
    json_object_set_new(ctx->entities, "process_percent", json_integer(0));
    for (size_t i = 0; i < r->n_data; i++)
        ims_job_sub_job_add(ctx, r->data_images[i].name);
}

static void discard_all(struct ims_job_ctx *ctx, size_t n)
{
    for (size_t i = 0; i <= n; i++) {
        const char *id = ims_job_image_id(ctx, i);
        if (id)
            ims_import_discard(ctx->svc, id);
    }
}

static enum ims_rc make_one(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, size_t which)
{
    struct ims_err err = {0};
    if (ims_job_image_active(ctx, which)) /* done before a restart */
        return IMS_OK;
    if (which > 0)
        ims_job_sub_job_set(ctx, which - 1, "RUNNING", NULL, NULL);
    struct ims_volume disk;
    enum ims_rc rc = ims_server_image_disk(ctx->svc, &ctx->principal, r, which, &disk, &err);
    if (rc == IMS_OK) {
        char origin[160];
        if (which == 0 && r->kind == IMS_SI_SERVER)
            snprintf(origin, sizeof(origin), "instance,%s", r->instance_id);
        else
            snprintf(origin, sizeof(origin), "volume,%s", disk.id);
        size_t first = r->kind == IMS_SI_DATA ? 1 : 0;
        struct ims_job_progress pg = {.ctx = ctx, .index = which - first, .count = r->n_data + 1 - first, .last = -1};
        struct ims_import_progress prog = {.report = ims_job_progress_report, .ctx = &pg};
        rc = ims_disk_import(ctx->svc, ims_job_image_id(ctx, which), &disk, false, origin, &prog, &err);
        ims_volume_release(&disk);
    }
    return ims_job_image_made(ctx, which, rc, &err);
}

static enum ims_rc create_all(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, size_t first)
{
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    for (size_t i = first; i <= r->n_data && rc == IMS_OK; i++) {
        struct ims_volume disk;
        rc = ims_server_image_disk(ctx->svc, &ctx->principal, r, i, &disk, &err);
        if (rc == IMS_OK) {
            rc = ims_server_image_create(ctx->svc, &ctx->principal, r, i, &disk, ims_job_image_id(ctx, i), &err);
            ims_volume_release(&disk);
        }
    }
    return rc == IMS_OK ? IMS_OK : ims_job_fail_with(ctx, rc, &err);
}

enum ims_rc ims_job_server_image_run(struct ims_job_ctx *ctx)
{
    struct ims_server_image_request r;
    if (ims_job_server_request(ctx, false, &r) != IMS_OK)
        return IMS_E_BADREQ;
    enum ims_rc rc = IMS_OK;
    size_t first = r.kind == IMS_SI_DATA ? 1 : 0;
    if (!chosen(ctx)) {
        choose_ids(ctx, &r);
        if (!ims_job_step(ctx, 1)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    if (ctx->job->progress < 2) {
        if ((rc = create_all(ctx, &r, first)) != IMS_OK) {
            discard_all(ctx, r.n_data);
            goto out;
        }
        if (!ims_job_step(ctx, 2)) {
            rc = IMS_E_BUSY;
            goto out;
        }
    }
    for (size_t i = (size_t)ctx->job->progress - 2; i <= r.n_data; i++) {
        if (i < first)
            continue;
        rc = make_one(ctx, &r, i);
        if (ctx->interrupted)
            goto out;
        if (rc != IMS_OK) {
            discard_all(ctx, r.n_data);
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

void ims_job_server_image_abandon(struct ims_job_ctx *ctx)
{
    discard_all(ctx, json_array_size(ims_job_sub_jobs(ctx)));
}
