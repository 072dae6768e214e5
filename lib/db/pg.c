/* SPDX-License-Identifier: Apache-2.0
 * PostgreSQL engine for the SQL interface (libpq). The repository's
 * portable SQL arrives with '?' placeholders, renumbered here to $n; every
 * parameter travels as text of unknown type, so the server infers it from
 * its context as it would a quoted literal (what SQLite's loose typing
 * allowed the callers to assume). Statements are prepared once per
 * connection and cached by their SQL text; past the cache's capacity
 * (client-shaped list queries) they run unnamed.
 *
 * What SQLite's single writer gave for free is kept across every process
 * and node on the database: a write transaction takes one transaction-level
 * advisory lock at its start (begin_write), so write transactions run one
 * at a time, each reading the rows as the previous one left them, while
 * reads never wait. An INSERT inside a transaction runs under a savepoint:
 * a unique-key conflict is an answer the repository acts on (an existing
 * grant, a revoked token), and on PostgreSQL a failed statement would
 * otherwise end the whole transaction. Text sorts byte-wise as in SQLite:
 * the database must use the C collation (checked at connect).
 *
 * Writes that lock the rows they read before writing them
 * (ims_db_begin_rows: image edits, tags, members, creates, job claims)
 * take the advisory lock shared: they run side by side on every node,
 * taking turns on the rows they lock (an image's row, a project's count
 * row, a job picked with FOR UPDATE SKIP LOCKED, so never one job twice),
 * while a write that takes the lock exclusively still runs alone.
 *
 * Change signals: a commit that raised some NOTIFYs imsd_signals with the
 * mask as payload (delivered to every listener when it commits); each
 * process keeps its counters in memory and a listener thread, on a
 * connection of its own, bumps them as notifications arrive. While it is
 * not listening (connecting, the connection lost) the counters read as
 * unknown and caches ask SQL. */
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include "db-int.h"

#define CACHE_SLOTS 1024
#define SIGNALS_CHANNEL "imsd_signals"

enum kind { K_READ, K_INSERT, K_WRITE, K_TX };

struct pg_stmt {
    struct pg_handle *h;
    char *sql;     /* as the repository wrote it (the cache key) */
    char *pgsql;   /* with $n placeholders */
    uint64_t hash;
    char name[16]; /* prepared statement's name; "" when it runs unnamed */
    unsigned prepared_gen; /* the session it was prepared in (0: not yet) */
    enum kind kind;
    int nparams;
    char **vals; /* nparams values, NULL = SQL NULL */
    PGresult *res;
    int row, nrows;
    bool ran;
};

struct pg_handle {
    PGconn *conn;
    unsigned gen; /* session number: raised when the connection is reset */
    int64_t changes;
    char errmsg[512];
    struct pg_stmt *cache[CACHE_SLOTS];
    size_t ncached;
    unsigned next_name;
    struct pg_stmt **transient; /* past the cache's capacity, freed by maintain() */
    size_t ntransient;
};

/* ---- SQL text ---- */

static enum kind kind_of(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '(')
        sql++;
    if (!strncasecmp(sql, "INSERT", 6))
        return K_INSERT;
    if (!strncasecmp(sql, "UPDATE", 6) || !strncasecmp(sql, "DELETE", 6))
        return K_WRITE;
    if (!strncasecmp(sql, "BEGIN", 5) || !strncasecmp(sql, "COMMIT", 6) || !strncasecmp(sql, "ROLLBACK", 8) ||
        !strncasecmp(sql, "SAVEPOINT", 9) || !strncasecmp(sql, "RELEASE", 7) || !strncasecmp(sql, "END", 3))
        return K_TX;
    return K_READ;
}

/* '?' outside quotes becomes $1, $2, ...; *ret_n counts them. A '?'
 * (1 byte) becomes at most 11 ("$" and an int). */
static char *translate(const char *sql, int *ret_n)
{
    size_t len = strlen(sql);
    char *out = ims_xmalloc(len * 11 + 1), *o = out;
    int n = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote && *p == quote)
            quote = 0;
        else if (!quote && (*p == '\'' || *p == '"'))
            quote = *p;
        else if (!quote && *p == '?') {
            o += sprintf(o, "$%d", ++n);
            continue;
        }
        *o++ = *p;
    }
    *o = '\0';
    *ret_n = n;
    return out;
}

