/* SPDX-License-Identifier: Apache-2.0
 * Authorization (DESIGN.md "Authorization"): the caller's policies come
 * from its groups' grants; those on the token's project, on all projects and
 * on the domain decide for the whole route; those on an enterprise project
 * decide only for resources in it. Deny beats Allow, nothing is allowed by
 * default, the account's root user and the cloud admin pass.
 *
 * Decisions must be cheap (a few µs): each HTTP thread keeps its own cache of
 * parsed policies and of each caller's grants, dropped whenever the IAM
 * generation counter (bumped by every IAM write) moves. No locks needed, and
 * no statement per decision: the IAM change signal says when to look. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/db.h"
#include "ims/policy.h"
#include "ims/service.h"

#define MAX_ACTIONS 8
#define USER_SLOTS 64
#define EP_SLOTS 32

struct cached_policy {
    char id[IMS_UUID_LEN + 30];
    struct ims_policy *policy; /* NULL if the stored document no longer parses */
};

struct caller {
    char user_id[IMS_ID_MAX + 1], project_id[IMS_ID_MAX + 1];
    bool loaded, is_root;
    struct ims_user_grant *grants;
    const struct ims_policy **policies; /* parallel to grants */
    size_t n;
    /* condition keys */
    char *user_name, *domain_name, *project_name;
    const char *keys[7][2];
};

/* An enterprise project as creates need it (every create checks one). */
struct cached_ep {
    char id[IMS_ID_MAX + 1];
    bool exists, enabled;
    char domain_id[IMS_ID_MAX + 1]; /* "" = every account's (the default "0") */
};

