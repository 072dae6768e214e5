/* SPDX-License-Identifier: Apache-2.0
 * What the jobs that make several images share (job_import.c,
 * job_server_image.c, job_whole_image.c): a failure as the job's IMS error,
 * the images' ids in entities (image 0 the job's own, image i the i-th
 * sub-job's), the sub-jobs as the reference shows them, the progress of one
 * file as process_percent over the whole job, and the request of a job made
 * from a server, a disk or a backup parsed again. */
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"

/* A failure with an IMS code carries a message meant for users (a full
 * store, a killed conversion); one without is a system error, whose detail
 * goes to the log only. */
enum ims_rc ims_job_fail_with(struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err)
{
    if (err->code[0] && err->msg[0])
        return ims_job_failf(ctx, err->code, "%s", err->msg);
    return ims_job_failf(ctx, "IMG.0061", "%s", ims_job_err_msg(ctx, rc, err));
}

enum ims_rc ims_job_server_request(struct ims_job_ctx *ctx, bool whole, struct ims_server_image_request *ret)
{
    json_t *body = json_object_get(ctx->input, "body");
    char *s = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ims_err err = {0};
    enum ims_rc rc = !s ? ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "The job's request is damaged.")
                        : ims_server_image_request_parse(whole, s, strlen(s), ret, &err);
    free(s);
    return rc == IMS_OK ? IMS_OK : ims_job_fail_with(ctx, rc, &err);
}

bool ims_job_progress_report(void *arg, int percent)
{
    struct ims_job_progress *pg = arg;
    int total = (int)((pg->index * 100 + (size_t)percent) / pg->count);
    int64_t now = ims_job_now_ms();
    if (total == pg->last || (now - pg->last_ms < 1000 && percent < 100))
        return !pg->ctx->interrupted;
    pg->last = total;
    pg->last_ms = now;
    json_object_set_new(pg->ctx->entities, "process_percent", json_integer(total));
    return ims_job_step(pg->ctx, pg->ctx->job->progress);
}

json_t *ims_job_sub_jobs(struct ims_job_ctx *ctx)
{
    return json_object_get(ctx->entities, "sub_jobs_result");
}

void ims_job_sub_job_add(struct ims_job_ctx *ctx, const char *image_name)
{
    json_t *subs = ims_job_sub_jobs(ctx), *list = json_object_get(ctx->entities, "sub_jobs_list");
    if (!subs) {
        json_object_set_new(ctx->entities, "sub_jobs_result", subs = json_array());
        json_object_set_new(ctx->entities, "sub_jobs_list", list = json_array());
    }
    char job_id[33], id[IMS_UUID_LEN + 1];
    ims_hexid_new(job_id, 16);
    ims_uuid_new(id);
    json_array_append_new(list, json_string(job_id));
    json_array_append_new(subs, json_pack("{s:s,s:s,s:s,s:n,s:n,s:{s:s,s:s}}", "job_id", job_id, "job_type",
                                          IMS_JOB_IMPORT_DATA_IMAGE, "status", "INIT", "error_code", "fail_reason",
                                          "entities", "image_name", image_name, "image_id", id));
}

void ims_job_sub_job_set(struct ims_job_ctx *ctx, size_t i, const char *status, const char *code, const char *reason)
{
    json_t *sj = json_array_get(ims_job_sub_jobs(ctx), i);
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

static const char *image_field(struct ims_job_ctx *ctx, size_t which, const char *key)
{
    if (which == 0)
        return json_string_value(json_object_get(ctx->entities, key));
    json_t *sj = json_array_get(ims_job_sub_jobs(ctx), which - 1);
    return json_string_value(json_object_get(json_object_get(sj, "entities"), key));
}

const char *ims_job_image_id(struct ims_job_ctx *ctx, size_t which)
{
    return image_field(ctx, which, "image_id");
}

const char *ims_job_image_name(struct ims_job_ctx *ctx, size_t which)
{
    return image_field(ctx, which, "image_name");
}

bool ims_job_image_active(struct ims_job_ctx *ctx, size_t which)
{
    struct ims_image img;
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), ims_job_image_id(ctx, which), &img, NULL) != IMS_OK)
        return false;
    bool active = ims_streq(img.status, "active");
    ims_image_release(&img);
    return active;
}

enum ims_rc ims_job_image_made(struct ims_job_ctx *ctx, size_t which, enum ims_rc rc, const struct ims_err *err)
{
    if (rc == IMS_E_BUSY && ctx->interrupted)
        return rc;
    if (rc != IMS_OK)
        ims_job_fail_with(ctx, rc, err);
    if (which > 0)
        ims_job_sub_job_set(ctx, which - 1, rc == IMS_OK ? "SUCCESS" : "FAIL", rc == IMS_OK ? NULL : ctx->error_code,
                            rc == IMS_OK ? NULL : ctx->fail_reason);
    return rc;
}
