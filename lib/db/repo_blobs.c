/* SPDX-License-Identifier: Apache-2.0
 * Blob rows: the store's blobs, reference-counted across every process on
 * the database. A blob is registered by its writer (refs 0, the writer's
 * lease) before its data is written; each image write that sets or clears
 * an image's location moves refs in the same transaction (repo_images.c).
 * A row is collected (deleted, then the data removed by the caller) only
 * when refs = 0 and no writer's lease holds it: the conditional DELETE
 * and a reference's UPDATE take the same row lock, so on PostgreSQL too a
 * reference made concurrently is either seen by the DELETE (nothing
 * collected) or finds the row gone (the reference fails, nothing is lost). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"

enum ims_rc ims_repo_blob_register(struct ims_dbc *c, const char *location, const char *writer, int64_t lease_until,
                                   struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO blobs (location, refs, writer, lease_until, created_at) VALUES (?, 0, ?, ?, ?)",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, location);
    ims_q_text(&q, writer);
    ims_q_int(&q, lease_until);
    ims_q_int(&q, ims_now());
    return ims_q_exec(&q, err);
}

/* One row a statement, in location order (ims_q_renew_each). An image
 * write running beside this (PostgreSQL's ims_db_begin_rows) locks the
 * blobs it references in location order (ims_blob_moves_apply), and its
 * first reference to a blob still being written is a row this renews. One
 * UPDATE of every row of the writer locked them in the order of its scan
 * (the table's), so it could hold a write's second blob while waiting for
 * its first: a deadlock PostgreSQL ended by aborting one of them. */
enum ims_rc ims_repo_blobs_renew(struct ims_dbc *c, const char *writer, int64_t lease_until, struct ims_err *err)
{
    enum ims_rc rc = ims_q_renew_each(c, "SELECT location FROM blobs WHERE writer = ? ORDER BY location",
                                      "UPDATE blobs SET lease_until = ? WHERE location = ? AND writer = ?", writer,
                                      lease_until, err);
    if (rc == IMS_OK) /* the hash claims of the same process (ims_repo_blob_hash_claim) */
        rc = ims_q_renew_each(c, "SELECT location FROM blobs WHERE hasher = ? ORDER BY location",
                              "UPDATE blobs SET hash_until = ? WHERE location = ? AND hasher = ?", writer,
                              lease_until, err);
    return rc;
}

enum ims_rc ims_repo_blob_digests_get(struct ims_dbc *c, const char *location, struct ims_blob_digests *ret,
                                      struct ims_err *err)
{
    *ret = (struct ims_blob_digests){0};
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT md5, sha512, hasher, COALESCE(hash_until, 0) FROM blobs WHERE location = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, location);
    enum ims_step s = ims_q_step(&q);
    if (s == IMS_STEP_ROW) {
        ret->found = true;
        const char *md5 = ims_q_col_text(&q, 0), *sha = ims_q_col_text(&q, 1), *hasher = ims_q_col_text(&q, 2);
        if (md5 && sha && strlen(md5) == 32 && strlen(sha) == 128) {
            memcpy(ret->md5, md5, 33);
            memcpy(ret->sha512, sha, 129);
        }
        snprintf(ret->hasher, sizeof(ret->hasher), "%s", hasher ? hasher : "");
        ret->hash_until = ims_q_col_int(&q, 3);
    }
    enum ims_rc rc = s == IMS_STEP_ROW || s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_blob_hash_claim(struct ims_dbc *c, const char *location, const char *prior, const char *owner,
                                     int64_t until, bool *ret_claimed, struct ims_err *err)
{
    *ret_claimed = false;
    struct ims_q q;
    /* on condition that the row is still as judged: no digests, the
     * claim the caller saw (two claimants: one row lock, one winner) */
    if (!ims_q_prepare(&q, c,
                       "UPDATE blobs SET hasher = ?, hash_until = ? WHERE location = ? AND md5 IS NULL AND "
                       "COALESCE(hasher, '') = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, owner);
    ims_q_int(&q, until);
    ims_q_text(&q, location);
    ims_q_text(&q, prior);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        *ret_claimed = c->ops->changes(c->h) > 0;
    return rc;
}

enum ims_rc ims_repo_blob_hash_end(struct ims_dbc *c, const char *location, const char *owner, const char *md5,
                                   const char *sha512, int64_t failed_until, struct ims_err *err)
{
    bool failed = !md5 && failed_until > 0;
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE blobs SET md5 = ?, sha512 = ?, hasher = ?, hash_until = ? "
                       "WHERE location = ? AND hasher = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, md5);
    ims_q_text(&q, sha512);
    ims_q_text(&q, failed ? IMS_BLOB_HASH_FAILED : NULL);
    ims_q_int(&q, failed ? failed_until : 0);
    ims_q_text(&q, location);
    ims_q_text(&q, owner);
    return ims_q_exec(&q, err);
}

enum ims_rc ims_repo_blob_ref(struct ims_dbc *c, const char *location, int delta, struct ims_err *err)
{
    struct ims_q q;
    /* the first reference ends the writer's claim: refs holds it from now */
    if (!ims_q_prepare(&q, c, "UPDATE blobs SET refs = refs + ?, writer = NULL WHERE location = ?", err))
        return IMS_E_DB;
    ims_q_int(&q, delta);
    ims_q_text(&q, location);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && delta > 0 && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "The image data is no longer stored (it was removed meanwhile).");
    return rc;
}

void ims_blob_moves_add(struct ims_blob_moves *m, const char *location, int delta)
{
    if (!location)
        return;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->items[i].location, location) == 0) {
            m->items[i].delta += delta;
            return;
        }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->items = ims_xrealloc(m->items, m->cap * sizeof(*m->items));
    }
    m->items[m->n++] = (struct ims_blob_move){.location = location, .delta = delta};
}

