/* SPDX-License-Identifier: Apache-2.0
 * Evaluation of compiled policies (policy-int.h): which statements apply to
 * an action under the request's condition keys, and the decision over a
 * set of policies and required actions (policy_syntax.md, "Authentication
 * Process"): an explicit Deny anywhere wins, otherwise every action needs
 * an Allow, otherwise deny. Runs on every request, so nothing here
 * allocates and the requested action is split once per decision. */
#include "policy-int.h"

#include <string.h>
#include <strings.h>

/* ---- conditions ---- */

static bool string_matches(enum pol_cmp cmp, const struct pol_value *pv, const char *s, size_t n)
{
    switch (cmp) {
    case POL_CMP_EQ: return n == pv->len && memcmp(s, pv->s, n) == 0;
    case POL_CMP_EQ_IC: return n == pv->len && strncasecmp(s, pv->s, n) == 0;
    case POL_CMP_LIKE: return pol_glob(pv->s, pv->len, s, n, true);
    case POL_CMP_START: return n >= pv->len && memcmp(s, pv->s, pv->len) == 0;
    case POL_CMP_START_IC: return n >= pv->len && strncasecmp(s, pv->s, pv->len) == 0;
    case POL_CMP_END: return n >= pv->len && memcmp(s + n - pv->len, pv->s, pv->len) == 0;
    case POL_CMP_END_IC: return n >= pv->len && strncasecmp(s + n - pv->len, pv->s, pv->len) == 0;
    default: return false;
    }
}

static bool order_matches(enum pol_cmp cmp, double a, double b)
{
    switch (cmp) {
    case POL_CMP_EQ: return a == b;
    case POL_CMP_LT: return a < b;
    case POL_CMP_LE: return a <= b;
    case POL_CMP_GT: return a > b;
    case POL_CMP_GE: return a >= b;
    default: return false;
    }
}

/* Times as doubles are exact up to 2^53 s, far beyond year 9999. */
static bool time_matches(const struct pol_cond *c, int64_t t)
{
    for (size_t i = 0; i < c->nvalues; i++)
        if (order_matches(c->op->cmp, (double)t, (double)c->values[i].time))
            return true;
    return false;
}

/* Whether one request value matches any of the policy's values, in the
 * operator's positive sense. A request value that does not parse as the
 * operator's type matches nothing. */
static bool value_matches(const struct pol_cond *c, const char *s)
{
    size_t n = strlen(s);
    double num = 0;
    int64_t t = 0;
    uint32_t addr = 0;
    bool b = false;
    switch (c->op->type) {
    case POL_C_STRING: break;
    case POL_C_NUMBER:
        if (!pol_parse_number(s, &num))
            return false;
        break;
    case POL_C_DATE: return ims_time_parse(s, &t) && time_matches(c, t);
    case POL_C_BOOL:
        if (!pol_parse_bool(s, &b))
            return false;
        break;
    case POL_C_IP:
        if (!pol_parse_ipv4(s, n, &addr))
            return false;
        break;
    default: return false;
    }
    for (size_t i = 0; i < c->nvalues; i++) {
        const struct pol_value *pv = &c->values[i];
        bool m = false;
        switch (c->op->type) {
        case POL_C_STRING: m = string_matches(c->op->cmp, pv, s, n); break;
        case POL_C_NUMBER: m = order_matches(c->op->cmp, num, pv->num); break;
        case POL_C_BOOL: m = b == pv->b; break;
        case POL_C_IP: m = (addr & pv->mask) == pv->addr; break;
        default: break;
        }
        if (m)
            return true;
    }
    return false;
}

/* Null / IsNullOrEmpty: the policy values ("true"/"false") are ORed. */
static bool presence_holds(const struct pol_cond *c, const char *const *vals, size_t n)
{
    bool null = n == 0;
    if (c->op->type == POL_C_NULL_OR_EMPTY) {
        null = true;
        for (size_t i = 0; i < n; i++)
            null = null && vals[i][0] == 0;
    }
    for (size_t i = 0; i < c->nvalues; i++)
        if (c->values[i].b == null)
            return true;
    return false;
}

/* The AWS reading where IAM is silent:
 *  - no qualifier: the key matches if any of its values matches any policy
 *    value; a negated operator holds iff the positive one does not, so an
 *    absent key fails StringEquals and passes StringNotEquals;
 *  - ForAnyValue: some request value satisfies the operator (absent: false);
 *  - ForAllValues: every request value does (absent: true, vacuously);
 *  - IfExists: an absent key passes. */