/* ---- connections ---- */

static void set_error(struct pg_handle *h, const char *msg)
{
    snprintf(h->errmsg, sizeof(h->errmsg), "%s", msg && *msg ? msg : "postgresql error");
    size_t n = strlen(h->errmsg);
    while (n > 0 && (h->errmsg[n - 1] == '\n' || h->errmsg[n - 1] == ' '))
        h->errmsg[--n] = '\0';
}

static void quiet_notices(void *arg, const char *message) { (void)arg, (void)message; }

/* The C collation (or C.UTF-8: code-point order) sorts as SQLite's BINARY:
 * list pages and their markers compare names byte-wise. */
static enum ims_rc check_collation(PGconn *conn, struct ims_err *err)
{
    PGresult *r = PQexec(conn, "SELECT datcollate FROM pg_database WHERE datname = current_database()");
    enum ims_rc rc = IMS_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = ims_fail(err, IMS_E_DB, "postgresql: cannot read the database's collation: %s",
                      PQresultErrorMessage(r));
    else {
        const char *coll = PQgetvalue(r, 0, 0);
        if (strcmp(coll, "C") != 0 && strcmp(coll, "POSIX") != 0 && strcasecmp(coll, "C.UTF-8") != 0 &&
            strcasecmp(coll, "C.utf8") != 0)
            rc = ims_fail(err, IMS_E_DB,
                          "postgresql: the database's collation is %s; imsd needs C (createdb --locale=C "
                          "--encoding=UTF8 --template=template0)",
                          coll);
    }
    PQclear(r);
    return rc;
}

static enum ims_rc pg_open(const char *dsn, void **ret, struct ims_err *err)
{
    /* src/ hands over what follows "postgresql://"; libpq takes the URI whole */
    char *uri = ims_xasprintf("postgresql://%s", dsn);
    PGconn *conn = PQconnectdb(uri);
    free(uri);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        enum ims_rc r = ims_fail(err, IMS_E_DB, "cannot connect to postgresql: %s",
                                 conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return r;
    }
    PQsetNoticeProcessor(conn, quiet_notices, NULL);
    if (PQsetClientEncoding(conn, "UTF8") != 0) {
        PQfinish(conn);
        return ims_fail(err, IMS_E_DB, "postgresql: cannot use UTF8 as the client encoding");
    }
    if (check_collation(conn, err) != IMS_OK) {
        PQfinish(conn);
        return IMS_E_DB;
    }
    struct pg_handle *h = ims_xcalloc(1, sizeof(*h));
    h->conn = conn;
    h->gen = 1;
    *ret = h;
    return IMS_OK;
}

/* A connection the server dropped (restart, idle timeout) is opened again
 * between transactions; its prepared statements went with it. */
static void revive(struct pg_handle *h)
{
    if (PQstatus(h->conn) == CONNECTION_OK)
        return;
    PQreset(h->conn);
    if (PQstatus(h->conn) == CONNECTION_OK) {
        PQsetClientEncoding(h->conn, "UTF8");
        h->gen++;
    }
}

static void stmt_clear(struct pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->ran = false;
    st->row = st->nrows = 0;
    for (int i = 0; i < st->nparams; i++) {
        free(st->vals[i]);
        st->vals[i] = NULL;
    }
}

static void stmt_free(struct pg_stmt *st)
{
    if (!st)
        return;
    stmt_clear(st);
    free(st->vals);
    free(st->sql);
    free(st->pgsql);
    free(st);
}

static void pg_maintain(void *handle)
{
    struct pg_handle *h = handle;
    for (size_t i = 0; i < h->ntransient; i++)
        stmt_free(h->transient[i]);
    free(h->transient);
    h->transient = NULL;
    h->ntransient = 0;
}

static void pg_close(void *handle)
{
    struct pg_handle *h = handle;
    if (!h)
        return;
    pg_maintain(h);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        stmt_free(h->cache[i]);
    PQfinish(h->conn);
    free(h);
}

/* One command without parameters; COMMIT of a transaction that failed
 * answers ROLLBACK, which is a failure here. */
