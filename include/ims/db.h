/* SPDX-License-Identifier: Apache-2.0
 * db: the metadata repository. Two layers:
 *  - a small SQL interface (struct ims_sql_ops) that each engine implements
 *    (db/sqlite.c, db/pg.c): prepare/bind/step over portable SQL
 *    with '?' placeholders, plus the few statements that differ between
 *    engines (transaction starts, integrity check, planner hints). Which
 *    engine a process uses is chosen by src/ (struct ims_backends);
 *  - repository functions (images, members, identity, tokens) written once
 *    over that interface. The core calls only the repository.
 * A connection belongs to one thread: ims_db_conn() returns the calling
 * thread's. */
#ifndef IMS_DB_H
#define IMS_DB_H

#include "ims/base.h"
#include "ims/image.h"
#include "ims/metadef.h"
#include "ims/query.h"
#include "ims/server.h"

struct ims_db;
struct ims_dbc;
struct ims_stmt;
struct ims_signals; /* lib/db/signals.c */

enum ims_step { IMS_STEP_ROW, IMS_STEP_DONE, IMS_STEP_ERROR, IMS_STEP_CONSTRAINT };

struct ims_sql_ops {
    const char *engine;
    enum ims_rc (*open)(const char *dsn, void **ret_handle, struct ims_err *err);
    void (*close)(void *handle);
    /* Runs a script of statements without parameters (migrations). */
    enum ims_rc (*exec)(void *handle, const char *sql, struct ims_err *err);
    /* Returns a prepared statement, reset and unbound; cached per handle. */
    void *(*prepare)(void *handle, const char *sql, struct ims_err *err);
    void (*bind_text)(void *stmt, int idx, const char *s); /* NULL binds NULL; idx from 1 */
    void (*bind_int)(void *stmt, int idx, int64_t v);
    enum ims_step (*step)(void *stmt);
    bool (*col_null)(void *stmt, int col);
    const char *(*col_text)(void *stmt, int col); /* NULL for SQL NULL; valid until the next step/reset */
    int64_t (*col_int)(void *stmt, int col);
    /* The columns of the row a step returned: how many, and their names. */
    int (*col_count)(void *stmt);
    const char *(*col_name)(void *stmt, int col);
    void (*reset)(void *stmt);
    /* Whether the statement may change the database (not a SELECT, not
     * transaction control): run outside a transaction it commits by itself,
     * and the data signal moves after it. NULL: the engine keeps no data
     * signal (every write's commit is then all there is). */
    bool (*stmt_writes)(void *stmt);
    int64_t (*changes)(void *handle);
    const char *(*errmsg)(void *handle);
    /* Frees per-request leftovers; called when no statement is in use. */
    void (*maintain)(void *handle);

    /* ---- what differs between engines: callers never spell it themselves ---- */
    /* Starts a write transaction that holds the write lock from its start,
     * so two writers never deadlock on a read-to-write upgrade (SQLite:
     * BEGIN IMMEDIATE). */
    const char *begin_write;
    /* Starts a read snapshot (several reads that must agree). */
    const char *begin_read;
    /* A join that keeps the order the query names its tables in (SQLite:
     * CROSS JOIN); used where walking the first table's index in order is
     * what makes the query fast. */
    const char *join_in_order;
    /* Statements run in this process: several cursors open at once cost
     * no round trip, so a list split into parts merges the parts' cursors
     * (repo_images.c) instead of asking the engine for their union. */
    bool merge_cursors;
    /* Appends expr to sql so that the planner does not pick an index on it:
     * the condition filters rows found through another index. */
    void (*unindexed)(struct ims_buf *sql, const char *expr);
    /* Checks the engine's own storage: a line per finding in report,
     * IMS_E_DB if it found damage. */
    enum ims_rc (*check)(void *handle, struct ims_buf *report, struct ims_err *err);
    /* The file where the processes sharing dsn keep change signals
     * (signals.c); false when the engine has none (a server engine, an
     * in-memory database): caches then read SQL. */
    bool (*signals_path)(const char *dsn, char *buf, size_t cap);
    /* ---- several nodes on a server engine (NULL on SQLite) ---- */
    /* Starts a write transaction that takes no database-wide lock: it
     * locks the rows it reads for update (skip_locked), so transactions
     * of several nodes run side by side (ims_db_begin_rows). NULL: those
     * transactions are ordinary write transactions (begin_write). */
    const char *begin_rows;
    /* What ends a SELECT that picks rows for this transaction to take:
     * locks them, skipping rows another transaction holds ("" when the
     * write transaction excludes every other writer anyway). */
    const char *skip_locked;
    /* Tells the other processes on the database that the signals in mask
     * changed, as part of the open transaction (delivered at its commit)
     * or at once outside one. */
    void (*notify)(void *handle, unsigned mask);
    /* Follows the signals the other processes notify, on a connection of
     * its own (a thread): ims_signals_bump for each, and
     * ims_signals_set_live while it listens. Returns the listener for
     * unlisten, NULL if it could not start. */
    void *(*listen)(const char *dsn, struct ims_signals *signals);
    void (*unlisten)(void *listener);
};

/* The SQLite engine (lib/db/sqlite.c); its DSN is a file path. */
extern const struct ims_sql_ops ims_sqlite_ops;
/* The page cache of every SQLite connection opened from now on, KiB
 * ([database] cache_kib): each thread holds a connection, so this times the
 * connections is what SQLite may keep of the database in memory. */
#define IMS_SQLITE_CACHE_KIB_DEFAULT 2000 /* SQLite's own default */
void ims_sqlite_set_cache_kib(int64_t kib);
/* The PostgreSQL engine (lib/db/pg.c); its DSN is a postgresql:// URI
 * without the scheme ("user@host:port/db?..."). */
extern const struct ims_sql_ops ims_pg_ops;

