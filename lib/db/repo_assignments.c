/* SPDX-License-Identifier: Apache-2.0
 * Keystone role assignments: a role of a user or a group on a project or a
 * domain (migration 15). Every change runs in one write transaction with
 * the actor's revision raised and the IAM generation bumped, so the token
 * and authorization caches see it; a removal also ends the tokens of the
 * users it reached. */
#include <stdio.h>
#include <string.h>

#include "db-int.h"

static const char *const actor_names[] = {"user", "group"};
static const char *const target_names[] = {"project", "domain"};

void ims_assignment_array_free(struct ims_assignment *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].actor_id);
        free(a[i].target_id);
        free(a[i].role);
        free(a[i].via_group);
    }
    free(a);
}

static void bind_key(struct ims_q *q, const struct ims_assignment *a)
{
    ims_q_text(q, actor_names[a->actor_type]);
    ims_q_text(q, a->actor_id);
    ims_q_text(q, target_names[a->target_type]);
    ims_q_text(q, a->target_id);
    ims_q_text(q, a->role);
}

enum ims_rc ims_repo_assignment_exists(struct ims_dbc *c, const struct ims_assignment *a, bool *ret,
                                       struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT 1 FROM assignments WHERE actor_type = ? AND actor_id = ? AND target_type = ? AND "
                       "target_id = ? AND role = ?",
                       err))
        return IMS_E_DB;
    bind_key(&q, a);
    enum ims_step s = ims_q_step(&q);
    ims_q_done(&q);
    if (s == IMS_STEP_ERROR)
        return ims_fail(err, IMS_E_DB, "reading role assignments failed");
    *ret = s == IMS_STEP_ROW;
    return IMS_OK;
}

/* A change of an actor's assignments is a change of the actor. */
static enum ims_rc actor_changed(struct ims_dbc *c, const struct ims_assignment *a, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       a->actor_type == IMS_ACTOR_USER ? "UPDATE users SET revision = revision + 1 WHERE id = ?"
                                                       : "UPDATE groups SET revision = revision + 1 WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, a->actor_id);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        rc = ims_repo_iam_bump(c, err);
    return rc;
}

enum ims_rc ims_repo_assignment_add(struct ims_dbc *c, const struct ims_assignment *a, bool *ret_added,
                                    struct ims_err *err)
{
    bool there = false;
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_repo_assignment_exists(c, a, &there, err);
    if (rc == IMS_OK && !there) {
        struct ims_q q;
        if (!ims_q_prepare(&q, c,
                           "INSERT INTO assignments (actor_type, actor_id, target_type, target_id, role) "
                           "VALUES (?, ?, ?, ?, ?)",
                           err))
            return ims_db_end(c, IMS_E_DB, err);
        bind_key(&q, a);
        rc = ims_q_exec(&q, err);
        if (rc == IMS_OK)
            rc = actor_changed(c, a, err);
    }
    if (ret_added)
        *ret_added = rc == IMS_OK && !there;
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_assignment_remove(struct ims_dbc *c, const struct ims_assignment *a, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "DELETE FROM assignments WHERE actor_type = ? AND actor_id = ? AND target_type = ? AND "
                       "target_id = ? AND role = ?",
                       err))
        return ims_db_end(c, IMS_E_DB, err);
    bind_key(&q, a);
    rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Could not find role assignment.");
    /* Tokens carry their roles (and the admin flag): those issued before
     * this moment must not outlive the role (Keystone revokes them too). */
    if (rc == IMS_OK &&
        !ims_q_prepare(&q, c,
                       a->actor_type == IMS_ACTOR_USER
                           ? "UPDATE users SET tokens_valid_after = ? WHERE id = ?"
                           : "UPDATE users SET tokens_valid_after = ? WHERE id IN "
                             "(SELECT user_id FROM group_members WHERE group_id = ?)",
                       err))
        rc = IMS_E_DB;
    if (rc == IMS_OK) {
        ims_q_int(&q, ims_now_us());
        ims_q_text(&q, a->actor_id);
        rc = ims_q_exec(&q, err);
    }
    if (rc == IMS_OK)
        rc = actor_changed(c, a, err);
    return ims_db_end(c, rc, err);
}

static bool type_from(const char *s, const char *const names[2], int *ret)
{
    for (int i = 0; i < 2; i++)
        if (ims_streq(s, names[i])) {
            *ret = i;
            return true;
        }
    return false;
}

