/* SPDX-License-Identifier: Apache-2.0
 * IAM rows: groups and membership, enterprise projects, policies (system
 * and custom) and grants of policies to groups on a scope. Every write bumps
 * iam_generation after it, so a cache that saw the new generation also sees
 * the write. */
#include <stdio.h>
#include <string.h>

#include "db-int.h"

static const char *const scope_names[] = {"project", "all_projects", "domain", "enterprise_project"};

const char *ims_scope_type_name(enum ims_scope_type t) { return scope_names[t]; }

void ims_group_release(struct ims_group *g)
{
    free(g->id);
    free(g->domain_id);
    free(g->name);
    free(g->description);
    *g = (struct ims_group){0};
}

void ims_ep_release(struct ims_enterprise_project *ep)
{
    free(ep->id);
    free(ep->domain_id);
    free(ep->name);
    free(ep->description);
    free(ep->type);
    *ep = (struct ims_enterprise_project){0};
}

void ims_policy_row_release(struct ims_policy_row *p)
{
    free(p->id);
    free(p->domain_id);
    free(p->name);
    free(p->display_name);
    free(p->description);
    free(p->type);
    free(p->document);
    *p = (struct ims_policy_row){0};
}

enum ims_rc ims_repo_iam_bump(struct ims_dbc *c, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE iam_generation SET value = value + 1 WHERE id = 1", err))
        return IMS_E_DB;
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK)
        ims_db_signal_raise(c, IMS_SIGNAL_IAM);
    return rc;
}

enum ims_rc ims_repo_iam_generation(struct ims_dbc *c, int64_t *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT value FROM iam_generation WHERE id = 1", err))
        return IMS_E_DB;
    enum ims_rc rc = IMS_OK;
    if (ims_q_step(&q) == IMS_STEP_ROW)
        *ret = ims_q_col_int(&q, 0);
    else
        rc = ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

/* A change of what a group holds (members, grants) is a change of the group. */
static enum ims_rc group_changed(struct ims_dbc *c, const char *group_id, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "UPDATE groups SET revision = revision + 1 WHERE id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, group_id);
    return ims_q_exec(&q, err);
}

/* A token carries the Keystone roles its user held when it was issued, a
 * group's among them: a user leaving a group that holds one (user_id), or
 * every member of such a group as it goes (NULL), loses the tokens issued
 * before, as a role taken from the group ends them (repo_assignments.c)
 * and as Keystone revokes them. Run before the membership rows go. A
 * group holding IAM policies alone ends nothing: those are read at every
 * request. The group-wide UPDATE locks its users' rows in no set order, as
 * a role taken from a group does (repo_assignments.c): the two never meet
 * on PostgreSQL, since both run in ims_db_begin's transaction, which holds
 * the advisory lock exclusively (one at a time on every node), and no
 * write beside it (ims_db_begin_rows) or outside a transaction locks more
 * than one user row. One that did would have to lock them in id order
 * (as ims_q_renew_each does the blobs). */
static enum ims_rc group_tokens_end(struct ims_dbc *c, const char *group_id, const char *user_id,
                                    struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       user_id ? "UPDATE users SET tokens_valid_after = ? WHERE id = ? AND EXISTS "
                                 "(SELECT 1 FROM assignments WHERE actor_type = 'group' AND actor_id = ?)"
                               : "UPDATE users SET tokens_valid_after = ? WHERE id IN "
                                 "(SELECT user_id FROM group_members WHERE group_id = ?) AND EXISTS "
                                 "(SELECT 1 FROM assignments WHERE actor_type = 'group' AND actor_id = ?)",
                       err))
        return IMS_E_DB;
    ims_q_int(&q, ims_now_us());
    ims_q_text(&q, user_id ? user_id : group_id);
    ims_q_text(&q, group_id);
    return ims_q_exec(&q, err);
}

/* Runs a write, then bumps the generation. */
static enum ims_rc write_and_bump(struct ims_q *q, const char *what, struct ims_err *err)
{
    enum ims_rc rc = ims_q_exec(q, err);
    if (rc == IMS_E_CONFLICT)
        return ims_fail(err, rc, "%s already exists", what);
    if (rc == IMS_OK)
        rc = ims_repo_iam_bump(q->c, err);
    return rc;
}

