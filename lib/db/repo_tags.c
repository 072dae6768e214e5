/* SPDX-License-Identifier: Apache-2.0
 * The images of a project with their tags, in one query, for the IMS tag
 * calls (query by tag, all tags of a project). */
#include <stdio.h>
#include <string.h>

#include "db-int.h"

void ims_tagged_image_array_free(struct ims_tagged_image *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        ims_strlist_release(&v[i].tags);
    }
    free(v);
}

enum ims_rc ims_repo_owner_tagged_images(struct ims_dbc *c, const char *owner, struct ims_tagged_image **ret,
                                         size_t *ret_n, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT i.id, i.name, i.status, i.created_at, t.value FROM images i "
                       "LEFT JOIN image_tags t ON t.image_id = i.id WHERE i.owner = ? "
                       "ORDER BY i.created_at DESC, i.id, t.value",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, owner);
    struct ims_tagged_image *v = NULL;
    size_t n = 0, cap = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        const char *id = ims_q_col_text(&q, 0);
        if (!n || strcmp(v[n - 1].id, id ? id : "")) {
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                v = ims_xrealloc(v, cap * sizeof(*v));
            }
            struct ims_tagged_image *t = &v[n++];
            memset(t, 0, sizeof(*t));
            snprintf(t->id, sizeof(t->id), "%s", id ? id : "");
            t->name = ims_q_col_dup(&q, 1);
            snprintf(t->status, sizeof(t->status), "%s", ims_q_col_text(&q, 2) ? ims_q_col_text(&q, 2) : "");
            t->created_at = ims_q_col_int(&q, 3);
        }
        if (!ims_q_col_null(&q, 4))
            ims_strlist_add(&v[n - 1].tags, ims_q_col_text(&q, 4));
    }
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    if (rc != IMS_OK) {
        ims_tagged_image_array_free(v, n);
        return rc;
    }
    *ret = v;
    *ret_n = n;
    return IMS_OK;
}
