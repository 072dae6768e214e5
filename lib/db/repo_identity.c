/* SPDX-License-Identifier: Apache-2.0
 * Domains, projects, users and revoked tokens: the part of
 * the identity model the token API needs, plus the lists, updates and
 * deletes the IAM management API adds. */
#include <stdio.h>

#include "db-int.h"

void ims_domain_release(struct ims_domain *d)
{
    free(d->id);
    free(d->name);
    *d = (struct ims_domain){0};
}

void ims_project_release(struct ims_project *p)
{
    free(p->id);
    free(p->domain_id);
    free(p->name);
    free(p->region);
    free(p->description);
    *p = (struct ims_project){0};
}

void ims_user_release(struct ims_user *u)
{
    free(u->id);
    free(u->domain_id);
    free(u->name);
    free(u->password_hash);
    free(u->default_project_id);
    free(u->description);
    *u = (struct ims_user){0};
}

/* The columns read_project/read_user expect, in their order. */
#define PROJECT_COLS "id, domain_id, name, region, enabled, description"
#define USER_COLS                                                                                               \
    "id, domain_id, name, password_hash, default_project_id, enabled, failed_logins, locked_until, is_root, " \
    "description, tokens_valid_after"

static void read_project(struct ims_q *q, struct ims_project *p)
{
    *p = (struct ims_project){.id = ims_q_col_dup(q, 0), .domain_id = ims_q_col_dup(q, 1),
                              .name = ims_q_col_dup(q, 2), .region = ims_q_col_dup(q, 3),
                              .enabled = ims_q_col_int(q, 4) != 0, .description = ims_q_col_dup(q, 5)};
}

static void read_user(struct ims_q *q, struct ims_user *u)
{
    *u = (struct ims_user){.id = ims_q_col_dup(q, 0), .domain_id = ims_q_col_dup(q, 1),
                           .name = ims_q_col_dup(q, 2), .password_hash = ims_q_col_dup(q, 3),
                           .default_project_id = ims_q_col_dup(q, 4), .enabled = ims_q_col_int(q, 5) != 0,
                           .failed_logins = ims_q_col_int(q, 6), .locked_until = ims_q_col_int(q, 7),
                           .is_root = ims_q_col_int(q, 8) != 0, .description = ims_q_col_dup(q, 9),
                           .tokens_valid_after = ims_q_col_int(q, 10)};
}

/* Runs a one-row SELECT whose last two parameters are either (id, NULL) or
 * (NULL..., name): "WHERE id = ? OR (... name = ?)". */
static enum ims_rc one_row(struct ims_q *q, const char *what, const char *key, struct ims_err *err)
{
    enum ims_step s = ims_q_step(q);
    if (s == IMS_STEP_ROW)
        return IMS_OK;
    enum ims_rc rc = s == IMS_STEP_DONE ? ims_fail(err, IMS_E_NOTFOUND, "Could not find %s: %s", what, key)
                                        : ims_q_dberr(q, err);
    ims_q_done(q);
    return rc;
}

enum ims_rc ims_repo_domain_insert(struct ims_dbc *c, const struct ims_domain *d, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "INSERT INTO domains (id, name, enabled, created_at) VALUES (?, ?, ?, ?)", err))
        return IMS_E_DB;
    ims_q_text(&q, d->id);
    ims_q_text(&q, d->name);
    ims_q_int(&q, d->enabled);
    ims_q_int(&q, ims_now());
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_E_CONFLICT)
        ims_fail(err, rc, "domain %s already exists", d->name);
    return rc;
}

enum ims_rc ims_repo_domain_get(struct ims_dbc *c, const char *id, const char *name, struct ims_domain *ret,
                                struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, id ? "SELECT id, name, enabled FROM domains WHERE id = ?"
                                 : "SELECT id, name, enabled FROM domains WHERE name = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, id ? id : name);
    enum ims_rc rc = one_row(&q, "domain", id ? id : name, err);
    if (rc != IMS_OK)
        return rc;
    *ret = (struct ims_domain){.id = ims_q_col_dup(&q, 0), .name = ims_q_col_dup(&q, 1),
                               .enabled = ims_q_col_int(&q, 2) != 0};
    ims_q_done(&q);
    return IMS_OK;
}