static enum ims_rc not_found_or_err(struct ims_q *q, enum ims_step s, const char *what, const char *key,
                                    struct ims_err *err)
{
    enum ims_rc rc = s == IMS_STEP_DONE ? ims_fail(err, IMS_E_NOTFOUND, "Could not find %s: %s", what, key)
                                        : ims_q_dberr(q, err);
    ims_q_done(q);
    return rc;
}

/* ---- groups ---- */

enum ims_rc ims_repo_group_insert(struct ims_dbc *c, const struct ims_group *g, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO groups (id, domain_id, name, description, created_at) VALUES (?, ?, ?, ?, ?)",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, g->id);
    ims_q_text(&q, g->domain_id);
    ims_q_text(&q, g->name);
    ims_q_text(&q, g->description ? g->description : "");
    ims_q_int(&q, ims_now());
    return write_and_bump(&q, "group", err);
}

enum ims_rc ims_repo_group_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *name,
                               struct ims_group *ret, struct ims_err *err)
{
    struct ims_q q;
    enum ims_rc rc = ims_q_get_one(c, &q,
                                   "SELECT id, domain_id, name, description, created_at FROM groups WHERE id = ?",
                                   "SELECT id, domain_id, name, description, created_at FROM groups "
                                   "WHERE domain_id = ? AND name = ?",
                                   id, domain_id, name, "group", name, err);
    if (rc != IMS_OK)
        return rc;
    *ret = (struct ims_group){.id = ims_q_col_dup(&q, 0), .domain_id = ims_q_col_dup(&q, 1),
                              .name = ims_q_col_dup(&q, 2), .description = ims_q_col_dup(&q, 3),
                              .created_at = ims_q_col_int(&q, 4)};
    ims_q_done(&q);
    return IMS_OK;
}

static enum ims_rc delete_one(struct ims_dbc *c, const char *sql, const char *a, const char *b, const char *what,
                              struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    ims_q_text(&q, a);
    if (b)
        ims_q_text(&q, b);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        return ims_fail(err, IMS_E_NOTFOUND, "Could not find %s", what);
    if (rc == IMS_OK)
        rc = ims_repo_iam_bump(c, err);
    return rc;
}

enum ims_rc ims_repo_group_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    static const char *const children[] = {"DELETE FROM group_members WHERE group_id = ?",
                                           "DELETE FROM grants WHERE group_id = ?",
                                           "DELETE FROM assignments WHERE actor_type = 'group' AND actor_id = ?"};
    rc = group_tokens_end(c, id, NULL, err);
    for (size_t i = 0; i < IMS_ARRAY_SIZE(children) && rc == IMS_OK; i++) {
        struct ims_q q;
        if (!ims_q_prepare(&q, c, children[i], err)) {
            rc = IMS_E_DB;
            break;
        }
        ims_q_text(&q, id);
        rc = ims_q_exec(&q, err);
    }
    if (rc == IMS_OK)
        rc = delete_one(c, "DELETE FROM groups WHERE id = ?", id, NULL, "group", err);
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    return ims_db_commit(c, err);
}

enum ims_rc ims_repo_group_add_user(struct ims_dbc *c, const char *group_id, const char *user_id,
                                    struct ims_err *err)
{
    bool member = false;
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    /* Already a member: nothing changes. Asked inside the transaction, so a
     * constraint failure below is a missing user or group, never success. */
    rc = ims_repo_group_has_user(c, group_id, user_id, &member, err);
    struct ims_q q;
    if (rc == IMS_OK && !member) {
        if (!ims_q_prepare(&q, c, "INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", err))
            return ims_db_end(c, IMS_E_DB, err);
        ims_q_text(&q, group_id);
        ims_q_text(&q, user_id);
        rc = write_and_bump(&q, "membership", err);
        if (rc == IMS_OK)
            rc = group_changed(c, group_id, err);
    }
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_group_remove_user(struct ims_dbc *c, const char *group_id, const char *user_id,
                                       struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = group_tokens_end(c, group_id, user_id, err);
    if (rc == IMS_OK)
        rc = delete_one(c, "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", group_id, user_id,
                        "membership", err);
    if (rc == IMS_OK)
        rc = group_changed(c, group_id, err);
    return ims_db_end(c, rc, err);
}

/* ---- enterprise projects ---- */

enum ims_rc ims_repo_ep_insert(struct ims_dbc *c, const struct ims_enterprise_project *ep, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO enterprise_projects (id, domain_id, name, description, status, type, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       err))
        return IMS_E_DB;
    int64_t now = ims_now();
    ims_q_text(&q, ep->id);
    ims_q_text(&q, ep->domain_id);
    ims_q_text(&q, ep->name);
    ims_q_text(&q, ep->description ? ep->description : "");
    ims_q_int(&q, ep->status ? ep->status : 1);
    ims_q_text(&q, ep->type ? ep->type : "prod");
    ims_q_int(&q, now);
    ims_q_int(&q, now);
    return write_and_bump(&q, "enterprise project", err);
}