/* Opens the repository on the given engine and runs pending migrations. */
enum ims_rc ims_db_open(const struct ims_sql_ops *ops, const char *dsn, struct ims_db **ret, struct ims_err *err);
void ims_db_close(struct ims_db *db);
struct ims_dbc *ims_db_conn(struct ims_db *db);
int ims_db_schema_version(struct ims_dbc *c);
/* The engine's name ("sqlite", "postgresql"). */
const char *ims_db_engine(struct ims_dbc *c);
/* Integrity check for `imsctl db check`: fills report, returns IMS_OK if fine. */
enum ims_rc ims_db_check(struct ims_dbc *c, struct ims_buf *report, struct ims_err *err);

/* Copies every row of every table of `from` into `to` (`imsctl db copy`):
 * both are migrated to the same version; `to` must hold no users and no
 * images yet (what its migrations wrote is replaced). One write
 * transaction on `to`, one read snapshot of `from`; a line per table in
 * report. */
enum ims_rc ims_db_copy(struct ims_db *from, struct ims_db *to, struct ims_buf *report, struct ims_err *err);

/* ---- transactions (nestable: only the outermost begins/commits) ---- */
/* ---- change signals (lib/db/signals.c) ----
 * What per-thread caches hold changed: raised by the repository with the
 * write (bumped once its transaction commits), read by the caches on every
 * use. IMS_SIGNAL_DATA is no repository's to raise: it moves after every
 * commit that may have changed any row (a write transaction, a writing
 * statement outside one that changed a row other than by extending a
 * lease, ims_q_exec_lease), before the write's caller goes on, so whatever
 * was read before it moved may be older than an acknowledged write. It is
 * read only where the signals are shared by every process on the database
 * (the SQLite file): elsewhere ims_db_signal_read says "unknown" for it. */
enum ims_db_signal { IMS_SIGNAL_IAM, IMS_SIGNAL_REVOCATION, IMS_SIGNAL_DATA, IMS_NSIGNALS };
void ims_db_signal_raise(struct ims_dbc *c, enum ims_db_signal which);
/* false when this database has no signals: the caller must read SQL. */
bool ims_db_signal_read(struct ims_db *db, enum ims_db_signal which, uint64_t *ret);

/* One snapshot for several reads (a list and its marker): one read
 * transaction instead of one per statement. No-op inside a write
 * transaction; a write transaction begun inside it ends it first. */
void ims_db_read_begin(struct ims_dbc *c);
void ims_db_read_end(struct ims_dbc *c);
enum ims_rc ims_db_begin(struct ims_dbc *c, struct ims_err *err);
/* A write transaction that takes no database-wide lock on a server engine
 * (ops->begin_rows): for writes whose every read of a row it then writes
 * locks that row (SELECT ... skip_locked, or a conditional UPDATE). Ended
 * as the others (commit, rollback, end). On SQLite: ims_db_begin. */
enum ims_rc ims_db_begin_rows(struct ims_dbc *c, struct ims_err *err);
enum ims_rc ims_db_commit(struct ims_dbc *c, struct ims_err *err);
void ims_db_rollback(struct ims_dbc *c);
/* Ends the transaction begun by ims_db_begin: commits if rc is IMS_OK,
 * rolls back otherwise; returns rc or the commit's failure. */
enum ims_rc ims_db_end(struct ims_dbc *c, enum ims_rc rc, struct ims_err *err);

/* ---- images ---- */
/* Where something (an authorization decision, a list) applies over
 * enterprise projects; stated, never implied by a NULL. */
enum ims_ep_scope { IMS_EP_SCOPE_NONE = 0, IMS_EP_SCOPE_ALL, IMS_EP_SCOPE_LISTED };

/* Who is looking: decides what a list returns. */
struct ims_viewer {
    const char *project_id;
    bool is_admin;
    /* The enterprise projects whose images the caller may see: ALL, or
     * LISTED (eps: allowed through enterprise-project grants only), or
     * NONE (the zero value: no images at all, so a viewer nobody set up
     * sees nothing). */
    enum ims_ep_scope ep_scope;
    const struct ims_strlist *eps;
};

/* Fails with IMG.0015 (IMS_QUOTA_FULL_FMT) when the owner would then own more
 * than max_owned images (max_owned < 0: no limit). */
enum ims_rc ims_repo_image_insert(struct ims_dbc *c, const struct ims_image *img, int64_t max_owned,
                                  struct ims_err *err);
enum ims_rc ims_repo_image_get(struct ims_dbc *c, const char *id, struct ims_image *ret, struct ims_err *err);
/* The image's row without its custom properties (one statement, not two):
 * what a list's marker needs, its sort keys and what decides who sees it. */
enum ims_rc ims_repo_image_get_row(struct ims_dbc *c, const char *id, struct ims_image *ret, struct ims_err *err);
/* Locks the image's row until the transaction (ims_db_begin_rows) ends:
 * the image's writers take turns, each reading what the previous wrote.
 * Nothing to do where write transactions take turns anyway (SQLite). */
enum ims_rc ims_repo_image_lock(struct ims_dbc *c, const char *id, struct ims_err *err);
/* Does any image carry property `name` (one kept in image_properties, not a
 * promoted column) with exactly this value? */
enum ims_rc ims_repo_image_prop_exists(struct ims_dbc *c, const char *name, const char *value, bool *ret,
                                       struct ims_err *err);
/* Writes what differs between before (as read, in the caller's write
 * transaction) and img: the row on condition that its revision is still
 * before->revision (raised by one; IMS_E_CONFLICT otherwise), the changed
 * property and tag rows. Callers go through lib/core's image edit. */
enum ims_rc ims_repo_image_write_changes(struct ims_dbc *c, const struct ims_image *before,
                                         const struct ims_image *img, struct ims_err *err);
