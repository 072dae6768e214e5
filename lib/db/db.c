/* SPDX-License-Identifier: Apache-2.0
 * The repository handle: engine selection, one connection per thread,
 * versioned migrations, nestable transactions, statement helpers. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "db-int.h"

struct ims_db {
    const struct ims_sql_ops *ops;
    char *dsn;
    pthread_key_t key;
    pthread_mutex_t lock;
    /* Serialises this process's write transactions: threads queue here
     * instead of in SQLite's busy handler, which sleeps (the benchmark's
     * 90-300 ms create p99). Other processes (imsctl) still meet the busy
     * handler. */
    pthread_mutex_t write_lock;
    struct ims_dbc *conns;
    struct ims_signals *signals;
    void *listener; /* ops->listen's, for a server engine's signals */
    /* The handle every write transaction of this process runs on (they are
     * serialised by write_lock anyway): its page cache stays warm, where a
     * thread's own handle found its cache invalidated by the other
     * threads' writes and read every page again (pread was a fifth of a
     * create). NULL until the migrations are done. */
    void *writer;
    struct ims_shared_commit *shared; /* writes waiting together, committed together */
};

static void conn_free(struct ims_dbc *c)
{
    c->ops->close(c->h);
    free(c);
}

static void unlink_conn(struct ims_db *db, struct ims_dbc *c)
{
    pthread_mutex_lock(&db->lock);
    for (struct ims_dbc **p = &db->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&db->lock);
}

static void thread_exit(void *arg)
{
    struct ims_dbc *c = arg;
    unlink_conn(c->db, c);
    conn_free(c);
}

static enum ims_rc conn_open(struct ims_db *db, struct ims_dbc **ret, struct ims_err *err)
{
    struct ims_dbc *c = ims_xcalloc(1, sizeof(*c));
    c->ops = db->ops;
    c->db = db;
    enum ims_rc rc = db->ops->open(db->dsn, &c->h, err);
    if (rc != IMS_OK) {
        free(c);
        return rc;
    }
    pthread_mutex_lock(&db->lock);
    c->next = db->conns;
    db->conns = c;
    pthread_mutex_unlock(&db->lock);
    *ret = c;
    return IMS_OK;
}

struct ims_dbc *ims_db_conn(struct ims_db *db)
{
    struct ims_dbc *c = pthread_getspecific(db->key);
    if (!c) {
        struct ims_err err;
        if (conn_open(db, &c, &err) != IMS_OK) {
            /* The first connection was opened at start-up with the same DSN;
             * failing now means the machine is out of descriptors or memory. */
            ims_error("database: %s", err.msg);
            abort();
        }
        pthread_setspecific(db->key, c);
    }
    if (c->txdepth == 0 && !c->reading && c->ops->maintain)
        c->ops->maintain(c->h);
    return c;
}

/* Each migration runs in a write transaction that reads the schema version
 * itself: processes starting together on one database (nodes on a server
 * engine) take turns, and each runs only what the one before left to do. */
static enum ims_rc migrate(struct ims_dbc *c, struct ims_err *err)
{
    for (;;) {
        enum ims_rc rc = ims_db_begin(c, err);
        if (rc != IMS_OK)
            return rc;
        rc = c->ops->exec(c->h, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err);
        size_t v = rc == IMS_OK ? (size_t)ims_db_schema_version(c) : 0;
        if (rc == IMS_OK && v >= ims_nmigrations)
            return ims_db_commit(c, err);
        if (rc == IMS_OK)
            rc = c->ops->exec(c->h, ims_migrations[v], err);
        if (rc == IMS_OK && ims_migration_data_steps[v])
            rc = ims_migration_data_steps[v](c, err);
        if (rc == IMS_OK) {
            struct ims_q q;
            if (!ims_q_prepare(&q, c, "DELETE FROM schema_version", err) || (rc = ims_q_exec(&q, err)) != IMS_OK ||
                !ims_q_prepare(&q, c, "INSERT INTO schema_version (version) VALUES (?)", err))
                rc = rc != IMS_OK ? rc : IMS_E_DB;
            else {
                ims_q_int(&q, (int64_t)v + 1);
                rc = ims_q_exec(&q, err);
            }
        }
        if (rc != IMS_OK) {
            ims_db_rollback(c);
            char why[sizeof(err->msg)]; /* err->msg is both the cause and the result */
            snprintf(why, sizeof(why), "%s", err ? err->msg : "");
            return ims_fail(err, rc, "migration %zu failed: %s", v + 1, why);
        }
        if ((rc = ims_db_commit(c, err)) != IMS_OK)
            return rc;
    }
}

