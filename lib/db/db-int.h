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
    bool read_wrote; /* a writing statement ran inside the read snapshot: the data signal moves at its end */
    bool lease_only; /* the writing statements running now only extend leases (ims_q_renew_each) */
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
/* Prepares (from the connection's cache) and runs a statement without
 * parameters or rows (a SAVEPOINT, a DELETE of everything). */
enum ims_rc ims_q_run(struct ims_dbc *c, const char *sql, struct ims_err *err);
const char *ims_q_col_text(struct ims_q *q, int col); /* NULL for SQL NULL */
char *ims_q_col_dup(struct ims_q *q, int col);        /* NULL for SQL NULL */
int64_t ims_q_col_int(struct ims_q *q, int col);
bool ims_q_col_null(struct ims_q *q, int col);
enum ims_rc ims_q_dberr(struct ims_q *q, struct ims_err *err);
/* ims_q_exec of a statement that only extends leases (an expiry no answer
 * shows): outside a transaction it moves no data signal, so the answers
 * kept (lib/api/answer_cache.c) outlive a renewal. */
enum ims_rc ims_q_exec_lease(struct ims_q *q, struct ims_err *err);
/* Steps q to its end, adding each row's first column (text) to ret; finishes q. */
enum ims_rc ims_q_strings(struct ims_q *q, struct ims_strlist *ret, struct ims_err *err);
/* Lease renewals that hold one row at a time: select_sql (owner) names
 * owner's rows in the order writers lock them, and update_sql (until, the
 * row's key, owner) extends each alone, in a statement of its own, so a
 * renewal waiting for a write's row holds none the write needs (PostgreSQL
 * aborted one of the two when one UPDATE locked every row in its scan's
 * order). */
enum ims_rc ims_q_renew_each(struct ims_dbc *c, const char *select_sql, const char *update_sql, const char *owner,
                             int64_t until, struct ims_err *err);
/* A get by id (by_id_sql, one ?) or else by a key of two columns
 * (by_key_sql, k1 and k2 bound in that order): IMS_OK with q on the row
 * (the caller reads it, then finishes q), else q finished and
 * IMS_E_NOTFOUND "Could not find <what>: <id, else shown>" or the
 * database's error. */
enum ims_rc ims_q_get_one(struct ims_dbc *c, struct ims_q *q, const char *by_id_sql, const char *by_key_sql,
                          const char *id, const char *k1, const char *k2, const char *what, const char *shown,
                          struct ims_err *err);
/* Whether q selects a row; finishes q. */
enum ims_rc ims_q_exists(struct ims_q *q, bool *ret, struct ims_err *err);

/* Writes committed together (shared_commit.c): fn runs inside a write
 * transaction, maybe one it shares with other threads' writes waiting at
 * the same time; returns fn's result, or the commit's failure, once the
 * transaction has ended. fn neither begins nor ends a transaction, makes
 * its refusals before its first write, and sets *ret_wrote once it has
 * written (a failure after that runs every write of the batch again,
 * each in a transaction of its own). */
typedef enum ims_rc (*ims_shared_write_fn)(struct ims_dbc *c, void *arg, bool *ret_wrote, struct ims_err *err);
enum ims_rc ims_db_shared_write(struct ims_dbc *c, ims_shared_write_fn fn, void *arg, struct ims_err *err);
struct ims_shared_commit *ims_shared_commit_new(void);
void ims_shared_commit_free(struct ims_shared_commit *s);
/* The database's (db.c); NULL: none, each write commits alone. */
struct ims_shared_commit *ims_db_shared_commit(struct ims_db *db);

/* A project's image count (repo_counts.c), moved inside the caller's write
 * transaction. An image added to owner's count. In a transaction that runs
 * alone, ims_repo_count_check refused it before. Where creates run side by
 * side (ims_db_begin_rows), against max_owned (< 0: no quota), race-free
 * across nodes: on its own slot while far from the quota; nearer, fails
 * with *ret_near set, and the caller makes the create again in a new
 * transaction with all_slots, which waits for the project's creates in
 * flight and refuses (IMG.0015) what passes the quota. */
enum ims_rc ims_repo_count_image_added(struct ims_dbc *c, const char *owner, const char *image_id, int64_t max_owned,
                                       bool all_slots, bool *ret_near, struct ims_err *err);
/* Before a create writes anything, when its transaction runs alone: whether
 * one more image of owner passes max_owned (then refused as
 * ims_repo_count_image_added would); where creates run side by side the
 * answer is ims_repo_count_image_added's. */
enum ims_rc ims_repo_count_check(struct ims_dbc *c, const char *owner, int64_t max_owned, struct ims_err *err);
/* The image taken off its owner's count (as the row says), unless the
 * owner is unless_owner (NULL: whoever it is); *ret_moved (may be NULL):
 * whether a count moved. */
enum ims_rc ims_repo_count_image_removed(struct ims_dbc *c, const char *image_id, const char *unless_owner,
                                         bool *ret_moved, struct ims_err *err);
/* The image given from one project to another (to: its new owner): off
 * the count of its owner as the row says, unless that is already to, and
 * onto to's. Where edits run side by side, both rows are locked first, in
 * project order, so that two changes in opposite directions cannot
 * deadlock. */
enum ims_rc ims_repo_count_image_given(struct ims_dbc *c, const char *image_id, const char *from, const char *to,
                                       struct ims_err *err);

/* Moves of blob reference counts in one write transaction (repo_blobs.c):
 * an image write adds each location it drops (-1) or takes (+1), the
 * moves of one location summed, then applies them. Where writes run side
 * by side (PostgreSQL's ims_db_begin_rows), each moved row is locked as it
 * is updated; taken in the order the write named them, an image moving
 * from X to Y and another from Y to X locked X and Y in opposite orders
 * and deadlocked. Applied in location order (strcmp), every transaction
 * takes the rows of the blobs it moves in the same order. */
struct ims_blob_moves {
    struct ims_blob_move {
        const char *location; /* borrowed: lives until the moves are applied */
        int delta;
    } *items;
    size_t n, cap;
};
void ims_blob_moves_add(struct ims_blob_moves *m, const char *location, int delta);
/* Applies the moves that do not sum to zero, in location order, and frees
 * them. A location taken (+1) without a row: IMS_E_NOTFOUND, as
 * ims_repo_blob_ref. */
enum ims_rc ims_blob_moves_apply(struct ims_dbc *c, struct ims_blob_moves *m, struct ims_err *err);

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
enum ims_rc ims_repo_images_backfill_props_text(struct ims_dbc *c, struct ims_err *err);
/* Migration 16's data: the resource types Glance seeds, protected. */
enum ims_rc ims_repo_md_seed_resource_types(struct ims_dbc *c, struct ims_err *err);
/* Migration 21's data: policies sharing an internal name with an older
 * one of their account renamed, before migration 22's unique index. */
enum ims_rc ims_repo_policies_rename_duplicates(struct ims_dbc *c, struct ims_err *err);

#endif
