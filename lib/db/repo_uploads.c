/* SPDX-License-Identifier: Apache-2.0
 * Upload leases: which process writes an image's data, and until when it
 * has promised to be alive. Several imsd processes (and imsctl) share one
 * database; a start must return to queued only the uploads nobody is
 * writing any more, never one another process is receiving. A Glance
 * stage is leased the same way until its data is recorded (the image
 * "uploading" without a location): a stage cut by a crash gives the image
 * back to queued, and its blob, never referenced, is collected. */
#include "db-int.h"

/* An upload receiving data, or a stage whose data is not recorded yet. */
#define WRITING "(status = 'saving' OR (status = 'uploading' AND location IS NULL))"

enum ims_rc ims_repo_image_stage_lease(struct ims_dbc *c, const char *id, const char *owner, int64_t expires,
                                       struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE images SET upload_owner = ?, upload_expires = ? WHERE id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, owner);
    ims_q_int(&q, expires);
    ims_q_text(&q, id);
    return ims_q_exec(&q, err);
}

/* One row a statement, in id order (ims_q_renew_each): one UPDATE of every
 * upload of the owner locked them in its scan's order, so beside a
 * transaction that writes several images one row a statement in id order
 * (a migration's data step, repo_images.c, while nodes of the version
 * before run) it could hold that transaction's second image while waiting
 * for its first, and PostgreSQL aborted one of them. */
enum ims_rc ims_repo_uploads_renew(struct ims_dbc *c, const char *owner, int64_t expires, struct ims_err *err)
{
    return ims_q_renew_each(c, "SELECT id FROM images WHERE upload_owner = ? AND " WRITING " ORDER BY id",
                            "UPDATE images SET upload_expires = ? WHERE id = ? AND upload_owner = ? AND " WRITING,
                            owner, expires, err);
}

/* Back to queued, on condition that the row is still the upload we judged. */
static enum ims_rc reset_one(struct ims_dbc *c, const char *id, const char *owner, int64_t *ret_n,
                             struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE images SET status = 'queued', location = NULL, size = NULL, checksum = NULL, "
                       "os_hash_algo = NULL, os_hash_value = NULL, upload_id = NULL, upload_owner = NULL, "
                       "upload_expires = NULL, revision = revision + 1 "
                       "WHERE id = ? AND " WRITING " AND COALESCE(upload_owner, '') = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    ims_q_text(&q, owner ? owner : "");
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        *ret_n += c->ops->changes(c->h);
    return rc;
}

enum ims_rc ims_repo_uploads_recover(struct ims_dbc *c, int64_t now, int64_t *ret_n, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT id, upload_owner, COALESCE(upload_expires, 0) FROM images WHERE " WRITING,
                       err))
        return IMS_E_DB;
    /* Judged first, reset after: a statement is not stepped while another
     * writes the same rows. */
    struct ims_kvlist ended = {0}; /* id -> owner ("" for none) */
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        const char *owner = ims_q_col_text(&q, 1);
        if (!owner || ims_q_col_int(&q, 2) < now || ims_owner_gone(owner))
            ims_kvlist_add(&ended, ims_q_col_text(&q, 0), owner ? owner : "");
    }
    ims_q_done(&q);
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_fail(err, IMS_E_DB, "listing uploads failed");
    int64_t n = 0;
    for (size_t i = 0; rc == IMS_OK && i < ended.n; i++)
        rc = reset_one(c, ended.items[i].key, ended.items[i].value, &n, err);
    ims_kvlist_release(&ended);
    if (rc == IMS_OK)
        *ret_n = n;
    return rc;
}
