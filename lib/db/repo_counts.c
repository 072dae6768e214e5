/* SPDX-License-Identifier: Apache-2.0
 * A project's image count, kept in the transactions that insert, delete or
 * give away its images, and the quota check of a create.
 *
 * The count is split over COUNT_SLOTS rows of project_image_counts
 * (migration 20), and the project's count is their sum. A create adds one
 * to the slot its image id hashes to, and holds that row's lock until it
 * commits: on PostgreSQL, where creates run side by side on every node
 * (ims_db_begin_rows), the creates of one project no longer commit one at a
 * time behind a single row (Run Y: 72 of 125 samples of a create waited on
 * it), only those that hash to the same slot do.
 *
 * The quota stays exact. A create still uncommitted holds the slot it
 * added to, so while this one holds its own there are at most
 * COUNT_SLOTS - 1 of them, on the other slots: when the sum this
 * transaction sees (the committed creates and its own) plus that many is
 * within the quota, no interleaving can pass it. Nearer the quota the
 * create is made again from the start (its transaction rolled back, which
 * gives the slot's row back: a savepoint's rollback would not, PostgreSQL
 * keeps a row inserted under the engine's per-INSERT savepoint locked to
 * the end of the transaction), this time taking every slot of the project
 * in slot order and adding its one to slot 0: it waits for every create of
 * the project in flight, and the sum it reads then is the count. Two such
 * creates meet at slot 0, and a create that holds a single slot waits for
 * no other, so the locks cannot deadlock. A transaction that runs alone
 * (SQLite's one writer, PostgreSQL's exclusive writes) is checked before
 * it writes (ims_repo_count_check) against the sum as it is.
 *
 * An owner change moves one image between two projects' rows of the same
 * slot. Taken old owner first, a change A to B and a change B to A locked
 * (A, s) and (B, s) in opposite orders, and PostgreSQL aborted one of them
 * (tests/api/test_pg.py). Every transaction that holds more than one row
 * takes them in (project, slot) order: the all-slots create in slot order
 * within its project, the owner change its two rows in project order (the
 * C collation, checked by the engine, orders them as strcmp does). */
#include <stdint.h>
#include <string.h>

#include "db-int.h"

#define COUNT_SLOTS 16

/* FNV-1a over the image id: a create and the delete of the same image
 * move the same slot (a slot may still go below zero: the near-quota path
 * adds to slot 0, a migrated count is in slot 0; only the sum means
 * anything). */
static int64_t count_slot(const char *image_id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)image_id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int64_t)(h % COUNT_SLOTS);
}

static enum ims_rc count_add(struct ims_dbc *c, const char *owner, int64_t slot, int delta, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO project_image_counts (project_id, slot, n) VALUES (?, ?, ?) "
                       "ON CONFLICT (project_id, slot) DO UPDATE SET n = project_image_counts.n + excluded.n",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, owner);
    ims_q_int(&q, slot);
    ims_q_int(&q, delta);
    return ims_q_exec(&q, err);
}

/* Every slot of the project locked, in slot order (rows made where
 * missing, so a create that would make one waits too), one added to slot
 * 0: one statement, whose rows are taken in the order of its VALUES. */
static enum ims_rc count_add_locking_all(struct ims_dbc *c, const char *owner, struct ims_err *err)
{
    struct ims_buf sql;
    ims_buf_init(&sql, SIZE_MAX);
    ims_buf_adds(&sql, "INSERT INTO project_image_counts (project_id, slot, n) VALUES ");
    for (int k = 0; k < COUNT_SLOTS; k++)
        ims_buf_adds(&sql, k ? ", (?, ?, ?)" : "(?, ?, ?)");
    ims_buf_adds(&sql, " ON CONFLICT (project_id, slot) DO UPDATE SET n = project_image_counts.n + excluded.n");
    struct ims_q q;
    enum ims_rc rc = IMS_E_DB;
    if (ims_q_prepare(&q, c, sql.data, err)) {
        for (int k = 0; k < COUNT_SLOTS; k++) {
            ims_q_text(&q, owner);
            ims_q_int(&q, k);
            ims_q_int(&q, k == 0);
        }
        rc = ims_q_exec(&q, err);
    }
    ims_buf_release(&sql);
    return rc;
}