enum ims_rc ims_repo_ep_get(struct ims_dbc *c, const char *id, struct ims_enterprise_project *ret,
                            struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT id, domain_id, name, description, status, type, created_at, updated_at "
                       "FROM enterprise_projects WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    enum ims_step s = ims_q_step(&q);
    if (s != IMS_STEP_ROW)
        return not_found_or_err(&q, s, "enterprise project", id, err);
    *ret = (struct ims_enterprise_project){
        .id = ims_q_col_dup(&q, 0),          .domain_id = ims_q_col_dup(&q, 1),     .name = ims_q_col_dup(&q, 2),
        .description = ims_q_col_dup(&q, 3), .status = (int)ims_q_col_int(&q, 4), .type = ims_q_col_dup(&q, 5),
        .created_at = ims_q_col_int(&q, 6),  .updated_at = ims_q_col_int(&q, 7)};
    ims_q_done(&q);
    return IMS_OK;
}

/* ---- policies ---- */

enum ims_rc ims_repo_policy_insert(struct ims_dbc *c, const struct ims_policy_row *p, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO policies (id, domain_id, name, display_name, description, type, document, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       err))
        return IMS_E_DB;
    int64_t now = ims_now();
    ims_q_text(&q, p->id);
    ims_q_text(&q, p->domain_id);
    ims_q_text(&q, p->name);
    ims_q_text(&q, p->display_name);
    ims_q_text(&q, p->description ? p->description : "");
    ims_q_text(&q, p->type);
    ims_q_text(&q, p->document);
    ims_q_int(&q, now);
    ims_q_int(&q, now);
    return write_and_bump(&q, "policy", err);
}

enum ims_rc ims_repo_policy_get(struct ims_dbc *c, const char *id, const char *domain_id, const char *display_name,
                                struct ims_policy_row *ret, struct ims_err *err)
{
    struct ims_q q;
    enum ims_rc rc = ims_q_get_one(c, &q,
                                   "SELECT id, domain_id, name, display_name, description, type, document, "
                                   "created_at, updated_at FROM policies WHERE id = ?",
                                   "SELECT id, domain_id, name, display_name, description, type, document, "
                                   "created_at, updated_at FROM policies WHERE display_name = ? AND "
                                   "(domain_id = ? OR domain_id IS NULL) ORDER BY domain_id",
                                   id, display_name, domain_id, "policy", display_name, err);
    if (rc != IMS_OK)
        return rc;
    *ret = (struct ims_policy_row){
        .id = ims_q_col_dup(&q, 0),          .domain_id = ims_q_col_dup(&q, 1),  .name = ims_q_col_dup(&q, 2),
        .display_name = ims_q_col_dup(&q, 3), .description = ims_q_col_dup(&q, 4), .type = ims_q_col_dup(&q, 5),
        .document = ims_q_col_dup(&q, 6),    .created_at = ims_q_col_int(&q, 7), .updated_at = ims_q_col_int(&q, 8)};
    ims_q_done(&q);
    return IMS_OK;
}

/* ---- grants ---- */