enum ims_rc ims_repo_image_delete(struct ims_dbc *c, const char *id, struct ims_err *err);
/* Uploads: claim moves the image queued -> saving for upload_id, leased
 * to owner (this process) until `expires` (epoch seconds; renewed by
 * ims_repo_uploads_renew) (IMS_E_CONFLICT if it is not queued); only that
 * upload may then commit
 * (ims_repo_image_upload_owned, checked in the commit's transaction) or
 * give the image back to queued (upload_end; a no-op if the image is no
 * longer in its saving). Each raises the revision. */
enum ims_rc ims_repo_image_upload_claim(struct ims_dbc *c, const char *id, const char *upload_id, const char *owner,
                                        int64_t expires, struct ims_err *err);
enum ims_rc ims_repo_image_upload_owned(struct ims_dbc *c, const char *id, const char *upload_id, bool *ret,
                                        struct ims_err *err);
enum ims_rc ims_repo_image_upload_end(struct ims_dbc *c, const char *id, const char *upload_id, struct ims_err *err);
/* One page of the list for q as seen by v. */
/* marker: the loaded q->marker image (the caller checked it is visible), or NULL. */
enum ims_rc ims_repo_image_list(struct ims_dbc *c, const struct ims_image_query *q, const struct ims_image *marker,
                                const struct ims_viewer *v,
                                struct ims_image **ret, size_t *ret_n, struct ims_err *err);
void ims_image_array_free(struct ims_image *imgs, size_t n);
/* ---- upload leases (lib/db/repo_uploads.c) ---- */
/* A Glance stage (the image "uploading", no data yet) leased to owner
 * until expires, as an upload is: in the transaction that makes the image
 * uploading (the caller's edit, so the revision is the edit's to raise). */
enum ims_rc ims_repo_image_stage_lease(struct ims_dbc *c, const char *id, const char *owner, int64_t expires,
                                       struct ims_err *err);
/* Extends the leases of every upload and stage owner is writing. */
enum ims_rc ims_repo_uploads_renew(struct ims_dbc *c, const char *owner, int64_t expires, struct ims_err *err);
/* Crash recovery, safe while other processes upload: images in `saving`,
 * or `uploading` without staged data yet, whose owner is gone
 * (ims_owner_gone), whose lease ran out before now, or that have no owner
 * go back to `queued`. Returns the count. */
enum ims_rc ims_repo_uploads_recover(struct ims_dbc *c, int64_t now, int64_t *ret_n, struct ims_err *err);
enum ims_rc ims_repo_image_count(struct ims_dbc *c, const char *owner, int64_t *ret, struct ims_err *err);

/* ---- blobs, reference-counted across processes (lib/db/repo_blobs.c) ---- */
/* A new blob (refs 0) that writer (ims_process_owner) is writing, held
 * for it until lease_until (renewed by ims_repo_blobs_renew). Registered
 * before its first byte is stored. */
enum ims_rc ims_repo_blob_register(struct ims_dbc *c, const char *location, const char *writer, int64_t lease_until,
                                   struct ims_err *err);
/* Extends the leases of every blob writer is still writing, and of its
 * claims to hash blobs (ims_repo_blob_hash_claim). */
enum ims_rc ims_repo_blobs_renew(struct ims_dbc *c, const char *writer, int64_t lease_until, struct ims_err *err);
/* Moves refs by delta (one image more or fewer on it) and ends the
 * writer's claim; called by the image writes, in their transactions. A
 * reference to a blob without a row (collected meanwhile) is
 * IMS_E_NOTFOUND, so no image ever points at removed data. */
enum ims_rc ims_repo_blob_ref(struct ims_dbc *c, const char *location, int delta, struct ims_err *err);
/* Deletes the row if nothing references the blob and no writer's lease
 * holds it at now; *ret_collected says whether it did (the caller then
 * removes the data: the row is gone, so no new reference can be made). */
enum ims_rc ims_repo_blob_collect(struct ims_dbc *c, const char *location, int64_t now, bool *ret_collected,
                                  struct ims_err *err);
/* Up to max rows ims_repo_blob_collect would collect at now. */
enum ims_rc ims_repo_blobs_collectable(struct ims_dbc *c, int64_t now, size_t max, struct ims_strlist *ret,
                                       struct ims_err *err);
/* The writers holding blobs now (each once), so a start can judge which
 * of them are gone (ims_owner_gone). */
enum ims_rc ims_repo_blob_writers(struct ims_dbc *c, struct ims_strlist *ret, struct ims_err *err);
/* Ends every claim of writer (a process known to be gone): its blobs are
 * collectable at once instead of when its lease runs out. */
enum ims_rc ims_repo_blobs_unclaim_writer(struct ims_dbc *c, const char *writer, int64_t *ret_n, struct ims_err *err);
/* Which of n locations (n <= IMS_REPO_BLOBS_KNOWN_MAX) are registered
 * blobs: ret[i] for locations[i], in one query (the store's recovery asks
 * about the old blobs it finds a batch at a time, and removes those no row
 * names). */
#define IMS_REPO_BLOBS_KNOWN_MAX 256
enum ims_rc ims_repo_blobs_known(struct ims_dbc *c, const char *const *locations, size_t n, bool *ret,
                                 struct ims_err *err);
/* A blob's digests once read (migration 27), for a location whose
 * holders have none: whether it has a row, md5 and sha512 ("" when not
 * known yet), and the process reading it for them now (hasher, "" for
 * none) until hash_until. */
struct ims_blob_digests {
    bool found;
    char md5[33], sha512[129];
    char hasher[IMS_OWNER_MAX];
    int64_t hash_until;
};
enum ims_rc ims_repo_blob_digests_get(struct ims_dbc *c, const char *location, struct ims_blob_digests *ret,
                                      struct ims_err *err);
/* owner (ims_process_owner) claims the reading of location's data for its
 * digests until `until` (renewed by ims_repo_blobs_renew), on condition
 * that it has none and its claim is still prior ("" for none: the caller
 * judged it ended); *ret_claimed says whether it did. */
