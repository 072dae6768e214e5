/* SPDX-License-Identifier: Apache-2.0
 * Asynchronous jobs: one row each, claimed by workers under a lease. A
 * claim is one write transaction (BEGIN IMMEDIATE on SQLite; on
 * PostgreSQL a row-locking one that picks its job FOR UPDATE SKIP LOCKED),
 * so two workers, threads, processes or nodes never take the same job. */
#include <stdio.h>

#include "db-int.h"

#define JOB_COLS                                                                                                \
    "id, project_id, job_type, status, entities, error_code, fail_reason, request, progress, attempts, "        \
    "lease_owner, lease_expires, created_at, begin_time, end_time, revision"

void ims_job_release(struct ims_job *j)
{
    free(j->project_id);
    free(j->type);
    free(j->entities);
    free(j->error_code);
    free(j->fail_reason);
    free(j->request);
    free(j->lease_owner);
    *j = (struct ims_job){0};
}

static void read_job(struct ims_q *q, struct ims_job *j)
{
    *j = (struct ims_job){0};
    snprintf(j->id, sizeof(j->id), "%s", ims_q_col_text(q, 0));
    j->project_id = ims_q_col_dup(q, 1);
    j->type = ims_q_col_dup(q, 2);
    snprintf(j->status, sizeof(j->status), "%s", ims_q_col_text(q, 3));
    j->entities = ims_q_col_dup(q, 4);
    j->error_code = ims_q_col_dup(q, 5);
    j->fail_reason = ims_q_col_dup(q, 6);
    j->request = ims_q_col_dup(q, 7);
    j->progress = ims_q_col_int(q, 8);
    j->attempts = ims_q_col_int(q, 9);
    j->lease_owner = ims_q_col_dup(q, 10);
    j->lease_expires = ims_q_col_int(q, 11);
    j->created_at = ims_q_col_int(q, 12);
    j->begin_time = ims_q_col_int(q, 13);
    j->end_time = ims_q_col_int(q, 14);
    j->revision = ims_q_col_int(q, 15);
}

