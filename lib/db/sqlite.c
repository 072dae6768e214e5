/* SPDX-License-Identifier: Apache-2.0
 * SQLite engine for the SQL interface: WAL, NORMAL sync (fsync at
 * checkpoints, durable across process crashes), busy timeout for writers in
 * other threads and processes (imsctl), prepared statements cached by SQL
 * text. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/db.h"

#define CACHE_SLOTS 1024

struct cached {
    char *sql;
    size_t len; /* of sql */
    sqlite3_stmt *st;
    uint64_t hash;
};

struct sqlite_handle {
    sqlite3 *db;
    struct cached cache[CACHE_SLOTS];
    size_t ncached;
    sqlite3_stmt **transient; /* prepared past the cache's capacity */
    size_t ntransient;
};


/* Memory statistics take a process-wide mutex on every SQLite allocation;
 * with a connection per HTTP thread that mutex was contended on every row.
 * Must be set before SQLite initialises (the first open). */
static void configure_library(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Set once at start by src/ (before any connection), read by every open. */
static _Atomic int64_t cache_kib = IMS_SQLITE_CACHE_KIB_DEFAULT;

void ims_sqlite_set_cache_kib(int64_t kib)
{
    cache_kib = kib;
}

/* The database holds password hashes: owner-only, like the token key.
 * SQLite creates files 0644 and gives its -wal and -shm files the database
 * file's mode, so the file is made (or, from older versions, fixed) 0600
 * before SQLite opens it, and the companions of an older version fixed too.
 * By path, never by opening an existing file: closing any descriptor of the
 * database drops every POSIX lock this process's connections hold on it. */
static enum ims_rc restrict_to_owner(const char *path, struct ims_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd); /* new and empty: no connection of ours has it open */
    else if (errno != EEXIST)
        return ims_fail(err, IMS_E_DB, "cannot create %s: %s", path, strerror(errno));
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(suffixes); i++) {
        char file[PATH_MAX];
        if (snprintf(file, sizeof(file), "%s%s", path, suffixes[i]) < (int)sizeof(file) && chmod(file, 0600) != 0 &&
            errno != ENOENT)
            return ims_fail(err, IMS_E_DB, "cannot make %s owner-only: %s", file, strerror(errno));
    }
    return IMS_OK;
}

/* A negative cache_size is in KiB, whatever the page size. */
static int set_cache_size(sqlite3 *db, char **msg)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%lld;", (long long)cache_kib);
    return sqlite3_exec(db, sql, NULL, NULL, msg);
}

static enum ims_rc sq_open(const char *path, void **ret, struct ims_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_library);
    if (restrict_to_owner(path, err) != IMS_OK)
        return IMS_E_DB;
    struct sqlite_handle *h = ims_xcalloc(1, sizeof(*h));
    int rc = sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        enum ims_rc r = ims_fail(err, IMS_E_DB, "cannot open %s: %s", path, sqlite3_errstr(rc));
        sqlite3_close(h->db);
        free(h);
        return r;
    }
    sqlite3_busy_timeout(h->db, 10000);
    char *msg = NULL;
    if (sqlite3_exec(h->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                     /* the WAL is cut back to this size whenever a checkpoint resets it */
                     "PRAGMA journal_size_limit=67108864;"
                     /* A checkpoint (the WAL's pages copied into the
                      * database, then fdatasync) runs in the committing
                      * request once the WAL holds this many pages. An
                      * image insert writes about forty (a leaf of each
                      * index of images, migration 17): at SQLite's 1000 a
                      * request paid for a checkpoint every 25 creates, and
                      * its fsync, on the event loop. The same pages
                      * change again and again, so a larger interval copies
                      * hardly more per checkpoint. */
                     "PRAGMA wal_autocheckpoint=8000;",
                     NULL,
                     NULL, &msg) != SQLITE_OK ||
        set_cache_size(h->db, &msg) != SQLITE_OK) {
        enum ims_rc r = ims_fail(err, IMS_E_DB, "cannot configure %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(h->db);
        free(h);
        return r;
    }
    *ret = h;
    return IMS_OK;
}

static void flush_cache(struct sqlite_handle *h)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (h->cache[i].st) {
            sqlite3_finalize(h->cache[i].st);
            free(h->cache[i].sql);
            h->cache[i] = (struct cached){0};
        }
    }
    h->ncached = 0;
}

static void sq_maintain(void *handle)
{
    struct sqlite_handle *h = handle;
    for (size_t i = 0; i < h->ntransient; i++)
        sqlite3_finalize(h->transient[i]);
    free(h->transient);
    h->transient = NULL;
    h->ntransient = 0;
}

static void sq_close(void *handle)
{
    struct sqlite_handle *h = handle;
    if (!h)
        return;
    sq_maintain(h);
    flush_cache(h);
    sqlite3_close(h->db);
    free(h);
}

static enum ims_rc sq_exec(void *handle, const char *sql, struct ims_err *err)
{
    struct sqlite_handle *h = handle;
    char *msg = NULL;
    if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        enum ims_rc r = ims_fail(err, IMS_E_DB, "%s", msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return r;
    }
    return IMS_OK;
}