enum ims_rc ims_repo_blob_hash_claim(struct ims_dbc *c, const char *location, const char *prior, const char *owner,
                                     int64_t until, bool *ret_claimed, struct ims_err *err);
/* Ends owner's claim, keeping the digests read (md5 and sha512 NULL: none,
 * the reading failed). A failed reading with failed_until > 0 stays on the
 * row until then (hasher IMS_BLOB_HASH_FAILED, hash_until failed_until):
 * the data is not read again meanwhile, a claim after it may. */
#define IMS_BLOB_HASH_FAILED "!unreadable" /* no process owner has this shape */
enum ims_rc ims_repo_blob_hash_end(struct ims_dbc *c, const char *location, const char *owner, const char *md5,
                                   const char *sha512, int64_t failed_until, struct ims_err *err);
/* Who holds location: its blob's reference count (-1: no such blob) and,
 * when it has references, the images referencing it, as their own
 * location or as the copy property copy_prop (IMS_PROP_COPY_PREFIX<store>). */
enum ims_rc ims_repo_blob_holders(struct ims_dbc *c, const char *location, const char *copy_prop, int64_t *ret_refs,
                                  struct ims_strlist *ret_ids, struct ims_err *err);

/* ---- image quotas (lib/db/repo_quotas.c) ---- */
/* The message of IMG.0015: project, images it owns, its quota. */
#define IMS_QUOTA_FULL_FMT "The number of private images has reached the maximum allowed: project %s has %lld of %lld."

/* The project's own quota; *ret_found false when it has none (the default applies). */
enum ims_rc ims_repo_quota_get(struct ims_dbc *c, const char *project_id, int64_t *ret, bool *ret_found,
                               struct ims_err *err);
enum ims_rc ims_repo_quota_set(struct ims_dbc *c, const char *project_id, int64_t quota, struct ims_err *err);

/* ---- members ---- */
struct ims_member {
    char image_id[IMS_UUID_LEN + 1];
    char *member_id;
    char status[16]; /* pending accepted rejected */
    int64_t created_at, updated_at;
};
void ims_member_release(struct ims_member *m);
enum ims_rc ims_repo_member_insert(struct ims_dbc *c, const struct ims_member *m, struct ims_err *err);
enum ims_rc ims_repo_member_get(struct ims_dbc *c, const char *image_id, const char *member_id, struct ims_member *ret,
                                struct ims_err *err);
enum ims_rc ims_repo_member_list(struct ims_dbc *c, const char *image_id, struct ims_member **ret, size_t *ret_n,
                                 struct ims_err *err);
enum ims_rc ims_repo_member_update(struct ims_dbc *c, const struct ims_member *m, struct ims_err *err);
enum ims_rc ims_repo_member_delete(struct ims_dbc *c, const char *image_id, const char *member_id,
                                   struct ims_err *err);

/* ---- identity ---- */
struct ims_domain {
    char *id, *name;
    bool enabled;
};
struct ims_project {
    char *id, *domain_id, *name, *region;
    bool enabled;
    char *description; /* read by ims_repo_project_list/get, written by ims_repo_project_update */
};
struct ims_user {
    char *id, *domain_id, *name, *password_hash, *default_project_id;
    bool enabled, is_root;
    int64_t failed_logins;
    int64_t locked_until; /* epoch seconds; logins refused before it */
    int64_t tokens_valid_after; /* epoch microseconds: tokens issued before it are refused (password change) */
    char *description;    /* read by ims_repo_user_list/get, written by ims_repo_user_update */
};
void ims_domain_release(struct ims_domain *d);
void ims_project_release(struct ims_project *p);
void ims_user_release(struct ims_user *u);

enum ims_rc ims_repo_domain_insert(struct ims_dbc *c, const struct ims_domain *d, struct ims_err *err);
enum ims_rc ims_repo_domain_get(struct ims_dbc *c, const char *id, const char *name, struct ims_domain *ret,
                                struct ims_err *err);
enum ims_rc ims_repo_project_insert(struct ims_dbc *c, const struct ims_project *p, struct ims_err *err);
/* By id, or by name within domain_id. */
enum ims_rc ims_repo_project_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *name,
                                 struct ims_project *ret, struct ims_err *err);
enum ims_rc ims_repo_user_insert(struct ims_dbc *c, const struct ims_user *u, struct ims_err *err);
/* Logins per (user, source address): the epoch second until which the
 * user is locked for that source (0: not locked). */
enum ims_rc ims_repo_login_lock_get(struct ims_dbc *c, const char *user_id, const char *source, int64_t *ret,
                                    struct ims_err *err);
/* Records a login attempt from source: success clears the failure count;
 * the max_failures-th failure in a row locks the user for that source for
 * lock_seconds. */
enum ims_rc ims_repo_login_result(struct ims_dbc *c, const char *user_id, const char *source, bool success,
                                  int64_t max_failures, int64_t lock_seconds, struct ims_err *err);
/* Ends the user's locks from every source. */
enum ims_rc ims_repo_login_unlock(struct ims_dbc *c, const char *user_id, struct ims_err *err);
enum ims_rc ims_repo_user_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *name,
                              struct ims_user *ret, struct ims_err *err);
/* ---- Keystone role assignments (lib/db/repo_assignments.c) ----
 * A role (admin, member, reader; the core checks which) of a user or a
 * group on a project or a domain. */
enum ims_actor_type { IMS_ACTOR_USER, IMS_ACTOR_GROUP };
enum ims_target_type { IMS_TARGET_PROJECT, IMS_TARGET_DOMAIN };
struct ims_assignment {
    enum ims_actor_type actor_type;
    enum ims_target_type target_type;
    char *actor_id, *target_id, *role;
    char *via_group; /* effective lists: the group a user holds it through, else NULL */
};
void ims_assignment_array_free(struct ims_assignment *a, size_t n);
/* Adds the assignment unless it is there (*ret_added says which), in one
 * write transaction that also raises the actor's revision and bumps the IAM
 * generation. */
