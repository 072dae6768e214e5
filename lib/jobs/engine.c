/* SPDX-License-Identifier: Apache-2.0
 * The job engine: worker threads claim jobs from the repository under a
 * lease (one write transaction per claim), run their handler step by step,
 * and finish them. A keeper thread renews the leases of this process's
 * running jobs and purges finished jobs after the retention time. Each
 * thread uses its own repository connection (ims_db_conn is per thread). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/service.h"

struct ims_jobs {
    struct ims_service *svc;
    struct ims_jobs_config cfg;
    char owner[64]; /* this process's lease owner id */
    pthread_t *workers;
    unsigned nworkers;
    pthread_t keeper;
    bool keeper_started;
};

/* One wake-up for the whole process: submit signals it, stop broadcasts. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static int64_t submit_delay_ms; /* the test hook of struct ims_jobs_config */

int64_t ims_job_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to ms (or until woken); returns true if the engine is stopping. */
static bool nap(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&wake_lock);
    if (!stopping)
        pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
    bool s = stopping;
    pthread_mutex_unlock(&wake_lock);
    return s;
}

static bool is_stopping(void)
{
    pthread_mutex_lock(&wake_lock);
    bool s = stopping;
    pthread_mutex_unlock(&wake_lock);
    return s;
}

/* Sleeps the whole of ms unless the engine stops. */
static bool sleep_unless_stopped(int64_t ms)
{
    int64_t end = ims_job_now_ms() + ms;
    for (int64_t left = ms; left > 0; left = end - ims_job_now_ms())
        if (nap(left))
            return false;
    return !is_stopping();
}

static void save_entities(struct ims_job_ctx *ctx)
{
    char *s = json_dumps(ctx->entities, JSON_COMPACT);
    free(ctx->job->entities);
    ctx->job->entities = s ? s : ims_xstrdup("{}");
}

bool ims_job_step(struct ims_job_ctx *ctx, int64_t progress)
{
    struct ims_err err = {0};
    ctx->job->progress = progress;
    save_entities(ctx);
    enum ims_rc rc = ims_repo_job_save(ims_db_conn(ctx->svc->db), ctx->job, ctx->engine->owner, &err);
    if (rc != IMS_OK) {
        ims_warn("job %s: cannot save step %lld: %s", ctx->job->id, (long long)progress, err.msg);
        ctx->interrupted = true;
        return false;
    }
    bool go = ctx->engine->cfg.step_delay_ms > 0 ? sleep_unless_stopped(ctx->engine->cfg.step_delay_ms)
                                                  : !is_stopping();
    if (!go)
        ctx->interrupted = true;
    return go;
}

bool ims_job_should_stop(const struct ims_job_ctx *ctx)
{
    (void)ctx;
    return is_stopping();
}