static int by_location(const void *a, const void *b)
{
    return strcmp(((const struct ims_blob_move *)a)->location, ((const struct ims_blob_move *)b)->location);
}

enum ims_rc ims_blob_moves_apply(struct ims_dbc *c, struct ims_blob_moves *m, struct ims_err *err)
{
    if (m->n > 1)
        qsort(m->items, m->n, sizeof(*m->items), by_location);
    enum ims_rc rc = IMS_OK;
    for (size_t i = 0; i < m->n && rc == IMS_OK; i++)
        if (m->items[i].delta != 0) /* a location dropped and taken again moves nothing */
            rc = ims_repo_blob_ref(c, m->items[i].location, m->items[i].delta, err);
    free(m->items);
    *m = (struct ims_blob_moves){0};
    return rc;
}

enum ims_rc ims_repo_blob_collect(struct ims_dbc *c, const char *location, int64_t now, bool *ret_collected,
                                  struct ims_err *err)
{
    *ret_collected = false;
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "DELETE FROM blobs WHERE location = ? AND refs <= 0 AND (writer IS NULL OR lease_until < ?)",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, location);
    ims_q_int(&q, now);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        *ret_collected = c->ops->changes(c->h) > 0;
    return rc;
}

enum ims_rc ims_repo_blobs_collectable(struct ims_dbc *c, int64_t now, size_t max, struct ims_strlist *ret,
                                       struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT location FROM blobs WHERE refs <= 0 AND (writer IS NULL OR lease_until < ?) "
                       "ORDER BY location LIMIT ?",
                       err))
        return IMS_E_DB;
    ims_q_int(&q, now);
    ims_q_int(&q, (int64_t)max);
    return ims_q_strings(&q, ret, err);
}

enum ims_rc ims_repo_blob_writers(struct ims_dbc *c, struct ims_strlist *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT DISTINCT writer FROM blobs WHERE writer IS NOT NULL", err))
        return IMS_E_DB;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW)
        ims_strlist_add(ret, ims_q_col_text(&q, 0));
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_blobs_unclaim_writer(struct ims_dbc *c, const char *writer, int64_t *ret_n, struct ims_err *err)
{
    struct ims_q q;
    /* a gone process renews nothing and references nothing more: only
     * its own rows, in one statement */
    if (!ims_q_prepare(&q, c, "UPDATE blobs SET writer = NULL WHERE writer = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, writer);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        *ret_n = c->ops->changes(c->h);
    return rc;
}

static int cmp_location(const void *a, const void *b, void *locations)
{
    const char *const *l = locations;
    return strcmp(l[*(const size_t *)a], l[*(const size_t *)b]);
}

/* IMS_REPO_BLOBS_KNOWN_MAX placeholders, whatever n (the rest bound to
 * NULL, which matches nothing): one statement, prepared once per
 * connection. */
#define P4 "?, ?, ?, ?, "
#define P16 P4 P4 P4 P4
#define P64 P16 P16 P16 P16
static const char known_sql[] = "SELECT location FROM blobs WHERE location IN (" P64 P64 P64 P64 "NULL)";
_Static_assert(IMS_REPO_BLOBS_KNOWN_MAX == 256, "known_sql has 256 placeholders");

/* The rows that come back are found among the locations by binary
 * search over their order. */
enum ims_rc ims_repo_blobs_known(struct ims_dbc *c, const char *const *locations, size_t n, bool *ret,
                                 struct ims_err *err)
{
    if (n > IMS_REPO_BLOBS_KNOWN_MAX)
        return ims_fail(err, IMS_E_INTERNAL, "more than %d locations at once", IMS_REPO_BLOBS_KNOWN_MAX);
    struct ims_q q;
    if (!ims_q_prepare(&q, c, known_sql, err))
        return IMS_E_DB;
    for (size_t i = 0; i < IMS_REPO_BLOBS_KNOWN_MAX; i++)
        ims_q_text(&q, i < n ? locations[i] : NULL);
    size_t order[IMS_REPO_BLOBS_KNOWN_MAX];
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        ret[i] = false;
    }
    qsort_r(order, n, sizeof(order[0]), cmp_location, (void *)locations);
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        const char *found = ims_q_col_text(&q, 0);
        size_t lo = 0, hi = n;
        while (found && lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int d = strcmp(locations[order[mid]], found);
            if (d == 0) {
                ret[order[mid]] = true;
                break;
            }
            if (d < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_blob_holders(struct ims_dbc *c, const char *location, const char *copy_prop, int64_t *ret_refs,
                                  struct ims_strlist *ret_ids, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT refs FROM blobs WHERE location = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, location);
    enum ims_step s = ims_q_step(&q);
    *ret_refs = s == IMS_STEP_ROW ? ims_q_col_int(&q, 0) : -1;
    enum ims_rc rc = s == IMS_STEP_ROW || s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    if (rc != IMS_OK || *ret_refs <= 0)
        return rc;
    /* images.location is indexed where set (migration 24): a tenant's
     * location PATCH asks, so this must not walk the catalogue */
    if (!ims_q_prepare(&q, c,
                       "SELECT id FROM images WHERE location = ? UNION "
                       "SELECT image_id FROM image_properties WHERE name = ? AND value = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, location);
    ims_q_text(&q, copy_prop);
    ims_q_text(&q, location);
    return ims_q_strings(&q, ret_ids, err);
}
