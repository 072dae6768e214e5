/* SPDX-License-Identifier: Apache-2.0
 * The operations behind the IAM management API: users, groups and their
 * members, projects, custom policies, grants and enterprise projects of one
 * account, with the reference's validation rules, and the check that the
 * caller may administer IAM at all. Everything is confined to the caller's
 * account: another account's object answers "not found", so ids cannot be
 * probed across accounts. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/iam_admin.h"
#include "ims/identity.h"
#include "ims/policy.h"
#include "ims/service.h"

/* ---- who may administer ---- */

struct admin_keys {
    const char *user_id, *user_name, *domain_id, *domain_name, *project_id;
    const char *val;
};

static size_t admin_lookup(void *self, const char *key, const char *const **ret)
{
    struct admin_keys *k = self;
    const char *v = NULL;
    if (!strcasecmp(key, "g:UserId")) v = k->user_id;
    else if (!strcasecmp(key, "g:UserName")) v = k->user_name;
    else if (!strcasecmp(key, "g:DomainId")) v = k->domain_id;
    else if (!strcasecmp(key, "g:DomainName")) v = k->domain_name;
    else if (!strcasecmp(key, "g:ProjectId")) v = k->project_id && *k->project_id ? k->project_id : NULL;
    else if (!strcasecmp(key, "g:MFAPresent")) v = "false";
    if (!v)
        return 0;
    k->val = v;
    *ret = &k->val;
    return 1;
}

/* Parses the policies granted to the user on its domain into sel, their ids
 * into ids (to name the statement that decided). */
static size_t domain_policies(struct ims_dbc *c, const struct ims_principal *p, struct ims_policy **sel,
                              char (*ids)[IMS_UUID_LEN + 30], size_t cap, struct ims_err *err, enum ims_rc *rc)
{
    struct ims_user_grant *g = NULL;
    size_t n = 0, k = 0;
    if ((*rc = ims_repo_user_grants(c, p->user_id, &g, &n, err)) != IMS_OK)
        return 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        if (g[i].scope != IMS_SCOPE_DOMAIN || strcmp(g[i].scope_id, p->domain_id) != 0)
            continue;
        struct ims_policy_row row;
        if (ims_repo_policy_get(c, g[i].policy_id, NULL, NULL, &row, NULL) != IMS_OK)
            continue;
        struct ims_err perr;
        if (ims_policy_parse(row.document, strlen(row.document), &sel[k], &perr) == IMS_OK)
            snprintf(ids[k++], IMS_UUID_LEN + 30, "%s", g[i].policy_id);
        ims_policy_row_release(&row);
    }
    free(g);
    return k;
}

enum ims_rc ims_iam_admin_check(struct ims_service *svc, const struct ims_principal *p, const char *action,
                                struct ims_err *err)
{
    if (p->is_admin)
        return IMS_OK;
    struct ims_dbc *c = ims_db_conn(svc->db);
    bool root = false;
    enum ims_rc rc = ims_repo_user_is_root(c, p->user_id, &root, err);
    if (rc != IMS_OK || root)
        return rc;
    struct ims_policy *sel[64];
    char ids[64][IMS_UUID_LEN + 30];
    size_t n = domain_policies(c, p, sel, ids, IMS_ARRAY_SIZE(sel), err, &rc);
    if (rc != IMS_OK)
        return rc;
    struct ims_user u = {0};
    struct ims_domain d = {0};
    ims_repo_user_get(c, p->user_id, NULL, NULL, &u, NULL);
    ims_repo_domain_get(c, p->domain_id, NULL, &d, NULL);
    struct admin_keys keys = {.user_id = p->user_id, .user_name = u.name, .domain_id = p->domain_id,
                              .domain_name = d.name, .project_id = p->project_id};
    struct ims_policy_ctx ctx = {.lookup = admin_lookup, .self = &keys, .now = ims_now()};
    struct ims_policy_match m = {0};
    bool ok = ims_policy_decide((const struct ims_policy *const *)sel, n, &action, 1, &ctx, NULL, &m);
    for (size_t i = 0; i < n; i++)
        ims_policy_free(sel[i]);
    ims_user_release(&u);
    ims_domain_release(&d);
    /* What decided, as ims_authorize says it (lib/core/authz.c). */
    char deciding[256];
    if (m.effect != IMS_EFFECT_NONE && m.policy < n)
        snprintf(deciding, sizeof(deciding), "%s by policy %s statement %zu (domain %s)",
                 m.effect == IMS_EFFECT_DENY ? "Deny" : "Allow", ids[m.policy], m.statement, p->domain_id);
    else
        snprintf(deciding, sizeof(deciding), "implicit deny: no statement allows %.60s", action);
    if (ok) {
        ims_debug("IAM: allow %s to user %s: %s", action, p->user_id, deciding);
        return IMS_OK;
    }
    ims_info("IAM: deny %s to user %s: %s", action, p->user_id, deciding);
    return ims_fail(err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed.", action);
}

/* ---- validation ---- */

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Free text: at most max bytes, no control characters. */
static enum ims_rc check_text(const char *field, const char *s, size_t max, struct ims_err *err)
{
    if (s && (strlen(s) > max || has_control(s)))
        return ims_fail(err, IMS_E_BADREQ,
                        "Invalid input for field '%s': at most %zu characters, no control characters.", field, max);
    return IMS_OK;
}

/* A name: 1..max bytes; `extra` lists the punctuation allowed besides
 * letters and digits (NULL: any printable character). Non-ASCII bytes
 * count as letters, as the reference allows names in other scripts. */
static enum ims_rc check_name(const char *field, const char *s, size_t min, size_t max, const char *extra,
                              struct ims_err *err)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n >= min && n <= max && !has_control(s);
    for (const char *q = s; ok && extra && *q; q++) {
        unsigned char ch = (unsigned char)*q;
        ok = ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') ||
             strchr(extra, ch);
    }
    if (!ok)
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field '%s': %zu to %zu characters%s%s.", field, min,
                        max, extra ? ": letters, digits and " : "", extra ? extra : "");
    return IMS_OK;
}

