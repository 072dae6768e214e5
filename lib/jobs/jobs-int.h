/* SPDX-License-Identifier: Apache-2.0
 * Internals of the job engine shared by engine.c and the handlers. */
#ifndef IMS_JOBS_INT_H
#define IMS_JOBS_INT_H

#include <jansson.h>

#include "ims/authz.h"
#include "ims/jobs.h"
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
     * count for them. */
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

/* Milliseconds since the epoch. */
int64_t ims_job_now_ms(void);

#endif