bool pol_condition_holds(const struct pol_cond *c, const struct ims_policy_ctx *ctx)
{
    const char *const *vals = NULL;
    size_t n = ctx && ctx->lookup ? ctx->lookup(ctx->self, c->key, &vals) : 0;
    char now[32];
    const char *now_vals[1] = {now};
    if (n == 0 && c->current_time && ctx) {
        /* ctx->now stands in for g:CurrentTime: compared as a number by
         * the Date operators (one value: every qualifier reads the same),
         * as text (in ims_time_iso's range) by the others. */
        if (c->op->type == POL_C_DATE)
            return time_matches(c, ctx->now) != c->op->negated;
        if (ctx->now >= 0 && ctx->now <= INT64_C(253402300799)) {
            ims_time_iso(ctx->now, now);
            vals = now_vals;
            n = 1;
        }
    }
    if (c->op->type == POL_C_NULL || c->op->type == POL_C_NULL_OR_EMPTY)
        return presence_holds(c, vals, n);
    if (n == 0)
        return c->if_exists || c->qualifier == POL_Q_ALL_VALUES || (c->qualifier == POL_Q_NONE && c->op->negated);

    bool neg = c->op->negated;
    switch (c->qualifier) {
    case POL_Q_NONE:
        for (size_t i = 0; i < n; i++)
            if (value_matches(c, vals[i]))
                return !neg;
        return neg;
    case POL_Q_ANY_VALUE:
        for (size_t i = 0; i < n; i++)
            if (value_matches(c, vals[i]) != neg)
                return true;
        return false;
    case POL_Q_ALL_VALUES:
        for (size_t i = 0; i < n; i++)
            if (value_matches(c, vals[i]) == neg)
                return false;
        return true;
    }
    return false;
}

/* ---- statements and policies ---- */

static bool statement_applies(const struct pol_stmt *s, const struct pol_request *r,
                              const struct ims_policy_ctx *ctx)
{
    if (!pol_stmt_may_match(s, r))
        return false;
    bool matched = false;
    for (size_t i = 0; i < s->nactions && !matched; i++)
        matched = pol_action_matches(&s->actions[i], r);
    if (!matched)
        return false;
    /* IMS has no resource-level authorization (custom_policy_use_cases.md:
     * only services such as OBS do), so a statement limited to resources
     * can never be shown to cover the request: it grants nothing, but its
     * Deny still applies, failing closed. */
    if (s->nresources && s->effect == IMS_EFFECT_ALLOW)
        return false;
    for (size_t i = 0; i < s->nconds; i++)
        if (!pol_condition_holds(&s->conds[i], ctx))
            return false;
    return true;
}

/* With allowed set (an earlier policy allowed the action already) only a
 * Deny can change the decision, so Allow statements are not looked at. */
static enum ims_effect eval_request(const struct ims_policy *p, const struct pol_request *r,
                                    const struct ims_policy_ctx *ctx, bool allowed, size_t *ret_statement)
{
    enum ims_effect effect = allowed ? IMS_EFFECT_ALLOW : IMS_EFFECT_NONE;
    size_t which = 0;
    for (size_t i = 0; r->valid && i < p->nstmts; i++) {
        const struct pol_stmt *s = &p->stmts[i];
        /* After the first Allow only a Deny can change the outcome. */
        if (effect == IMS_EFFECT_ALLOW && s->effect == IMS_EFFECT_ALLOW)
            continue;
        if (!statement_applies(s, r, ctx))
            continue;
        effect = s->effect;
        which = i;
        if (effect == IMS_EFFECT_DENY)
            break;
    }
    if (allowed && effect == IMS_EFFECT_ALLOW)
        effect = IMS_EFFECT_NONE; /* nothing new from this policy */
    if (ret_statement)
        *ret_statement = which;
    return effect;
}

enum ims_effect ims_policy_eval(const struct ims_policy *p, const char *action, const struct ims_policy_ctx *ctx,
                                size_t *ret_statement)
{
    struct pol_request r;
    pol_request_split(action, &r);
    return eval_request(p, &r, ctx, false, ret_statement);
}

bool ims_policy_decide(const struct ims_policy *const *policies, size_t npolicies, const char *const *actions,
                       size_t nactions, const struct ims_policy_ctx *ctx, const char **ret_denied_action,
                       struct ims_policy_match *ret_match)
{
    struct ims_policy_match m = {0};
    const char *denied = NULL;
    bool ok = nactions > 0; /* asking for nothing proves nothing */
    for (size_t a = 0; a < nactions && ok; a++) {
        struct pol_request r;
        pol_request_split(actions[a], &r);
        struct ims_policy_match allow = {0};
        struct ims_policy_match deny = {0};
        for (size_t i = 0; i < npolicies && deny.effect == IMS_EFFECT_NONE; i++) {
            const struct ims_policy *p = policies[i];
            bool allowed = allow.effect == IMS_EFFECT_ALLOW;
            if (!p || (allowed && !p->has_deny))
                continue;
            size_t st = 0;
            enum ims_effect e = eval_request(p, &r, ctx, allowed, &st);
            if (e == IMS_EFFECT_DENY)
                deny = (struct ims_policy_match){IMS_EFFECT_DENY, i, st};
            else if (e == IMS_EFFECT_ALLOW && allow.effect == IMS_EFFECT_NONE)
                allow = (struct ims_policy_match){IMS_EFFECT_ALLOW, i, st};
        }
        if (deny.effect == IMS_EFFECT_DENY) {
            m = deny;
            ok = false;
        } else if (allow.effect == IMS_EFFECT_ALLOW) {
            m = allow;
        } else {
            m = (struct ims_policy_match){0};
            ok = false;
        }
        if (!ok)
            denied = actions[a];
    }
    if (ret_denied_action)
        *ret_denied_action = denied;
    if (ret_match)
        *ret_match = m;
    return ok;
}