enum ims_rc ims_repo_grant_insert(struct ims_dbc *c, const char *group_id, const char *policy_id,
                                  enum ims_scope_type t, const char *scope_id, struct ims_err *err)
{
    bool granted = false;
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    /* Granted already: nothing changes (asked in the transaction, so a
     * constraint failure below is a missing group or policy). */
    rc = ims_repo_grant_exists(c, group_id, policy_id, t, scope_id, &granted, err);
    struct ims_q q;
    if (rc == IMS_OK && !granted) {
        if (!ims_q_prepare(&q, c,
                           "INSERT INTO grants (group_id, policy_id, scope_type, scope_id) VALUES (?, ?, ?, ?)", err))
            return ims_db_end(c, IMS_E_DB, err);
        ims_q_text(&q, group_id);
        ims_q_text(&q, policy_id);
        ims_q_text(&q, scope_names[t]);
        ims_q_text(&q, scope_id ? scope_id : "");
        rc = write_and_bump(&q, "grant", err);
        if (rc == IMS_OK)
            rc = group_changed(c, group_id, err);
    }
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_grant_delete(struct ims_dbc *c, const char *group_id, const char *policy_id,
                                  enum ims_scope_type t, const char *scope_id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "DELETE FROM grants WHERE group_id = ? AND policy_id = ? AND scope_type = ? AND scope_id = ?",
                       err))
        return ims_db_end(c, IMS_E_DB, err);
    ims_q_text(&q, group_id);
    ims_q_text(&q, policy_id);
    ims_q_text(&q, scope_names[t]);
    ims_q_text(&q, scope_id ? scope_id : "");
    rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Could not find the grant");
    if (rc == IMS_OK)
        rc = ims_repo_iam_bump(c, err);
    if (rc == IMS_OK)
        rc = group_changed(c, group_id, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_user_grants(struct ims_dbc *c, const char *user_id, struct ims_user_grant **ret, size_t *ret_n,
                                 struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT g.policy_id, p.updated_at, g.scope_type, g.scope_id FROM group_members m "
                       "JOIN grants g ON g.group_id = m.group_id JOIN policies p ON p.id = g.policy_id "
                       "WHERE m.user_id = ? ORDER BY g.policy_id, g.scope_type, g.scope_id",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, user_id);
    struct ims_user_grant *rows = NULL;
    size_t n = 0, cap = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = ims_xrealloc(rows, cap * sizeof(*rows));
        }
        struct ims_user_grant *g = &rows[n++];
        *g = (struct ims_user_grant){.policy_updated_at = ims_q_col_int(&q, 1)};
        snprintf(g->policy_id, sizeof(g->policy_id), "%s", ims_q_col_text(&q, 0));
        snprintf(g->scope_id, sizeof(g->scope_id), "%s", ims_q_col_text(&q, 3) ? ims_q_col_text(&q, 3) : "");
        const char *t = ims_q_col_text(&q, 2);
        for (size_t i = 0; i < IMS_ARRAY_SIZE(scope_names); i++)
            if (ims_streq(t, scope_names[i]))
                g->scope = (enum ims_scope_type)i;
    }
    ims_q_done(&q);
    if (s != IMS_STEP_DONE) {
        free(rows);
        return ims_fail(err, IMS_E_DB, "reading grants failed");
    }
    *ret = rows;
    *ret_n = n;
    return IMS_OK;
}

enum ims_rc ims_repo_user_is_root(struct ims_dbc *c, const char *user_id, bool *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT is_root FROM users WHERE id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, user_id);
    enum ims_step s = ims_q_step(&q);
    *ret = s == IMS_STEP_ROW && ims_q_col_int(&q, 0) != 0;
    ims_q_done(&q);
    return s == IMS_STEP_ERROR ? ims_fail(err, IMS_E_DB, "reading user failed") : IMS_OK;
}

/* ---- IAM management (the IAM API) ---- */

void ims_group_array_free(struct ims_group *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_group_release(&g[i]);
    free(g);
}

void ims_ep_array_free(struct ims_enterprise_project *ep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_ep_release(&ep[i]);
    free(ep);
}

void ims_policy_row_array_free(struct ims_policy_row *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_policy_row_release(&p[i]);
    free(p);
}

#define GROUP_COLS "id, domain_id, name, description, created_at"
#define EP_COLS "id, domain_id, name, description, status, type, created_at, updated_at"
#define POLICY_COLS "id, domain_id, name, display_name, description, type, document, created_at, updated_at"