enum ims_rc ims_db_open(const struct ims_sql_ops *ops, const char *dsn, struct ims_db **ret, struct ims_err *err)
{
    struct ims_db *db = ims_xcalloc(1, sizeof(*db));
    db->ops = ops;
    db->dsn = ims_xstrdup(dsn);
    pthread_mutex_init(&db->lock, NULL);
    pthread_mutex_init(&db->write_lock, NULL);
    pthread_key_create(&db->key, thread_exit);
    char signals[4096];
    if (ops->signals_path && ops->signals_path(dsn, signals, sizeof(signals)))
        db->signals = ims_signals_open(signals);
    else if (ops->listen) {
        db->signals = ims_signals_new();
        db->listener = ops->listen(dsn, db->signals);
    }
    struct ims_dbc *c;
    enum ims_rc rc = conn_open(db, &c, err);
    if (rc == IMS_OK) {
        pthread_setspecific(db->key, c);
        rc = migrate(c, err);
    }
    if (rc == IMS_OK)
        rc = db->ops->open(dsn, &db->writer, err);
    db->shared = ims_shared_commit_new();
    if (rc != IMS_OK) {
        ims_db_close(db);
        return rc;
    }
    *ret = db;
    return IMS_OK;
}

void ims_db_close(struct ims_db *db)
{
    if (!db)
        return;
    if (db->listener)
        db->ops->unlisten(db->listener);
    pthread_setspecific(db->key, NULL);
    pthread_key_delete(db->key);
    while (db->conns) {
        struct ims_dbc *c = db->conns;
        db->conns = c->next;
        conn_free(c);
    }
    pthread_mutex_destroy(&db->lock);
    if (db->writer)
        db->ops->close(db->writer);
    pthread_mutex_destroy(&db->write_lock);
    ims_shared_commit_free(db->shared);
    ims_signals_close(db->signals);
    free(db->dsn);
    free(db);
}

int ims_db_schema_version(struct ims_dbc *c)
{
    struct ims_q q;
    int v = 0;
    if (ims_q_prepare(&q, c, "SELECT MAX(version) FROM schema_version", NULL) && ims_q_step(&q) == IMS_STEP_ROW)
        v = (int)ims_q_col_int(&q, 0);
    ims_q_done(&q);
    return v;
}

const char *ims_db_engine(struct ims_dbc *c) { return c->ops->engine; }

struct ims_shared_commit *ims_db_shared_commit(struct ims_db *db) { return db->shared; }

enum ims_rc ims_db_check(struct ims_dbc *c, struct ims_buf *report, struct ims_err *err)
{
    struct ims_q q;
    enum ims_rc rc = IMS_OK;
    ims_buf_printf(report, "engine: %s\nschema version: %d (latest %zu)\n", c->ops->engine,
                   ims_db_schema_version(c), ims_nmigrations);
    if (c->ops->check(c->h, report, err) != IMS_OK)
        rc = IMS_E_DB;
    static const char *const checks[][2] = {
        {"images stuck in saving", "SELECT COUNT(*) FROM images WHERE status = 'saving'"},
        {"properties without image",
         "SELECT COUNT(*) FROM image_properties p WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = p.image_id)"},
        {"tags without image",
         "SELECT COUNT(*) FROM image_tags t WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = t.image_id)"},
        {"members without image",
         "SELECT COUNT(*) FROM image_members m WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = m.image_id)"},
        {"active images without data", "SELECT COUNT(*) FROM images WHERE status = 'active' AND location IS NULL"},
        {"projects whose image count is wrong",
         "SELECT COUNT(*) FROM (SELECT owner, COUNT(*) AS n FROM images GROUP BY owner) o WHERE o.n <> "
         "COALESCE((SELECT SUM(c.n) FROM project_image_counts c WHERE c.project_id = o.owner), 0)"},
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(checks); i++) {
        if (!ims_q_prepare(&q, c, checks[i][1], err))
            return IMS_E_DB;
        int64_t n = ims_q_step(&q) == IMS_STEP_ROW ? ims_q_col_int(&q, 0) : -1;
        ims_q_done(&q);
        ims_buf_printf(report, "%s: %lld\n", checks[i][0], (long long)n);
        if (n != 0)
            rc = IMS_E_DB;
    }
    if (rc != IMS_OK)
        return ims_fail(err, rc, "database check found problems");
    return IMS_OK;
}

/* Back to the thread's own handle; the writer's per-request leftovers are
 * freed while no statement of it can be in use. */
static void end_write(struct ims_dbc *c)
{
    if (c->rows_tx) { /* on the thread's own handle, under no process lock */
        c->rows_tx = false;
        return;
    }
    if (c->h != c->reader && c->ops->maintain)
        c->ops->maintain(c->h);
    c->h = c->reader;
    pthread_mutex_unlock(&c->db->write_lock);
}

void ims_db_read_begin(struct ims_dbc *c)
{
    if (c->txdepth > 0 || c->reading)
        return;
    ims_q_run(c, c->ops->begin_read, NULL);
    c->reading = true;
}

