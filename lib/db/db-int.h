/* SPDX-License-Identifier: Apache-2.0
 * Internals of the repository: the connection and statement helpers the
 * repo_*.c files share. */
#ifndef IMS_DB_INT_H
#define IMS_DB_INT_H

#include "ims/db.h"

struct ims_dbc {
    const struct ims_sql_ops *ops;
    void *h;      /* the handle statements run on: the writer's inside a write transaction */
    void *reader; /* the thread's own handle, while h is the writer's */
    int txdepth;
    bool tx_failed;
    bool reading; /* inside ims_db_read_begin/end */
    bool rows_tx; /* the open write transaction is ims_db_begin_rows's, on h itself */
    unsigned pending_signals; /* raised in the open transaction: bumped at commit */
    struct ims_db *db;
    struct ims_dbc *next;
};

/* Statement helpers: prepare + positional binds. `st` is NULL on failure
 * (err filled). */
struct ims_q {
    struct ims_dbc *c;
    void *st;
    int nbind;
};

bool ims_q_prepare(struct ims_q *q, struct ims_dbc *c, const char *sql, struct ims_err *err);
void ims_q_text(struct ims_q *q, const char *s);
void ims_q_int(struct ims_q *q, int64_t v);
enum ims_step ims_q_step(struct ims_q *q);
/* Runs a statement that returns no rows. IMS_E_CONFLICT on constraint. */
enum ims_rc ims_q_exec(struct ims_q *q, struct ims_err *err);
void ims_q_done(struct ims_q *q);
const char *ims_q_col_text(struct ims_q *q, int col); /* NULL for SQL NULL */
char *ims_q_col_dup(struct ims_q *q, int col);        /* NULL for SQL NULL */
int64_t ims_q_col_int(struct ims_q *q, int col);
bool ims_q_col_null(struct ims_q *q, int col);
enum ims_rc ims_q_dberr(struct ims_q *q, struct ims_err *err);
/* Steps q to its end, adding each row's first column (text) to ret; finishes q. */
enum ims_rc ims_q_strings(struct ims_q *q, struct ims_strlist *ret, struct ims_err *err);
/* Whether q selects a row; finishes q. */
enum ims_rc ims_q_exists(struct ims_q *q, bool *ret, struct ims_err *err);

/* Change signals (signals.c); NULL = none available. */
/* Maps the signals file at path (the engine's signals_path), creating it. */
struct ims_signals *ims_signals_open(const char *path);
/* Signals in this process's memory, for an engine that notifies them
 * (ops->listen): read as unknown until ims_signals_set_live(true). */
struct ims_signals *ims_signals_new(void);
/* Whether reads of s can be trusted: false while the engine's listener is
 * not listening (callers then read SQL). Going live bumps every signal:
 * what changed while nobody listened is forgotten by the caches. */
void ims_signals_set_live(struct ims_signals *s, bool live);
void ims_signals_close(struct ims_signals *s);
void ims_signals_bump(struct ims_signals *s, unsigned mask);
bool ims_signals_read(const struct ims_signals *s, enum ims_db_signal which, uint64_t *ret);

/* Every table the migrations make (schema_version aside), parents before
 * the tables referring to them: what `imsctl db copy` copies, in order. */
extern const char *const ims_tables[];
extern const size_t ims_ntables;

/* The migrations, in order; version = index + 1. */
extern const char *const ims_migrations[];
extern const size_t ims_nmigrations;
extern enum ims_rc (*const ims_migration_data_steps[])(struct ims_dbc *, struct ims_err *);
enum ims_rc ims_repo_images_backfill_tags_text(struct ims_dbc *c, struct ims_err *err);
/* Migration 16's data: the resource types Glance seeds, protected. */
enum ims_rc ims_repo_md_seed_resource_types(struct ims_dbc *c, struct ims_err *err);

#endif