static void read_group(struct ims_q *q, struct ims_group *g)
{
    *g = (struct ims_group){.id = ims_q_col_dup(q, 0), .domain_id = ims_q_col_dup(q, 1),
                            .name = ims_q_col_dup(q, 2), .description = ims_q_col_dup(q, 3),
                            .created_at = ims_q_col_int(q, 4)};
}

static void read_ep(struct ims_q *q, struct ims_enterprise_project *ep)
{
    *ep = (struct ims_enterprise_project){
        .id = ims_q_col_dup(q, 0),          .domain_id = ims_q_col_dup(q, 1),    .name = ims_q_col_dup(q, 2),
        .description = ims_q_col_dup(q, 3), .status = (int)ims_q_col_int(q, 4), .type = ims_q_col_dup(q, 5),
        .created_at = ims_q_col_int(q, 6),  .updated_at = ims_q_col_int(q, 7)};
}

static void read_policy(struct ims_q *q, struct ims_policy_row *p)
{
    *p = (struct ims_policy_row){
        .id = ims_q_col_dup(q, 0),           .domain_id = ims_q_col_dup(q, 1),   .name = ims_q_col_dup(q, 2),
        .display_name = ims_q_col_dup(q, 3), .description = ims_q_col_dup(q, 4), .type = ims_q_col_dup(q, 5),
        .document = ims_q_col_dup(q, 6),     .created_at = ims_q_col_int(q, 7),  .updated_at = ims_q_col_int(q, 8)};
}

/* Steps q to the end, collecting rows of `size` bytes with read(). */
static enum ims_rc collect(struct ims_q *q, size_t size, void (*read)(struct ims_q *, void *),
                           void (*release)(void *), void **ret, size_t *ret_n, const char *what, struct ims_err *err)
{
    char *rows = NULL;
    size_t n = 0;
    enum ims_step s;
    while ((s = ims_q_step(q)) == IMS_STEP_ROW) {
        rows = ims_xrealloc(rows, (n + 1) * size);
        read(q, rows + n++ * size);
    }
    ims_q_done(q);
    if (s != IMS_STEP_DONE) {
        for (size_t i = 0; i < n; i++)
            release(rows + i * size);
        free(rows);
        return ims_fail(err, IMS_E_DB, "reading %s failed", what);
    }
    *ret = rows;
    *ret_n = n;
    return IMS_OK;
}

static void read_group_v(struct ims_q *q, void *p) { read_group(q, p); }
static void read_ep_v(struct ims_q *q, void *p) { read_ep(q, p); }
static void read_policy_v(struct ims_q *q, void *p) { read_policy(q, p); }
static void release_group_v(void *p) { ims_group_release(p); }
static void release_ep_v(void *p) { ims_ep_release(p); }
static void release_policy_v(void *p) { ims_policy_row_release(p); }

/* Runs an UPDATE whose row must exist, then bumps the generation. */
static enum ims_rc update_and_bump(struct ims_q *q, const char *what, struct ims_err *err)
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

enum ims_rc ims_repo_group_list(struct ims_dbc *c, const char *domain_id, const char *name, const char *user_id,
                                struct ims_group **ret, size_t *ret_n, struct ims_err *err)
{
    _cleanup_(ims_buf_releasep) struct ims_buf sql;
    ims_buf_init(&sql, 4096);
    ims_buf_adds(&sql, "SELECT " GROUP_COLS " FROM groups WHERE domain_id = ?");
    if (name)
        ims_buf_adds(&sql, " AND name = ?");
    if (user_id)
        ims_buf_adds(&sql, " AND id IN (SELECT group_id FROM group_members WHERE user_id = ?)");
    ims_buf_adds(&sql, " ORDER BY name, id");
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql.data, err))
        return IMS_E_DB;
    ims_q_text(&q, domain_id);
    if (name)
        ims_q_text(&q, name);
    if (user_id)
        ims_q_text(&q, user_id);
    return collect(&q, sizeof(**ret), read_group_v, release_group_v, (void **)ret, ret_n, "groups", err);
}

enum ims_rc ims_repo_group_update(struct ims_dbc *c, const struct ims_group *g, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE groups SET name = COALESCE(?, name), description = COALESCE(?, description), "
                       "revision = revision + 1 WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, g->name);
    ims_q_text(&q, g->description);
    ims_q_text(&q, g->id);
    return update_and_bump(&q, "group", err);
}