void ims_db_read_end(struct ims_dbc *c)
{
    if (!c->reading)
        return;
    c->reading = false;
    ims_q_run(c, "COMMIT", NULL);
    if (c->read_wrote) {
        c->read_wrote = false;
        ims_signals_bump(c->db->signals, 1u << IMS_SIGNAL_DATA);
    }
}

enum ims_rc ims_db_begin(struct ims_dbc *c, struct ims_err *err)
{
    ims_db_read_end(c); /* a write never upgrades a read snapshot: it could not wait for the lock */
    if (c->txdepth++ > 0)
        return IMS_OK;
    c->tx_failed = false;
    pthread_mutex_lock(&c->db->write_lock);
    c->reader = c->h;
    if (c->db->writer)
        c->h = c->db->writer;
    enum ims_rc rc = c->ops->exec(c->h, c->ops->begin_write, err);
    if (rc != IMS_OK) {
        c->txdepth--;
        end_write(c);
    }
    return rc;
}

enum ims_rc ims_db_begin_rows(struct ims_dbc *c, struct ims_err *err)
{
    if (!c->ops->begin_rows)
        return ims_db_begin(c, err);
    ims_db_read_end(c);
    if (c->txdepth++ > 0)
        return IMS_OK;
    c->tx_failed = false;
    c->reader = c->h;
    c->rows_tx = true;
    enum ims_rc rc = c->ops->exec(c->h, c->ops->begin_rows, err);
    if (rc != IMS_OK) {
        c->txdepth--;
        end_write(c);
    }
    return rc;
}

enum ims_rc ims_db_commit(struct ims_dbc *c, struct ims_err *err)
{
    if (--c->txdepth > 0)
        return IMS_OK;
    unsigned signals = c->pending_signals;
    c->pending_signals = 0;
    if (c->tx_failed) {
        c->ops->exec(c->h, "ROLLBACK", NULL);
        end_write(c);
        return ims_fail(err, IMS_E_DB, "transaction rolled back");
    }
    if (signals && c->ops->notify) /* delivered to the other nodes by the commit */
        c->ops->notify(c->h, signals);
    enum ims_rc rc = c->ops->exec(c->h, "COMMIT", err);
    if (rc != IMS_OK)
        c->ops->exec(c->h, "ROLLBACK", NULL);
    end_write(c);
    /* after the commit: a cache that sees the new count also sees the write;
     * the data signal is this process's own (never notified to other nodes) */
    if (rc == IMS_OK)
        ims_signals_bump(c->db->signals, signals | 1u << IMS_SIGNAL_DATA);
    return rc;
}

void ims_db_rollback(struct ims_dbc *c)
{
    if (--c->txdepth > 0) {
        c->tx_failed = true;
        return;
    }
    c->pending_signals = 0;
    c->ops->exec(c->h, "ROLLBACK", NULL);
    end_write(c);
}

enum ims_rc ims_db_end(struct ims_dbc *c, enum ims_rc rc, struct ims_err *err)
{
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    return ims_db_commit(c, err);
}

void ims_db_signal_raise(struct ims_dbc *c, enum ims_db_signal which)
{
    if (c->txdepth > 0)
        c->pending_signals |= 1u << which;
    else { /* an autocommit statement: already committed */
        if (c->ops->notify)
            c->ops->notify(c->h, 1u << which);
        ims_signals_bump(c->db->signals, 1u << which);
    }
}

bool ims_db_signal_read(struct ims_db *db, enum ims_db_signal which, uint64_t *ret)
{
    return ims_signals_read(db->signals, which, ret);
}

/* ---- statement helpers ---- */

bool ims_q_prepare(struct ims_q *q, struct ims_dbc *c, const char *sql, struct ims_err *err)
{
    q->c = c;
    q->nbind = 0;
    q->st = c->ops->prepare(c->h, sql, err);
    return q->st != NULL;
}

void ims_q_text(struct ims_q *q, const char *s) { q->c->ops->bind_text(q->st, ++q->nbind, s); }
void ims_q_int(struct ims_q *q, int64_t v) { q->c->ops->bind_int(q->st, ++q->nbind, v); }
enum ims_step ims_q_step(struct ims_q *q) { return q->c->ops->step(q->st); }

void ims_q_done(struct ims_q *q)
{
    if (!q->st)
        return;
    struct ims_dbc *c = q->c;
    /* outside a transaction a writing statement commits by itself, by its
     * reset at the latest (a RETURNING one) */
    bool committed = c->txdepth == 0 && c->ops->stmt_writes && c->ops->stmt_writes(q->st);
    c->ops->reset(q->st);
    q->st = NULL;
    /* what answers keep is still true after a statement that changed no row
     * (the jobs' purge, every second, mostly) or only extended leases (an
     * expiry no answer shows): the data signal stays */
    if (committed && (c->lease_only || c->ops->changes(c->h) == 0))
        return;
    if (committed && c->reading)
        c->read_wrote = true;
    else if (committed)
        ims_signals_bump(c->db->signals, 1u << IMS_SIGNAL_DATA);
}