static void *sq_prepare(void *handle, const char *sql, struct ims_err *err)
{
    struct sqlite_handle *h = handle;
    size_t len = strlen(sql);
    uint64_t hash = ims_hash_bytes(IMS_HASH_SEED, sql, len);
    size_t slot = hash % CACHE_SLOTS;
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++, slot = (slot + 1) % CACHE_SLOTS) {
        struct cached *c = &h->cache[slot];
        if (!c->st)
            break;
        if (c->hash == hash && c->len == len && memcmp(c->sql, sql, len) == 0) {
            sqlite3_reset(c->st);
            sqlite3_clear_bindings(c->st);
            return c->st;
        }
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        ims_fail(err, IMS_E_DB, "prepare failed: %s", sqlite3_errmsg(h->db));
        return NULL;
    }
    /* Dynamic list queries have a bounded but client-chosen number of shapes:
     * past the cache's capacity a statement lives until the next maintain(),
     * which runs between requests, when no statement is in use. */
    if (h->ncached >= CACHE_SLOTS * 3 / 4) {
        h->transient = ims_xrealloc(h->transient, (h->ntransient + 1) * sizeof(*h->transient));
        h->transient[h->ntransient++] = st;
        return st;
    }
    slot = hash % CACHE_SLOTS;
    while (h->cache[slot].st)
        slot = (slot + 1) % CACHE_SLOTS;
    h->cache[slot] = (struct cached){.sql = ims_xstrdup(sql), .len = len, .st = st, .hash = hash};
    h->ncached++;
    return st;
}

static void sq_bind_text(void *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

static void sq_bind_int(void *st, int idx, int64_t v) { sqlite3_bind_int64(st, idx, v); }

static enum ims_step sq_step(void *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return IMS_STEP_ROW;
    if (rc == SQLITE_DONE)
        return IMS_STEP_DONE;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return IMS_STEP_CONSTRAINT;
    return IMS_STEP_ERROR;
}

static bool sq_col_null(void *st, int col) { return sqlite3_column_type(st, col) == SQLITE_NULL; }
static const char *sq_col_text(void *st, int col) { return (const char *)sqlite3_column_text(st, col); }
static int64_t sq_col_int(void *st, int col) { return sqlite3_column_int64(st, col); }
static int sq_col_count(void *st) { return sqlite3_column_count(st); }
static const char *sq_col_name(void *st, int col) { return sqlite3_column_name(st, col); }
static void sq_reset(void *st) { sqlite3_reset(st); }
static bool sq_stmt_writes(void *st) { return !sqlite3_stmt_readonly(st); }
static int64_t sq_changes(void *handle) { return sqlite3_changes64(((struct sqlite_handle *)handle)->db); }
static const char *sq_errmsg(void *handle) { return sqlite3_errmsg(((struct sqlite_handle *)handle)->db); }

static enum ims_rc sq_check(void *handle, struct ims_buf *report, struct ims_err *err)
{
    struct sqlite_handle *h = handle;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        return ims_fail(err, IMS_E_DB, "integrity check: %s", sqlite3_errmsg(h->db));
    enum ims_rc rc = IMS_OK;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        ims_buf_printf(report, "integrity: %s\n", line ? line : "?");
        if (!ims_streq(line, "ok"))
            rc = ims_fail(err, IMS_E_DB, "integrity check found damage");
    }
    if (s != SQLITE_DONE)
        rc = ims_fail(err, IMS_E_DB, "integrity check: %s", sqlite3_errmsg(h->db));
    sqlite3_finalize(st);
    return rc;
}

/* "+x" is an expression, not the column: SQLite then uses no index on x
 * for this condition (the operator leaves any value as it is). */
static void sq_unindexed(struct ims_buf *sql, const char *expr)
{
    ims_buf_printf(sql, "(+%s)", expr);
}

/* Beside the database file; in-memory and URI databases have none. */
static bool sq_signals_path(const char *dsn, char *buf, size_t cap)
{
    if (!dsn || !*dsn || dsn[0] == ':' || strncmp(dsn, "file:", 5) == 0)
        return false;
    return (size_t)snprintf(buf, cap, "%s-signals", dsn) < cap;
}

const struct ims_sql_ops ims_sqlite_ops = {
    .engine = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int = sq_bind_int,
    .step = sq_step,
    .col_null = sq_col_null,
    .col_text = sq_col_text,
    .col_int = sq_col_int,
    .col_count = sq_col_count,
    .col_name = sq_col_name,
    .reset = sq_reset,
    .stmt_writes = sq_stmt_writes,
    .changes = sq_changes,
    .errmsg = sq_errmsg,
    .maintain = sq_maintain,
    /* IMMEDIATE: the write lock is taken at BEGIN, not at the first write */
    .begin_write = "BEGIN IMMEDIATE",
    .begin_read = "BEGIN",
    .join_in_order = "CROSS JOIN",
    .merge_cursors = true,
    .unindexed = sq_unindexed,
    .check = sq_check,
    .signals_path = sq_signals_path,
    .skip_locked = "",
};