enum ims_rc ims_repo_assignment_add(struct ims_dbc *c, const struct ims_assignment *a, bool *ret_added,
                                    struct ims_err *err);
/* Removes it (IMS_E_NOTFOUND when it is not there) and, in the same
 * transaction, refuses the tokens issued until now to the users it reached
 * (the user, or the group's members: tokens_valid_after), so no token keeps
 * a role its user lost; raises the actor's revision, bumps the generation. */
enum ims_rc ims_repo_assignment_remove(struct ims_dbc *c, const struct ims_assignment *a, struct ims_err *err);
enum ims_rc ims_repo_assignment_exists(struct ims_dbc *c, const struct ims_assignment *a, bool *ret,
                                       struct ims_err *err);
/* GET /v3/role_assignments: NULL fields (and types < 0) match anything;
 * only actors of domain_id. effective: a group's assignments become one per
 * member user (via_group set), as Keystone's effective lists do. */
struct ims_assignment_filter {
    const char *domain_id;
    int actor_type, target_type; /* enum values, or -1 */
    const char *actor_id, *target_id, *role;
    bool effective;
};
enum ims_rc ims_repo_assignment_list(struct ims_dbc *c, const struct ims_assignment_filter *f,
                                     struct ims_assignment **ret, size_t *ret_n, struct ims_err *err);
/* The user's roles on a project or a domain: its own and its groups',
 * each once, sorted. */
enum ims_rc ims_repo_roles_on_project(struct ims_dbc *c, const char *user_id, const char *project_id,
                                      struct ims_strlist *ret, struct ims_err *err);
enum ims_rc ims_repo_roles_on_domain(struct ims_dbc *c, const char *user_id, const char *domain_id,
                                     struct ims_strlist *ret, struct ims_err *err);
/* ---- identity management (the IAM API; lib/db/repo_identity.c) ----
 * Lists filter on the given values; NULL (or enabled < 0) = any. Every write
 * bumps the IAM generation. */
enum ims_rc ims_repo_user_list(struct ims_dbc *c, const char *domain_id, const char *name, int enabled,
                               const char *group_id, struct ims_user **ret, size_t *ret_n, struct ims_err *err);
void ims_user_array_free(struct ims_user *u, size_t n);
/* One change of a user: the fields that are set (non-NULL, enabled >= 0)
 * replace the stored ones, the others stay as they are then. */
struct ims_user_change {
    const char *id;
    const char *name, *description, *default_project_id;
    const char *password_hash; /* also refuses the tokens issued until now (tokens_valid_after) */
    int enabled;               /* -1: unchanged */
};
/* Applies ch to the stored row in one statement and raises its revision:
 * concurrent changes of different fields all stay. */
enum ims_rc ims_repo_user_update(struct ims_dbc *c, const struct ims_user_change *ch, struct ims_err *err);
/* Removes the user with its group memberships and role assignments. */
enum ims_rc ims_repo_user_delete(struct ims_dbc *c, const char *id, struct ims_err *err);
enum ims_rc ims_repo_project_list(struct ims_dbc *c, const char *domain_id, const char *name, int enabled,
                                  struct ims_project **ret, size_t *ret_n, struct ims_err *err);
void ims_project_array_free(struct ims_project *p, size_t n);
/* Sets name and description where non-NULL, enabled where >= 0, of project
 * id as it is then, and raises its revision. */
enum ims_rc ims_repo_project_update(struct ims_dbc *c, const char *id, const char *name, const char *description,
                                    int enabled, struct ims_err *err);
/* Removes the project with its role assignments and the grants on it. */
enum ims_rc ims_repo_project_delete(struct ims_dbc *c, const char *id, struct ims_err *err);

enum ims_rc ims_repo_token_revoke(struct ims_dbc *c, const char *token_id, int64_t expires_at, struct ims_err *err);
enum ims_rc ims_repo_token_is_revoked(struct ims_dbc *c, const char *token_id, bool *ret, struct ims_err *err);

/* ---- IAM (lib/db/repo_iam.c) ---- */
struct ims_group {
    char *id, *domain_id, *name, *description;
    int64_t created_at;
};
void ims_group_release(struct ims_group *g);
enum ims_rc ims_repo_group_insert(struct ims_dbc *c, const struct ims_group *g, struct ims_err *err);
/* By id, or by name within domain_id. */
enum ims_rc ims_repo_group_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *name,
                               struct ims_group *ret, struct ims_err *err);
enum ims_rc ims_repo_group_delete(struct ims_dbc *c, const char *id, struct ims_err *err);
/* Membership changes raise the group's revision; adding a member twice is
 * not an error. The caller checks, in the same transaction, that both exist. */
enum ims_rc ims_repo_group_add_user(struct ims_dbc *c, const char *group_id, const char *user_id,
                                    struct ims_err *err);
enum ims_rc ims_repo_group_remove_user(struct ims_dbc *c, const char *group_id, const char *user_id,
                                       struct ims_err *err);

struct ims_enterprise_project {
    char *id, *domain_id, *name, *description, *type;
    int status; /* 1 enabled, 2 disabled */
    int64_t created_at, updated_at;
};
void ims_ep_release(struct ims_enterprise_project *ep);
enum ims_rc ims_repo_ep_insert(struct ims_dbc *c, const struct ims_enterprise_project *ep, struct ims_err *err);
enum ims_rc ims_repo_ep_get(struct ims_dbc *c, const char *id, struct ims_enterprise_project *ret,
                            struct ims_err *err);