enum ims_rc ims_repo_image_count(struct ims_dbc *c, const char *owner, int64_t *ret, struct ims_err *err)
{
    *ret = 0; /* no row: the project never owned an image */
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT COALESCE(SUM(n), 0) FROM project_image_counts WHERE project_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, owner);
    enum ims_step s = ims_q_step(&q);
    if (s == IMS_STEP_ROW)
        *ret = ims_q_col_int(&q, 0);
    enum ims_rc rc = s == IMS_STEP_ROW || s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

static enum ims_rc quota_full(struct ims_err *err, const char *owner, int64_t n, int64_t max_owned)
{
    return ims_fail_code(err, IMS_E_BADREQ, "IMG.0015", IMS_QUOTA_FULL_FMT, owner, (long long)(n - 1),
                         (long long)max_owned);
}

enum ims_rc ims_repo_count_check(struct ims_dbc *c, const char *owner, int64_t max_owned, struct ims_err *err)
{
    if (max_owned < 0 || c->rows_tx) /* rows_tx: other creates run beside this one, ims_repo_count_image_added decides */
        return IMS_OK;
    int64_t n = 0;
    enum ims_rc rc = ims_repo_image_count(c, owner, &n, err);
    if (rc == IMS_OK && n + 1 > max_owned)
        rc = quota_full(err, owner, n + 1, max_owned);
    return rc;
}

enum ims_rc ims_repo_count_image_added(struct ims_dbc *c, const char *owner, const char *image_id, int64_t max_owned,
                                       bool all_slots, bool *ret_near, struct ims_err *err)
{
    if (ret_near)
        *ret_near = false;
    if (max_owned < 0 || !c->rows_tx) /* alone: ims_repo_count_check counted before the create wrote */
        return count_add(c, owner, count_slot(image_id), 1, err);
    int64_t n = 0;
    enum ims_rc rc = all_slots ? count_add_locking_all(c, owner, err) : count_add(c, owner, count_slot(image_id), 1, err);
    if (rc == IMS_OK)
        rc = ims_repo_image_count(c, owner, &n, err);
    if (rc != IMS_OK)
        return rc;
    if (all_slots) /* nobody else in flight: the sum is the count */
        return n > max_owned ? quota_full(err, owner, n, max_owned) : IMS_OK;
    if (n + (COUNT_SLOTS - 1) <= max_owned)
        return IMS_OK;
    if (ret_near)
        *ret_near = true;
    return ims_fail(err, IMS_E_CONFLICT, "near the quota: made again over every slot");
}

enum ims_rc ims_repo_count_image_removed(struct ims_dbc *c, const char *image_id, const char *unless_owner,
                                         bool *ret_moved, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       unless_owner ? "INSERT INTO project_image_counts (project_id, slot, n) SELECT owner, ?, -1 "
                                      "FROM images WHERE id = ? AND owner <> ? "
                                      "ON CONFLICT (project_id, slot) DO UPDATE SET n = project_image_counts.n + excluded.n"
                                    : "INSERT INTO project_image_counts (project_id, slot, n) SELECT owner, ?, -1 "
                                      "FROM images WHERE id = ? "
                                      "ON CONFLICT (project_id, slot) DO UPDATE SET n = project_image_counts.n + excluded.n",
                       err))
        return IMS_E_DB;
    ims_q_int(&q, count_slot(image_id));
    ims_q_text(&q, image_id);
    if (unless_owner)
        ims_q_text(&q, unless_owner);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && ret_moved)
        *ret_moved = c->ops->changes(c->h) > 0;
    return rc;
}

enum ims_rc ims_repo_count_image_given(struct ims_dbc *c, const char *image_id, const char *from, const char *to,
                                       struct ims_err *err)
{
    int64_t slot = count_slot(image_id);
    const char *first = from && (!to || strcmp(from, to) < 0) ? from : to;
    const char *second = first == from ? to : from;
    enum ims_rc rc = IMS_OK;
    /* the rows locked in project order (adding nothing) before either moves */
    if (c->rows_tx && first)
        rc = count_add(c, first, slot, 0, err);
    if (rc == IMS_OK && c->rows_tx && second)
        rc = count_add(c, second, slot, 0, err);
    bool moved = false;
    if (rc == IMS_OK)
        rc = ims_repo_count_image_removed(c, image_id, to, &moved, err);
    if (rc == IMS_OK && moved)
        rc = count_add(c, to, slot, 1, err);
    return rc;
}