enum ims_rc ims_q_dberr(struct ims_q *q, struct ims_err *err)
{
    return ims_fail(err, IMS_E_DB, "database: %s", q->c->ops->errmsg(q->c->h));
}

enum ims_rc ims_q_exec(struct ims_q *q, struct ims_err *err)
{
    enum ims_step s = ims_q_step(q);
    enum ims_rc rc = IMS_OK;
    if (s == IMS_STEP_CONSTRAINT)
        rc = ims_fail(err, IMS_E_CONFLICT, "already exists");
    else if (s == IMS_STEP_ERROR)
        rc = ims_q_dberr(q, err);
    ims_q_done(q);
    return rc;
}

enum ims_rc ims_q_run(struct ims_dbc *c, const char *sql, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    return ims_q_exec(&q, err);
}

enum ims_rc ims_q_strings(struct ims_q *q, struct ims_strlist *ret, struct ims_err *err)
{
    enum ims_step s;
    while ((s = ims_q_step(q)) == IMS_STEP_ROW)
        ims_strlist_add(ret, ims_q_col_text(q, 0));
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(q, err);
    ims_q_done(q);
    return rc;
}

enum ims_rc ims_q_exec_lease(struct ims_q *q, struct ims_err *err)
{
    struct ims_dbc *c = q->c;
    c->lease_only = c->txdepth == 0; /* in a transaction its commit moves the signal anyway */
    enum ims_rc rc = ims_q_exec(q, err);
    c->lease_only = false;
    return rc;
}

enum ims_rc ims_q_renew_each(struct ims_dbc *c, const char *select_sql, const char *update_sql, const char *owner,
                             int64_t until, struct ims_err *err)
{
    struct ims_strlist held = {0};
    struct ims_q q;
    if (!ims_q_prepare(&q, c, select_sql, err))
        return IMS_E_DB;
    ims_q_text(&q, owner);
    enum ims_rc rc = ims_q_strings(&q, &held, err);
    for (size_t i = 0; rc == IMS_OK && i < held.n; i++) {
        if (!ims_q_prepare(&q, c, update_sql, err)) {
            rc = IMS_E_DB;
            break;
        }
        ims_q_int(&q, until);
        ims_q_text(&q, held.items[i]);
        ims_q_text(&q, owner); /* a row that changed hands meanwhile is no longer owner's */
        rc = ims_q_exec_lease(&q, err);
    }
    ims_strlist_release(&held);
    return rc;
}

enum ims_rc ims_q_get_one(struct ims_dbc *c, struct ims_q *q, const char *by_id_sql, const char *by_key_sql,
                          const char *id, const char *k1, const char *k2, const char *what, const char *shown,
                          struct ims_err *err)
{
    if (!ims_q_prepare(q, c, id ? by_id_sql : by_key_sql, err))
        return IMS_E_DB;
    if (id) {
        ims_q_text(q, id);
    } else {
        ims_q_text(q, k1);
        ims_q_text(q, k2);
    }
    enum ims_step s = ims_q_step(q);
    if (s == IMS_STEP_ROW)
        return IMS_OK;
    enum ims_rc rc = s == IMS_STEP_DONE ? ims_fail(err, IMS_E_NOTFOUND, "Could not find %s: %s", what, id ? id : shown)
                                        : ims_q_dberr(q, err);
    ims_q_done(q);
    return rc;
}

enum ims_rc ims_q_exists(struct ims_q *q, bool *ret, struct ims_err *err)
{
    enum ims_step s = ims_q_step(q);
    enum ims_rc rc = IMS_OK;
    if (s == IMS_STEP_ROW || s == IMS_STEP_DONE)
        *ret = s == IMS_STEP_ROW;
    else
        rc = ims_q_dberr(q, err);
    ims_q_done(q);
    return rc;
}

/* The engines' col_text answers NULL for SQL NULL themselves: asking
 * col_null first doubled the calls into the engine per column (a list page
 * decodes thirty-odd columns of each image it renders). */
const char *ims_q_col_text(struct ims_q *q, int col)
{
    return q->c->ops->col_text(q->st, col);
}

char *ims_q_col_dup(struct ims_q *q, int col)
{
    const char *s = ims_q_col_text(q, col);
    return s ? ims_xstrdup(s) : NULL;
}

int64_t ims_q_col_int(struct ims_q *q, int col) { return q->c->ops->col_int(q->st, col); }
bool ims_q_col_null(struct ims_q *q, int col) { return q->c->ops->col_null(q->st, col); }
