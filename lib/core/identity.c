/* SPDX-License-Identifier: Apache-2.0
 * Password authentication, token issue/validation/revocation, and creation
 * of domains, projects and users. Keystone's `admin` role on the token's
 * project or domain (the user's own or a group's, lib/core/role_assignments.c)
 * makes the caller a cloud administrator. */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/identity.h"
#include "ims/service.h"

static void copy_id(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Keystone's roles imply one another (admin > member > reader): a user
 * whose roles on the scope are reader alone may read, not write, whatever
 * IAM policies it also holds. No role at all (access through IAM grants
 * only) is not a reader: what it may do stays the policies' decision. The
 * service role grants reading only (and Glance's service_api calls): a
 * service user writes with member or admin beside it. */
static bool reader_only(const struct ims_strlist *roles)
{
    return (ims_strlist_contains(roles, "reader") || ims_strlist_contains(roles, "service")) &&
           !ims_strlist_contains(roles, "member") && !ims_strlist_contains(roles, "admin");
}

static enum ims_rc resolve_domain(struct ims_dbc *c, const char *id, const char *name, struct ims_domain *ret,
                                  struct ims_err *err)
{
    if (!id && !name)
        return ims_fail(err, IMS_E_BADREQ, "A domain id or name is required.");
    enum ims_rc rc = ims_repo_domain_get(c, id, id ? NULL : name, ret, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail(err, IMS_E_UNAUTH, "The request you have made requires authentication.");
    return rc;
}

/* Besides a role assignment, a project is open to a user who is the
 * account's root or whose groups hold a grant on it or on all projects. */
static enum ims_rc has_project_grant(struct ims_dbc *c, const char *user_id, const char *project_id, bool *ret,
                                     struct ims_err *err)
{
    enum ims_rc rc = ims_repo_user_is_root(c, user_id, ret, err);
    if (rc != IMS_OK || *ret)
        return rc;
    struct ims_user_grant *grants = NULL;
    size_t n = 0;
    if ((rc = ims_repo_user_grants(c, user_id, &grants, &n, err)) != IMS_OK)
        return rc;
    for (size_t i = 0; i < n && !*ret; i++)
        *ret = grants[i].scope == IMS_SCOPE_ALL_PROJECTS ||
               (grants[i].scope == IMS_SCOPE_PROJECT && ims_streq(grants[i].scope_id, project_id));
    free(grants);
    return IMS_OK;
}

/* The hash an unknown user's password is checked against, so that an
 * unknown user costs a login as much as a wrong password (both ~30 ms):
 * the time of a refusal does not tell who exists. */
static char dummy_hash[IMS_PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    char pw[33];
    ims_hexid_new(pw, 16);
    if (ims_password_hash(pw, dummy_hash, NULL) != IMS_OK)
        dummy_hash[0] = 0;
}

/* The user the request names, or IMS_E_NOTFOUND (an unknown user or
 * domain). */
static enum ims_rc find_user(struct ims_dbc *c, const struct ims_auth_request *ar, struct ims_user *ret,
                             struct ims_err *err)
{
    if (ar->user_id)
        return ims_repo_user_get(c, ar->user_id, NULL, NULL, ret, err);
    struct ims_domain d;
    enum ims_rc rc = resolve_domain(c, ar->user_domain_id, ar->user_domain_name, &d, err);
    if (rc == IMS_E_UNAUTH)
        return IMS_E_NOTFOUND;
    if (rc != IMS_OK)
        return rc;
    rc = ims_repo_user_get(c, NULL, d.id, ar->user_name, ret, err);
    ims_domain_release(&d);
    return rc;
}

enum ims_rc ims_identity_authenticate(struct ims_service *svc, const struct ims_auth_request *ar,
                                      struct ims_principal *ret, struct ims_err *err)
{
    static const char denied[] = "The request you have made requires authentication.";
    struct ims_dbc *c = ims_db_conn(svc->db);
    const struct ims_config *cfg = svc->cfg;
    const char *source = ar->source ? ar->source : "";
    struct ims_user u = {0};
    enum ims_rc rc;
    if (!ar->password)
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'password': a password is required.");
    if (!ar->user_id && !ar->user_name)
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'user': an id or a name is required.");
    if (!ar->user_id && !ar->user_domain_id && !ar->user_domain_name)
        return ims_fail(err, IMS_E_BADREQ, "A domain id or name is required.");
    /* The token's time is taken before the password hash and the roles are
     * read: a password change or a role removal that commits meanwhile (the
     * argon2 check is long) sets tokens_valid_after above it, so the token
     * this login gives from what it read is refused (ims_identity_validate). */
    const int64_t issued_us = ims_now_us();
    rc = find_user(c, ar, &u, err);
    if (rc != IMS_OK && rc != IMS_E_NOTFOUND)
        return rc;
    bool found = rc == IMS_OK;
    /* Unknown users are limited by the name they were asked by. */
    char who[2 * IMS_ID_MAX + 8];
    snprintf(who, sizeof(who), "%s", found ? u.id : ar->user_id ? ar->user_id : ar->user_name);
    if ((rc = ims_login_guard_admit(svc->login_guard, cfg, who, source, err)) != IMS_OK) {
        ims_user_release(&u);
        ims_warn("login for %s from %s refused: rate limit", who, source);
        return rc;
    }
    int64_t locked_until = 0;
    if (found && cfg->lockout_failures > 0 &&
        (rc = ims_repo_login_lock_get(c, u.id, source, &locked_until, err)) != IMS_OK) {
        ims_user_release(&u);
        return rc;
    }
    bool locked = locked_until > ims_now();
    /* One argon2 check on every path (unknown, disabled, locked, wrong or
     * right), so the time taken tells nothing. */
    pthread_once(&dummy_once, make_dummy_hash);
    bool match = ims_password_verify(found ? u.password_hash : dummy_hash, ar->password);
    bool ok = found && match && !locked && u.enabled;
    struct ims_principal p = {0};
    if (found) {
        copy_id(p.user_id, sizeof(p.user_id), u.id);
        copy_id(p.domain_id, sizeof(p.domain_id), u.domain_id);
    }
    ims_user_release(&u);
    if (found && !locked && cfg->lockout_failures > 0)
        ims_repo_login_result(c, p.user_id, source, ok, cfg->lockout_failures, cfg->lockout_seconds, NULL);
    if (!locked)
        ims_login_guard_result(svc->login_guard, cfg, who, source, ok);
    if (locked) {
        ims_warn("authentication refused for user %s from %s: locked", p.user_id, source);
        return ims_fail(err, IMS_E_UNAUTH, "%s",
                        "The account is locked for this address after too many failed logins; try later.");
    }
    if (!ok) {
        ims_warn("authentication failed for %s from %s", who, source);
        return ims_fail(err, IMS_E_UNAUTH, "%s", denied);
    }

    if (ar->project_id || ar->project_name) {
        struct ims_project proj;
        if (ar->project_id) {
            rc = ims_repo_project_get(c, ar->project_id, NULL, NULL, &proj, err);
        } else {
            struct ims_domain d;
            if ((rc = resolve_domain(c, ar->project_domain_id, ar->project_domain_name, &d, err)) != IMS_OK)
                return rc;
            rc = ims_repo_project_get(c, NULL, d.id, ar->project_name, &proj, err);
            ims_domain_release(&d);
        }
        if (rc == IMS_E_NOTFOUND)
            return ims_fail(err, IMS_E_UNAUTH, "%s", denied);
        if (rc != IMS_OK)
            return rc;
        copy_id(p.project_id, sizeof(p.project_id), proj.id);
        bool usable = proj.enabled && ims_streq(proj.domain_id, p.domain_id);
        ims_project_release(&proj);
        struct ims_strlist roles = {0};
        rc = ims_repo_roles_on_project(c, p.user_id, p.project_id, &roles, err);
        p.is_admin = ims_strlist_contains(&roles, "admin");
        p.is_service = ims_strlist_contains(&roles, "service");
        p.read_only = reader_only(&roles);
        bool member = roles.n > 0;
        ims_strlist_release(&roles);
        if (rc == IMS_OK && !member)
            rc = has_project_grant(c, p.user_id, p.project_id, &member, err);
        if (rc != IMS_OK)
            return rc;
        if (!usable || !member)
            return ims_fail(err, IMS_E_UNAUTH, "User %s has no access to project %s", p.user_id, p.project_id);
    } else if (ar->domain_id || ar->domain_name) {
        struct ims_domain d;
        if ((rc = resolve_domain(c, ar->domain_id, ar->domain_name, &d, err)) != IMS_OK)
            return rc;
        copy_id(p.scope_domain_id, sizeof(p.scope_domain_id), d.id);
        ims_domain_release(&d);
        if (!ims_streq(p.scope_domain_id, p.domain_id))
            return ims_fail(err, IMS_E_UNAUTH, "User %s has no access to domain %s", p.user_id, p.scope_domain_id);
        /* Keystone's admin role on the domain (the user's or a group's). */
        struct ims_strlist roles = {0};
        rc = ims_repo_roles_on_domain(c, p.user_id, p.scope_domain_id, &roles, err);
        p.is_admin = ims_strlist_contains(&roles, "admin");
        p.is_service = ims_strlist_contains(&roles, "service");
        p.read_only = reader_only(&roles);
        ims_strlist_release(&roles);
        if (rc != IMS_OK)
            return rc;
    }
    ims_hexid_new(p.token_id, 16);
    p.issued_us = issued_us;
    p.issued_at = p.issued_us / 1000000;
    p.expires_at = p.issued_at + svc->cfg->token_ttl;
    *ret = p;
    return IMS_OK;
}

enum ims_rc ims_identity_issue(struct ims_service *svc, const struct ims_principal *p, char *out, size_t outcap,
                               struct ims_err *err)
{
    if (ims_token_encode(svc->token_key, sizeof(svc->token_key), p, out, outcap) == 0)
        return ims_fail(err, IMS_E_INTERNAL, "token too large");
    return IMS_OK;
}

/* Per-thread answers to a question about a key (is this token revoked,
 * which of this user's tokens still count, is this project usable),
 * remembered while the change signal
 * the answer depends on stands still (a revoke, or any IAM write, moves
 * it), for at most a second (a writer that died between its commit and the
 * signal); without signals, asked every time. */
#define MEMO_SLOTS 64
struct memo {
    const struct ims_service *svc;
    uint64_t sig;
    int64_t checked_us;
    char key[IMS_ID_MAX + 1];
    int64_t answer;
};
typedef enum ims_rc (*memo_question)(struct ims_service *svc, const char *key, int64_t *ret, struct ims_err *err);

static enum ims_rc memoized(struct memo *slots, enum ims_db_signal which, memo_question ask,
                            struct ims_service *svc, const char *key, int64_t *ret, struct ims_err *err)
{
    struct memo *m = &slots[ims_hash_bytes(IMS_HASH_SEED, key, strlen(key)) % MEMO_SLOTS];
    uint64_t sig = 0;
    bool have_sig = ims_db_signal_read(svc->db, which, &sig); /* before asking: see signals.c */
    int64_t now = ims_mono_us();
    if (have_sig && m->svc == svc && m->sig == sig && now - m->checked_us < 1000000 && strcmp(m->key, key) == 0) {
        *ret = m->answer;
        return IMS_OK;
    }
    enum ims_rc rc = ask(svc, key, ret, err);
    if (rc == IMS_OK && have_sig && strlen(key) < sizeof(m->key)) {
        *m = (struct memo){.svc = svc, .sig = sig, .checked_us = now, .answer = *ret};
        snprintf(m->key, sizeof(m->key), "%s", key);
    }
    return rc;
}

static enum ims_rc ask_revoked(struct ims_service *svc, const char *token_id, int64_t *ret, struct ims_err *err)
{
    bool revoked;
    enum ims_rc rc = ims_repo_token_is_revoked(ims_db_conn(svc->db), token_id, &revoked, err);
    if (rc == IMS_OK)
        *ret = revoked;
    return rc;
}

/* Keystone: a disabled or deleted user's tokens stop working (-1), and so
 * do those issued before the user's last password change (the answer: the
 * earliest issue time, in microseconds, that still counts). */
#define USER_GONE (-1)
static enum ims_rc ask_user_valid_after(struct ims_service *svc, const char *user_id, int64_t *ret,
                                        struct ims_err *err)
{
    struct ims_user u;
    enum ims_rc rc = ims_repo_user_get(ims_db_conn(svc->db), user_id, NULL, NULL, &u, err);
    if (rc == IMS_E_NOTFOUND) {
        *ret = USER_GONE;
        return IMS_OK;
    }
    if (rc != IMS_OK)
        return rc;
    *ret = u.enabled ? u.tokens_valid_after : USER_GONE;
    ims_user_release(&u);
    return IMS_OK;
}

/* Keystone: the tokens scoped to a disabled or deleted project stop
 * working (1: usable). */
static enum ims_rc ask_project_usable(struct ims_service *svc, const char *project_id, int64_t *ret,
                                      struct ims_err *err)
{
    struct ims_project proj;
    enum ims_rc rc = ims_repo_project_get(ims_db_conn(svc->db), project_id, NULL, NULL, &proj, err);
    if (rc == IMS_E_NOTFOUND) {
        *ret = 0;
        return IMS_OK;
    }
    if (rc != IMS_OK)
        return rc;
    *ret = proj.enabled;
    ims_project_release(&proj);
    return IMS_OK;
}

static __thread struct memo revoked_memo[MEMO_SLOTS], user_memo[MEMO_SLOTS], project_memo[MEMO_SLOTS];

/* Tokens this thread decoded. Once its signature is checked a token's
 * claims are a function of its bytes and the key alone, so the same bytes
 * under the same key need not be decoded and their HMAC computed again (a
 * client sends its token with every request). The expiry is checked on
 * every use, as ims_token_decode does; what may change after the issue
 * (revocation, the user, the project) is asked below for every request. */
#define DECODED_SLOTS 8
#define DECODED_TOKEN_MAX 512 /* longer tokens are decoded every time */
struct decoded {
    unsigned char key[IMS_TOKEN_KEY_LEN];
    char token[DECODED_TOKEN_MAX];
    size_t len; /* 0: the slot is empty */
    struct ims_principal p;
};
static __thread struct decoded decoded[DECODED_SLOTS];

static enum ims_rc token_decode(struct ims_service *svc, const char *token, struct ims_principal *ret,
                                struct ims_err *err)
{
    int64_t now = ims_now();
    size_t len = strlen(token);
    struct decoded *d = &decoded[ims_hash_bytes(IMS_HASH_SEED, token, len) % DECODED_SLOTS]; /* a word a step: every request's token */
    /* In constant time, as ims_token_decode compares the signature: the
     * remembered bytes are another client's whole token, signature
     * included, and a comparison that stops at the first difference would
     * tell a caller, by its time, how much of a guess is that token. Only
     * the length may show. */
    if (len && len == d->len && CRYPTO_memcmp(d->token, token, len) == 0 &&
        CRYPTO_memcmp(d->key, svc->token_key, sizeof(d->key)) == 0) {
        if (d->p.expires_at <= now)
            return ims_fail(err, IMS_E_UNAUTH, "The token has expired.");
        *ret = d->p;
        return IMS_OK;
    }
    enum ims_rc rc = ims_token_decode(svc->token_key, sizeof(svc->token_key), token, now, ret, err);
    if (rc == IMS_OK && len < sizeof(d->token)) {
        memcpy(d->key, svc->token_key, sizeof(d->key));
        memcpy(d->token, token, len + 1);
        d->len = len;
        d->p = *ret;
    }
    return rc;
}

enum ims_rc ims_identity_validate(struct ims_service *svc, const char *token, struct ims_principal *ret,
                                  struct ims_err *err)
{
    struct ims_principal p;
    enum ims_rc rc = token_decode(svc, token, &p, err);
    if (rc != IMS_OK)
        return rc;
    int64_t revoked = 0, valid_after = USER_GONE, usable = 1;
    if ((rc = memoized(revoked_memo, IMS_SIGNAL_REVOCATION, ask_revoked, svc, p.token_id, &revoked, err)) != IMS_OK)
        return rc;
    if (revoked)
        return ims_fail(err, IMS_E_UNAUTH, "The token has been revoked.");
    if ((rc = memoized(user_memo, IMS_SIGNAL_IAM, ask_user_valid_after, svc, p.user_id, &valid_after, err)) !=
        IMS_OK)
        return rc;
    if (valid_after == USER_GONE)
        return ims_fail(err, IMS_E_UNAUTH, "The token's user is disabled or no longer exists.");
    if (p.issued_us < valid_after)
        return ims_fail(err, IMS_E_UNAUTH, "The token was issued before the user's password or roles changed.");
    if (p.project_id[0] &&
        (rc = memoized(project_memo, IMS_SIGNAL_IAM, ask_project_usable, svc, p.project_id, &usable, err)) != IMS_OK)
        return rc;
    if (!usable)
        return ims_fail(err, IMS_E_UNAUTH, "The token's project is disabled or no longer exists.");
    *ret = p;
    return IMS_OK;
}

enum ims_rc ims_identity_unlock(struct ims_service *svc, const char *user_id, struct ims_err *err)
{
    return ims_repo_login_unlock(ims_db_conn(svc->db), user_id, err);
}

enum ims_rc ims_identity_revoke(struct ims_service *svc, const struct ims_principal *p, struct ims_err *err)
{
    return ims_repo_token_revoke(ims_db_conn(svc->db), p->token_id, p->expires_at, err);
}

static enum ims_rc check_name(const char *what, const char *name, struct ims_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return ims_fail(err, IMS_E_BADREQ, "%s name must have 1 to 64 characters", what);
    for (const char *s = name; *s; s++)
        if ((unsigned char)*s < 0x20)
            return ims_fail(err, IMS_E_BADREQ, "%s name must not contain control characters", what);
    return IMS_OK;
}

enum ims_rc ims_identity_create_domain(struct ims_service *svc, const char *name, char **ret_id, struct ims_err *err)
{
    enum ims_rc rc = check_name("domain", name, err);
    if (rc != IMS_OK)
        return rc;
    char id[33];
    ims_hexid_new(id, 16);
    struct ims_domain d = {.id = id, .name = (char *)name, .enabled = true};
    if ((rc = ims_repo_domain_insert(ims_db_conn(svc->db), &d, err)) != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(id);
    return IMS_OK;
}

enum ims_rc ims_identity_create_project(struct ims_service *svc, const char *domain_id, const char *name,
                                        char **ret_id, struct ims_err *err)
{
    enum ims_rc rc = check_name("project", name, err);
    if (rc != IMS_OK)
        return rc;
    char id[33];
    ims_hexid_new(id, 16);
    struct ims_project p = {.id = id, .domain_id = (char *)domain_id, .name = (char *)name,
                            .region = svc->cfg->region, .enabled = true};
    if ((rc = ims_repo_project_insert(ims_db_conn(svc->db), &p, err)) != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(id);
    return IMS_OK;
}

enum ims_rc ims_identity_create_user(struct ims_service *svc, const char *domain_id, const char *name,
                                     const char *password, const char *project_id, const char *role, bool is_root,
                                     const struct ims_user_change *more, char **ret_id, struct ims_err *err)
{
    enum ims_rc rc = check_name("user", name, err);
    if (rc != IMS_OK)
        return rc;
    if (!password || strlen(password) < 6 || strlen(password) > 128)
        return ims_fail(err, IMS_E_BADREQ, "password must have 6 to 128 characters");
    char hash[IMS_PASSWORD_HASH_MAX];
    if ((rc = ims_password_hash(password, hash, err)) != IMS_OK)
        return rc;
    char id[33];
    ims_hexid_new(id, 16);
    struct ims_user u = {.id = id, .domain_id = (char *)domain_id, .name = (char *)name, .password_hash = hash,
                         .default_project_id = (char *)project_id, .enabled = true, .is_root = is_root};
    struct ims_dbc *c = ims_db_conn(svc->db);
    if ((rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    /* The project is read in the transaction that assigns the role on it:
     * one deleted meanwhile (on any node) is refused, never a dangling
     * assignment (the table has no foreign keys). */
    struct ims_project p = {0};
    if (project_id && (rc = ims_repo_project_get(c, project_id, NULL, NULL, &p, err)) == IMS_OK &&
        !ims_streq(p.domain_id, domain_id))
        rc = ims_fail(err, IMS_E_NOTFOUND, "Could not find project: %s", project_id);
    ims_project_release(&p);
    if (rc == IMS_OK)
        rc = ims_repo_user_insert(c, &u, err);
    struct ims_assignment a = {.actor_type = IMS_ACTOR_USER, .target_type = IMS_TARGET_PROJECT, .actor_id = id,
                               .target_id = (char *)project_id, .role = (char *)(role ? role : "member")};
    if (rc == IMS_OK && project_id)
        rc = ims_repo_assignment_add(c, &a, NULL, err);
    if (rc == IMS_OK && more) {
        struct ims_user_change ch = *more;
        ch.id = id;
        rc = ims_repo_user_update(c, &ch, err);
    }
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    if ((rc = ims_db_commit(c, err)) != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(id);
    return IMS_OK;
}

void ims_token_info_release(struct ims_token_info *ti)
{
    ims_user_release(&ti->user);
    ims_domain_release(&ti->user_domain);
    ims_project_release(&ti->project);
    ims_domain_release(&ti->project_domain);
    ims_domain_release(&ti->scope_domain);
    ims_strlist_release(&ti->roles);
}

enum ims_rc ims_identity_describe(struct ims_service *svc, const struct ims_principal *p, struct ims_token_info *ret,
                                  struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_token_info ti = {0};
    enum ims_rc rc = ims_repo_user_get(c, p->user_id, NULL, NULL, &ti.user, err);
    if (rc == IMS_OK)
        rc = ims_repo_domain_get(c, p->domain_id, NULL, &ti.user_domain, err);
    if (rc == IMS_OK && p->project_id[0]) {
        rc = ims_repo_project_get(c, p->project_id, NULL, NULL, &ti.project, err);
        if (rc == IMS_OK)
            rc = ims_repo_domain_get(c, ti.project.domain_id, NULL, &ti.project_domain, err);
        if (rc == IMS_OK)
            rc = ims_repo_roles_on_project(c, p->user_id, p->project_id, &ti.roles, err);
    }
    if (rc == IMS_OK && p->scope_domain_id[0]) {
        rc = ims_repo_domain_get(c, p->scope_domain_id, NULL, &ti.scope_domain, err);
        if (rc == IMS_OK)
            rc = ims_repo_roles_on_domain(c, p->user_id, p->scope_domain_id, &ti.roles, err);
        if (rc == IMS_OK && ti.roles.n == 0) /* the user's own domain: open to every user of it */
            ims_strlist_add(&ti.roles, "member");
    }
    if (rc != IMS_OK) {
        ims_token_info_release(&ti);
        return rc == IMS_E_NOTFOUND ? ims_fail(err, IMS_E_UNAUTH, "The token's user or project no longer exists.")
                                    : rc;
    }
    *ret = ti;
    return IMS_OK;
}