enum ims_rc ims_repo_job_insert(struct ims_dbc *c, const struct ims_job *j, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO jobs (" JOB_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, j->id);
    ims_q_text(&q, j->project_id);
    ims_q_text(&q, j->type);
    ims_q_text(&q, j->status);
    ims_q_text(&q, j->entities ? j->entities : "{}");
    ims_q_text(&q, j->error_code);
    ims_q_text(&q, j->fail_reason);
    ims_q_text(&q, j->request ? j->request : "{}");
    ims_q_int(&q, j->progress);
    ims_q_int(&q, j->attempts);
    ims_q_text(&q, j->lease_owner);
    ims_q_int(&q, j->lease_expires);
    ims_q_int(&q, j->created_at);
    ims_q_int(&q, j->begin_time);
    ims_q_int(&q, j->end_time);
    return ims_q_exec(&q, err);
}

enum ims_rc ims_repo_job_get(struct ims_dbc *c, const char *id, struct ims_job *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    enum ims_step s = ims_q_step(&q);
    enum ims_rc rc = IMS_OK;
    if (s == IMS_STEP_ROW)
        read_job(&q, ret);
    else if (s == IMS_STEP_DONE)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Job %s could not be found.", id);
    else
        rc = ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_job_claim(struct ims_dbc *c, const char *owner, int64_t now_ms, int64_t lease_ms,
                               struct ims_job *ret, struct ims_err *err)
{
    /* The row picked is locked (PostgreSQL: FOR UPDATE SKIP LOCKED), not
     * the database: workers of every node claim side by side, each
     * skipping the jobs others are taking; the UPDATE's condition checks
     * the row again as the lock found it. */
    enum ims_rc rc = ims_db_begin_rows(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    char id[65] = "", sql[256];
    snprintf(sql, sizeof(sql), "%s %s",
             "SELECT id FROM jobs WHERE status = 'INIT' OR (status = 'RUNNING' AND lease_expires < ?) "
             "ORDER BY created_at, id LIMIT 1",
             c->ops->skip_locked);
    if (!ims_q_prepare(&q, c, sql, err)) {
        rc = IMS_E_DB;
        goto out;
    }
    ims_q_int(&q, now_ms);
    enum ims_step s = ims_q_step(&q);
    if (s == IMS_STEP_ROW)
        snprintf(id, sizeof(id), "%s", ims_q_col_text(&q, 0));
    else if (s == IMS_STEP_DONE)
        rc = ims_fail(err, IMS_E_NOTFOUND, "no job to run");
    else
        rc = ims_q_dberr(&q, err);
    ims_q_done(&q);
    if (rc != IMS_OK)
        goto out;
    if (!ims_q_prepare(&q, c,
                       "UPDATE jobs SET status = 'RUNNING', lease_owner = ?, lease_expires = ?, "
                       "attempts = attempts + 1, revision = revision + 1, "
                       "begin_time = CASE WHEN begin_time = 0 THEN ? ELSE begin_time END "
                       "WHERE id = ? AND (status = 'INIT' OR (status = 'RUNNING' AND lease_expires < ?))",
                       err)) {
        rc = IMS_E_DB;
        goto out;
    }
    ims_q_text(&q, owner);
    ims_q_int(&q, now_ms + lease_ms);
    ims_q_int(&q, now_ms);
    ims_q_text(&q, id);
    ims_q_int(&q, now_ms);
    rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) != 1)
        rc = ims_fail(err, IMS_E_NOTFOUND, "job %s was taken by another worker", id);
    if (rc == IMS_OK)
        rc = ims_repo_job_get(c, id, ret, err);
out:
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    rc = ims_db_commit(c, err);
    if (rc != IMS_OK)
        ims_job_release(ret);
    return rc;
}

/* A claimed write changed the job: j follows its revision. */
static enum ims_rc changed_one(struct ims_dbc *c, enum ims_rc rc, struct ims_job *j, struct ims_err *err)
{
    if (rc == IMS_OK && c->ops->changes(c->h) != 1)
        return ims_fail(err, IMS_E_NOTFOUND, "the lease of job %s was lost", j->id);
    if (rc == IMS_OK)
        j->revision++;
    return rc;
}

/* The condition of every write by the worker holding the claim. */
#define CLAIMED "WHERE id = ? AND lease_owner = ? AND revision = ? AND status = 'RUNNING'"

enum ims_rc ims_repo_job_save(struct ims_dbc *c, struct ims_job *j, const char *owner, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE jobs SET entities = ?, progress = ?, revision = revision + 1 " CLAIMED, err))
        return IMS_E_DB;
    ims_q_text(&q, j->entities ? j->entities : "{}");
    ims_q_int(&q, j->progress);
    ims_q_text(&q, j->id);
    ims_q_text(&q, owner);
    ims_q_int(&q, j->revision);
    return changed_one(c, ims_q_exec(&q, err), j, err);
}

enum ims_rc ims_repo_job_finish(struct ims_dbc *c, struct ims_job *j, const char *owner, struct ims_err *err)
{
    /* A running job ends; it never goes back to INIT or RUNNING this way. */
    if (!ims_streq(j->status, "SUCCESS") && !ims_streq(j->status, "FAIL"))
        return ims_fail(err, IMS_E_BADREQ, "job %s cannot end as %s", j->id, j->status);
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE jobs SET status = ?, entities = ?, progress = ?, error_code = ?, fail_reason = ?, "
                       "end_time = ?, lease_owner = NULL, lease_expires = 0, revision = revision + 1 " CLAIMED,
                       err))
        return IMS_E_DB;
    ims_q_text(&q, j->status);
    ims_q_text(&q, j->entities ? j->entities : "{}");
    ims_q_int(&q, j->progress);
    ims_q_text(&q, j->error_code);
    ims_q_text(&q, j->fail_reason);
    ims_q_int(&q, j->end_time);
    ims_q_text(&q, j->id);
    ims_q_text(&q, owner);
    ims_q_int(&q, j->revision);
    return changed_one(c, ims_q_exec(&q, err), j, err);
}

enum ims_rc ims_repo_job_unlease(struct ims_dbc *c, struct ims_job *j, const char *owner, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE jobs SET lease_owner = NULL, lease_expires = 0, revision = revision + 1 " CLAIMED,
                       err))
        return IMS_E_DB;
    ims_q_text(&q, j->id);
    ims_q_text(&q, owner);
    ims_q_int(&q, j->revision);
    return changed_one(c, ims_q_exec(&q, err), j, err);
}

/* Renewals extend the lease of the claims a process holds without raising
 * the revision: the claim a worker holds stays valid while it is renewed. */
enum ims_rc ims_repo_jobs_renew(struct ims_dbc *c, const char *owner, int64_t until_ms, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE jobs SET lease_expires = ? WHERE lease_owner = ? AND status = 'RUNNING'", err))
        return IMS_E_DB;
    ims_q_int(&q, until_ms);
    ims_q_text(&q, owner);
    return ims_q_exec_lease(&q, err);
}

enum ims_rc ims_repo_jobs_purge(struct ims_dbc *c, int64_t before_ms, int64_t *ret_n, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "DELETE FROM jobs WHERE status IN ('SUCCESS', 'FAIL') AND end_time > 0 AND end_time < ?", err))
        return IMS_E_DB;
    ims_q_int(&q, before_ms);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && ret_n)
        *ret_n = c->ops->changes(c->h);
    return rc;
}

