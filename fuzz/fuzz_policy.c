/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target for the IAM policy engine: the input is a policy document.
 * Whatever parses is evaluated for a fixed set of actions under a fixed
 * request context, and the decision function must agree with the
 * per-policy evaluation (Deny wins, an Allow is needed for every action,
 * case never matters). Short inputs are also tried as a requested action
 * against the system policies, which exercises the action matcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "ims/policy.h"

struct kv {
    const char *key;
    const char *values[3];
    size_t n;
};

static const struct kv kvs[] = {
    {"g:UserName", {"TestUser01"}, 1},
    {"g:ProjectName", {"eu-de"}, 1},
    {"g:DomainName", {"acme"}, 1},
    {"g:MFAPresent", {"true"}, 1},
    {"g:MFAAge", {"300"}, 1},
    {"g:SourceIp", {"192.168.10.20"}, 1},
    {"g:Empty", {""}, 1},
    {"g:LoginTime", {"2024-06-01T08:00:00Z"}, 1},
    {"ims:tags", {"env=prod", "team=a", "x"}, 3},
};

static size_t lookup(void *self, const char *key, const char *const **ret)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(kvs); i++) {
        if (strcasecmp(kvs[i].key, key) == 0) {
            *ret = kvs[i].values;
            return kvs[i].n;
        }
    }
    return 0;
}

static const struct ims_policy_ctx ctx = {lookup, NULL, 1717243200};

static const char *const actions[] = {
    "ims:images:get",   "ims:images:list",    "ims:images:create", "ims:images:delete", "ims:serverImages:create",
    "ims:quotas:get",   "ecs:servers:get",    "iam:users:create",  "obs:bucket:ListBucket", "ims:images",
};
#define NACTIONS IMS_ARRAY_SIZE(actions)

static void upper(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    out[i] = 0;
}

static void check_policy(const struct ims_policy *p)
{
    const char *v = ims_policy_version(p);
    fuzz_check(strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0, "version is 1.0 or 1.1");
    for (size_t i = 0; ims_policy_depend(p, i); i++)
        fuzz_check(i < IMS_POLICY_MAX_STATEMENTS, "depends bounded");

    enum ims_effect eff[NACTIONS];
    bool all_allowed = true;
    const char *first_bad = NULL;
    for (size_t a = 0; a < NACTIONS; a++) {
        size_t st = SIZE_MAX;
        eff[a] = ims_policy_eval(p, actions[a], &ctx, &st);
        fuzz_check(eff[a] <= IMS_EFFECT_DENY, "effect in range");
        fuzz_check(st < IMS_POLICY_MAX_STATEMENTS, "statement index in range");
        fuzz_check(ims_policy_eval(p, actions[a], &ctx, NULL) == eff[a], "eval deterministic");
        char up[64];
        upper(actions[a], up, sizeof(up));
        fuzz_check(ims_policy_eval(p, up, &ctx, NULL) == eff[a], "action case does not matter");
        ims_policy_eval(p, actions[a], NULL, NULL); /* no context: no crash */
        struct ims_policy_ctx odd = {lookup, NULL, INT64_MIN};
        ims_policy_eval(p, actions[a], &odd, NULL); /* a clock out of any range */

        const struct ims_policy *one[] = {p};
        const struct ims_policy *two[] = {p, p};
        const char *denied = NULL;
        struct ims_policy_match m;
        bool ok = ims_policy_decide(one, 1, &actions[a], 1, &ctx, &denied, &m);
        fuzz_check(ok == (eff[a] == IMS_EFFECT_ALLOW), "decide agrees with eval");
        fuzz_check(ok ? denied == NULL : denied == actions[a], "denied action named");
        fuzz_check(m.effect == eff[a], "match effect agrees with eval");
        if (eff[a] != IMS_EFFECT_NONE)
            fuzz_check(m.policy == 0 && m.statement == st, "match statement agrees with eval");
        fuzz_check(ims_policy_decide(two, 2, &actions[a], 1, &ctx, NULL, NULL) == ok, "a policy twice changes nothing");
        if (eff[a] != IMS_EFFECT_ALLOW && all_allowed) {
            all_allowed = false;
            first_bad = actions[a];
        }
    }
    const struct ims_policy *one[] = {p};
    const char *denied = NULL;
    bool ok = ims_policy_decide(one, 1, actions, NACTIONS, &ctx, &denied, NULL);
    fuzz_check(ok == all_allowed, "all actions required");
    fuzz_check(denied == first_bad, "first failing action named");
}

/* The input as a requested action, against every system policy. */
static void check_action(const uint8_t *data, size_t size)
{
    if (size > 128)
        return;
    char action[129];
    memcpy(action, data, size);
    action[size] = 0;
    for (const char *const *name = ims_policy_system_names; *name; name++) {
        const char *doc = ims_policy_system_document(*name);
        struct ims_policy *p = NULL;
        struct ims_err err;
        fuzz_check(ims_policy_parse(doc, strlen(doc), &p, &err) == IMS_OK, "system policy parses");
        enum ims_effect e = ims_policy_eval(p, action, &ctx, NULL);
        /* IMS FullAccess allows exactly the ims service's three-part actions. */
        if (strcmp(*name, "IMS FullAccess") == 0 && strlen(action) == size) {
            bool three = strncasecmp(action, "ims:", 4) == 0 && strchr(action + 4, ':') &&
                         action[4] != ':' && strchr(action + 4, ':')[1] && !strchr(strchr(action + 4, ':') + 1, ':');
            fuzz_check((e == IMS_EFFECT_ALLOW) == three, "IMS FullAccess is ims:*:*");
        }
        ims_policy_free(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ims_policy *p = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = ims_policy_parse((const char *)data, size, &p, &err);
    fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "parse fails with 400 only");
    fuzz_check(rc == IMS_OK ? p != NULL : p == NULL && err.msg[0], "result or message");
    if (p) {
        check_policy(p);
        ims_policy_free(p);
    }
    check_action(data, size);
    return 0;
}
