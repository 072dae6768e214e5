/* SPDX-License-Identifier: Apache-2.0
 * Image members: which projects an image is shared with, and their answer. */
#include <stdio.h>

#include "db-int.h"

void ims_member_release(struct ims_member *m)
{
    free(m->member_id);
    m->member_id = NULL;
}

static void read_member(struct ims_q *q, struct ims_member *m)
{
    *m = (struct ims_member){0};
    snprintf(m->image_id, sizeof(m->image_id), "%s", ims_q_col_text(q, 0));
    m->member_id = ims_q_col_dup(q, 1);
    snprintf(m->status, sizeof(m->status), "%s", ims_q_col_text(q, 2));
    m->created_at = ims_q_col_int(q, 3);
    m->updated_at = ims_q_col_int(q, 4);
}

/* IMS: "the __imagetype of images you share with other tenants ... is
 * shared" (querying_images.md). The image's stored IMS attribute (its
 * promoted column, repo_images.c) follows its members: shared while it has
 * any, private again without. Runs in the member change's transaction,
 * and raises the image's revision: a member change is a change of it. */
static enum ims_rc sync_imagetype(struct ims_dbc *c, const char *image_id, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE images SET revision = revision + 1, p_imagetype = CASE "
                       "WHEN p_imagetype NOT IN ('private', 'shared') THEN p_imagetype "
                       "WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id) THEN 'shared' "
                       "ELSE 'private' END WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, image_id);
    return ims_q_exec(&q, err);
}

static enum ims_rc bump_revision(struct ims_dbc *c, const char *image_id, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE images SET revision = revision + 1 WHERE id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, image_id);
    return ims_q_exec(&q, err);
}

enum ims_rc ims_repo_member_insert(struct ims_dbc *c, const struct ims_member *m, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO image_members (image_id, member, status, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?)",
                       err))
        return ims_db_end(c, IMS_E_DB, err);
    ims_q_text(&q, m->image_id);
    ims_q_text(&q, m->member_id);
    ims_q_text(&q, m->status);
    ims_q_int(&q, m->created_at);
    ims_q_int(&q, m->updated_at);
    rc = ims_q_exec(&q, err);
    if (rc == IMS_E_CONFLICT)
        ims_fail(err, rc, "Member %s already associated with image %s", m->member_id, m->image_id);
    if (rc == IMS_OK)
        rc = sync_imagetype(c, m->image_id, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_member_get(struct ims_dbc *c, const char *image_id, const char *member_id, struct ims_member *ret,
                                struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT image_id, member, status, created_at, updated_at FROM image_members "
                       "WHERE image_id = ? AND member = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, image_id);
    ims_q_text(&q, member_id);
    enum ims_step s = ims_q_step(&q);
    enum ims_rc rc = IMS_OK;
    if (s == IMS_STEP_ROW)
        read_member(&q, ret);
    else if (s == IMS_STEP_DONE)
        rc = ims_fail(err, IMS_E_NOTFOUND, "%s is not a member of image %s", member_id, image_id);
    else
        rc = ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_member_list(struct ims_dbc *c, const char *image_id, struct ims_member **ret, size_t *ret_n,
                                 struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT image_id, member, status, created_at, updated_at FROM image_members "
                       "WHERE image_id = ? ORDER BY created_at, member",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, image_id);
    struct ims_member *ms = NULL;
    size_t n = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        ms = ims_xrealloc(ms, (n + 1) * sizeof(*ms));
        read_member(&q, &ms[n++]);
    }
    ims_q_done(&q);
    if (s != IMS_STEP_DONE) {
        for (size_t i = 0; i < n; i++)
            ims_member_release(&ms[i]);
        free(ms);
        return ims_fail(err, IMS_E_DB, "listing members failed");
    }
    *ret = ms;
    *ret_n = n;
    return IMS_OK;
}

enum ims_rc ims_repo_member_update(struct ims_dbc *c, const struct ims_member *m, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member = ?",
                       err))
        return ims_db_end(c, IMS_E_DB, err);
    ims_q_text(&q, m->status);
    ims_q_int(&q, m->updated_at);
    ims_q_text(&q, m->image_id);
    ims_q_text(&q, m->member_id);
    rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "%s is not a member of image %s", m->member_id, m->image_id);
    if (rc == IMS_OK)
        rc = bump_revision(c, m->image_id, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_member_delete(struct ims_dbc *c, const char *image_id, const char *member_id,
                                   struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "DELETE FROM image_members WHERE image_id = ? AND member = ?", err))
        return ims_db_end(c, IMS_E_DB, err);
    ims_q_text(&q, image_id);
    ims_q_text(&q, member_id);
    rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "%s is not a member of image %s", member_id, image_id);
    if (rc == IMS_OK)
        rc = sync_imagetype(c, image_id, err);
    return ims_db_end(c, rc, err);
}