struct ims_policy_row {
    char *id, *domain_id, *name, *display_name, *description, *type, *document;
    int64_t created_at, updated_at;
};
void ims_policy_row_release(struct ims_policy_row *p);
enum ims_rc ims_repo_policy_insert(struct ims_dbc *c, const struct ims_policy_row *p, struct ims_err *err);
/* By id, or by display name visible in domain_id (its own or a system one). */
enum ims_rc ims_repo_policy_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *display_name,
                                struct ims_policy_row *ret, struct ims_err *err);

enum ims_scope_type { IMS_SCOPE_PROJECT, IMS_SCOPE_ALL_PROJECTS, IMS_SCOPE_DOMAIN, IMS_SCOPE_ENTERPRISE_PROJECT };
const char *ims_scope_type_name(enum ims_scope_type t);
enum ims_rc ims_repo_grant_insert(struct ims_dbc *c, const char *group_id, const char *policy_id,
                                  enum ims_scope_type t, const char *scope_id, struct ims_err *err);
enum ims_rc ims_repo_grant_delete(struct ims_dbc *c, const char *group_id, const char *policy_id,
                                  enum ims_scope_type t, const char *scope_id, struct ims_err *err);

/* ---- IAM management (the IAM API; lib/db/repo_iam.c) ----
 * Lists filter on the given values; NULL (or status 0) = any. */
enum ims_rc ims_repo_group_list(struct ims_dbc *c, const char *domain_id, const char *name, const char *user_id,
                                struct ims_group **ret, size_t *ret_n, struct ims_err *err);
void ims_group_array_free(struct ims_group *g, size_t n);
/* Sets the non-NULL name and description of g (matched by id) on the row as
 * it is then, and raises its revision. */
enum ims_rc ims_repo_group_update(struct ims_dbc *c, const struct ims_group *g, struct ims_err *err);
enum ims_rc ims_repo_group_has_user(struct ims_dbc *c, const char *group_id, const char *user_id, bool *ret,
                                    struct ims_err *err);
/* The account's enterprise projects and the shared default one ("0"). */
enum ims_rc ims_repo_ep_list(struct ims_dbc *c, const char *domain_id, const char *name, int status,
                             struct ims_enterprise_project **ret, size_t *ret_n, struct ims_err *err);
void ims_ep_array_free(struct ims_enterprise_project *ep, size_t n);
/* Sets the non-NULL name, description and type and a non-zero status of ep
 * (matched by id) on the row as it is then, and raises its revision. */
enum ims_rc ims_repo_ep_update(struct ims_dbc *c, const struct ims_enterprise_project *ep, struct ims_err *err);
/* custom_only: the account's own policies; otherwise also the system ones. */
enum ims_rc ims_repo_policy_list(struct ims_dbc *c, const char *domain_id, bool custom_only,
                                 struct ims_policy_row **ret, size_t *ret_n, struct ims_err *err);
void ims_policy_row_array_free(struct ims_policy_row *p, size_t n);
/* The next internal name of the account's custom policies,
 * custom_<account>_<n> with n past every one its policies hold (owned by
 * the caller): read in the transaction that inserts the policy. */
enum ims_rc ims_repo_policy_next_name(struct ims_dbc *c, const char *domain_id, char **ret, struct ims_err *err);
/* Sets the non-NULL display name, description, type and document of p
 * (matched by id) on the row as it is then, and raises its revision. */
enum ims_rc ims_repo_policy_update(struct ims_dbc *c, const struct ims_policy_row *p, struct ims_err *err);
/* Removes the policy and every grant of it. */
enum ims_rc ims_repo_policy_delete(struct ims_dbc *c, const char *id, struct ims_err *err);
/* How many grants use the policy. */
enum ims_rc ims_repo_policy_references(struct ims_dbc *c, const char *id, int64_t *ret, struct ims_err *err);
enum ims_rc ims_repo_grant_exists(struct ims_dbc *c, const char *group_id, const char *policy_id,
                                  enum ims_scope_type t, const char *scope_id, bool *ret, struct ims_err *err);
/* The policies granted to a group on one scope. */
enum ims_rc ims_repo_grant_policies(struct ims_dbc *c, const char *group_id, enum ims_scope_type t,
                                    const char *scope_id, struct ims_policy_row **ret, size_t *ret_n,
                                    struct ims_err *err);

/* Everything granted to a user through its groups: one row per grant. */
struct ims_user_grant {
    char policy_id[IMS_UUID_LEN + 30];
    int64_t policy_updated_at;
    enum ims_scope_type scope;
    char scope_id[70];
};
enum ims_rc ims_repo_user_grants(struct ims_dbc *c, const char *user_id, struct ims_user_grant **ret, size_t *ret_n,
                                 struct ims_err *err);
enum ims_rc ims_repo_user_is_root(struct ims_dbc *c, const char *user_id, bool *ret, struct ims_err *err);
/* A counter bumped by every IAM write (in the same transaction). */
enum ims_rc ims_repo_iam_generation(struct ims_dbc *c, int64_t *ret, struct ims_err *err);
enum ims_rc ims_repo_iam_bump(struct ims_dbc *c, struct ims_err *err);

/* ---- jobs (lib/db/repo_jobs.c) ----
 * Times in milliseconds since the epoch, 0 = not yet. */
struct ims_job {
    char id[65];
    char status[16]; /* INIT RUNNING SUCCESS FAIL */
    char *project_id, *type, *entities, *error_code, *fail_reason, *request, *lease_owner;
    int64_t progress, attempts, lease_expires, created_at, begin_time, end_time;
    /* Raised by every change of the job (not by lease renewals): the claim
     * a worker holds is (lease_owner, revision), so a worker whose job was
     * handed to another one (its lease ran out) can no longer write it, even
     * in the same process (lease_owner names the process). */
    int64_t revision;
};
void ims_job_release(struct ims_job *j);
enum ims_rc ims_repo_job_insert(struct ims_dbc *c, const struct ims_job *j, struct ims_err *err);
/* A condition of a job's creation: no job of its project waiting or running
 * whose input contains needle (a JSON member "key":"value", as json_dumps
 * writes it compactly); else the creation is refused (IMS_E_BADREQ) with
 * code and msg. */