enum ims_rc ims_repo_project_insert(struct ims_dbc *c, const struct ims_project *p, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO projects (id, domain_id, name, region, enabled, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, p->id);
    ims_q_text(&q, p->domain_id);
    ims_q_text(&q, p->name);
    ims_q_text(&q, p->region);
    ims_q_int(&q, p->enabled);
    ims_q_int(&q, ims_now());
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_E_CONFLICT)
        ims_fail(err, rc, "project %s already exists", p->name);
    return rc;
}

enum ims_rc ims_repo_project_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *name,
                                 struct ims_project *ret, struct ims_err *err)
{
    struct ims_q q;
    enum ims_rc rc = ims_q_get_one(c, &q, "SELECT " PROJECT_COLS " FROM projects WHERE id = ?",
                                   "SELECT " PROJECT_COLS " FROM projects WHERE domain_id = ? AND name = ?", id,
                                   domain_id, name, "project", name, err);
    if (rc != IMS_OK)
        return rc;
    read_project(&q, ret);
    ims_q_done(&q);
    return IMS_OK;
}

enum ims_rc ims_repo_user_insert(struct ims_dbc *c, const struct ims_user *u, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO users (id, domain_id, name, password_hash, default_project_id, enabled, "
                       "is_root, failed_logins, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, u->id);
    ims_q_text(&q, u->domain_id);
    ims_q_text(&q, u->name);
    ims_q_text(&q, u->password_hash);
    ims_q_text(&q, u->default_project_id);
    ims_q_int(&q, u->enabled);
    ims_q_int(&q, u->is_root);
    ims_q_int(&q, ims_now());
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_E_CONFLICT)
        ims_fail(err, rc, "user %s already exists", u->name);
    if (rc == IMS_OK)
        rc = ims_repo_iam_bump(c, err);
    return rc;
}

enum ims_rc ims_repo_user_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *name,
                              struct ims_user *ret, struct ims_err *err)
{
    struct ims_q q;
    enum ims_rc rc = ims_q_get_one(c, &q, "SELECT " USER_COLS " FROM users WHERE id = ?",
                                   "SELECT " USER_COLS " FROM users WHERE domain_id = ? AND name = ?", id, domain_id,
                                   name, "user", name, err);
    if (rc != IMS_OK)
        return rc;
    read_user(&q, ret);
    ims_q_done(&q);
    return IMS_OK;
}

enum ims_rc ims_repo_token_revoke(struct ims_dbc *c, const char *token_id, int64_t expires_at, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "INSERT INTO revoked_tokens (token_id, expires_at) VALUES (?, ?)", err))
        return IMS_E_DB;
    ims_q_text(&q, token_id);
    ims_q_int(&q, expires_at);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        ims_db_signal_raise(c, IMS_SIGNAL_REVOCATION);
    return rc == IMS_E_CONFLICT ? IMS_OK : rc;
}

enum ims_rc ims_repo_token_is_revoked(struct ims_dbc *c, const char *token_id, bool *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT 1 FROM revoked_tokens WHERE token_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, token_id);
    enum ims_step s = ims_q_step(&q);
    ims_q_done(&q);
    if (s == IMS_STEP_ERROR)
        return ims_fail(err, IMS_E_DB, "reading revocations failed");
    *ret = s == IMS_STEP_ROW;
    return IMS_OK;
}

enum ims_rc ims_repo_login_lock_get(struct ims_dbc *c, const char *user_id, const char *source, int64_t *ret,
                                    struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT locked_until FROM login_failures WHERE user_id = ? AND source = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, user_id);
    ims_q_text(&q, source);
    enum ims_step s = ims_q_step(&q);
    int64_t until = s == IMS_STEP_ROW ? ims_q_col_int(&q, 0) : 0;
    ims_q_done(&q);
    if (s == IMS_STEP_ERROR)
        return ims_fail(err, IMS_E_DB, "reading login failures failed");
    *ret = until;
    return IMS_OK;
}