struct cache {
    const struct ims_service *svc;
    struct cached_ep eps[EP_SLOTS];
    size_t neps;
    int64_t gen;        /* iam_generation the cache was filled at; -1: never */
    uint64_t sig;       /* IMS_SIGNAL_IAM then */
    int64_t checked_us; /* when gen was last read from the database */
    struct cached_policy *policies;
    size_t npolicies;
    struct caller callers[USER_SLOTS];
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void caller_clear(struct caller *c)
{
    free(c->grants);
    free(c->policies);
    free(c->user_name);
    free(c->domain_name);
    free(c->project_name);
    memset(c, 0, sizeof(*c));
}

static void cache_clear(struct cache *k)
{
    for (size_t i = 0; i < k->npolicies; i++)
        ims_policy_free(k->policies[i].policy);
    free(k->policies);
    k->policies = NULL;
    k->npolicies = 0;
    for (size_t i = 0; i < USER_SLOTS; i++)
        caller_clear(&k->callers[i]);
    k->neps = 0;
}

static void cache_destroy(void *p)
{
    cache_clear(p);
    free(p);
}

static void make_key(void) { pthread_key_create(&cache_key, cache_destroy); }

static struct cache *thread_cache(const struct ims_service *svc)
{
    pthread_once(&cache_once, make_key);
    struct cache *k = pthread_getspecific(cache_key);
    if (!k) {
        k = ims_xcalloc(1, sizeof(*k));
        pthread_setspecific(cache_key, k);
    }
    if (k->svc != svc) { /* another service instance (tests): start over */
        cache_clear(k);
        k->svc = svc;
        k->gen = -1;
    }
    return k;
}

/* Drops the cache when IAM data changed: the IAM signal moved, or (read at
 * most once a second while the signal stands still, for a writer that died
 * between its commit and the signal) the database's generation differs.
 * Without signals the generation is read for every decision. */
static enum ims_rc refresh(struct cache *k, struct ims_service *svc, struct ims_dbc *c, struct ims_err *err)
{
    uint64_t sig = 0;
    bool have_sig = ims_db_signal_read(svc->db, IMS_SIGNAL_IAM, &sig);
    int64_t now = ims_mono_us();
    if (have_sig && k->gen >= 0 && sig == k->sig && now - k->checked_us < 1000000)
        return IMS_OK;
    int64_t gen;
    enum ims_rc rc = ims_repo_iam_generation(c, &gen, err);
    if (rc != IMS_OK)
        return rc;
    if (gen != k->gen || sig != k->sig) {
        cache_clear(k);
        k->gen = gen;
        k->sig = sig;
    }
    k->checked_us = now;
    return IMS_OK;
}

static const struct ims_policy *policy_for(struct cache *k, struct ims_dbc *c, const char *id)
{
    for (size_t i = 0; i < k->npolicies; i++)
        if (strcmp(k->policies[i].id, id) == 0)
            return k->policies[i].policy;
    struct ims_policy_row row;
    struct ims_err err;
    struct ims_policy *pol = NULL;
    if (ims_repo_policy_get(c, id, NULL, NULL, &row, &err) == IMS_OK) {
        if (ims_policy_parse(row.document, strlen(row.document), &pol, &err) != IMS_OK)
            ims_warn("policy %s (%s) does not parse and grants nothing: %s", id, row.display_name, err.msg);
        ims_policy_row_release(&row);
    }
    k->policies = ims_xrealloc(k->policies, (k->npolicies + 1) * sizeof(*k->policies));
    snprintf(k->policies[k->npolicies].id, sizeof(k->policies[0].id), "%s", id);
    k->policies[k->npolicies++].policy = pol;
    return pol;
}

static size_t slot_of(const struct ims_principal *p)
{
    return ims_hash_str(ims_hash_str(IMS_HASH_SEED, p->user_id), p->project_id) % USER_SLOTS;
}

static enum ims_rc load_caller(struct cache *k, struct ims_dbc *c, const struct ims_principal *p, struct caller *u,
                               struct ims_err *err)
{
    caller_clear(u);
    snprintf(u->user_id, sizeof(u->user_id), "%s", p->user_id);
    snprintf(u->project_id, sizeof(u->project_id), "%s", p->project_id);
    enum ims_rc rc = ims_repo_user_is_root(c, p->user_id, &u->is_root, err);
    if (rc == IMS_OK)
        rc = ims_repo_user_grants(c, p->user_id, &u->grants, &u->n, err);
    if (rc != IMS_OK) {
        caller_clear(u);
        return rc;
    }
    u->policies = ims_xcalloc(u->n + 1, sizeof(*u->policies));
    for (size_t i = 0; i < u->n; i++)
        u->policies[i] = policy_for(k, c, u->grants[i].policy_id);
    struct ims_user user;
    if (ims_repo_user_get(c, p->user_id, NULL, NULL, &user, NULL) == IMS_OK) {
        u->user_name = IMS_TAKE_PTR(user.name);
        ims_user_release(&user);
    }
    struct ims_domain d;
    if (ims_repo_domain_get(c, p->domain_id, NULL, &d, NULL) == IMS_OK) {
        u->domain_name = IMS_TAKE_PTR(d.name);
        ims_domain_release(&d);
    }
    struct ims_project proj;
    if (p->project_id[0] && ims_repo_project_get(c, p->project_id, NULL, NULL, &proj, NULL) == IMS_OK) {
        u->project_name = IMS_TAKE_PTR(proj.name);
        ims_project_release(&proj);
    }
    u->loaded = true;
    return IMS_OK;
}

/* ---- condition keys of the request ---- */

struct keyctx {
    const struct caller *u;
    const struct ims_principal *p;
    const char *val;
};

static size_t lookup(void *self, const char *key, const char *const **ret)
{
    struct keyctx *kc = self;
    const char *v = NULL;
    if (!strcasecmp(key, "g:UserId")) v = kc->p->user_id;
    else if (!strcasecmp(key, "g:UserName")) v = kc->u->user_name;
    else if (!strcasecmp(key, "g:DomainId")) v = kc->p->domain_id;
    else if (!strcasecmp(key, "g:DomainName")) v = kc->u->domain_name;
    else if (!strcasecmp(key, "g:ProjectId")) v = kc->p->project_id[0] ? kc->p->project_id : NULL;
    else if (!strcasecmp(key, "g:ProjectName")) v = kc->u->project_name;
    else if (!strcasecmp(key, "g:MFAPresent")) v = "false";
    if (!v)
        return 0;
    kc->val = v;
    *ret = &kc->val;
    return 1;
}

void ims_authz_result_release(struct ims_authz_result *r) { ims_strlist_release(&r->eps); }

bool ims_authz_allows(const struct ims_authz_result *r, const char *ep)
{
    if (!r || r->effect != IMS_AUTHZ_ALLOW)
        return false;
    if (r->scope == IMS_EP_SCOPE_ALL)
        return true;
    return r->scope == IMS_EP_SCOPE_LISTED && ims_strlist_contains(&r->eps, ep && *ep ? ep : "0");
}

const char *ims_authz_denied_action(const struct ims_authz_result *r)
{
    return r && r->denied_action[0] ? r->denied_action : "this action";
}

static void allow(struct ims_authz_result *r, enum ims_ep_scope scope, const char *why)
{
    r->effect = IMS_AUTHZ_ALLOW;
    r->scope = scope;
    if (why)
        snprintf(r->deciding, sizeof(r->deciding), "%s", why);
}

/* Decides over the grants selected by `want` (project-level, or one
 * enterprise project). */
static bool decide(const struct caller *u, const struct ims_principal *p, bool (*want)(const struct ims_user_grant *,
                                                                                      const struct ims_principal *,
                                                                                      const char *),
                   const char *ep, const char *const *actions, size_t nactions, const struct ims_policy_ctx *ctx,
                   struct ims_authz_result *ret)
{
    const struct ims_policy *sel[256];
    size_t n = 0;
    for (size_t i = 0; i < u->n && n < IMS_ARRAY_SIZE(sel); i++)
        if (u->policies[i] && want(&u->grants[i], p, ep))
            sel[n++] = u->policies[i];
    const char *denied = NULL;
    struct ims_policy_match m = {0};
    bool ok = ims_policy_decide(sel, n, actions, nactions, ctx, &denied, &m);
    if (!ok && denied && !ret->denied_action[0])
        snprintf(ret->denied_action, sizeof(ret->denied_action), "%s", denied);
    if (m.effect != IMS_EFFECT_NONE && m.policy < n) {
        for (size_t i = 0, k = 0; i < u->n; i++) {
            if (!u->policies[i] || !want(&u->grants[i], p, ep))
                continue;
            if (k++ == m.policy) {
                snprintf(ret->deciding, sizeof(ret->deciding), "%s policy %s statement %zu (%s %s)",
                         m.effect == IMS_EFFECT_DENY ? "Deny by" : "Allow by", u->grants[i].policy_id, m.statement,
                         ims_scope_type_name(u->grants[i].scope), u->grants[i].scope_id);
                break;
            }
        }
    }
    return ok;
}

static bool project_level(const struct ims_user_grant *g, const struct ims_principal *p, const char *ep)
{
    (void)ep;
    return (g->scope == IMS_SCOPE_PROJECT && p->project_id[0] && strcmp(g->scope_id, p->project_id) == 0) ||
           g->scope == IMS_SCOPE_ALL_PROJECTS || g->scope == IMS_SCOPE_DOMAIN;
}

static bool on_ep(const struct ims_user_grant *g, const struct ims_principal *p, const char *ep)
{
    (void)p;
    return g->scope == IMS_SCOPE_ENTERPRISE_PROJECT && strcmp(g->scope_id, ep) == 0;
}

/* The decision, logged: a Deny at info with what decided, an Allow at debug. */
static enum ims_rc decided(const struct ims_principal *p, const char *actions, struct ims_authz_result *r,
                           const char *first_action, struct ims_err *err)
{
    const char *who = p->user_id[0] ? p->user_id : "-", *project = p->project_id[0] ? p->project_id : "-";
    if (r->effect == IMS_AUTHZ_ALLOW) {
        ims_debug("authz: allow %s to user %s project %s (%s): %s", actions, who, project,
                  r->scope == IMS_EP_SCOPE_ALL ? "all enterprise projects" : "listed enterprise projects",
                  r->deciding);
        return IMS_OK;
    }
    r->scope = IMS_EP_SCOPE_NONE;
    ims_strlist_release(&r->eps);
    if (!r->denied_action[0])
        snprintf(r->denied_action, sizeof(r->denied_action), "%s", first_action);
    if (!r->deciding[0])
        snprintf(r->deciding, sizeof(r->deciding), "implicit deny: no statement allows %s", r->denied_action);
    ims_info("authz: deny %s to user %s project %s: %s", actions, who, project, r->deciding);
    return ims_fail(err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed.", r->denied_action);
}

enum ims_rc ims_authorize(struct ims_service *svc, const struct ims_principal *p, const char *actions,
                          bool iam_project, bool enterprise_project, struct ims_authz_result *ret,
                          struct ims_err *err)
{
    *ret = (struct ims_authz_result){.effect = IMS_AUTHZ_DENY, .scope = IMS_EP_SCOPE_NONE};
    if (p->is_admin) {
        allow(ret, IMS_EP_SCOPE_ALL, "role admin");
        return decided(p, actions, ret, actions, err);
    }
    char buf[512];
    const char *list[MAX_ACTIONS];
    size_t nactions = 0;
    snprintf(buf, sizeof(buf), "%s", actions);
    for (char *save = NULL, *a = strtok_r(buf, "+,", &save); a && nactions < MAX_ACTIONS;
         a = strtok_r(NULL, "+,", &save))
        list[nactions++] = a;
    const char *first = nactions ? list[0] : actions;

    struct ims_dbc *c = ims_db_conn(svc->db);
    struct cache *k = thread_cache(svc);
    enum ims_rc rc = refresh(k, svc, c, err);
    struct caller *u = &k->callers[slot_of(p)];
    if (rc == IMS_OK && (!u->loaded || strcmp(u->user_id, p->user_id) || strcmp(u->project_id, p->project_id)))
        rc = load_caller(k, c, p, u, err);
    if (rc != IMS_OK) { /* not decided: stays a Deny */
        snprintf(ret->deciding, sizeof(ret->deciding), "not decided: %.200s", err ? err->msg : ims_rc_name(rc));
        ims_info("authz: deny %s to user %s: %s", actions, p->user_id, ret->deciding);
        return rc;
    }
    if (u->is_root) {
        allow(ret, IMS_EP_SCOPE_ALL, "account root user");
        return decided(p, actions, ret, first, err);
    }
    struct keyctx kc = {.u = u, .p = p};
    struct ims_policy_ctx ctx = {.lookup = lookup, .self = &kc, .now = ims_now()};
    if (iam_project && decide(u, p, project_level, NULL, list, nactions, &ctx, ret)) {
        allow(ret, IMS_EP_SCOPE_ALL, NULL); /* deciding: the Allow statement decide() named */
        return decided(p, actions, ret, first, err);
    }
    if (enterprise_project) {
        for (size_t i = 0; i < u->n; i++) {
            const struct ims_user_grant *g = &u->grants[i];
            if (g->scope != IMS_SCOPE_ENTERPRISE_PROJECT || ims_strlist_contains(&ret->eps, g->scope_id))
                continue;
            struct ims_authz_result probe = {0};
            if (decide(u, p, on_ep, g->scope_id, list, nactions, &ctx, &probe)) {
                if (!ret->eps.n) /* the first enterprise project's Allow names the decision */
                    snprintf(ret->deciding, sizeof(ret->deciding), "%s", probe.deciding);
                ims_strlist_add(&ret->eps, g->scope_id);
            }
        }
        if (ret->eps.n) {
            allow(ret, IMS_EP_SCOPE_LISTED, NULL);
            return decided(p, actions, ret, first, err);
        }
    }
    return decided(p, actions, ret, first, err);
}

enum ims_rc ims_ep_check_usable(struct ims_service *svc, const struct ims_principal *p, const char *ep_id,
                                struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct cache *k = thread_cache(svc);
    enum ims_rc rc = refresh(k, svc, c, err);
    if (rc != IMS_OK)
        return rc;
    const struct cached_ep *e = NULL;
    for (size_t i = 0; i < k->neps && !e; i++)
        if (strcmp(k->eps[i].id, ep_id) == 0)
            e = &k->eps[i];
    if (!e) {
        struct cached_ep fresh = {0};
        snprintf(fresh.id, sizeof(fresh.id), "%s", ep_id);
        struct ims_enterprise_project ep;
        rc = ims_repo_ep_get(c, ep_id, &ep, err);
        if (rc != IMS_OK && rc != IMS_E_NOTFOUND)
            return rc;
        if (rc == IMS_OK) {
            fresh.exists = true;
            fresh.enabled = ep.status == 1;
            snprintf(fresh.domain_id, sizeof(fresh.domain_id), "%s", ep.domain_id ? ep.domain_id : "");
            ims_ep_release(&ep);
        }
        if (strlen(ep_id) < sizeof(fresh.id)) { /* longer ids never exist: not worth a slot */
            size_t slot = k->neps < EP_SLOTS ? k->neps++ : (size_t)(ims_mono_us() % EP_SLOTS);
            k->eps[slot] = fresh;
            e = &k->eps[slot];
        } else {
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0155", "Enterprise project %s does not exist.", ep_id);
        }
    }
    if (!e->exists)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0155", "Enterprise project %s does not exist.", ep_id);
    if (!e->enabled || (e->domain_id[0] && !ims_streq(e->domain_id, p->domain_id)))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0155", "Enterprise project %s is disabled or not in your account.",
                             ep_id);
    return IMS_OK;
}
