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

static enum ims_rc fail_with(struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err)
{
    bool system = rc == IMS_E_IO || rc == IMS_E_DB || rc == IMS_E_INTERNAL || !err->code[0];
    return ims_job_failf(ctx, system ? "IMG.0061" : err->code, "%s", ims_job_err_msg(ctx, rc, err));
}

static enum ims_rc request_of(struct ims_job_ctx *ctx, struct ims_server_image_request *ret)
{
    json_t *body = json_object_get(ctx->input, "body");
    bool whole = json_is_true(json_object_get(ctx->input, "whole"));
    char *s = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ims_err err = {0};
    enum ims_rc rc = !s ? ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "The job's request is damaged.")
                        : ims_server_image_request_parse(whole, s, strlen(s), ret, &err);
    free(s);
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
    int64_t now = ims_job_now_ms();
    if (ims_streq(status, "RUNNING") && !json_object_get(sj, "begin_ms"))
        json_object_set_new(sj, "begin_ms", json_integer(now));
    if (ims_streq(status, "SUCCESS") || ims_streq(status, "FAIL"))
        json_object_set_new(sj, "end_ms", json_integer(now));
    json_object_set_new(sj, "error_code", code ? json_string(code) : json_null());
    json_object_set_new(sj, "fail_reason", reason ? json_string(reason) : json_null());
}

/* Image `which` of the request: 0 the system disk's (none for data disks
 * alone), 1..n_data the data disks'. */
static const char *image_id_of(struct ims_job_ctx *ctx, size_t which)
{
    if (which == 0)
        return json_string_value(json_object_get(ctx->entities, "image_id"));
    json_t *sj = json_array_get(sub_jobs(ctx), which - 1);
    return json_string_value(json_object_get(json_object_get(sj, "entities"), "image_id"));
}

static bool chosen(struct ims_job_ctx *ctx)
{
    return json_object_get(ctx->entities, "process_percent") != NULL;
}

static void choose_ids(struct ims_job_ctx *ctx, const struct ims_server_image_request *r)
{
    char id[IMS_UUID_LEN + 1];
    if (r->kind != IMS_SI_DATA) {
        ims_uuid_new(id);
        json_object_set_new(ctx->entities, "image_name", json_string(r->name));
        json_object_set_new(ctx->entities, "image_id", json_string(id));
    }
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

static void discard_all(struct ims_job_ctx *ctx, size_t n)
{
    for (size_t i = 0; i <= n; i++) {
        const char *id = image_id_of(ctx, i);
        if (id)
            ims_import_discard(ctx->svc, id);
    }
}

static enum ims_rc make_one(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, size_t which)
{
    const char *id = image_id_of(ctx, which);
    struct ims_image img;
    struct ims_err err = {0};
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), id, &img, NULL) == IMS_OK) {
        bool active = ims_streq(img.status, "active");
        ims_image_release(&img);
        if (active) /* done before a restart */
            return IMS_OK;
    }
    if (which > 0)
        sub_job_set(ctx, which - 1, "RUNNING", NULL, NULL);
    struct ims_volume disk;
    enum ims_rc rc = ims_server_image_disk(ctx->svc, &ctx->principal, r, which, &disk, &err);
    if (rc == IMS_OK) {
        char origin[160];
        if (which == 0 && r->kind == IMS_SI_SERVER)
            snprintf(origin, sizeof(origin), "instance,%s", r->instance_id);
        else
            snprintf(origin, sizeof(origin), "volume,%s", disk.id);
        size_t first = r->kind == IMS_SI_DATA ? 1 : 0;
        struct progress pg = {.ctx = ctx, .index = which - first, .count = r->n_data + 1 - first, .last = -1};
        struct ims_import_progress prog = {.report = report, .ctx = &pg};
        rc = ims_disk_import(ctx->svc, id, &disk, false, origin, &prog, &err);
        ims_volume_release(&disk);
    }
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

static enum ims_rc create_all(struct ims_job_ctx *ctx, const struct ims_server_image_request *r, size_t first)
{
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    for (size_t i = first; i <= r->n_data && rc == IMS_OK; i++) {
        struct ims_volume disk;
        rc = ims_server_image_disk(ctx->svc, &ctx->principal, r, i, &disk, &err);
        if (rc == IMS_OK) {
            rc = ims_server_image_create(ctx->svc, &ctx->principal, r, i, &disk, image_id_of(ctx, i), &err);
            ims_volume_release(&disk);
        }
    }
    return rc == IMS_OK ? IMS_OK : fail_with(ctx, rc, &err);
}

enum ims_rc ims_job_server_image_run(struct ims_job_ctx *ctx)
{
    struct ims_server_image_request r;
    if (request_of(ctx, &r) != IMS_OK)
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
    discard_all(ctx, json_array_size(sub_jobs(ctx)));
}