enum ims_rc ims_repo_login_result(struct ims_dbc *c, const char *user_id, const char *source, bool success,
                                  int64_t max_failures, int64_t lock_seconds, struct ims_err *err)
{
    struct ims_q q;
    const char *sql = success ? "DELETE FROM login_failures WHERE user_id = ? AND source = ?"
                              : "INSERT INTO login_failures (user_id, source, failures, locked_until) "
                                "VALUES (?, ?, 1, 0) ON CONFLICT (user_id, source) DO UPDATE SET "
                                "failures = CASE WHEN login_failures.failures + 1 >= ? THEN 0 "
                                "ELSE login_failures.failures + 1 END, "
                                "locked_until = CASE WHEN login_failures.failures + 1 >= ? THEN ? "
                                "ELSE login_failures.locked_until END";
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    ims_q_text(&q, user_id);
    ims_q_text(&q, source);
    if (!success) {
        ims_q_int(&q, max_failures);
        ims_q_int(&q, max_failures);
        ims_q_int(&q, ims_now() + lock_seconds);
    }
    enum ims_rc rc = ims_q_exec(&q, err);
    /* A lock after a single failure (lockout_failures = 1): the insert
     * above counted it but could not lock. */
    if (rc == IMS_OK && !success && max_failures <= 1) {
        if (!ims_q_prepare(&q, c, "UPDATE login_failures SET failures = 0, locked_until = ? "
                                  "WHERE user_id = ? AND source = ? AND locked_until = 0", err))
            return IMS_E_DB;
        ims_q_int(&q, ims_now() + lock_seconds);
        ims_q_text(&q, user_id);
        ims_q_text(&q, source);
        rc = ims_q_exec(&q, err);
    }
    return rc;
}

enum ims_rc ims_repo_login_unlock(struct ims_dbc *c, const char *user_id, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "DELETE FROM login_failures WHERE user_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, user_id);
    return ims_q_exec(&q, err);
}

/* ---- identity management (the IAM API) ---- */

void ims_user_array_free(struct ims_user *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_user_release(&u[i]);
    free(u);
}

void ims_project_array_free(struct ims_project *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_project_release(&p[i]);
    free(p);
}

/* Appends "AND col = ?" for each filter that is set; binds follow in the
 * same order (bind_filters). */
static void add_filter(struct ims_buf *sql, const char *col, bool set)
{
    if (set)
        ims_buf_printf(sql, " AND %s = ?", col);
}

enum ims_rc ims_repo_user_list(struct ims_dbc *c, const char *domain_id, const char *name, int enabled,
                               const char *group_id, struct ims_user **ret, size_t *ret_n, struct ims_err *err)
{
    _cleanup_(ims_buf_releasep) struct ims_buf sql;
    ims_buf_init(&sql, 4096);
    ims_buf_adds(&sql, "SELECT " USER_COLS " FROM users WHERE domain_id = ?");
    add_filter(&sql, "name", name);
    add_filter(&sql, "enabled", enabled >= 0);
    if (group_id)
        ims_buf_adds(&sql, " AND id IN (SELECT user_id FROM group_members WHERE group_id = ?)");
    ims_buf_adds(&sql, " ORDER BY name, id");
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql.data, err))
        return IMS_E_DB;
    ims_q_text(&q, domain_id);
    if (name)
        ims_q_text(&q, name);
    if (enabled >= 0)
        ims_q_int(&q, enabled);
    if (group_id)
        ims_q_text(&q, group_id);
    struct ims_user *rows = NULL;
    size_t n = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        rows = ims_xrealloc(rows, (n + 1) * sizeof(*rows));
        read_user(&q, &rows[n++]);
    }
    ims_q_done(&q);
    if (s != IMS_STEP_DONE) {
        ims_user_array_free(rows, n);
        return ims_fail(err, IMS_E_DB, "reading users failed");
    }
    *ret = rows;
    *ret_n = n;
    return IMS_OK;
}

/* Runs a write whose row must exist, then bumps the IAM generation. */
static enum ims_rc update_one(struct ims_q *q, const char *what, struct ims_err *err)
{
    enum ims_rc rc = ims_q_exec(q, err);
    if (rc == IMS_E_CONFLICT)
        return ims_fail(err, rc, "%s already exists", what);
    if (rc == IMS_OK && q->c->ops->changes(q->c->h) == 0)
        return ims_fail(err, IMS_E_NOTFOUND, "Could not find %s", what);
    if (rc == IMS_OK)
        rc = ims_repo_iam_bump(q->c, err);
    return rc;
}

/* The SET list of a user change: a field given replaces the stored one,
 * COALESCE keeps what is stored when it is not (NULL). */
#define USER_CHANGE                                                                                          \
    "UPDATE users SET name = COALESCE(?, name), description = COALESCE(?, description), "                   \
    "enabled = CASE WHEN ? < 0 THEN enabled ELSE ? END, default_project_id = COALESCE(?, default_project_id), " \
    "revision = revision + 1"