/* The reference's user name rule: 5 to 32 characters, letters, digits and
 * "-_. ", not starting with a digit. */
static enum ims_rc check_user_name(const char *name, struct ims_err *err)
{
    enum ims_rc rc = check_name("name", name, 5, 32, "-_. ", err);
    if (rc == IMS_OK && name[0] >= '0' && name[0] <= '9')
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'name': a user name cannot start with a digit.");
    return rc;
}

/* The reference's password rule: 6 to 32 characters of at least two kinds,
 * neither the user name nor the user name backwards. */
static enum ims_rc check_password(const char *pw, const char *user, struct ims_err *err)
{
    size_t n = strlen(pw);
    bool lower = false, upper = false, digit = false, other = false;
    for (const char *s = pw; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        lower |= ch >= 'a' && ch <= 'z';
        upper |= ch >= 'A' && ch <= 'Z';
        digit |= ch >= '0' && ch <= '9';
        other |= !(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9');
    }
    if (n < 6 || n > 32 || lower + upper + digit + other < 2 || has_control(pw))
        return ims_fail(err, IMS_E_BADREQ,
                        "Invalid input for field 'password': 6 to 32 characters of at least two kinds "
                        "(upper case, lower case, digits, special characters).");
    bool backwards = strlen(user) == n;
    for (size_t i = 0; backwards && i < n; i++)
        backwards = pw[i] == user[n - 1 - i];
    if (!strcmp(pw, user) || backwards)
        return ims_fail(err, IMS_E_BADREQ,
                        "Invalid input for field 'password': it must not be the user name or the user name "
                        "backwards.");
    return IMS_OK;
}

/* ---- lookups confined to the account ---- */

static enum ims_rc foreign(struct ims_err *err, const char *what, const char *id)
{
    return ims_fail(err, IMS_E_NOTFOUND, "Could not find %s: %s", what, id);
}

enum ims_rc ims_iam_user_get(struct ims_service *svc, const char *domain_id, const char *id, struct ims_user *ret,
                             struct ims_err *err)
{
    struct ims_user u;
    enum ims_rc rc = ims_repo_user_get(ims_db_conn(svc->db), id, NULL, NULL, &u, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_streq(u.domain_id, domain_id)) {
        ims_user_release(&u);
        return foreign(err, "user", id);
    }
    *ret = u;
    return IMS_OK;
}

enum ims_rc ims_iam_group_get(struct ims_service *svc, const char *domain_id, const char *id, struct ims_group *ret,
                              struct ims_err *err)
{
    struct ims_group g;
    enum ims_rc rc = ims_repo_group_get(ims_db_conn(svc->db), id, NULL, NULL, &g, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_streq(g.domain_id, domain_id)) {
        ims_group_release(&g);
        return foreign(err, "group", id);
    }
    *ret = g;
    return IMS_OK;
}

enum ims_rc ims_iam_project_get(struct ims_service *svc, const char *domain_id, const char *id,
                                struct ims_project *ret, struct ims_err *err)
{
    struct ims_project p;
    enum ims_rc rc = ims_repo_project_get(ims_db_conn(svc->db), id, NULL, NULL, &p, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_streq(p.domain_id, domain_id)) {
        ims_project_release(&p);
        return foreign(err, "project", id);
    }
    *ret = p;
    return IMS_OK;
}

enum ims_rc ims_iam_policy_get(struct ims_service *svc, const char *domain_id, const char *id, bool custom_only,
                               struct ims_policy_row *ret, struct ims_err *err)
{
    struct ims_policy_row r;
    enum ims_rc rc = ims_repo_policy_get(ims_db_conn(svc->db), id, NULL, NULL, &r, err);
    if (rc != IMS_OK)
        return rc;
    bool visible = r.domain_id ? ims_streq(r.domain_id, domain_id) : !custom_only;
    if (!visible) {
        ims_policy_row_release(&r);
        return foreign(err, "role", id);
    }
    *ret = r;
    return IMS_OK;
}

enum ims_rc ims_iam_ep_get(struct ims_service *svc, const char *domain_id, const char *id,
                           struct ims_enterprise_project *ret, struct ims_err *err)
{
    struct ims_enterprise_project ep;
    enum ims_rc rc = ims_repo_ep_get(ims_db_conn(svc->db), id, &ep, err);
    if (rc != IMS_OK)
        return rc;
    /* "0" (no domain) is every account's default enterprise project. */
    if (ep.domain_id && !ims_streq(ep.domain_id, domain_id)) {
        ims_ep_release(&ep);
        return foreign(err, "enterprise project", id);
    }
    *ret = ep;
    return IMS_OK;
}

/* ---- users ---- */

/* A default project must be the account's; the user may then log in to it
 * (the token API requires a role assignment on the project). */
static enum ims_rc permit_project(struct ims_service *svc, const char *domain_id, const char *user_id,
                                  const char *project_id, struct ims_err *err)
{
    struct ims_project p;
    enum ims_rc rc = ims_iam_project_get(svc, domain_id, project_id, &p, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'default_project_id': no project %s.",
                        project_id);
    if (rc != IMS_OK)
        return rc;
    ims_project_release(&p);
    struct ims_assignment a = {.actor_type = IMS_ACTOR_USER, .target_type = IMS_TARGET_PROJECT,
                               .actor_id = (char *)user_id, .target_id = (char *)project_id, .role = "member"};
    return user_id ? ims_repo_assignment_add(ims_db_conn(svc->db), &a, NULL, err) : IMS_OK;
}

enum ims_rc ims_iam_user_add(struct ims_service *svc, const char *domain_id, const struct ims_iam_user_input *in,
                             struct ims_user *ret, struct ims_err *err)
{
    char random_pw[33];
    enum ims_rc rc = check_user_name(in->name, err);
    if (rc == IMS_OK && in->password)
        rc = check_password(in->password, in->name, err);
    if (rc == IMS_OK)
        rc = check_text("description", in->description, 255, err);
    if (rc == IMS_OK && in->default_project_id)
        rc = permit_project(svc, domain_id, NULL, in->default_project_id, err);
    if (rc != IMS_OK)
        return rc;
    /* Without a password the user cannot log in: store one nobody knows. */
    if (!in->password)
        ims_hexid_new(random_pw, 16);
    /* The description and the enabled flag are written in the transaction
     * that inserts the user: no node sees it without them. */
    struct ims_dbc *c = ims_db_conn(svc->db);
    _cleanup_free_ char *id = NULL;
    struct ims_user_change more = {.description = in->description, .enabled = in->enabled == 0 ? 0 : -1};
    rc = ims_identity_create_user(svc, domain_id, in->name, in->password ? in->password : random_pw,
                                  in->default_project_id, "member", false,
                                  in->description || in->enabled == 0 ? &more : NULL, &id, err);
    if (rc == IMS_E_CONFLICT)
        return ims_fail(err, rc, "Conflict occurred attempting to store user - Duplicate entry %s.", in->name);
    if (rc == IMS_E_NOTFOUND) /* the default project, deleted since permit_project saw it */
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'default_project_id': no project %s.",
                        in->default_project_id);
    return rc == IMS_OK ? ims_repo_user_get(c, id, NULL, NULL, ret, err) : rc;
}