enum ims_rc ims_repo_group_has_user(struct ims_dbc *c, const char *group_id, const char *user_id, bool *ret,
                                    struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, group_id);
    ims_q_text(&q, user_id);
    enum ims_step s = ims_q_step(&q);
    ims_q_done(&q);
    if (s == IMS_STEP_ERROR)
        return ims_fail(err, IMS_E_DB, "reading group members failed");
    *ret = s == IMS_STEP_ROW;
    return IMS_OK;
}

enum ims_rc ims_repo_ep_list(struct ims_dbc *c, const char *domain_id, const char *name, int status,
                             struct ims_enterprise_project **ret, size_t *ret_n, struct ims_err *err)
{
    _cleanup_(ims_buf_releasep) struct ims_buf sql;
    ims_buf_init(&sql, 4096);
    ims_buf_adds(&sql, "SELECT " EP_COLS " FROM enterprise_projects WHERE (domain_id = ? OR id = '0')");
    if (name)
        ims_buf_adds(&sql, " AND name = ?");
    if (status)
        ims_buf_adds(&sql, " AND status = ?");
    ims_buf_adds(&sql, " ORDER BY created_at, id");
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql.data, err))
        return IMS_E_DB;
    ims_q_text(&q, domain_id);
    if (name)
        ims_q_text(&q, name);
    if (status)
        ims_q_int(&q, status);
    return collect(&q, sizeof(**ret), read_ep_v, release_ep_v, (void **)ret, ret_n, "enterprise projects", err);
}

enum ims_rc ims_repo_ep_update(struct ims_dbc *c, const struct ims_enterprise_project *ep, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE enterprise_projects SET name = COALESCE(?, name), description = COALESCE(?, "
                       "description), type = COALESCE(?, type), status = CASE WHEN ? = 0 THEN status ELSE ? END, "
                       "updated_at = ?, revision = revision + 1 WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, ep->name);
    ims_q_text(&q, ep->description);
    ims_q_text(&q, ep->type);
    ims_q_int(&q, ep->status);
    ims_q_int(&q, ep->status);
    ims_q_int(&q, ims_now());
    ims_q_text(&q, ep->id);
    return update_and_bump(&q, "enterprise project", err);
}

enum ims_rc ims_repo_policy_list(struct ims_dbc *c, const char *domain_id, bool custom_only,
                                 struct ims_policy_row **ret, size_t *ret_n, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       custom_only ? "SELECT " POLICY_COLS " FROM policies WHERE domain_id = ? "
                                     "ORDER BY created_at, id"
                                   : "SELECT " POLICY_COLS " FROM policies WHERE domain_id = ? OR domain_id IS NULL "
                                     "ORDER BY domain_id, created_at, id",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, domain_id);
    return collect(&q, sizeof(**ret), read_policy_v, release_policy_v, (void **)ret, ret_n, "policies", err);
}

/* The reference's internal names of custom policies: custom_<account>_<n>,
 * n past every one the account's policies hold (a count would repeat a
 * name once a policy is deleted). */
enum ims_rc ims_repo_policy_next_name(struct ims_dbc *c, const char *domain_id, char **ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT name FROM policies WHERE domain_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, domain_id);
    _cleanup_free_ char *prefix = ims_xasprintf("custom_%s_", domain_id);
    size_t plen = strlen(prefix);
    int64_t next = 0;
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        const char *name = ims_q_col_text(&q, 0);
        int64_t k;
        if (name && !strncmp(name, prefix, plen) && ims_parse_i64(name + plen, 0, INT64_MAX - 1, &k) && k >= next)
            next = k + 1;
    }
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    if (rc == IMS_OK)
        *ret = ims_xasprintf("%s%lld", prefix, (long long)next);
    return rc;
}

/* Migration 21's data: before 3e8882e two policies of an account could be
 * given one internal name (n was the count of its policies). Every policy
 * whose name an older one of its account holds gets the account's next
 * name, so that the unique index of migration 22 can be made. */
