/* SPDX-License-Identifier: Apache-2.0
 * Internals of the job engine shared by engine.c and the handlers. */
#ifndef IMS_JOBS_INT_H
#define IMS_JOBS_INT_H

#include <jansson.h>

#include "ims/authz.h"
#include "ims/jobs.h"
#include "ims/server_request.h"
#include "ims/service.h"

struct ims_jobs;

/* What a handler sees while it runs one job. */
struct ims_job_ctx {
    struct ims_service *svc;
    struct ims_jobs *engine;
    struct ims_job *job;
    struct ims_principal principal; /* who submitted it, authorized again at every take */
    json_t *input;                  /* the submitted input (borrowed) */
    json_t *entities;               /* the job's entities, saved at every step (owned by the engine) */
    bool interrupted;               /* set by ims_job_step: stop now, the job is resumed later */
    char error_code[32];
    char fail_reason[512];
};

/* Saves entities and the progress mark (the step to resume from), then
 * waits the test delay. false: the engine is stopping or the lease was lost;
 * the handler returns at once (the job is resumed from the saved step). */
bool ims_job_step(struct ims_job_ctx *ctx, int64_t progress);
/* Whether the engine is stopping: long work inside a step checks it and
 * gives the job back (ctx->interrupted) to be resumed. */
bool ims_job_should_stop(const struct ims_job_ctx *ctx);
/* Marks the job failed with an IMS error code; returns IMS_E_BADREQ. */
enum ims_rc ims_job_failf(struct ims_job_ctx *ctx, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a job may tell the tenant of a failure: err's message, except for
 * storage, repository and internal failures, whose detail (server paths,
 * SQL) is logged with the job id and replaced by IMS's generic message. */
const char *ims_job_err_msg(const struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err);

struct ims_job_handler {
    const char *type;
    /* Runs (or resumes, from ctx->job->progress and ctx->entities) the job.
     * IMS_OK: SUCCESS. Otherwise FAIL with ctx->error_code/fail_reason,
     * unless ctx->interrupted. */
    enum ims_rc (*run)(struct ims_job_ctx *ctx);
    /* Undoes what a job that will never finish left behind (half-made
     * image, temporary data). NULL: nothing to undo. */
    void (*abandon)(struct ims_job_ctx *ctx);
    /* The IAM actions the job performs (those of its route), checked again
     * whenever a worker takes the job; whether enterprise-project grants
     * count for them. NULL: imsd's own job, which acts for nobody. */
    const char *actions;
    bool enterprise_project;
};
extern const struct ims_job_handler ims_job_handlers[];
extern const size_t ims_job_nhandlers;

/* Checks that the job's submitter may still run it (job_authz.c). On
 * success the principal carries ret_access (valid while it lives); else the
 * job is marked failed (IMG.0161 when a right is gone). */
enum ims_rc ims_job_authorize_take(struct ims_job_ctx *ctx, const struct ims_job_handler *h,
                                   struct ims_authz_result *ret_access);
/* The submitter may still perform `action` of another service (object
 * storage, backups) on its project's grants; else the job fails with `code`
 * (IMS_E_FORBIDDEN), or as ims_job_fail_with for other failures. */
enum ims_rc ims_job_action_allowed(struct ims_job_ctx *ctx, const char *action, const char *code);

/* ---- what the jobs that make several images share (sub_jobs.c) ---- */

/* Fails the job with err's IMS code and message (an error with a code
 * carries a message meant for users); without a code, IMG.0061 and no
 * detail (storage, repository and internal failures). Returns
 * IMS_E_BADREQ. */
enum ims_rc ims_job_fail_with(struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err);
/* The job's request from a server, a disk or a backup (input "body"),
 * parsed again with the rules it was accepted with; fails the job if not. */
enum ims_rc ims_job_server_request(struct ims_job_ctx *ctx, bool whole, struct ims_server_image_request *ret);

/* The progress of file `index` of `count` as the job's process_percent
 * (saved at most once a second, and at 100); the progress callback of
 * struct ims_import_progress, with a struct ims_job_progress as its ctx.
 * false: the job was interrupted. */
struct ims_job_progress {
    struct ims_job_ctx *ctx;
    size_t index, count;
    int last; /* -1 at first */
    int64_t last_ms;
};
bool ims_job_progress_report(void *arg, int percent);

/* entities.sub_jobs_result (NULL while there is none). */
json_t *ims_job_sub_jobs(struct ims_job_ctx *ctx);
/* Appends a sub-job (imsImportDataImageJob, INIT) making an image named
 * image_name with a new id, to sub_jobs_result and sub_jobs_list. */
void ims_job_sub_job_add(struct ims_job_ctx *ctx, const char *image_name);
/* Sub-job i's status (RUNNING records begin_ms, SUCCESS and FAIL end_ms). */
void ims_job_sub_job_set(struct ims_job_ctx *ctx, size_t i, const char *status, const char *code,
                         const char *reason);
/* Image `which` of the job: 0 entities.image_id/image_name, i > 0 sub-job
 * i - 1's; NULL if there is none. */
const char *ims_job_image_id(struct ims_job_ctx *ctx, size_t which);
const char *ims_job_image_name(struct ims_job_ctx *ctx, size_t which);
/* Image `which` is active already (made before a restart). */
bool ims_job_image_active(struct ims_job_ctx *ctx, size_t which);
/* After image `which`'s data was made with rc: the job failed with err
 * unless rc is IMS_OK (or IMS_E_BUSY of an interrupted job), and its
 * sub-job SUCCESS or FAIL; returns rc. */
enum ims_rc ims_job_image_made(struct ims_job_ctx *ctx, size_t which, enum ims_rc rc, const struct ims_err *err);

/* handlers */
enum ims_rc ims_job_members_add(struct ims_job_ctx *ctx);
enum ims_rc ims_job_members_update(struct ims_job_ctx *ctx);
enum ims_rc ims_job_members_delete(struct ims_job_ctx *ctx);
enum ims_rc ims_job_copy_run(struct ims_job_ctx *ctx);
void ims_job_copy_abandon(struct ims_job_ctx *ctx);
enum ims_rc ims_job_import_run(struct ims_job_ctx *ctx);
void ims_job_import_abandon(struct ims_job_ctx *ctx);
enum ims_rc ims_job_server_image_run(struct ims_job_ctx *ctx);
void ims_job_server_image_abandon(struct ims_job_ctx *ctx);
enum ims_rc ims_job_whole_image_run(struct ims_job_ctx *ctx);
void ims_job_whole_image_abandon(struct ims_job_ctx *ctx);
enum ims_rc ims_job_register_run(struct ims_job_ctx *ctx);
enum ims_rc ims_job_export_run(struct ims_job_ctx *ctx);
enum ims_rc ims_job_checksum_run(struct ims_job_ctx *ctx);
/* Queues the checksum job of image id when it is active without a checksum
 * (an import that linked or converted its file); a failure is logged. */
void ims_job_checksum_later(struct ims_job_ctx *ctx, const char *id);
enum ims_rc ims_job_glance_import_run(struct ims_job_ctx *ctx);
void ims_job_glance_import_abandon(struct ims_job_ctx *ctx);

/* Milliseconds since the epoch. */
int64_t ims_job_now_ms(void);

#endif