enum ims_rc ims_repo_assignment_list(struct ims_dbc *c, const struct ims_assignment_filter *f,
                                     struct ims_assignment **ret, size_t *ret_n, struct ims_err *err)
{
    /* Rows as (actor_type, actor_id, target_type, target_id, role,
     * via_group); effective: a group's rows once per member, as the user's. */
    _cleanup_(ims_buf_releasep) struct ims_buf sql;
    ims_buf_init(&sql, 4096);
    ims_buf_adds(&sql, "SELECT actor_type, actor_id, target_type, target_id, role, via FROM (");
    if (f->effective)
        ims_buf_adds(&sql, "SELECT a.actor_type, a.actor_id, a.target_type, a.target_id, a.role, NULL AS via "
                           "FROM assignments a WHERE a.actor_type = 'user' UNION ALL "
                           "SELECT 'user', m.user_id, a.target_type, a.target_id, a.role, a.actor_id "
                           "FROM assignments a JOIN group_members m ON m.group_id = a.actor_id "
                           "WHERE a.actor_type = 'group'");
    else
        ims_buf_adds(&sql, "SELECT actor_type, actor_id, target_type, target_id, role, NULL AS via FROM assignments");
    ims_buf_adds(&sql, ") x WHERE ((actor_type = 'user' AND actor_id IN (SELECT id FROM users WHERE domain_id = ?)) "
                       "OR (actor_type = 'group' AND actor_id IN (SELECT id FROM groups WHERE domain_id = ?)))");
    if (f->actor_type >= 0)
        ims_buf_adds(&sql, " AND actor_type = ?");
    if (f->actor_id)
        ims_buf_adds(&sql, " AND actor_id = ?");
    if (f->target_type >= 0)
        ims_buf_adds(&sql, " AND target_type = ?");
    if (f->target_id)
        ims_buf_adds(&sql, " AND target_id = ?");
    if (f->role)
        ims_buf_adds(&sql, " AND role = ?");
    ims_buf_adds(&sql, " ORDER BY target_type, target_id, actor_type, actor_id, role");
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql.data, err))
        return IMS_E_DB;
    ims_q_text(&q, f->domain_id);
    ims_q_text(&q, f->domain_id);
    if (f->actor_type >= 0)
        ims_q_text(&q, actor_names[f->actor_type]);
    if (f->actor_id)
        ims_q_text(&q, f->actor_id);
    if (f->target_type >= 0)
        ims_q_text(&q, target_names[f->target_type]);
    if (f->target_id)
        ims_q_text(&q, f->target_id);
    if (f->role)
        ims_q_text(&q, f->role);
    struct ims_assignment *rows = NULL;
    size_t n = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        int actor = 0, target = 0;
        if (!type_from(ims_q_col_text(&q, 0), actor_names, &actor) ||
            !type_from(ims_q_col_text(&q, 2), target_names, &target))
            continue; /* written only by this file: cannot happen */
        rows = ims_xrealloc(rows, (n + 1) * sizeof(*rows));
        rows[n++] = (struct ims_assignment){
            .actor_type = (enum ims_actor_type)actor,
            .target_type = (enum ims_target_type)target,
            .actor_id = ims_xstrdup(ims_q_col_text(&q, 1)),
            .target_id = ims_xstrdup(ims_q_col_text(&q, 3)),
            .role = ims_xstrdup(ims_q_col_text(&q, 4)),
            .via_group = ims_q_col_null(&q, 5) ? NULL : ims_xstrdup(ims_q_col_text(&q, 5)),
        };
    }
    ims_q_done(&q);
    if (s != IMS_STEP_DONE) {
        ims_assignment_array_free(rows, n);
        return ims_fail(err, IMS_E_DB, "reading role assignments failed");
    }
    *ret = rows;
    *ret_n = n;
    return IMS_OK;
}

static enum ims_rc roles_on(struct ims_dbc *c, const char *user_id, const char *target_type, const char *target_id,
                            struct ims_strlist *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT DISTINCT role FROM assignments WHERE target_type = ? AND target_id = ? AND "
                       "((actor_type = 'user' AND actor_id = ?) OR (actor_type = 'group' AND actor_id IN "
                       "(SELECT group_id FROM group_members WHERE user_id = ?))) ORDER BY role",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, target_type);
    ims_q_text(&q, target_id);
    ims_q_text(&q, user_id);
    ims_q_text(&q, user_id);
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW)
        ims_strlist_add(ret, ims_q_col_text(&q, 0));
    ims_q_done(&q);
    return s == IMS_STEP_DONE ? IMS_OK : ims_fail(err, IMS_E_DB, "reading roles failed");
}

enum ims_rc ims_repo_roles_on_project(struct ims_dbc *c, const char *user_id, const char *project_id,
                                      struct ims_strlist *ret, struct ims_err *err)
{
    return roles_on(c, user_id, "project", project_id, ret, err);
}

enum ims_rc ims_repo_roles_on_domain(struct ims_dbc *c, const char *user_id, const char *domain_id,
                                     struct ims_strlist *ret, struct ims_err *err)
{
    return roles_on(c, user_id, "domain", domain_id, ret, err);
}