enum ims_rc ims_repo_policies_rename_duplicates(struct ims_dbc *c, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT p.id, p.domain_id FROM policies p WHERE p.domain_id IS NOT NULL AND EXISTS "
                       "(SELECT 1 FROM policies o WHERE o.domain_id = p.domain_id AND o.name = p.name AND "
                       "(o.created_at < p.created_at OR (o.created_at = p.created_at AND o.id < p.id))) "
                       "ORDER BY p.created_at, p.id",
                       err))
        return IMS_E_DB;
    struct ims_strlist ids = {0}, domains = {0};
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW) {
        ims_strlist_add(&ids, ims_q_col_text(&q, 0));
        ims_strlist_add(&domains, ims_q_col_text(&q, 1));
    }
    enum ims_rc rc = s == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    for (size_t i = 0; rc == IMS_OK && i < ids.n; i++) {
        _cleanup_free_ char *name = NULL;
        if ((rc = ims_repo_policy_next_name(c, domains.items[i], &name, err)) != IMS_OK)
            break;
        if (!ims_q_prepare(&q, c, "UPDATE policies SET name = ?, revision = revision + 1 WHERE id = ?", err)) {
            rc = IMS_E_DB;
            break;
        }
        ims_q_text(&q, name);
        ims_q_text(&q, ids.items[i]);
        rc = ims_q_exec(&q, err);
    }
    ims_strlist_release(&ids);
    ims_strlist_release(&domains);
    return rc;
}

enum ims_rc ims_repo_policy_update(struct ims_dbc *c, const struct ims_policy_row *p, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE policies SET display_name = COALESCE(?, display_name), description = COALESCE(?, "
                       "description), type = COALESCE(?, type), document = COALESCE(?, document), "
                       "updated_at = ?, revision = revision + 1 WHERE id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, p->display_name);
    ims_q_text(&q, p->description);
    ims_q_text(&q, p->type);
    ims_q_text(&q, p->document);
    ims_q_int(&q, ims_now());
    ims_q_text(&q, p->id);
    return update_and_bump(&q, "policy", err);
}

enum ims_rc ims_repo_policy_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "DELETE FROM grants WHERE policy_id = ?", err)) {
        rc = IMS_E_DB;
    } else {
        ims_q_text(&q, id);
        rc = ims_q_exec(&q, err);
    }
    if (rc == IMS_OK)
        rc = delete_one(c, "DELETE FROM policies WHERE id = ?", id, NULL, "policy", err);
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    return ims_db_commit(c, err);
}

enum ims_rc ims_repo_policy_references(struct ims_dbc *c, const char *id, int64_t *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT COUNT(*) FROM grants WHERE policy_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    enum ims_step s = ims_q_step(&q);
    if (s == IMS_STEP_ROW)
        *ret = ims_q_col_int(&q, 0);
    ims_q_done(&q);
    return s == IMS_STEP_ROW ? IMS_OK : ims_fail(err, IMS_E_DB, "counting grants failed");
}

enum ims_rc ims_repo_grant_exists(struct ims_dbc *c, const char *group_id, const char *policy_id,
                                  enum ims_scope_type t, const char *scope_id, bool *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT 1 FROM grants WHERE group_id = ? AND policy_id = ? AND scope_type = ? AND scope_id = ?",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, group_id);
    ims_q_text(&q, policy_id);
    ims_q_text(&q, scope_names[t]);
    ims_q_text(&q, scope_id ? scope_id : "");
    enum ims_step s = ims_q_step(&q);
    ims_q_done(&q);
    if (s == IMS_STEP_ERROR)
        return ims_fail(err, IMS_E_DB, "reading grants failed");
    *ret = s == IMS_STEP_ROW;
    return IMS_OK;
}

enum ims_rc ims_repo_grant_policies(struct ims_dbc *c, const char *group_id, enum ims_scope_type t,
                                    const char *scope_id, struct ims_policy_row **ret, size_t *ret_n,
                                    struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "SELECT p.id, p.domain_id, p.name, p.display_name, p.description, p.type, p.document, "
                       "p.created_at, p.updated_at FROM grants g JOIN policies p ON p.id = g.policy_id "
                       "WHERE g.group_id = ? AND g.scope_type = ? AND g.scope_id = ? ORDER BY p.display_name",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, group_id);
    ims_q_text(&q, scope_names[t]);
    ims_q_text(&q, scope_id ? scope_id : "");
    return collect(&q, sizeof(**ret), read_policy_v, release_policy_v, (void **)ret, ret_n, "grants", err);
}