enum ims_rc ims_job_failf(struct ims_job_ctx *ctx, const char *code, const char *fmt, ...)
{
    snprintf(ctx->error_code, sizeof(ctx->error_code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->fail_reason, sizeof(ctx->fail_reason), fmt, ap);
    va_end(ap);
    return IMS_E_BADREQ;
}

const char *ims_job_err_msg(const struct ims_job_ctx *ctx, enum ims_rc rc, const struct ims_err *err)
{
    if (rc == IMS_E_IO || rc == IMS_E_DB || rc == IMS_E_INTERNAL || !err->msg[0]) {
        ims_error("job %s (%s): %s: %s", ctx->job->id, ctx->job->type, ims_rc_name(rc), err->msg);
        return "Unknown system error.";
    }
    return err->msg;
}

static const struct ims_job_handler *handler_of(const char *type)
{
    for (size_t i = 0; i < ims_job_nhandlers; i++)
        if (ims_streq(ims_job_handlers[i].type, type))
            return &ims_job_handlers[i];
    return NULL;
}

static void principal_from(json_t *req, struct ims_principal *p)
{
    json_t *pj = json_object_get(req, "principal");
    *p = (struct ims_principal){0};
    const char *s;
    if ((s = json_string_value(json_object_get(pj, "user_id"))))
        snprintf(p->user_id, sizeof(p->user_id), "%s", s);
    if ((s = json_string_value(json_object_get(pj, "domain_id"))))
        snprintf(p->domain_id, sizeof(p->domain_id), "%s", s);
    if ((s = json_string_value(json_object_get(pj, "project_id"))))
        snprintf(p->project_id, sizeof(p->project_id), "%s", s);
    p->is_admin = json_is_true(json_object_get(pj, "is_admin"));
}

static void run_job(struct ims_jobs *e, struct ims_job *job)
{
    struct ims_dbc *c = ims_db_conn(e->svc->db);
    struct ims_err err = {0};
    json_error_t je;
    json_t *req = json_loads(job->request ? job->request : "{}", 0, &je);
    json_t *ent = json_loads(job->entities ? job->entities : "{}", 0, &je);
    struct ims_job_ctx ctx = {.svc = e->svc, .engine = e, .job = job, .input = json_object_get(req, "input"),
                              .entities = json_is_object(ent) ? ent : json_object()};
    if (ent && !json_is_object(ent))
        json_decref(ent);
    principal_from(req, &ctx.principal);
    struct ims_authz_result access = {0};
    const struct ims_job_handler *h = handler_of(job->type);
    enum ims_rc rc;
    if (job->attempts > 1)
        ims_info("job %s (%s): resuming at step %lld, attempt %lld", job->id, job->type, (long long)job->progress,
                 (long long)job->attempts);
    if (!h) {
        rc = ims_job_failf(&ctx, "IMG.0105", "Job type %s is not supported.", job->type);
    } else if (job->attempts > e->cfg.max_attempts) {
        if (h->abandon)
            h->abandon(&ctx);
        rc = ims_job_failf(&ctx, "IMG.0061", "The job was interrupted %lld times and has been abandoned.",
                           (long long)(job->attempts - 1));
    } else if (!json_is_object(req) || !json_is_object(ctx.input)) {
        rc = ims_job_failf(&ctx, "IMG.0001", "The job's request is damaged.");
    } else if (h->actions && (rc = ims_job_authorize_take(&ctx, h, &access)) != IMS_OK) {
        /* The rights it was queued with are gone: it never runs again. */
        if (h->abandon)
            h->abandon(&ctx);
    } else {
        rc = h->run(&ctx);
    }
    if (ctx.interrupted) {
        /* Stopping (or the lease is gone): hand the job back for resumption. */
        if (ims_repo_job_unlease(c, job, e->owner, &err) != IMS_OK)
            ims_warn("job %s: cannot release its lease: %s", job->id, err.msg);
        else
            ims_info("job %s (%s) interrupted at step %lld; it will be resumed", job->id, job->type,
                     (long long)job->progress);
    } else {
        if (rc == IMS_OK) {
            snprintf(job->status, sizeof(job->status), "SUCCESS");
        } else {
            snprintf(job->status, sizeof(job->status), "FAIL");
            if (!ctx.error_code[0])
                ims_job_failf(&ctx, "IMG.0061", "Unknown system error (%s).", ims_rc_name(rc));
            ims_set_str(&job->error_code, ctx.error_code);
            ims_set_str(&job->fail_reason, ctx.fail_reason);
        }
        save_entities(&ctx);
        job->end_time = ims_job_now_ms();
        if (ims_repo_job_finish(c, job, e->owner, &err) != IMS_OK)
            ims_warn("job %s: cannot record its end: %s", job->id, err.msg);
        else
            ims_info("job %s (%s) %s%s%s", job->id, job->type, job->status, rc == IMS_OK ? "" : ": ",
                     rc == IMS_OK ? "" : ctx.fail_reason);
    }
    ims_authz_result_release(&access);
    json_decref(ctx.entities);
    json_decref(req);
}

static void *worker_main(void *arg)
{
    struct ims_jobs *e = arg;
    struct ims_dbc *c = ims_db_conn(e->svc->db);
    while (!is_stopping()) {
        struct ims_job job;
        struct ims_err err = {0};
        enum ims_rc rc = ims_repo_job_claim(c, e->owner, ims_job_now_ms(), e->cfg.lease_ms, &job, &err);
        if (rc == IMS_E_NOTFOUND) {
            nap(500);
            continue;
        }
        if (rc != IMS_OK) {
            ims_warn("jobs: claiming failed: %s", err.msg);
            nap(500);
            continue;
        }
        run_job(e, &job);
        ims_job_release(&job);
    }
    return NULL;
}

static void *keeper_main(void *arg)
{
    struct ims_jobs *e = arg;
    struct ims_dbc *c = ims_db_conn(e->svc->db);
    int64_t tick = e->cfg.lease_ms / 3;
    if (tick < 100)
        tick = 100;
    if (tick > 1000)
        tick = 1000;
    int64_t last_purge = 0;
    do {
        struct ims_err err = {0};
        int64_t now = ims_job_now_ms();
        if (ims_repo_jobs_renew(c, e->owner, now + e->cfg.lease_ms, &err) != IMS_OK)
            ims_warn("jobs: renewing leases failed: %s", err.msg);
        if (now - last_purge >= 1000) {
            int64_t n = 0;
            last_purge = now;
            if (ims_repo_jobs_purge(c, now - e->cfg.retention_seconds * 1000, &n, &err) != IMS_OK)
                ims_warn("jobs: purging failed: %s", err.msg);
            else if (n)
                ims_info("jobs: purged %lld finished job(s) past retention", (long long)n);
        }
    } while (!nap(tick));
    return NULL;
}

enum ims_rc ims_jobs_start(struct ims_service *svc, const struct ims_jobs_config *cfg, struct ims_jobs **ret,
                           struct ims_err *err)
{
    struct ims_jobs *e = ims_xcalloc(1, sizeof(*e));
    e->svc = svc;
    e->cfg = *cfg;
    submit_delay_ms = cfg->submit_delay_ms;
    if (e->cfg.lease_ms < 100)
        e->cfg.lease_ms = 100;
    if (e->cfg.max_attempts < 1)
        e->cfg.max_attempts = 1;
    char host[32] = "";
    gethostname(host, sizeof(host) - 1);
    char rnd[9];
    ims_hexid_new(rnd, 4);
    snprintf(e->owner, sizeof(e->owner), "%.24s:%ld:%s", host, (long)getpid(), rnd);
    pthread_mutex_lock(&wake_lock);
    stopping = false;
    pthread_mutex_unlock(&wake_lock);
    e->workers = ims_xcalloc(cfg->workers ? cfg->workers : 1, sizeof(*e->workers));
    for (unsigned i = 0; i < cfg->workers; i++) {
        if (pthread_create(&e->workers[i], NULL, worker_main, e) != 0) {
            ims_jobs_stop(e);
            return ims_fail(err, IMS_E_INTERNAL, "cannot start job worker threads");
        }
        e->nworkers++;
    }
    if (pthread_create(&e->keeper, NULL, keeper_main, e) != 0) {
        ims_jobs_stop(e);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the job lease keeper");
    }
    e->keeper_started = true;
    ims_info("jobs: %u worker(s), lease %lld ms, retention %lld s, owner %s%s", e->nworkers,
             (long long)e->cfg.lease_ms, (long long)e->cfg.retention_seconds, e->owner,
             e->cfg.step_delay_ms > 0 ? " (test step delay on)" : "");
    *ret = e;
    return IMS_OK;
}

void ims_jobs_stop(struct ims_jobs *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&wake_lock);
    stopping = true;
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    for (unsigned i = 0; i < e->nworkers; i++)
        pthread_join(e->workers[i], NULL);
    if (e->keeper_started)
        pthread_join(e->keeper, NULL);
    free(e->workers);
    free(e);
}