enum ims_rc ims_iam_user_list(struct ims_service *svc, const char *domain_id, const char *name, int enabled,
                              const char *group_id, struct ims_user **ret, size_t *ret_n, struct ims_err *err)
{
    if (group_id) {
        struct ims_group g;
        enum ims_rc rc = ims_iam_group_get(svc, domain_id, group_id, &g, err);
        if (rc != IMS_OK)
            return rc;
        ims_group_release(&g);
    }
    return ims_repo_user_list(ims_db_conn(svc->db), domain_id, name, enabled, group_id, ret, ret_n, err);
}

/* The rules of a user change that depend on the stored user (its name). */
static enum ims_rc check_user_change(const struct ims_iam_user_input *in, const struct ims_user *u,
                                     struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    if (in->name && !ims_streq(in->name, u->name))
        rc = check_user_name(in->name, err);
    if (rc == IMS_OK && in->password)
        rc = check_password(in->password, in->name ? in->name : u->name, err);
    return rc;
}

enum ims_rc ims_iam_user_update(struct ims_service *svc, const char *domain_id, const char *id,
                                const struct ims_iam_user_input *in, struct ims_user *ret, struct ims_err *err)
{
    struct ims_user u;
    enum ims_rc rc = check_text("description", in->description, 255, err);
    if (rc != IMS_OK || (rc = ims_iam_user_get(svc, domain_id, id, &u, err)) != IMS_OK)
        return rc;
    rc = check_user_change(in, &u, err);
    ims_user_release(&u);
    /* The hash takes a while: made before the transaction, so it never
     * holds the write lock. */
    char hash[IMS_PASSWORD_HASH_MAX];
    if (rc == IMS_OK && in->password)
        rc = ims_password_hash(in->password, hash, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    /* The change applies to the user as it is now: the rules are checked
     * again against it, and only the fields given are written. */
    rc = ims_iam_user_get(svc, domain_id, id, &u, err);
    if (rc != IMS_OK)
        return ims_db_end(c, rc, err);
    rc = check_user_change(in, &u, err);
    ims_user_release(&u);
    if (rc == IMS_OK && in->default_project_id)
        rc = permit_project(svc, domain_id, id, in->default_project_id, err);
    struct ims_user_change ch = {.id = id, .name = in->name, .description = in->description,
                                 .default_project_id = in->default_project_id,
                                 .password_hash = in->password ? hash : NULL, .enabled = in->enabled};
    if (rc == IMS_OK)
        rc = ims_repo_user_update(c, &ch, err);
    if (rc == IMS_OK && in->password) /* a new password ends the locks the old one's guessing earned */
        rc = ims_repo_login_unlock(c, id, err);
    u = (struct ims_user){0};
    if (rc == IMS_OK)
        rc = ims_repo_user_get(c, id, NULL, NULL, &u, err);
    if ((rc = ims_db_end(c, rc, err)) != IMS_OK) {
        ims_user_release(&u);
        return rc;
    }
    *ret = u;
    return IMS_OK;
}

enum ims_rc ims_iam_user_delete(struct ims_service *svc, const char *domain_id, const char *id, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    /* The rule reads the user in the transaction that deletes it. */
    struct ims_user u;
    if ((rc = ims_iam_user_get(svc, domain_id, id, &u, err)) != IMS_OK)
        return ims_db_end(c, rc, err);
    bool root = u.is_root;
    ims_user_release(&u);
    if (root)
        rc = ims_fail(err, IMS_E_FORBIDDEN, "The account's administrator cannot be deleted.");
    else
        rc = ims_repo_user_delete(c, id, err);
    return ims_db_end(c, rc, err);
}

/* ---- groups ---- */

enum ims_rc ims_iam_group_add(struct ims_service *svc, const char *domain_id, const char *name,
                              const char *description, struct ims_group *ret, struct ims_err *err)
{
    enum ims_rc rc = check_name("name", name, 1, 64, NULL, err);
    if (rc == IMS_OK)
        rc = check_text("description", description, 255, err);
    _cleanup_free_ char *id = NULL;
    if (rc == IMS_OK)
        rc = ims_iam_create_group(svc, domain_id, name, description ? description : "", &id, err);
    if (rc == IMS_E_CONFLICT)
        return ims_fail(err, rc, "Conflict occurred attempting to store group - Duplicate entry %s.", name);
    return rc == IMS_OK ? ims_repo_group_get(ims_db_conn(svc->db), id, NULL, NULL, ret, err) : rc;
}

enum ims_rc ims_iam_group_list(struct ims_service *svc, const char *domain_id, const char *name, const char *user_id,
                               struct ims_group **ret, size_t *ret_n, struct ims_err *err)
{
    if (user_id) {
        struct ims_user u;
        enum ims_rc rc = ims_iam_user_get(svc, domain_id, user_id, &u, err);
        if (rc != IMS_OK)
            return rc;
        ims_user_release(&u);
    }
    return ims_repo_group_list(ims_db_conn(svc->db), domain_id, name, user_id, ret, ret_n, err);
}

enum ims_rc ims_iam_group_update(struct ims_service *svc, const char *domain_id, const char *id, const char *name,
                                 const char *description, struct ims_group *ret, struct ims_err *err)
{
    enum ims_rc rc = name ? check_name("name", name, 1, 64, NULL, err) : IMS_OK;
    if (rc == IMS_OK)
        rc = check_text("description", description, 255, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    struct ims_group g = {0};
    rc = ims_iam_group_get(svc, domain_id, id, &g, err);
    ims_group_release(&g);
    struct ims_group ch = {.id = (char *)id, .name = (char *)name, .description = (char *)description};
    if (rc == IMS_OK)
        rc = ims_repo_group_update(c, &ch, err);
    if (rc == IMS_OK)
        rc = ims_repo_group_get(c, id, NULL, NULL, &g, err);
    if ((rc = ims_db_end(c, rc, err)) != IMS_OK) {
        ims_group_release(&g);
        return rc;
    }
    *ret = g;
    return IMS_OK;
}

enum ims_rc ims_iam_group_delete(struct ims_service *svc, const char *domain_id, const char *id, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_group g;
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    if ((rc = ims_iam_group_get(svc, domain_id, id, &g, err)) == IMS_OK) {
        ims_group_release(&g);
        rc = ims_repo_group_delete(c, id, err);
    }
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_iam_group_member(struct ims_service *svc, const char *domain_id, const char *group_id,
                                 const char *user_id, enum ims_iam_op op, struct ims_err *err)
{
    struct ims_group g;
    struct ims_user u;
    struct ims_dbc *c = ims_db_conn(svc->db);
    /* The group and the user are checked in the transaction that changes
     * the membership: neither can go in between. */
    enum ims_rc rc = op == IMS_IAM_CHECK ? IMS_OK : ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    if ((rc = ims_iam_group_get(svc, domain_id, group_id, &g, err)) == IMS_OK)
        ims_group_release(&g);
    if (rc == IMS_OK && (rc = ims_iam_user_get(svc, domain_id, user_id, &u, err)) == IMS_OK)
        ims_user_release(&u);
    if (op == IMS_IAM_ADD)
        return ims_db_end(c, rc == IMS_OK ? ims_repo_group_add_user(c, group_id, user_id, err) : rc, err);
    if (op == IMS_IAM_REMOVE)
        return ims_db_end(c, rc == IMS_OK ? ims_repo_group_remove_user(c, group_id, user_id, err) : rc, err);
    bool member = false;
    if (rc != IMS_OK || (rc = ims_repo_group_has_user(c, group_id, user_id, &member, err)) != IMS_OK)
        return rc;
    return member ? IMS_OK
                  : ims_fail(err, IMS_E_NOTFOUND, "User %s is not a member of group %s.", user_id, group_id);
}

/* ---- projects ---- */

enum ims_rc ims_iam_project_add(struct ims_service *svc, const char *domain_id, const char *name,
                                const char *description, struct ims_project *ret, struct ims_err *err)
{
    enum ims_rc rc = check_name("name", name, 1, 64, "-_.", err);
    if (rc == IMS_OK)
        rc = check_text("description", description, 255, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    _cleanup_free_ char *id = NULL;
    struct ims_project p = {0};
    rc = ims_identity_create_project(svc, domain_id, name, &id, err);
    if (rc == IMS_OK && description)
        rc = ims_repo_project_update(c, id, NULL, description, -1, err);
    if (rc == IMS_OK)
        rc = ims_repo_project_get(c, id, NULL, NULL, &p, err);
    if (rc == IMS_OK)
        rc = ims_db_commit(c, err);
    else
        ims_db_rollback(c);
    if (rc != IMS_OK) {
        ims_project_release(&p);
        return rc;
    }
    *ret = p;
    return IMS_OK;
}

enum ims_rc ims_iam_project_list(struct ims_service *svc, const char *domain_id, const char *name, int enabled,
                                 struct ims_project **ret, size_t *ret_n, struct ims_err *err)
{
    return ims_repo_project_list(ims_db_conn(svc->db), domain_id, name, enabled, ret, ret_n, err);
}

enum ims_rc ims_iam_project_update(struct ims_service *svc, const char *domain_id, const char *id, const char *name,
                                   const char *description, int enabled, struct ims_project *ret,
                                   struct ims_err *err)
{
    enum ims_rc rc = name ? check_name("name", name, 1, 64, "-_.", err) : IMS_OK;
    if (rc == IMS_OK)
        rc = check_text("description", description, 255, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    struct ims_project p = {0};
    rc = ims_iam_project_get(svc, domain_id, id, &p, err);
    ims_project_release(&p);
    if (rc == IMS_OK)
        rc = ims_repo_project_update(c, id, name, description, enabled, err);
    if (rc == IMS_OK)
        rc = ims_repo_project_get(c, id, NULL, NULL, &p, err);
    if ((rc = ims_db_end(c, rc, err)) != IMS_OK) {
        ims_project_release(&p);
        return rc;
    }
    *ret = p;
    return IMS_OK;
}

enum ims_rc ims_iam_project_delete(struct ims_service *svc, const char *domain_id, const char *id,
                                   struct ims_err *err)
{
    struct ims_project p;
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    /* The image count is read in the transaction that deletes the project. */
    if ((rc = ims_iam_project_get(svc, domain_id, id, &p, err)) != IMS_OK)
        return ims_db_end(c, rc, err);
    ims_project_release(&p);
    int64_t images = 0;
    if ((rc = ims_repo_image_count(c, id, &images, err)) == IMS_OK && images > 0)
        rc = ims_fail(err, IMS_E_CONFLICT, "Project %s still owns %lld image(s); delete them first.", id,
                      (long long)images);
    if (rc == IMS_OK)
        rc = ims_repo_project_delete(c, id, err);
    return ims_db_end(c, rc, err);
}

/* ---- custom policies ---- */

static bool is_system_name(const char *name)
{
    for (const char *const *s = ims_policy_system_names; *s; s++)
        if (!strcasecmp(*s, name))
            return true;
    return false;
}

/* Checks the fields of in that are set; a document must be a "1.1" policy
 * the engine accepts (its message names the offending field). */
static enum ims_rc check_policy_input(const struct ims_iam_policy_input *in, struct ims_err *err)
{
    enum ims_rc rc = in->display_name ? check_name("display_name", in->display_name, 1, 128, NULL, err) : IMS_OK;
    if (rc == IMS_OK && in->display_name && is_system_name(in->display_name))
        return ims_fail(err, IMS_E_CONFLICT, "A system policy is named %s.", in->display_name);
    if (rc == IMS_OK && in->type && !ims_streq(in->type, "AX") && !ims_streq(in->type, "XA"))
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'type': must be \"AX\" or \"XA\".");
    if (rc == IMS_OK)
        rc = check_text("description", in->description, 1000, err);
    if (rc != IMS_OK || !in->document)
        return rc;
    struct ims_policy *pol;
    struct ims_err perr;
    if (ims_policy_parse(in->document, strlen(in->document), &pol, &perr) != IMS_OK)
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'policy': %s", perr.msg);
    bool v11 = ims_streq(ims_policy_version(pol), "1.1");
    ims_policy_free(pol);
    if (!v11)
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'policy.Version': custom policies are \"1.1\".");
    return IMS_OK;
}

enum ims_rc ims_iam_policy_add(struct ims_service *svc, const char *domain_id, const struct ims_iam_policy_input *in,
                               struct ims_policy_row *ret, struct ims_err *err)
{
    static const char *const required[] = {"display_name", "type", "description", "policy"};
    const char *const have[] = {in->display_name, in->type, in->description, in->document};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(required); i++)
        if (!have[i])
            return ims_fail(err, IMS_E_BADREQ, "Invalid input for field '%s': it is required.", required[i]);
    enum ims_rc rc = check_policy_input(in, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    /* The internal name numbers the account's policies: picked in the
     * transaction that adds one, so two adds never pick the same. */
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    _cleanup_free_ char *name = NULL;
    if ((rc = ims_repo_policy_next_name(c, domain_id, &name, err)) != IMS_OK)
        return ims_db_end(c, rc, err);
    char id[33];
    ims_hexid_new(id, 16);
    struct ims_policy_row row = {.id = id, .domain_id = (char *)domain_id, .name = name,
                                 .display_name = (char *)in->display_name, .description = (char *)in->description,
                                 .type = (char *)in->type, .document = (char *)in->document};
    rc = ims_repo_policy_insert(c, &row, err);
    if (rc == IMS_E_CONFLICT)
        rc = ims_fail(err, rc, "A policy named %s already exists.", in->display_name);
    if ((rc = ims_db_end(c, rc, err)) != IMS_OK)
        return rc;
    return ims_repo_policy_get(c, id, NULL, NULL, ret, err);
}

enum ims_rc ims_iam_policy_list(struct ims_service *svc, const char *domain_id, bool custom_only,
                                struct ims_policy_row **ret, size_t *ret_n, struct ims_err *err)
{
    return ims_repo_policy_list(ims_db_conn(svc->db), domain_id, custom_only, ret, ret_n, err);
}

enum ims_rc ims_iam_policy_update(struct ims_service *svc, const char *domain_id, const char *id,
                                  const struct ims_iam_policy_input *in, struct ims_policy_row *ret,
                                  struct ims_err *err)
{
    enum ims_rc rc = check_policy_input(in, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    struct ims_policy_row r = {0};
    rc = ims_iam_policy_get(svc, domain_id, id, true, &r, err);
    ims_policy_row_release(&r);
    /* Only the fields given: a concurrent change of another field stays. */
    struct ims_policy_row ch = {.id = (char *)id, .display_name = (char *)in->display_name,
                                .type = (char *)in->type, .description = (char *)in->description,
                                .document = (char *)in->document};
    if (rc == IMS_OK)
        rc = ims_repo_policy_update(c, &ch, err);
    if (rc == IMS_E_CONFLICT)
        rc = ims_fail(err, rc, "A policy named %s already exists.", in->display_name);
    if (rc == IMS_OK)
        rc = ims_iam_policy_get(svc, domain_id, id, true, &r, err);
    if ((rc = ims_db_end(c, rc, err)) != IMS_OK) {
        ims_policy_row_release(&r);
        return rc;
    }
    *ret = r;
    return IMS_OK;
}

enum ims_rc ims_iam_policy_references(struct ims_service *svc, const char *id, int64_t *ret, struct ims_err *err)
{
    return ims_repo_policy_references(ims_db_conn(svc->db), id, ret, err);
}

enum ims_rc ims_iam_policy_delete(struct ims_service *svc, const char *domain_id, const char *id,
                                  struct ims_err *err)
{
    struct ims_policy_row r;
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    if ((rc = ims_iam_policy_get(svc, domain_id, id, true, &r, err)) == IMS_OK) {
        ims_policy_row_release(&r);
        rc = ims_repo_policy_delete(c, id, err);
    }
    return ims_db_end(c, rc, err);
}

/* ---- grants ---- */

/* Checks that the scope is the account's; *ret_id is the stored scope id. */
static enum ims_rc own_scope(struct ims_service *svc, const char *domain_id, enum ims_scope_type scope,
                             const char *ref, struct ims_err *err)
{
    switch (scope) {
    case IMS_SCOPE_PROJECT: {
        struct ims_project p;
        enum ims_rc rc = ims_iam_project_get(svc, domain_id, ref, &p, err);
        if (rc == IMS_OK)
            ims_project_release(&p);
        return rc;
    }
    case IMS_SCOPE_ENTERPRISE_PROJECT: {
        struct ims_enterprise_project ep;
        enum ims_rc rc = ims_iam_ep_get(svc, domain_id, ref, &ep, err);
        if (rc == IMS_OK)
            ims_ep_release(&ep);
        return rc;
    }
    case IMS_SCOPE_ALL_PROJECTS:
    case IMS_SCOPE_DOMAIN:
        break;
    }
    return ims_streq(ref, domain_id) ? IMS_OK : foreign(err, "domain", ref);
}

/* The group, policy and scope of a grant all belong to the account. */
static enum ims_rc grant_parts(struct ims_service *svc, const char *domain_id, const char *group_id,
                               const char *policy_id, enum ims_scope_type scope, const char *scope_ref,
                               struct ims_err *err)
{
    struct ims_group g;
    enum ims_rc rc = own_scope(svc, domain_id, scope, scope_ref, err);
    if (rc == IMS_OK && (rc = ims_iam_group_get(svc, domain_id, group_id, &g, err)) == IMS_OK)
        ims_group_release(&g);
    struct ims_policy_row r;
    if (rc == IMS_OK && policy_id && (rc = ims_iam_policy_get(svc, domain_id, policy_id, false, &r, err)) == IMS_OK)
        ims_policy_row_release(&r);
    return rc;
}

enum ims_rc ims_iam_grant_apply(struct ims_service *svc, const char *domain_id, const char *group_id,
                                const char *policy_id, enum ims_scope_type scope, const char *scope_ref,
                                enum ims_iam_op op, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (op != IMS_IAM_CHECK) {
        /* The group, policy and scope are checked in the transaction that
         * grants or revokes: none of them can go in between. */
        enum ims_rc rc = ims_db_begin(c, err);
        if (rc != IMS_OK)
            return rc;
        rc = grant_parts(svc, domain_id, group_id, policy_id, scope, scope_ref, err);
        if (rc == IMS_OK)
            rc = ims_iam_grant(svc, domain_id, group_id, policy_id, scope, scope_ref, op == IMS_IAM_REMOVE, err);
        return ims_db_end(c, rc, err);
    }
    enum ims_rc rc = grant_parts(svc, domain_id, group_id, policy_id, scope, scope_ref, err);
    if (rc != IMS_OK)
        return rc;
    bool granted = false;
    if ((rc = ims_repo_grant_exists(ims_db_conn(svc->db), group_id, policy_id, scope, scope_ref, &granted, err)) !=
        IMS_OK)
        return rc;
    return granted ? IMS_OK : ims_fail(err, IMS_E_NOTFOUND, "Could not find the grant of role %s.", policy_id);
}

enum ims_rc ims_iam_grant_list(struct ims_service *svc, const char *domain_id, const char *group_id,
                               enum ims_scope_type scope, const char *scope_ref, struct ims_policy_row **ret,
                               size_t *ret_n, struct ims_err *err)
{
    enum ims_rc rc = grant_parts(svc, domain_id, group_id, NULL, scope, scope_ref, err);
    if (rc != IMS_OK)
        return rc;
    return ims_repo_grant_policies(ims_db_conn(svc->db), group_id, scope, scope_ref, ret, ret_n, err);
}

/* ---- enterprise projects ---- */

/* EPS rules: 1 to 64 letters, digits, "_" and "-"; "default" is taken. */
static enum ims_rc check_ep(const char *name, const char *description, const char *type, struct ims_err *err)
{
    enum ims_rc rc = name ? check_name("name", name, 1, 64, "-_", err) : IMS_OK;
    if (rc == IMS_OK && name && !strcasecmp(name, "default"))
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'name': \"default\" is reserved.");
    if (rc == IMS_OK)
        rc = check_text("description", description, 512, err);
    if (rc == IMS_OK && type && !ims_streq(type, "prod") && !ims_streq(type, "poc"))
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'type': must be \"prod\" or \"poc\".");
    return rc;
}

enum ims_rc ims_iam_ep_add(struct ims_service *svc, const char *domain_id, const char *name,
                           const char *description, const char *type, struct ims_enterprise_project *ret,
                           struct ims_err *err)
{
    enum ims_rc rc = name ? check_ep(name, description, type, err)
                          : ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'name': it is required.");
    if (rc != IMS_OK)
        return rc;
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    struct ims_enterprise_project ep = {.id = id, .domain_id = (char *)domain_id, .name = (char *)name,
                                        .description = (char *)description, .status = 1,
                                        .type = (char *)(type ? type : "prod")};
    struct ims_dbc *c = ims_db_conn(svc->db);
    rc = ims_repo_ep_insert(c, &ep, err);
    if (rc == IMS_E_CONFLICT)
        return ims_fail(err, rc, "An enterprise project named %s already exists.", name);
    return rc == IMS_OK ? ims_repo_ep_get(c, id, ret, err) : rc;
}

enum ims_rc ims_iam_ep_list(struct ims_service *svc, const char *domain_id, const char *name, int status,
                            struct ims_enterprise_project **ret, size_t *ret_n, struct ims_err *err)
{
    return ims_repo_ep_list(ims_db_conn(svc->db), domain_id, name, status, ret, ret_n, err);
}

/* The account's own enterprise project, for a change: "0" is shared. */
static enum ims_rc own_ep(struct ims_service *svc, const char *domain_id, const char *id,
                          struct ims_enterprise_project *ret, struct ims_err *err)
{
    enum ims_rc rc = ims_iam_ep_get(svc, domain_id, id, ret, err);
    if (rc == IMS_OK && !ret->domain_id) {
        ims_ep_release(ret);
        return ims_fail(err, IMS_E_BADREQ, "The default enterprise project cannot be changed.");
    }
    return rc;
}

enum ims_rc ims_iam_ep_update(struct ims_service *svc, const char *domain_id, const char *id, const char *name,
                              const char *description, const char *type, struct ims_enterprise_project *ret,
                              struct ims_err *err)
{
    enum ims_rc rc = check_ep(name, description, type, err);
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (rc != IMS_OK || (rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    struct ims_enterprise_project ep = {0};
    rc = own_ep(svc, domain_id, id, &ep, err);
    ims_ep_release(&ep);
    /* Only the fields given (status 0: unchanged): a concurrent enable or
     * disable stays. */
    struct ims_enterprise_project ch = {.id = (char *)id, .name = (char *)name, .description = (char *)description,
                                        .type = (char *)type};
    if (rc == IMS_OK)
        rc = ims_repo_ep_update(c, &ch, err);
    if (rc == IMS_E_CONFLICT)
        rc = ims_fail(err, rc, "An enterprise project named %s already exists.", name);
    if (rc == IMS_OK)
        rc = ims_repo_ep_get(c, id, &ep, err);
    if ((rc = ims_db_end(c, rc, err)) != IMS_OK) {
        ims_ep_release(&ep);
        return rc;
    }
    *ret = ep;
    return IMS_OK;
}

enum ims_rc ims_iam_ep_set_enabled(struct ims_service *svc, const char *domain_id, const char *id, bool enabled,
                                   struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_enterprise_project ep = {0};
    rc = own_ep(svc, domain_id, id, &ep, err);
    ims_ep_release(&ep);
    struct ims_enterprise_project ch = {.id = (char *)id, .status = enabled ? 1 : 2};
    if (rc == IMS_OK)
        rc = ims_repo_ep_update(c, &ch, err);
    return ims_db_end(c, rc, err);
}