static bool run_simple(struct pg_handle *h, const char *sql)
{
    PGresult *r = PQexec(h->conn, sql);
    ExecStatusType s = PQresultStatus(r);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        set_error(h, PQresultErrorMessage(r));
    else if (!strncasecmp(sql, "COMMIT", 6) && !strcmp(PQcmdStatus(r), "ROLLBACK")) {
        set_error(h, "the transaction failed and was rolled back");
        ok = false;
    }
    PQclear(r);
    return ok;
}

static enum ims_rc pg_exec(void *handle, const char *sql, struct ims_err *err)
{
    struct pg_handle *h = handle;
    if (PQtransactionStatus(h->conn) == PQTRANS_IDLE)
        revive(h);
    if (!run_simple(h, sql))
        return ims_fail(err, IMS_E_DB, "%s", h->errmsg);
    return IMS_OK;
}

/* ---- statements ---- */

static struct pg_stmt *stmt_new(struct pg_handle *h, const char *sql, uint64_t hash)
{
    struct pg_stmt *st = ims_xcalloc(1, sizeof(*st));
    st->h = h;
    st->sql = ims_xstrdup(sql);
    st->hash = hash;
    st->kind = kind_of(sql);
    st->pgsql = translate(sql, &st->nparams);
    st->vals = ims_xcalloc((size_t)st->nparams + 1, sizeof(*st->vals));
    return st;
}

static void *pg_prepare(void *handle, const char *sql, struct ims_err *err)
{
    struct pg_handle *h = handle;
    uint64_t hash = ims_hash_bytes(IMS_HASH_SEED, sql, strlen(sql));
    size_t slot = hash % CACHE_SLOTS;
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++, slot = (slot + 1) % CACHE_SLOTS) {
        struct pg_stmt *st = h->cache[slot];
        if (!st)
            break;
        if (st->hash == hash && strcmp(st->sql, sql) == 0) {
            stmt_clear(st);
            return st;
        }
    }
    struct pg_stmt *st = stmt_new(h, sql, hash);
    if (h->ncached >= CACHE_SLOTS * 3 / 4) {
        h->transient = ims_xrealloc(h->transient, (h->ntransient + 1) * sizeof(*h->transient));
        h->transient[h->ntransient++] = st;
        return st;
    }
    snprintf(st->name, sizeof(st->name), "ims%u", h->next_name++);
    slot = hash % CACHE_SLOTS;
    while (h->cache[slot])
        slot = (slot + 1) % CACHE_SLOTS;
    h->cache[slot] = st;
    h->ncached++;
    (void)err;
    return st;
}

static void pg_bind_text(void *stmt, int idx, const char *s)
{
    struct pg_stmt *st = stmt;
    if (idx < 1 || idx > st->nparams)
        return;
    free(st->vals[idx - 1]);
    st->vals[idx - 1] = s ? ims_xstrdup(s) : NULL;
}

static void pg_bind_int(void *stmt, int idx, int64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)v);
    pg_bind_text(stmt, idx, num);
}