static enum ims_rc submit(struct ims_service *svc, const struct ims_principal *p, const char *type,
                          const char *input_json, const char *id, const struct ims_job_alone *alone,
                          size_t n_alone, char ret_id[65], struct ims_err *err)
{
    if (!p->project_id[0])
        return ims_fail(err, IMS_E_FORBIDDEN, "A project-scoped token is required to submit jobs.");
    json_error_t je;
    json_t *input = json_loads(input_json ? input_json : "{}", 0, &je);
    if (!json_is_object(input)) {
        json_decref(input);
        return ims_fail(err, IMS_E_BADREQ, "The job's input must be a JSON object.");
    }
    json_t *req = json_pack("{s:{s:s,s:s,s:s,s:b},s:o}", "principal", "user_id", p->user_id, "domain_id",
                            p->domain_id, "project_id", p->project_id, "is_admin", p->is_admin, "input", input);
    char *req_s = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!req_s)
        return ims_fail(err, IMS_E_INTERNAL, "cannot encode the job request");
    struct ims_job j = {.project_id = (char *)p->project_id, .type = (char *)type, .entities = "{}",
                        .request = req_s, .created_at = ims_job_now_ms()};
    if (id)
        snprintf(j.id, sizeof(j.id), "%s", id);
    else
        ims_hexid_new(j.id, 16);
    snprintf(j.status, sizeof(j.status), "INIT");
    if (submit_delay_ms > 0) {
        struct timespec ts = {.tv_sec = submit_delay_ms / 1000, .tv_nsec = (submit_delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    enum ims_rc rc = n_alone ? ims_repo_job_insert_alone(ims_db_conn(svc->db), &j, alone, n_alone, err)
                             : ims_repo_job_insert(ims_db_conn(svc->db), &j, err);
    free(req_s);
    if (rc != IMS_OK)
        return rc;
    pthread_mutex_lock(&wake_lock);
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    snprintf(ret_id, 65, "%s", j.id);
    return IMS_OK;
}

enum ims_rc ims_job_submit(struct ims_service *svc, const struct ims_principal *p, const char *type,
                           const char *input_json, char ret_id[65], struct ims_err *err)
{
    return submit(svc, p, type, input_json, NULL, NULL, 0, ret_id, err);
}

enum ims_rc ims_job_submit_alone(struct ims_service *svc, const struct ims_principal *p, const char *type,
                                 const char *input_json, const struct ims_job_alone *alone, size_t n_alone,
                                 char ret_id[65], struct ims_err *err)
{
    return submit(svc, p, type, input_json, NULL, alone, n_alone, ret_id, err);
}

enum ims_rc ims_job_alone_check(struct ims_service *svc, const struct ims_principal *p,
                                const struct ims_job_alone *alone, size_t n_alone, struct ims_err *err)
{
    return ims_repo_jobs_alone_check(ims_db_conn(svc->db), p->project_id, alone, n_alone, err);
}

enum ims_rc ims_job_submit_as(struct ims_service *svc, const struct ims_principal *p, const char *type,
                              const char *input_json, const char *id, struct ims_err *err)
{
    char ignored[65];
    return submit(svc, p, type, input_json, id, NULL, 0, ignored, err);
}

enum ims_rc ims_job_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                        struct ims_job *ret, struct ims_err *err)
{
    struct ims_job j;
    if (!id || strlen(id) > 64)
        return ims_fail(err, IMS_E_NOTFOUND, "Job %s could not be found.", id ? id : "");
    enum ims_rc rc = ims_repo_job_get(ims_db_conn(svc->db), id, &j, err);
    if (rc != IMS_OK)
        return rc;
    if (!p->project_id[0] || !ims_streq(j.project_id, p->project_id)) {
        ims_job_release(&j);
        return ims_fail(err, IMS_E_NOTFOUND, "Job %s could not be found.", id);
    }
    *ret = j;
    return IMS_OK;
}
