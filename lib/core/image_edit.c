/* SPDX-License-Identifier: Apache-2.0
 * Image edits: one write transaction per change of an image, the image read
 * inside it. Reading first and writing later, outside one transaction, let
 * the last writer erase what concurrent writers had been told succeeded.
 * The transaction locks the image's row before reading it
 * (ims_db_begin_rows): on PostgreSQL, edits of different images run side by
 * side on every node, edits of one image take turns. */
#include "core-int.h"
#include "ims/auth.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/service.h"

static enum ims_rc edit_open(struct ims_service *svc, const char *id, struct ims_image_edit *edit,
                             struct ims_err *err)
{
    edit->c = ims_db_conn(svc->db);
    /* filled by the read (ims_image_init would allocate what it overwrites) */
    edit->before = (struct ims_image){0};
    edit->image = (struct ims_image){0};
    enum ims_rc rc = ims_db_begin_rows(edit->c, err);
    if (rc == IMS_OK && (rc = ims_repo_image_lock(edit->c, id, err)) != IMS_OK)
        ims_db_rollback(edit->c);
    return rc;
}

static enum ims_rc edit_loaded(struct ims_image_edit *edit, enum ims_rc rc)
{
    if (rc != IMS_OK) {
        ims_db_rollback(edit->c);
        return rc;
    }
    ims_image_copy(&edit->image, &edit->before);
    return IMS_OK;
}

enum ims_rc ims_image_edit_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                 struct ims_image_edit *edit, struct ims_err *err)
{
    enum ims_rc rc = edit_open(svc, id, edit, err);
    if (rc != IMS_OK)
        return rc;
    /* ims_images_get reads through this thread's connection: inside the
     * transaction just begun. */
    return edit_loaded(edit, ims_images_get(svc, p, id, &edit->before, err));
}

enum ims_rc ims_image_edit_begin_internal(struct ims_service *svc, const char *id, struct ims_image_edit *edit,
                                          struct ims_err *err)
{
    enum ims_rc rc = edit_open(svc, id, edit, err);
    if (rc != IMS_OK)
        return rc;
    return edit_loaded(edit, ims_repo_image_get(edit->c, id, &edit->before, err));
}

enum ims_rc ims_image_edit_end(struct ims_image_edit *edit, enum ims_rc rc, struct ims_err *err)
{
    rc = ims_db_end(edit->c, rc, err);
    ims_image_release(&edit->before);
    ims_image_release(&edit->image);
    return rc;
}

enum ims_rc ims_image_edit_write(struct ims_image_edit *edit, struct ims_err *err)
{
    edit->image.updated_at = ims_now();
    enum ims_rc rc = ims_repo_image_write_changes(edit->c, &edit->before, &edit->image, err);
    if (rc == IMS_OK) { /* what is in the row now, though not as a read orders it */
        edit->image.revision++;
        edit->image.as_read = false;
        ims_image_release(&edit->before);
        ims_image_copy(&edit->before, &edit->image);
    }
    return rc;
}

enum ims_rc ims_image_edit_commit(struct ims_image_edit *edit, struct ims_image *ret, struct ims_err *err)
{
    enum ims_rc rc = ims_image_edit_write(edit, err);
    rc = ims_db_end(edit->c, rc, err);
    ims_image_release(&edit->before);
    if (rc == IMS_OK && ret) {
        *ret = edit->image;
        return IMS_OK;
    }
    ims_image_release(&edit->image);
    return rc;
}