enum ims_rc ims_repo_user_update(struct ims_dbc *c, const struct ims_user_change *ch, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       ch->password_hash ? USER_CHANGE ", password_hash = ?, failed_logins = 0, locked_until = 0, "
                                                       "tokens_valid_after = ? WHERE id = ?"
                                         : USER_CHANGE " WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, ch->name);
    ims_q_text(&q, ch->description);
    ims_q_int(&q, ch->enabled);
    ims_q_int(&q, ch->enabled);
    ims_q_text(&q, ch->default_project_id);
    if (ch->password_hash) {
        ims_q_text(&q, ch->password_hash);
        ims_q_int(&q, ims_now_us()); /* Keystone: a new password ends the tokens issued before it */
    }
    ims_q_text(&q, ch->id);
    return update_one(&q, "user", err);
}

/* Runs the child deletes (each "... WHERE x = ?" bound to id), then the
 * parent's, in one transaction. */
static enum ims_rc delete_with_children(struct ims_dbc *c, const char *const *children, size_t nchildren,
                                        const char *parent, const char *id, const char *what, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    for (size_t i = 0; i <= nchildren && rc == IMS_OK; i++) {
        struct ims_q q;
        if (!ims_q_prepare(&q, c, i < nchildren ? children[i] : parent, err)) {
            rc = IMS_E_DB;
            break;
        }
        ims_q_text(&q, id);
        rc = i < nchildren ? ims_q_exec(&q, err) : update_one(&q, what, err);
    }
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    return ims_db_commit(c, err);
}

enum ims_rc ims_repo_user_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    static const char *const children[] = {"DELETE FROM group_members WHERE user_id = ?",
                                           "DELETE FROM assignments WHERE actor_type = 'user' AND actor_id = ?"};
    return delete_with_children(c, children, IMS_ARRAY_SIZE(children), "DELETE FROM users WHERE id = ?", id, "user",
                                err);
}

enum ims_rc ims_repo_project_list(struct ims_dbc *c, const char *domain_id, const char *name, int enabled,
                                  struct ims_project **ret, size_t *ret_n, struct ims_err *err)
{
    _cleanup_(ims_buf_releasep) struct ims_buf sql;
    ims_buf_init(&sql, 4096);
    ims_buf_adds(&sql, "SELECT " PROJECT_COLS " FROM projects WHERE domain_id = ?");
    add_filter(&sql, "name", name);
    add_filter(&sql, "enabled", enabled >= 0);
    ims_buf_adds(&sql, " ORDER BY name, id");
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql.data, err))
        return IMS_E_DB;
    ims_q_text(&q, domain_id);
    if (name)
        ims_q_text(&q, name);
    if (enabled >= 0)
        ims_q_int(&q, enabled);
    struct ims_project *rows = NULL;
    size_t n = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        rows = ims_xrealloc(rows, (n + 1) * sizeof(*rows));
        read_project(&q, &rows[n++]);
    }
    ims_q_done(&q);
    if (s != IMS_STEP_DONE) {
        ims_project_array_free(rows, n);
        return ims_fail(err, IMS_E_DB, "reading projects failed");
    }
    *ret = rows;
    *ret_n = n;
    return IMS_OK;
}

enum ims_rc ims_repo_project_update(struct ims_dbc *c, const char *id, const char *name, const char *description,
                                    int enabled, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE projects SET name = COALESCE(?, name), description = COALESCE(?, description), "
                       "enabled = CASE WHEN ? < 0 THEN enabled ELSE ? END, revision = revision + 1 WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, name);
    ims_q_text(&q, description);
    ims_q_int(&q, enabled);
    ims_q_int(&q, enabled);
    ims_q_text(&q, id);
    return update_one(&q, "project", err);
}

enum ims_rc ims_repo_project_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    /* Users whose default project it was keep no reference to it, as
     * Keystone unsets default_project_id when a project is deleted (there
     * is no foreign key): in the delete's transaction, so no node ever
     * reads a user naming a deleted project. */
    static const char *const children[] = {
        "DELETE FROM assignments WHERE target_type = 'project' AND target_id = ?",
        "DELETE FROM grants WHERE scope_type = 'project' AND scope_id = ?",
        "UPDATE users SET default_project_id = NULL, revision = revision + 1 WHERE default_project_id = ?",
    };
    return delete_with_children(c, children, IMS_ARRAY_SIZE(children), "DELETE FROM projects WHERE id = ?", id,
                                "project", err);
}