static PGresult *run_stmt(struct pg_stmt *st)
{
    struct pg_handle *h = st->h;
    if (st->kind == K_TX)
        return PQexec(h->conn, st->pgsql);
    const char *const *vals = (const char *const *)st->vals;
    if (!st->name[0])
        return PQexecParams(h->conn, st->pgsql, st->nparams, NULL, vals, NULL, NULL, 0);
    if (st->prepared_gen != h->gen) {
        PGresult *r = PQprepare(h->conn, st->name, st->pgsql, st->nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            return r;
        PQclear(r);
        st->prepared_gen = h->gen;
    }
    return PQexecPrepared(h->conn, st->name, st->nparams, vals, NULL, NULL, 0);
}

static enum ims_step execute(struct pg_stmt *st)
{
    struct pg_handle *h = st->h;
    st->ran = true;
    PGTransactionStatusType ts = PQtransactionStatus(h->conn);
    if (ts == PQTRANS_IDLE || ts == PQTRANS_UNKNOWN)
        revive(h);
    bool savepoint = st->kind == K_INSERT && ts == PQTRANS_INTRANS;
    if (savepoint && !run_simple(h, "SAVEPOINT ims_insert"))
        return IMS_STEP_ERROR;
    st->res = run_stmt(st);
    ExecStatusType s = PQresultStatus(st->res);
    enum ims_step out;
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
        if (st->kind == K_INSERT || st->kind == K_WRITE)
            h->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
        if (st->kind == K_TX && !strncasecmp(st->pgsql, "COMMIT", 6) && !strcmp(PQcmdStatus(st->res), "ROLLBACK")) {
            set_error(h, "the transaction failed and was rolled back");
            out = IMS_STEP_ERROR;
        } else {
            st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
            st->row = 0;
            out = st->nrows > 0 ? IMS_STEP_ROW : IMS_STEP_DONE;
        }
    } else {
        set_error(h, PQresultErrorMessage(st->res));
        const char *state = PQresultErrorField(st->res, PG_DIAG_SQLSTATE);
        /* class 23: integrity constraint violation (unique, foreign key, not null, check) */
        out = state && !strncmp(state, "23", 2) ? IMS_STEP_CONSTRAINT : IMS_STEP_ERROR;
    }
    if (savepoint) {
        if (out == IMS_STEP_CONSTRAINT || out == IMS_STEP_ERROR) {
            char keep[sizeof(h->errmsg)];
            memcpy(keep, h->errmsg, sizeof(keep));
            run_simple(h, "ROLLBACK TO SAVEPOINT ims_insert");
            memcpy(h->errmsg, keep, sizeof(keep));
        }
        if (!run_simple(h, "RELEASE SAVEPOINT ims_insert") && out != IMS_STEP_ERROR && out != IMS_STEP_CONSTRAINT)
            out = IMS_STEP_ERROR;
    }
    return out;
}

static enum ims_step pg_step(void *stmt)
{
    struct pg_stmt *st = stmt;
    if (!st->ran)
        return execute(st);
    if (!st->res || st->row + 1 >= st->nrows) {
        st->row = st->nrows;
        return IMS_STEP_DONE;
    }
    st->row++;
    return IMS_STEP_ROW;
}

static bool in_row(const struct pg_stmt *st, int col)
{
    return st->res && st->row < st->nrows && col >= 0 && col < PQnfields(st->res);
}

static bool pg_col_null(void *stmt, int col)
{
    struct pg_stmt *st = stmt;
    return !in_row(st, col) || PQgetisnull(st->res, st->row, col);
}

/* NULL for SQL NULL (PQgetvalue gives ""), as SQLite's column text. */
static const char *pg_col_text(void *stmt, int col)
{
    struct pg_stmt *st = stmt;
    return in_row(st, col) && !PQgetisnull(st->res, st->row, col) ? PQgetvalue(st->res, st->row, col) : NULL;
}

/* Integers come as decimal text; a boolean expression (EXISTS, a
 * comparison) as t or f, which SQLite would have given as 1 or 0. */
static int64_t pg_col_int(void *stmt, int col)
{
    const char *s = pg_col_text(stmt, col);
    if (!s)
        return 0;
    if (s[0] == 't' && !s[1])
        return 1;
    return strtoll(s, NULL, 10);
}

static int pg_col_count(void *stmt)
{
    struct pg_stmt *st = stmt;
    return st->res ? PQnfields(st->res) : 0;
}

static const char *pg_col_name(void *stmt, int col)
{
    struct pg_stmt *st = stmt;
    return st->res ? PQfname(st->res, col) : NULL;
}

static void pg_reset(void *stmt) { stmt_clear(stmt); }
static int64_t pg_changes(void *handle) { return ((struct pg_handle *)handle)->changes; }
static const char *pg_errmsg(void *handle) { return ((struct pg_handle *)handle)->errmsg; }

/* The server keeps its own storage; what is checked here is what imsd
 * relies on: the server answers, and sorts text byte-wise. */
static enum ims_rc pg_check(void *handle, struct ims_buf *report, struct ims_err *err)
{
    struct pg_handle *h = handle;
    ims_buf_printf(report, "server: PostgreSQL %d\n", PQserverVersion(h->conn));
    if (check_collation(h->conn, err) != IMS_OK) {
        ims_buf_printf(report, "collation: %s\n", err ? err->msg : "not C");
        return IMS_E_DB;
    }
    ims_buf_printf(report, "collation: C\n");
    return IMS_OK;
}

/* PostgreSQL's planner needs no hint: the expression is used as it is. */
static void pg_unindexed(struct ims_buf *sql, const char *expr) { ims_buf_printf(sql, "%s", expr); }