struct ims_job_alone {
    char needle[160];
    char code[16];
    char msg[200];
};
/* Whether every condition holds now (IMS_OK), else the first that does
 * not as its refusal: an early answer only, outside the transaction that
 * records the job (ims_repo_job_insert_alone checks them again there). */
enum ims_rc ims_repo_jobs_alone_check(struct ims_dbc *c, const char *project_id, const struct ims_job_alone *alone,
                                      size_t n_alone, struct ims_err *err);
/* Inserts j if every condition holds, in one write transaction that reads
 * the jobs and writes the row: of concurrent creations that clash, one
 * succeeds (an ims_db_begin transaction: they run one at a time, across
 * nodes too). */
enum ims_rc ims_repo_job_insert_alone(struct ims_dbc *c, const struct ims_job *j, const struct ims_job_alone *alone,
                                      size_t n_alone, struct ims_err *err);
enum ims_rc ims_repo_job_get(struct ims_dbc *c, const char *id, struct ims_job *ret, struct ims_err *err);
/* Is a job of the project waiting or running whose input contains needle
 * (a JSON member, "key":"value", as json_dumps writes it compactly)? */
enum ims_rc ims_repo_jobs_active_with(struct ims_dbc *c, const char *project_id, const char *needle, bool *ret,
                                      struct ims_err *err);
/* Atomically takes the oldest job that is INIT, or RUNNING with a lease that
 * ran out before now_ms: RUNNING, leased to owner until now_ms + lease_ms,
 * attempts + 1. IMS_E_NOTFOUND when there is none. */
enum ims_rc ims_repo_job_claim(struct ims_dbc *c, const char *owner, int64_t now_ms, int64_t lease_ms,
                               struct ims_job *ret, struct ims_err *err);
/* Writes entities and progress of j while owner still holds the claim j was
 * read with (compare-and-set of the revision, which j then follows);
 * NOTFOUND when the lease was lost or the job handed to another worker. */
enum ims_rc ims_repo_job_save(struct ims_dbc *c, struct ims_job *j, const char *owner, struct ims_err *err);
/* RUNNING -> j->status (SUCCESS, FAIL) with entities, error and end time,
 * on the same condition as ims_repo_job_save; drops the lease. */
enum ims_rc ims_repo_job_finish(struct ims_dbc *c, struct ims_job *j, const char *owner, struct ims_err *err);
/* Gives a RUNNING job back (lease expired now) so any worker resumes it, on
 * the same condition. */
enum ims_rc ims_repo_job_unlease(struct ims_dbc *c, struct ims_job *j, const char *owner, struct ims_err *err);
/* Extends the leases of every job owner runs. */
enum ims_rc ims_repo_jobs_renew(struct ims_dbc *c, const char *owner, int64_t until_ms, struct ims_err *err);
/* A page of jobs of one type (Glance's task list): of a project (NULL:
 * every project), in a status (NULL: any), whose request contains needle
 * (a JSON member, as ims_repo_jobs_active_with; NULL: any), newest first
 * by sort (then id) unless ascending, after the marker's job (NULL: from
 * the start), at most limit. */
enum ims_job_sort { IMS_JOB_SORT_CREATED, IMS_JOB_SORT_UPDATED, IMS_JOB_SORT_ID, IMS_JOB_SORT_TYPE, IMS_JOB_SORT_STATUS };
struct ims_job_list_query {
    const char *type, *project_id, *status, *needle, *marker; /* marker: an existing job's id */
    enum ims_job_sort sort;
    bool ascending;
    int64_t limit;
};
enum ims_rc ims_repo_jobs_list(struct ims_dbc *c, const struct ims_job_list_query *lq, struct ims_job **ret,
                               size_t *ret_n, struct ims_err *err);
/* Removes finished jobs that ended before before_ms. */
enum ims_rc ims_repo_jobs_purge(struct ims_dbc *c, int64_t before_ms, int64_t *ret_n, struct ims_err *err);

/* ---- IMS key/value tags (lib/db/repo_tags.c) ---- */
/* An image as a query by tag sees it: id, name, status and native tags. */
struct ims_tagged_image {
    char id[IMS_UUID_LEN + 1];
    char *name;
    char status[16];
    int64_t created_at;
    struct ims_strlist tags; /* sorted */
};
/* Every image owned by `owner`, newest first (created_at desc, id), with its
 * tags: one query. */
enum ims_rc ims_repo_owner_tagged_images(struct ims_dbc *c, const char *owner, struct ims_tagged_image **ret,
                                         size_t *ret_n, struct ims_err *err);
void ims_tagged_image_array_free(struct ims_tagged_image *v, size_t n);

/* ---- the compute inventory (lib/db/repo_compute.c) ----
 * Servers with their volumes (in position order), volumes, backups with
 * their copies. Writes run in one write transaction each (begun here, or
 * the caller's), say what they change and raise the server's revision;
 * project_id NULL in a list = every project. */
/* Inserts s and its volumes (positions 0..n-1). */
enum ims_rc ims_repo_server_insert(struct ims_dbc *c, const struct ims_server *s, struct ims_err *err);
enum ims_rc ims_repo_server_get(struct ims_dbc *c, const char *id, struct ims_server *ret, struct ims_err *err);
enum ims_rc ims_repo_server_list(struct ims_dbc *c, const char *project_id, struct ims_server **ret, size_t *ret_n,
                                 struct ims_err *err);
/* Removes the server and its volumes' rows (backups stay). */
enum ims_rc ims_repo_server_delete(struct ims_dbc *c, const char *id, struct ims_err *err);
enum ims_rc ims_repo_server_set_state(struct ims_dbc *c, const char *id, enum ims_server_state state, int64_t now,
                                      struct ims_err *err);