enum ims_rc ims_repo_jobs_active_with(struct ims_dbc *c, const char *project_id, const char *needle, bool *ret,
                                      struct ims_err *err)
{
    /* needle is a JSON member the job's input carries ("key":"uuid"): no
     * LIKE wildcard but '_', which matches itself too */
    char pattern[256];
    snprintf(pattern, sizeof(pattern), "%%%s%%", needle);
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT id FROM jobs WHERE project_id = ? AND status IN ('INIT', 'RUNNING') AND request LIKE ? "
                       "LIMIT 1",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, project_id);
    ims_q_text(&q, pattern);
    return ims_q_exists(&q, ret, err);
}

enum ims_rc ims_repo_jobs_list(struct ims_dbc *c, const struct ims_job_list_query *lq, struct ims_job **ret,
                               size_t *ret_n, struct ims_err *err)
{
    /* The sort key's expression; ties go by id. A marker continues after
     * its job's (key, id) in the list's order (the marker's values read by
     * subqueries, so they keep the column's type); the flag makes the
     * condition moot without one. Ten statements in all, each cached. */
    static const char *const keys[] = {
        [IMS_JOB_SORT_CREATED] = "created_at",
        [IMS_JOB_SORT_UPDATED] = "COALESCE(NULLIF(end_time, 0), NULLIF(begin_time, 0), created_at)",
        [IMS_JOB_SORT_ID] = "id",
        [IMS_JOB_SORT_TYPE] = "job_type",
        [IMS_JOB_SORT_STATUS] = "status", /* FAIL INIT RUNNING SUCCESS: Glance's names sort alike */
    };
    const char *key = keys[lq->sort < IMS_ARRAY_SIZE(keys) ? lq->sort : 0];
    const char *cmp = lq->ascending ? ">" : "<", *dir = lq->ascending ? "" : " DESC";
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT " JOB_COLS " FROM jobs WHERE job_type = ? AND (? = '' OR project_id = ?) "
             "AND (? = '' OR status = ?) AND (? = '' OR request LIKE ?) AND (? = 0 OR %s %s (SELECT %s FROM jobs "
             "WHERE id = ?) OR (%s = (SELECT %s FROM jobs WHERE id = ?) AND id %s ?)) ORDER BY %s%s, id%s LIMIT ?",
             key, cmp, key, key, key, cmp, key, dir, dir);
    const char *m_id = lq->marker ? lq->marker : "";
    char pattern[256] = "";
    if (lq->needle)
        snprintf(pattern, sizeof(pattern), "%%%s%%", lq->needle);
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    const char *project = lq->project_id ? lq->project_id : "";
    const char *status = lq->status ? lq->status : "";
    ims_q_text(&q, lq->type);
    ims_q_text(&q, project);
    ims_q_text(&q, project);
    ims_q_text(&q, status);
    ims_q_text(&q, status);
    ims_q_text(&q, pattern);
    ims_q_text(&q, pattern);
    ims_q_int(&q, lq->marker ? 1 : 0);
    ims_q_text(&q, m_id);
    ims_q_text(&q, m_id);
    ims_q_text(&q, m_id);
    ims_q_int(&q, lq->limit);
    struct ims_job *items = NULL;
    size_t n = 0, cap = 0;
    enum ims_rc rc = IMS_OK;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            items = ims_xrealloc(items, cap * sizeof(*items));
        }
        read_job(&q, &items[n++]);
    }
    if (s != IMS_STEP_DONE)
        rc = ims_q_dberr(&q, err);
    ims_q_done(&q);
    if (rc != IMS_OK) {
        for (size_t i = 0; i < n; i++)
            ims_job_release(&items[i]);
        free(items);
        return rc;
    }
    *ret = items;
    *ret_n = n;
    return IMS_OK;
}

enum ims_rc ims_repo_jobs_alone_check(struct ims_dbc *c, const char *project_id, const struct ims_job_alone *alone,
                                      size_t n_alone, struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    for (size_t i = 0; rc == IMS_OK && i < n_alone; i++) {
        bool busy = false;
        rc = ims_repo_jobs_active_with(c, project_id, alone[i].needle, &busy, err);
        if (rc == IMS_OK && busy)
            rc = ims_fail_code(err, IMS_E_BADREQ, alone[i].code, "%s", alone[i].msg);
    }
    return rc;
}

enum ims_rc ims_repo_job_insert_alone(struct ims_dbc *c, const struct ims_job *j, const struct ims_job_alone *alone,
                                      size_t n_alone, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_repo_jobs_alone_check(c, j->project_id, alone, n_alone, err);
    if (rc == IMS_OK)
        rc = ims_repo_job_insert(c, j, err);
    return ims_db_end(c, rc, err);
}