/* The nodes sharing a server share no file: signals are notified. */
static bool pg_signals_path(const char *dsn, char *buf, size_t cap) { return false; }

static void pg_notify(void *handle, unsigned mask)
{
    struct pg_handle *h = handle;
    char sql[64];
    snprintf(sql, sizeof(sql), "NOTIFY " SIGNALS_CHANNEL ", '%u'", mask);
    if (!run_simple(h, sql))
        ims_warn("postgresql: cannot notify the other nodes of a change: %s", h->errmsg);
}

/* ---- the listener ---- */

struct pg_listener {
    char *uri;
    struct ims_signals *signals;
    int stop[2]; /* a byte written to stop[1] ends the thread */
    pthread_t thread;
};

/* Waits until fd is readable (fd < 0: only for the timeout); false when
 * the listener is told to stop. */
static bool listener_wait(struct pg_listener *l, int fd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = l->stop[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    return !(n > 0 && p[0].revents);
}

static PGconn *listener_connect(struct pg_listener *l)
{
    PGconn *conn = PQconnectdb(l->uri);
    PGresult *r = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, "LISTEN " SIGNALS_CHANNEL) : NULL;
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        ims_warn("postgresql: change signals not followed (caches ask the database): %s",
                 conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void *listener_main(void *arg)
{
    struct pg_listener *l = arg;
    PGconn *conn = NULL;
    for (;;) {
        if (!conn) {
            if (!(conn = listener_connect(l))) {
                if (!listener_wait(l, -1, 1000))
                    break;
                continue;
            }
            ims_signals_set_live(l->signals, true); /* listening: what changed before is forgotten */
        }
        /* a second at most between looks at the connection's state */
        if (!listener_wait(l, PQsocket(conn), 1000))
            break;
        if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
            ims_signals_set_live(l->signals, false);
            ims_warn("postgresql: the change-signal connection was lost: %s", PQerrorMessage(conn));
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies(conn)) != NULL) {
            unsigned long mask = strtoul(n->extra, NULL, 10);
            ims_signals_bump(l->signals, (unsigned)mask & ((1u << IMS_NSIGNALS) - 1));
            PQfreemem(n);
        }
    }
    ims_signals_set_live(l->signals, false);
    PQfinish(conn);
    return NULL;
}

static void *pg_listen(const char *dsn, struct ims_signals *signals)
{
    struct pg_listener *l = ims_xcalloc(1, sizeof(*l));
    l->uri = ims_xasprintf("postgresql://%s", dsn);
    l->signals = signals;
    if (pipe2(l->stop, O_CLOEXEC) != 0) {
        free(l->uri);
        free(l);
        return NULL;
    }
    if (pthread_create(&l->thread, NULL, listener_main, l) != 0) {
        close(l->stop[0]);
        close(l->stop[1]);
        free(l->uri);
        free(l);
        return NULL;
    }
    return l;
}

static void pg_unlisten(void *listener)
{
    struct pg_listener *l = listener;
    ssize_t w = write(l->stop[1], "x", 1);
    (void)w;
    pthread_join(l->thread, NULL);
    close(l->stop[0]);
    close(l->stop[1]);
    free(l->uri);
    free(l);
}

const struct ims_sql_ops ims_pg_ops = {
    .engine = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .step = pg_step,
    .col_null = pg_col_null,
    .col_text = pg_col_text,
    .col_int = pg_col_int,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .reset = pg_reset,
    .changes = pg_changes,
    .errmsg = pg_errmsg,
    .maintain = pg_maintain,
    /* One lock for every writer on the database (any process, any node):
     * write transactions see each other's results as SQLite's do. The key
     * is arbitrary but fixed ("imsd" in ASCII). */
    .begin_write = "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(1768780644)",
    .begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ",
    .join_in_order = "CROSS JOIN",
    .unindexed = pg_unindexed,
    .check = pg_check,
    .signals_path = pg_signals_path,
    /* The same lock, shared: these run side by side, but never beside a
     * writer that relies on taking turns with every other. */
    .begin_rows = "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock_shared(1768780644)",
    .skip_locked = "FOR UPDATE SKIP LOCKED",
    .notify = pg_notify,
    .listen = pg_listen,
    .unlisten = pg_unlisten,
};