/* Inserts v; with v->server_id, as that server's next disk (the server
 * must exist and be in v's project: IMS_E_NOTFOUND, IMS_E_FORBIDDEN).
 * *ret_position: the position it got (-1 detached). */
enum ims_rc ims_repo_volume_insert(struct ims_dbc *c, const struct ims_volume *v, int *ret_position,
                                   struct ims_err *err);
enum ims_rc ims_repo_volume_get(struct ims_dbc *c, const char *id, struct ims_volume *ret, struct ims_err *err);
enum ims_rc ims_repo_volume_list(struct ims_dbc *c, const char *project_id, struct ims_volume **ret, size_t *ret_n,
                                 struct ims_err *err);
/* A detached volume only (IMS_E_CONFLICT when a server has it). */
enum ims_rc ims_repo_volume_delete(struct ims_dbc *c, const char *id, struct ims_err *err);
/* Inserts b and its copies on condition that its server is still at
 * server_revision (the server read when its disks were copied;
 * IMS_E_CONFLICT otherwise); negative: the server is not the repository's
 * (a libvirt domain), nothing to compare. */
enum ims_rc ims_repo_backup_insert(struct ims_dbc *c, const struct ims_backup *b, int64_t server_revision,
                                   struct ims_err *err);
enum ims_rc ims_repo_backup_get(struct ims_dbc *c, const char *id, struct ims_backup *ret, struct ims_err *err);
enum ims_rc ims_repo_backup_list(struct ims_dbc *c, const char *project_id, struct ims_backup **ret, size_t *ret_n,
                                 struct ims_err *err);
enum ims_rc ims_repo_backup_delete(struct ims_dbc *c, const char *id, struct ims_err *err);

/* ---- metadata definitions (lib/db/repo_metadefs.c) ----
 * Namespaces by name; what they hold by the namespace's id. Reads return
 * rows as they are; the rules (who sees, who writes, protection) are
 * core's (lib/core/metadefs.c), which reads and writes in one write
 * transaction. Every write of a namespace's row or contents is
 * conditional on the revision the caller read (`before`), raises it and
 * sets updated_at (IMS_E_CONFLICT when another write came first). */
enum ims_md_kind { IMS_MD_OBJECTS, IMS_MD_PROPERTIES, IMS_MD_TAGS, IMS_MD_ASSOCS };
struct ims_md_list_query {
    int64_t limit;
    const struct ims_md_namespace *marker; /* as read; NULL: from the start */
    bool by_name, asc;                     /* sort key namespace (else created_at), direction */
    int visibility;                        /* -1 any, 0 private, 1 public */
    const struct ims_strlist *resource_types; /* associated with any of them; NULL: no filter */
    const char *project_id;                /* the viewer: public and its own (owner) ... */
    bool is_admin;                         /* ... or all */
};
enum ims_rc ims_repo_md_namespace_get(struct ims_dbc *c, const char *name, struct ims_md_namespace *ret,
                                      struct ims_err *err);
/* A page of namespaces, each with its resource type associations. */
enum ims_rc ims_repo_md_namespace_list(struct ims_dbc *c, const struct ims_md_list_query *q, struct ims_md_doc **ret,
                                       size_t *ret_n, struct ims_err *err);
/* Fills d's associations, properties, objects and tags (of d->ns.id). */
enum ims_rc ims_repo_md_contents(struct ims_dbc *c, struct ims_md_doc *d, struct ims_err *err);
/* Inserts d->ns (its id, times set by the caller) and what it holds;
 * resource types it names that do not exist are made. IMS_E_CONFLICT
 * when the name is taken. */
enum ims_rc ims_repo_md_namespace_insert(struct ims_dbc *c, const struct ims_md_doc *d, struct ims_err *err);
/* Writes ns's fields over the row `before`. */
enum ims_rc ims_repo_md_namespace_update(struct ims_dbc *c, const struct ims_md_namespace *before,
                                         const struct ims_md_namespace *ns, int64_t now, struct ims_err *err);
/* Removes the namespace and all it holds. */
enum ims_rc ims_repo_md_namespace_delete(struct ims_dbc *c, const struct ims_md_namespace *before,
                                         struct ims_err *err);
/* Removes every item of one kind. */
enum ims_rc ims_repo_md_contents_delete(struct ims_dbc *c, const struct ims_md_namespace *before,
                                        enum ims_md_kind kind, int64_t now, struct ims_err *err);
/* One object, property, tag (IMS_E_NOTFOUND when absent). */
enum ims_rc ims_repo_md_object_get(struct ims_dbc *c, const char *ns_id, const char *name, struct ims_md_object *ret,
                                   struct ims_err *err);
enum ims_rc ims_repo_md_property_get(struct ims_dbc *c, const char *ns_id, const char *name,
                                     struct ims_md_property *ret, struct ims_err *err);
enum ims_rc ims_repo_md_tag_get(struct ims_dbc *c, const char *ns_id, const char *name, struct ims_md_tag *ret,
                                struct ims_err *err);
/* Adds (old_name NULL) or replaces the item old_name with one of kind
 * (item: struct ims_md_object, ims_md_property, ims_md_tag or
 * ims_md_assoc); IMS_E_CONFLICT when the new name is taken, IMS_E_NOTFOUND
 * when old_name is not there. Times are set here. */
enum ims_rc ims_repo_md_item_put(struct ims_dbc *c, const struct ims_md_namespace *before, enum ims_md_kind kind,
                                 const char *old_name, const void *item, int64_t now, struct ims_err *err);
enum ims_rc ims_repo_md_item_delete(struct ims_dbc *c, const struct ims_md_namespace *before, enum ims_md_kind kind,
                                    const char *name, int64_t now, struct ims_err *err);
/* Every resource type, by name. */
enum ims_rc ims_repo_md_resource_types(struct ims_dbc *c, struct ims_md_resource_type **ret, size_t *ret_n,
                                       struct ims_err *err);

#endif
