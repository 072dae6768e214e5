/* SPDX-License-Identifier: Apache-2.0
 * Unit tests of the IAM policy engine (lib/policy): action wildcards and
 * case, every condition operator with its qualifiers, Deny precedence and
 * required actions across policies, the system-defined policies, and each
 * class of parse error with the JSON path its message names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "ims/policy.h"

/* ---- helpers ---- */

/* A request's condition keys: up to 4 values per key, NULL-terminated. */
struct kv {
    const char *key;
    const char *values[5];
};

struct fake_ctx {
    const struct kv *kvs;
    size_t n;
};

static size_t fake_lookup(void *self, const char *key, const char *const **ret_values)
{
    const struct fake_ctx *f = self;
    for (size_t i = 0; i < f->n; i++) {
        if (strcasecmp(f->kvs[i].key, key) != 0)
            continue;
        size_t n = 0;
        while (n < 4 && f->kvs[i].values[n])
            n++;
        *ret_values = f->kvs[i].values;
        return n;
    }
    return 0;
}

/* 2024-06-01T12:00:00Z */
#define NOW 1717243200

static const struct kv default_kvs[] = {
    {"g:UserName", {"TestUser01"}},
    {"g:ProjectName", {"eu-de_dev"}},
    {"g:DomainName", {"acme"}},
    {"g:MFAPresent", {"true"}},
    {"g:MFAAge", {"300"}},
    {"g:SourceIp", {"192.168.10.20"}},
    {"g:Empty", {""}},
    {"ims:tags", {"env=prod", "team=a"}},
    {"g:LoginTime", {"2024-06-01T08:00:00Z"}},
};

static struct fake_ctx default_fake = {default_kvs, IMS_ARRAY_SIZE(default_kvs)};
static const struct ims_policy_ctx default_ctx = {fake_lookup, &default_fake, NOW};

static struct ims_policy *parse_ok(const char *json)
{
    struct ims_policy *p = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = ims_policy_parse(json, strlen(json), &p, &err);
    if (rc != IMS_OK)
        fail_msg("%s: %s (%s)", json, ims_rc_name(rc), err.msg);
    assert_non_null(p);
    return p;
}

static void expect_parse_fail(const char *json, const char *fragment)
{
    struct ims_policy *p = (struct ims_policy *)1;
    struct ims_err err = {0};
    enum ims_rc rc = ims_policy_parse(json, strlen(json), &p, &err);
    if (rc != IMS_E_BADREQ)
        fail_msg("%s: expected BADREQ, got %s", json, ims_rc_name(rc));
    if (!strstr(err.msg, fragment))
        fail_msg("%s: message '%s' lacks '%s'", json, err.msg, fragment);
    assert_null(p);
}

static enum ims_effect eval_ctx(const char *json, const char *action, const struct ims_policy_ctx *ctx)
{
    struct ims_policy *p = parse_ok(json);
    size_t st = 99;
    enum ims_effect e = ims_policy_eval(p, action, ctx, &st);
    ims_policy_free(p);
    return e;
}

static enum ims_effect eval1(const char *json, const char *action) { return eval_ctx(json, action, &default_ctx); }

/* A one-statement Allow policy with the given Action list body; valid
 * until the next call. */
static char *allow_actions(const char *actions)
{
    static char *buf;
    free(buf);
    buf = ims_xasprintf("{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[%s]}]}", actions);
    return buf;
}

static bool allowed(const char *actions, const char *action)
{
    return eval1(allow_actions(actions), action) == IMS_EFFECT_ALLOW;
}

/* An Allow of ims:*:* under one condition block. */
static bool cond_holds(const char *condition)
{
    _cleanup_free_ char *doc = ims_xasprintf(
        "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims:*:*\"],\"Condition\":%s}]}",
        condition);
    return eval1(doc, "ims:images:get") == IMS_EFFECT_ALLOW;
}

static char *system_doc(const char *name)
{
    const char *d = ims_policy_system_document(name);
    if (!d)
        fail_msg("no system policy '%s'", name);
    return (char *)d;
}

static bool system_allows(const char *name, const char *action)
{
    struct ims_policy *p = parse_ok(system_doc(name));
    const struct ims_policy *ps[] = {p};
    const char *acts[] = {action};
    bool ok = ims_policy_decide(ps, 1, acts, 1, &default_ctx, NULL, NULL);
    ims_policy_free(p);
    return ok;
}

/* ---- actions ---- */

static void test_action_exact_and_case(void **state)
{
    (void)state;
    assert_true(allowed("\"ims:images:get\"", "ims:images:get"));
    assert_false(allowed("\"ims:images:get\"", "ims:images:list"));
    assert_false(allowed("\"ims:images:get\"", "ims:images:getx"));
    assert_false(allowed("\"ims:images:get\"", "ecs:images:get"));
    /* Actions are case-insensitive as a whole, service included, both ways. */
    assert_true(allowed("\"ims:Images:GET\"", "ims:images:get"));
    assert_true(allowed("\"IMS:Images:Get\"", "ims:images:get"));
    assert_true(allowed("\"ims:images:get\"", "IMS:IMAGES:Get"));
    assert_true(allowed("\"ims:serverImages:create\"", "ims:serverimages:CREATE"));
}

static void test_action_wildcards(void **state)
{
    (void)state;
    assert_true(allowed("\"ims:*:get\"", "ims:images:get"));                /* whole segment */
    assert_true(allowed("\"ims:images:*\"", "ims:images:delete"));          /* whole segment */
    assert_true(allowed("\"*:*:*\"", "ecs:servers:list"));                  /* everything */
    assert_true(allowed("\"ims:*:get*\"", "ims:quotas:getQuota"));          /* prefix */
    assert_true(allowed("\"ims:*:get*\"", "ims:images:get"));               /* prefix, empty rest */
    assert_false(allowed("\"ims:*:get*\"", "ims:images:list"));             /* prefix */
    assert_true(allowed("\"ims:*Images:create\"", "ims:serverImages:create")); /* suffix */
    assert_true(allowed("\"ims:*Images:create\"", "ims:images:create"));    /* suffix, empty rest */
    assert_false(allowed("\"ims:*Images:create\"", "ims:quotas:create"));   /* suffix */
    assert_true(allowed("\"ims:im*es:get\"", "ims:images:get"));            /* middle */
    assert_true(allowed("\"ims:im*es:get\"", "ims:imes:get"));              /* middle, empty */
    assert_false(allowed("\"ims:im*es:get\"", "ims:imagesx:get"));          /* middle */
    assert_true(allowed("\"ims:*a*:*\"", "ims:images:x"));                  /* several stars */
    assert_false(allowed("\"ims:*a*:*\"", "ims:quotes:x"));
    assert_true(allowed("\"i*:*:*\"", "ims:images:get"));                   /* service prefix */
    assert_true(allowed("\"ims:**:get\"", "ims:images:get"));
    /* A '*' stays inside its segment: it never swallows a ':'. */
    assert_false(allowed("\"ims:*:get\"", "ims:a:b:get"));
    assert_false(allowed("\"*:*:*\"", "ims:images"));
    assert_false(allowed("\"*:*:*\"", "ims::get"));
    assert_false(allowed("\"*:*:*\"", ""));
    assert_false(allowed("\"*:*:*\"", "ims:images:get:"));
    /* The request is literal: a '*' in it is just a character. */
    assert_false(allowed("\"ims:images:get\"", "ims:*:get"));
    assert_true(allowed("\"ims:*:get\"", "ims:*:get"));
    /* Wildcard shapes are case-insensitive too. */
    assert_true(allowed("\"ims:im*es:g*\"", "IMS:IMAGES:GET"));
    assert_true(allowed("\"ims:*IMAGES:*\"", "ims:ServerImages:Create"));
}

static void test_action_long_request(void **state)
{
    (void)state;
    /* Requests longer than any real action match nothing, not even *:*:*. */
    char action[400];
    memset(action, 'a', sizeof(action) - 1);
    action[sizeof(action) - 1] = 0;
    action[3] = ':';
    action[10] = ':';
    assert_false(allowed("\"*:*:*\"", action));
    action[255] = 0;
    assert_true(allowed("\"*:*:*\"", action));
    assert_false(allowed("\"*:*:*\"", NULL));
}

static void test_action_many_per_statement(void **state)
{
    (void)state;
    /* Every pattern shape in one statement: the statement filter must
     * never hide one of them. */
    char list[4096];
    size_t o = 0;
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s\"s%d:r%d:o%d\",\"t%d:r%d:*\",\"u%d:*:*\"",
                              i ? "," : "", i, i, i, i, i, i);
    struct ims_policy *p = parse_ok(allow_actions(list));
    for (int i = 0; i < 40; i++) {
        char a[64];
        snprintf(a, sizeof(a), "S%d:R%d:O%d", i, i, i);
        assert_int_equal(ims_policy_eval(p, a, &default_ctx, NULL), IMS_EFFECT_ALLOW);
        snprintf(a, sizeof(a), "s%d:r%d:o%dx", i, i, i);
        assert_int_equal(ims_policy_eval(p, a, &default_ctx, NULL), IMS_EFFECT_NONE);
        snprintf(a, sizeof(a), "t%d:r%d:anything", i, i);
        assert_int_equal(ims_policy_eval(p, a, &default_ctx, NULL), IMS_EFFECT_ALLOW);
        snprintf(a, sizeof(a), "t%d:r%dx:anything", i, i);
        assert_int_equal(ims_policy_eval(p, a, &default_ctx, NULL), IMS_EFFECT_NONE);
        snprintf(a, sizeof(a), "u%d:x:y", i);
        assert_int_equal(ims_policy_eval(p, a, &default_ctx, NULL), IMS_EFFECT_ALLOW);
        snprintf(a, sizeof(a), "v%d:x:y", i);
        assert_int_equal(ims_policy_eval(p, a, &default_ctx, NULL), IMS_EFFECT_NONE);
    }
    ims_policy_free(p);
}

static void test_action_single_string(void **state)
{
    (void)state;
    assert_int_equal(eval1("{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ims:images:list\"}]}",
                           "ims:images:list"),
                     IMS_EFFECT_ALLOW);
}

/* ---- conditions ---- */

static void test_cond_string(void **state)
{
    (void)state;
    assert_true(cond_holds("{\"StringEquals\":{\"g:UserName\":[\"TestUser01\"]}}"));
    assert_false(cond_holds("{\"StringEquals\":{\"g:UserName\":[\"testuser01\"]}}"));
    assert_true(cond_holds("{\"StringEquals\":{\"g:UserName\":[\"x\",\"TestUser01\"]}}")); /* values OR */
    assert_true(cond_holds("{\"StringEquals\":{\"g:UserName\":\"TestUser01\"}}"));       /* single string */
    assert_true(cond_holds("{\"StringNotEquals\":{\"g:UserName\":[\"x\",\"y\"]}}"));
    assert_false(cond_holds("{\"StringNotEquals\":{\"g:UserName\":[\"x\",\"TestUser01\"]}}"));
    assert_true(cond_holds("{\"StringEqualsIgnoreCase\":{\"g:UserName\":[\"testUSER01\"]}}"));
    assert_false(cond_holds("{\"StringEqualsIgnoreCase\":{\"g:UserName\":[\"testUSER0\"]}}"));
    assert_true(cond_holds("{\"StringNotEqualsIgnoreCase\":{\"g:UserName\":[\"other\"]}}"));
    assert_false(cond_holds("{\"StringNotEqualsIgnoreCase\":{\"g:UserName\":[\"TESTUSER01\"]}}"));
    assert_true(cond_holds("{\"StringLike\":{\"g:UserName\":[\"Test*0?\"]}}"));
    assert_false(cond_holds("{\"StringLike\":{\"g:UserName\":[\"test*\"]}}")); /* case-sensitive */
    assert_false(cond_holds("{\"StringLike\":{\"g:UserName\":[\"Test?\"]}}"));
    assert_true(cond_holds("{\"StringNotLike\":{\"g:UserName\":[\"Admin*\"]}}"));
    assert_false(cond_holds("{\"StringNotLike\":{\"g:UserName\":[\"*User*\"]}}"));
    assert_true(cond_holds("{\"StringStartWith\":{\"g:UserName\":[\"TestUser\"]}}"));
    assert_false(cond_holds("{\"StringStartWith\":{\"g:UserName\":[\"testuser\"]}}"));
    assert_true(cond_holds("{\"StringNotStartWith\":{\"g:UserName\":[\"Admin\"]}}"));
    assert_false(cond_holds("{\"StringNotStartWith\":{\"g:UserName\":[\"Test\"]}}"));
    assert_true(cond_holds("{\"StringStartWithIgnoreCase\":{\"g:UserName\":[\"testuser\"]}}"));
    assert_false(cond_holds("{\"StringStartWithIgnoreCase\":{\"g:UserName\":[\"admin\"]}}"));
    assert_true(cond_holds("{\"StringNotStartWithIgnoreCase\":{\"g:UserName\":[\"admin\"]}}"));
    assert_false(cond_holds("{\"StringNotStartWithIgnoreCase\":{\"g:UserName\":[\"TESTUSER\"]}}"));
    assert_true(cond_holds("{\"StringEndWith\":{\"g:UserName\":[\"01\"]}}"));
    assert_false(cond_holds("{\"StringEndWith\":{\"g:UserName\":[\"user01\"]}}"));
    assert_true(cond_holds("{\"StringNotEndWith\":{\"g:UserName\":[\"02\"]}}"));
    assert_false(cond_holds("{\"StringNotEndWith\":{\"g:UserName\":[\"User01\"]}}"));
    assert_true(cond_holds("{\"StringEndWithIgnoreCase\":{\"g:UserName\":[\"USER01\"]}}"));
    assert_false(cond_holds("{\"StringEndWithIgnoreCase\":{\"g:UserName\":[\"USER02\"]}}"));
    assert_true(cond_holds("{\"StringNotEndWithIgnoreCase\":{\"g:UserName\":[\"USER02\"]}}"));
    assert_false(cond_holds("{\"StringNotEndWithIgnoreCase\":{\"g:UserName\":[\"USER01\"]}}"));
    /* Longer than the value: no out-of-bounds compare. */
    assert_false(cond_holds("{\"StringEndWith\":{\"g:UserName\":[\"xxxxxxxxxxxxxxxxxTestUser01\"]}}"));
    /* Condition keys are case-insensitive. */
    assert_true(cond_holds("{\"StringEquals\":{\"G:USERNAME\":[\"TestUser01\"]}}"));
}

static void test_cond_number(void **state)
{
    (void)state; /* g:MFAAge is 300 */
    assert_true(cond_holds("{\"NumberEquals\":{\"g:MFAAge\":[\"300\"]}}"));
    assert_true(cond_holds("{\"NumberEquals\":{\"g:MFAAge\":[\"300.0\"]}}"));
    assert_false(cond_holds("{\"NumberEquals\":{\"g:MFAAge\":[\"301\"]}}"));
    assert_true(cond_holds("{\"NumberNotEquals\":{\"g:MFAAge\":[\"301\"]}}"));
    assert_false(cond_holds("{\"NumberNotEquals\":{\"g:MFAAge\":[\"300\"]}}"));
    assert_true(cond_holds("{\"NumberLessThan\":{\"g:MFAAge\":[\"301\"]}}"));
    assert_false(cond_holds("{\"NumberLessThan\":{\"g:MFAAge\":[\"300\"]}}"));
    assert_true(cond_holds("{\"NumberLessThanEquals\":{\"g:MFAAge\":[\"300\"]}}"));
    assert_false(cond_holds("{\"NumberLessThanEquals\":{\"g:MFAAge\":[\"299.5\"]}}"));
    assert_true(cond_holds("{\"NumberGreaterThan\":{\"g:MFAAge\":[\"-1\"]}}"));
    assert_false(cond_holds("{\"NumberGreaterThan\":{\"g:MFAAge\":[\"300\"]}}"));
    assert_true(cond_holds("{\"NumberGreaterThanEquals\":{\"g:MFAAge\":[\"300\"]}}"));
    assert_false(cond_holds("{\"NumberGreaterThanEquals\":{\"g:MFAAge\":[\"301\"]}}"));
    /* A request value that is not a number matches nothing. */
    assert_false(cond_holds("{\"NumberEquals\":{\"g:UserName\":[\"0\"]}}"));
    assert_true(cond_holds("{\"NumberNotEquals\":{\"g:UserName\":[\"0\"]}}"));
}

static void test_cond_date(void **state)
{
    (void)state; /* now is 2024-06-01T12:00:00Z, g:LoginTime 08:00 the same day */
    assert_true(cond_holds("{\"DateLessThan\":{\"g:CurrentTime\":[\"2024-06-01T12:00:01Z\"]}}"));
    assert_false(cond_holds("{\"DateLessThan\":{\"g:CurrentTime\":[\"2024-06-01T12:00:00Z\"]}}"));
    assert_true(cond_holds("{\"DateLessThanEquals\":{\"g:CurrentTime\":[\"2024-06-01T12:00:00Z\"]}}"));
    assert_false(cond_holds("{\"DateLessThanEquals\":{\"g:CurrentTime\":[\"2024-06-01T11:59:59Z\"]}}"));
    assert_true(cond_holds("{\"DateGreaterThan\":{\"g:CurrentTime\":[\"2024-06-01T13:59:59+02:00\"]}}"));
    assert_false(cond_holds("{\"DateGreaterThan\":{\"g:CurrentTime\":[\"2024-06-01T14:00:00+02:00\"]}}"));
    assert_true(cond_holds("{\"DateGreaterThanEquals\":{\"g:CurrentTime\":[\"2024-06-01\"]}}"));
    assert_false(cond_holds("{\"DateGreaterThanEquals\":{\"g:CurrentTime\":[\"2024-06-02\"]}}"));
    assert_true(cond_holds("{\"DateEquals\":{\"g:CurrentTime\":[\"2024-06-01T12:00:00.000Z\"]}}"));
    assert_false(cond_holds("{\"DateEquals\":{\"g:CurrentTime\":[\"2024-06-01T12:00:01Z\"]}}"));
    assert_true(cond_holds("{\"DateNotEquals\":{\"g:CurrentTime\":[\"2024-06-01T12:00:01Z\"]}}"));
    assert_false(cond_holds("{\"DateNotEquals\":{\"g:CurrentTime\":[\"2024-06-01T12:00:00Z\"]}}"));
    /* Other keys carry their time as text. */
    assert_true(cond_holds("{\"DateLessThan\":{\"g:LoginTime\":[\"2024-06-01T09:00:00Z\"]}}"));
    assert_false(cond_holds("{\"DateLessThan\":{\"g:LoginTime\":[\"2024-06-01T07:00:00Z\"]}}"));
    assert_false(cond_holds("{\"DateLessThan\":{\"g:UserName\":[\"2099-01-01\"]}}"));
}

static size_t time_lookup(void *self, const char *key, const char *const **ret)
{
    static const char *const v[] = {"2030-01-01T00:00:00Z"};
    if (strcasecmp(key, "g:CurrentTime") != 0)
        return 0;
    *ret = v;
    return 1;
}

static void test_cond_current_time_sources(void **state)
{
    (void)state;
    const char *doc = "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ims:*:*\","
                      "\"Condition\":{\"DateGreaterThan\":{\"g:CurrentTime\":[\"2025-01-01T00:00:00Z\"]}}}]}";
    /* ctx->now stands in when the lookup has no g:CurrentTime... */
    struct ims_policy_ctx late = {NULL, NULL, 1767225600 + 1}; /* 2026-01-01T00:00:01Z */
    assert_int_equal(eval_ctx(doc, "ims:images:get", &late), IMS_EFFECT_ALLOW);
    struct ims_policy_ctx early = {NULL, NULL, NOW};
    assert_int_equal(eval_ctx(doc, "ims:images:get", &early), IMS_EFFECT_NONE);
    /* ...and the lookup's value wins when it has one. */
    struct ims_policy_ctx looked = {time_lookup, NULL, NOW};
    assert_int_equal(eval_ctx(doc, "ims:images:get", &looked), IMS_EFFECT_ALLOW);
    /* Date operators compare ctx->now as a number, whatever its range. */
    struct ims_policy_ctx far = {NULL, NULL, INT64_MAX};
    assert_int_equal(eval_ctx(doc, "ims:images:get", &far), IMS_EFFECT_ALLOW);
    /* String operators see it as ISO 8601 text; out of range it is absent. */
    const char *text = "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ims:*:*\","
                       "\"Condition\":{\"StringStartWith\":{\"g:CurrentTime\":[\"2024-06-01T\"]}}}]}";
    assert_int_equal(eval_ctx(text, "ims:images:get", &early), IMS_EFFECT_ALLOW);
    assert_int_equal(eval_ctx(text, "ims:images:get", &late), IMS_EFFECT_NONE);
    assert_int_equal(eval_ctx(text, "ims:images:get", &far), IMS_EFFECT_NONE);
}

static void test_cond_bool_ip(void **state)
{
    (void)state;
    assert_true(cond_holds("{\"Bool\":{\"g:MFAPresent\":[\"true\"]}}"));
    assert_true(cond_holds("{\"Bool\":{\"g:MFAPresent\":[\"TRUE\"]}}"));
    assert_false(cond_holds("{\"Bool\":{\"g:MFAPresent\":[\"false\"]}}"));
    assert_false(cond_holds("{\"Bool\":{\"g:UserName\":[\"true\"]}}")); /* not a boolean */
    assert_true(cond_holds("{\"IpAddress\":{\"g:SourceIp\":[\"192.168.0.0/16\"]}}"));
    assert_true(cond_holds("{\"IpAddress\":{\"g:SourceIp\":[\"10.0.0.0/8\",\"192.168.10.20\"]}}"));
    assert_true(cond_holds("{\"IpAddress\":{\"g:SourceIp\":[\"0.0.0.0/0\"]}}"));
    assert_true(cond_holds("{\"IpAddress\":{\"g:SourceIp\":[\"192.168.10.99/24\"]}}")); /* host bits masked */
    assert_false(cond_holds("{\"IpAddress\":{\"g:SourceIp\":[\"192.168.11.0/24\"]}}"));
    assert_false(cond_holds("{\"IpAddress\":{\"g:SourceIp\":[\"192.168.10.21\"]}}"));
    assert_true(cond_holds("{\"NotIpAddress\":{\"g:SourceIp\":[\"10.0.0.0/8\"]}}"));
    assert_false(cond_holds("{\"NotIpAddress\":{\"g:SourceIp\":[\"192.168.10.0/24\"]}}"));
    assert_false(cond_holds("{\"IpAddress\":{\"g:UserName\":[\"0.0.0.0/0\"]}}")); /* not an address */
}

static void test_cond_null(void **state)
{
    (void)state;
    assert_true(cond_holds("{\"Null\":{\"g:Missing\":[\"true\"]}}"));
    assert_false(cond_holds("{\"Null\":{\"g:Missing\":[\"false\"]}}"));
    assert_true(cond_holds("{\"Null\":{\"g:UserName\":[\"false\"]}}"));
    assert_false(cond_holds("{\"Null\":{\"g:UserName\":[\"true\"]}}"));
    assert_false(cond_holds("{\"Null\":{\"g:Empty\":[\"true\"]}}")); /* present, if empty */
    assert_true(cond_holds("{\"IsNullOrEmpty\":{\"g:Missing\":[\"true\"]}}"));
    assert_true(cond_holds("{\"IsNullOrEmpty\":{\"g:Empty\":[\"true\"]}}"));
    assert_false(cond_holds("{\"IsNullOrEmpty\":{\"g:UserName\":[\"true\"]}}"));
    assert_true(cond_holds("{\"IsNullOrEmpty\":{\"g:UserName\":[\"false\"]}}"));
    assert_false(cond_holds("{\"IsNullOrEmpty\":{\"g:Empty\":[\"false\"]}}"));
}

static void test_cond_absent_key(void **state)
{
    (void)state;
    /* An absent key fails a positive operator... */
    assert_false(cond_holds("{\"StringEquals\":{\"g:Missing\":[\"x\"]}}"));
    assert_false(cond_holds("{\"NumberLessThan\":{\"g:Missing\":[\"1\"]}}"));
    assert_false(cond_holds("{\"Bool\":{\"g:Missing\":[\"false\"]}}"));
    assert_false(cond_holds("{\"IpAddress\":{\"g:Missing\":[\"0.0.0.0/0\"]}}"));
    /* ...and passes a negated one: nothing equal to the value was sent. */
    assert_true(cond_holds("{\"StringNotEquals\":{\"g:Missing\":[\"x\"]}}"));
    assert_true(cond_holds("{\"NotIpAddress\":{\"g:Missing\":[\"10.0.0.0/8\"]}}"));
    /* IfExists: an absent key passes; a present one is checked. */
    assert_true(cond_holds("{\"StringEqualsIfExists\":{\"g:Missing\":[\"x\"]}}"));
    assert_true(cond_holds("{\"StringEndWithIfExists\":{\"g:UserName\":[\"01\"]}}"));
    assert_false(cond_holds("{\"StringEndWithIfExists\":{\"g:UserName\":[\"02\"]}}"));
    assert_true(cond_holds("{\"NumberLessThanIfExists\":{\"g:Missing\":[\"1\"]}}"));
    assert_false(cond_holds("{\"NumberLessThanIfExists\":{\"g:MFAAge\":[\"1\"]}}"));
    /* No context at all: every key is absent. */
    const char *doc = "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ims:*:*\","
                      "\"Condition\":{\"StringEquals\":{\"g:UserName\":[\"a\"]}}}]}";
    assert_int_equal(eval_ctx(doc, "ims:images:get", NULL), IMS_EFFECT_NONE);
}

static void test_cond_multivalued(void **state)
{
    (void)state; /* ims:tags is {env=prod, team=a} */
    /* No qualifier: any request value against any policy value. */
    assert_true(cond_holds("{\"StringEquals\":{\"ims:tags\":[\"team=a\"]}}"));
    assert_false(cond_holds("{\"StringNotEquals\":{\"ims:tags\":[\"team=a\"]}}"));
    assert_true(cond_holds("{\"ForAnyValue:StringEquals\":{\"ims:tags\":[\"team=a\"]}}"));
    assert_false(cond_holds("{\"ForAnyValue:StringEquals\":{\"ims:tags\":[\"team=b\"]}}"));
    assert_false(cond_holds("{\"ForAllValues:StringEquals\":{\"ims:tags\":[\"team=a\"]}}"));
    assert_true(cond_holds("{\"ForAllValues:StringEquals\":{\"ims:tags\":[\"team=a\",\"env=prod\",\"x\"]}}"));
    assert_true(cond_holds("{\"ForAllValues:StringLike\":{\"ims:tags\":[\"*=*\"]}}"));
    /* Negated with qualifiers: per value. */
    assert_true(cond_holds("{\"ForAnyValue:StringNotEquals\":{\"ims:tags\":[\"team=a\"]}}"));
    assert_false(cond_holds("{\"ForAnyValue:StringNotEquals\":{\"ims:tags\":[\"team=a\",\"env=prod\"]}}"));
    assert_true(cond_holds("{\"ForAllValues:StringNotEquals\":{\"ims:tags\":[\"x\"]}}"));
    assert_false(cond_holds("{\"ForAllValues:StringNotEquals\":{\"ims:tags\":[\"env=prod\"]}}"));
    /* Absent key: ForAnyValue fails, ForAllValues holds vacuously. */
    assert_false(cond_holds("{\"ForAnyValue:StringEquals\":{\"g:Missing\":[\"x\"]}}"));
    assert_true(cond_holds("{\"ForAllValues:StringEquals\":{\"g:Missing\":[\"x\"]}}"));
    /* Qualifier and IfExists together. */
    assert_true(cond_holds("{\"ForAnyValue:StringEqualsIfExists\":{\"g:Missing\":[\"x\"]}}"));
    assert_true(cond_holds("{\"ForAnyValue:StringStartWithIfExists\":{\"ims:tags\":[\"team\"]}}"));
}

static void test_cond_and(void **state)
{
    (void)state;
    /* All operators and all keys must hold. */
    assert_true(cond_holds("{\"StringEquals\":{\"g:UserName\":[\"TestUser01\"],\"g:DomainName\":[\"acme\"]},"
                           "\"Bool\":{\"g:MFAPresent\":[\"true\"]}}"));
    assert_false(cond_holds("{\"StringEquals\":{\"g:UserName\":[\"TestUser01\"],\"g:DomainName\":[\"other\"]},"
                            "\"Bool\":{\"g:MFAPresent\":[\"true\"]}}"));
    assert_false(cond_holds("{\"StringEquals\":{\"g:UserName\":[\"TestUser01\"]},"
                            "\"Bool\":{\"g:MFAPresent\":[\"false\"]}}"));
}

static void test_cond_on_deny(void **state)
{
    (void)state;
    /* The custom_policy_use_cases.md pattern: deny some users only. */
    const char *doc = "{\"Version\":\"1.1\",\"Statement\":["
                      "{\"Effect\":\"Allow\",\"Action\":[\"ims:*:*\"]},"
                      "{\"Effect\":\"Deny\",\"Action\":[\"ims:images:delete\"],"
                      "\"Condition\":{\"StringStartWith\":{\"g:UserName\":[\"TestUser\"]}}}]}";
    assert_int_equal(eval1(doc, "ims:images:delete"), IMS_EFFECT_DENY);
    assert_int_equal(eval1(doc, "ims:images:get"), IMS_EFFECT_ALLOW);
    static const struct kv admin_kvs[] = {{"g:UserName", {"admin"}}};
    struct fake_ctx f = {admin_kvs, 1};
    struct ims_policy_ctx admin = {fake_lookup, &f, NOW};
    assert_int_equal(eval_ctx(doc, "ims:images:delete", &admin), IMS_EFFECT_ALLOW);
}

/* ---- statements, policies, decisions ---- */

static void test_eval_statement_index(void **state)
{
    (void)state;
    struct ims_policy *p = parse_ok("{\"Version\":\"1.1\",\"Statement\":["
                                    "{\"Effect\":\"Allow\",\"Action\":[\"ecs:*:*\"]},"
                                    "{\"Effect\":\"Allow\",\"Action\":[\"ims:*:get\"]},"
                                    "{\"Effect\":\"Allow\",\"Action\":[\"ims:*:*\"]},"
                                    "{\"Effect\":\"Deny\",\"Action\":[\"ims:images:delete\"]}]}");
    size_t st = 99;
    assert_int_equal(ims_policy_eval(p, "ims:images:get", &default_ctx, &st), IMS_EFFECT_ALLOW);
    assert_int_equal(st, 1);
    assert_int_equal(ims_policy_eval(p, "ims:images:delete", &default_ctx, &st), IMS_EFFECT_DENY);
    assert_int_equal(st, 3); /* Deny wins within a policy, whatever its position */
    assert_int_equal(ims_policy_eval(p, "evs:volumes:get", &default_ctx, &st), IMS_EFFECT_NONE);
    assert_int_equal(ims_policy_eval(p, "ims:images:get", &default_ctx, NULL), IMS_EFFECT_ALLOW);
    ims_policy_free(p);
}

static void test_decide_nothing_by_default(void **state)
{
    (void)state;
    const char *acts[] = {"ims:images:get"};
    const char *denied = NULL;
    struct ims_policy_match m = {IMS_EFFECT_ALLOW, 7, 7};
    assert_false(ims_policy_decide(NULL, 0, acts, 1, &default_ctx, &denied, &m));
    assert_string_equal(denied, "ims:images:get");
    assert_int_equal(m.effect, IMS_EFFECT_NONE);

    struct ims_policy *p = parse_ok(allow_actions("\"ecs:*:*\""));
    const struct ims_policy *ps[] = {p};
    assert_false(ims_policy_decide(ps, 1, acts, 1, &default_ctx, &denied, &m));
    assert_string_equal(denied, "ims:images:get");
    /* An empty set of required actions proves nothing: not allowed. */
    assert_false(ims_policy_decide(ps, 1, acts, 0, &default_ctx, &denied, &m));
    assert_null(denied);
    ims_policy_free(p);
}

static void test_decide_deny_across_policies(void **state)
{
    (void)state;
    struct ims_policy *full = parse_ok(system_doc("IMS FullAccess"));
    struct ims_policy *other = parse_ok(allow_actions("\"ecs:*:*\""));
    struct ims_policy *deny = parse_ok("{\"Version\":\"1.1\",\"Statement\":["
                                       "{\"Effect\":\"Deny\",\"Action\":[\"ims:images:delete\"]}]}");
    const struct ims_policy *ps[] = {full, other, deny};
    const char *del[] = {"ims:images:delete"};
    const char *get[] = {"ims:images:get"};
    const char *denied = NULL;
    struct ims_policy_match m;
    assert_false(ims_policy_decide(ps, 3, del, 1, &default_ctx, &denied, &m));
    assert_string_equal(denied, "ims:images:delete");
    assert_int_equal(m.effect, IMS_EFFECT_DENY);
    assert_int_equal(m.policy, 2);
    assert_int_equal(m.statement, 0);
    /* Order does not matter: the Deny first, the Allow after. */
    const struct ims_policy *rev[] = {deny, other, full};
    assert_false(ims_policy_decide(rev, 3, del, 1, &default_ctx, &denied, &m));
    assert_int_equal(m.policy, 0);
    /* Other actions stay allowed, by the first policy that allows them. */
    assert_true(ims_policy_decide(ps, 3, get, 1, &default_ctx, &denied, &m));
    assert_null(denied);
    assert_int_equal(m.effect, IMS_EFFECT_ALLOW);
    assert_int_equal(m.policy, 0);
    /* NULL entries (policies that failed to load) are skipped. */
    const struct ims_policy *holes[] = {NULL, full, NULL};
    assert_true(ims_policy_decide(holes, 3, get, 1, &default_ctx, NULL, NULL));
    ims_policy_free(full);
    ims_policy_free(other);
    ims_policy_free(deny);
}

static void test_decide_required_actions(void **state)
{
    (void)state;
    struct ims_policy *a = parse_ok(allow_actions("\"ims:images:get\""));
    struct ims_policy *b = parse_ok(allow_actions("\"ims:images:update\",\"ims:images:upload\""));
    const struct ims_policy *ps[] = {a, b};
    const char *all3[] = {"ims:images:get", "ims:images:update", "ims:images:upload"};
    const char *denied = NULL;
    struct ims_policy_match m;
    assert_true(ims_policy_decide(ps, 2, all3, 3, &default_ctx, &denied, &m));
    assert_null(denied);
    assert_int_equal(m.effect, IMS_EFFECT_ALLOW);
    assert_int_equal(m.policy, 1); /* the Allow of the last action */
    /* One missing: not allowed, and that one is named. */
    const char *with_share[] = {"ims:images:get", "ims:images:share", "ims:images:update"};
    assert_false(ims_policy_decide(ps, 2, with_share, 3, &default_ctx, &denied, &m));
    assert_string_equal(denied, "ims:images:share");
    assert_int_equal(m.effect, IMS_EFFECT_NONE);
    /* Only policy a: update is the first one missing. */
    assert_false(ims_policy_decide(ps, 1, all3, 3, &default_ctx, &denied, &m));
    assert_string_equal(denied, "ims:images:update");
    ims_policy_free(a);
    ims_policy_free(b);
}

static void test_resource_statements(void **state)
{
    (void)state;
    /* IMS has no resource-level authorization: an Allow limited to
     * resources grants nothing, a Deny limited to them still denies. */
    assert_int_equal(eval1("{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims:*:*\"],"
                           "\"Resource\":[\"ims:*:*:image:abc\"]}]}",
                           "ims:images:get"),
                     IMS_EFFECT_NONE);
    assert_int_equal(eval1("{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":[\"ims:*:*\"],"
                           "\"Resource\":{\"uri\":[\"/iam/agencies/07805acaba800fdd4fbdc00b8f888c7c\"]}}]}",
                           "ims:images:get"),
                     IMS_EFFECT_DENY);
}

/* ---- system policies ---- */

static void test_system_policies_parse(void **state)
{
    (void)state;
    size_t n = 0;
    for (const char *const *name = ims_policy_system_names; *name; name++, n++) {
        struct ims_policy *p = parse_ok(system_doc(*name));
        ims_policy_free(p);
    }
    assert_int_equal(n, 5);
    assert_null(ims_policy_system_document("IMS Superuser"));
    assert_null(ims_policy_system_document(NULL));

    struct ims_policy *p = parse_ok(system_doc("IMS Administrator"));
    assert_string_equal(ims_policy_version(p), "1.0");
    assert_string_equal(ims_policy_depend(p, 0), "Tenant Administrator");
    assert_null(ims_policy_depend(p, 1));
    ims_policy_free(p);
    p = parse_ok(system_doc("IMS ReadOnlyAccess"));
    assert_string_equal(ims_policy_version(p), "1.1");
    assert_null(ims_policy_depend(p, 0));
    ims_policy_free(p);
}

static const char *const ims_all_actions[] = {
    "ims:images:list",     "ims:images:get",        "ims:images:create",      "ims:images:update",
    "ims:images:delete",   "ims:images:upload",     "ims:images:export",      "ims:images:share",
    "ims:images:copy",     "ims:serverImages:create", "ims:dataImages:create", "ims:wholeImages:create",
    "ims:quotas:get",
};

static void test_system_ims_readonly(void **state)
{
    (void)state;
    const char *ro = "IMS ReadOnlyAccess";
    assert_true(system_allows(ro, "ims:images:list"));
    assert_true(system_allows(ro, "ims:images:get"));
    assert_true(system_allows(ro, "ims:quotas:get"));
    const char *writes[] = {"ims:images:create", "ims:images:update", "ims:images:delete", "ims:images:upload",
                            "ims:images:export", "ims:images:share", "ims:serverImages:create"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(writes); i++)
        if (system_allows(ro, writes[i]))
            fail_msg("ReadOnlyAccess allows %s", writes[i]);
    assert_false(system_allows(ro, "ecs:servers:get"));
}

static void test_system_ims_full_and_admin(void **state)
{
    (void)state;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ims_all_actions); i++) {
        assert_true(system_allows("IMS FullAccess", ims_all_actions[i]));
        assert_true(system_allows("IMS Administrator", ims_all_actions[i]));
        assert_true(system_allows("Tenant Administrator", ims_all_actions[i]));
    }
    assert_false(system_allows("IMS FullAccess", "ecs:servers:delete"));
    assert_false(system_allows("IMS Administrator", "iam:users:create"));
}

static void test_system_tenant(void **state)
{
    (void)state;
    const char *admin = "Tenant Administrator", *guest = "Tenant Guest";
    assert_true(system_allows(admin, "ecs:servers:delete"));
    assert_false(system_allows(admin, "iam:users:create"));
    assert_false(system_allows(admin, "iam:users:list"));
    assert_false(system_allows(admin, "identity:users:get"));
    assert_true(system_allows(guest, "ims:images:get"));
    assert_true(system_allows(guest, "ims:images:list"));
    assert_true(system_allows(guest, "ims:quotas:get"));
    assert_true(system_allows(guest, "ecs:servers:list"));
    assert_false(system_allows(guest, "ims:images:create"));
    assert_false(system_allows(guest, "ims:images:update"));
    assert_false(system_allows(guest, "ims:images:delete"));
    assert_false(system_allows(guest, "iam:users:get"));
    /* A guest with IMS FullAccess as well: the guest's Deny is for IAM only. */
    struct ims_policy *g = parse_ok(system_doc(guest));
    struct ims_policy *f = parse_ok(system_doc("IMS FullAccess"));
    const struct ims_policy *ps[] = {g, f};
    const char *del[] = {"ims:images:delete"};
    assert_true(ims_policy_decide(ps, 2, del, 1, &default_ctx, NULL, NULL));
    ims_policy_free(g);
    ims_policy_free(f);
}

/* ---- parsing ---- */

static void test_parse_reference_examples(void **state)
{
    (void)state;
    /* policy_syntax.md: the IMS full-permission example, Action before Effect. */
    struct ims_policy *p = parse_ok("{\"Version\":\"1.1\",\"Statement\":[{\"Action\":[\"ims:*:*\",\"ecs:*:list\","
                                    "\"ecs:*:get\",\"evs:*:get\"],\"Effect\":\"Allow\"}]}");
    ims_policy_free(p);
    /* custom_policy_use_cases.md: Resource list and a condition. */
    p = parse_ok("{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":[\"obs:bucket:"
                 "ListAllMybuckets\",\"obs:bucket:HeadBucket\"],\"Resource\":[\"obs:*:*:bucket:TestBucket*\"],"
                 "\"Condition\":{\"StringStartWith\":{\"g:UserName\":[\"TestUser\"]}}}]}");
    ims_policy_free(p);
    /* The same page has examples without a comma after "Allow": not JSON. */
    expect_parse_fail("{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\"\n\"Action\":[\"*:*:*\"],}]}",
                      "invalid JSON at line 2");
    /* The Tenant Administrator role text, with whitespace. */
    p = parse_ok("{\n \"Version\": \"1.0\",\n \"Statement\": [ { \"Action\": [ \"*:*:*\" ], \"Effect\": \"Allow\" } ],\n"
                 " \"Depends\": [ ]\n}");
    assert_null(ims_policy_depend(p, 0));
    ims_policy_free(p);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *fragment;
    } cases[] = {
        /* document */
        {"", "invalid JSON"},
        {"{\"Version\":\"1.1\"", "invalid JSON"},
        {"[]", "policy document must be a JSON object"},
        {"{\"Version\":\"1.1\",\"Version\":\"1.1\",\"Statement\":[]}", "duplicate"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"}]}", "Version: missing"},
        {"{\"Version\":\"2.0\",\"Statement\":[]}", "Version: must be \"1.0\" or \"1.1\""},
        {"{\"Version\":1.1,\"Statement\":[]}", "Version: must be"},
        {"{\"Version\":\"1.1\"}", "Statement: missing"},
        {"{\"Version\":\"1.1\",\"Statement\":{}}", "Statement: must be an array"},
        {"{\"Version\":\"1.1\",\"Statement\":[]}", "Statement: must not be empty"},
        {"{\"Version\":\"1.1\",\"Statement\":[],\"Id\":\"x\"}", "Id: unknown field"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"}],\"Depends\":[]}",
         "Depends: only allowed in Version \"1.0\""},
        {"{\"Version\":\"1.0\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"}],\"Depends\":{}}",
         "Depends: must be an array"},
        {"{\"Version\":\"1.0\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"}],\"Depends\":[{\"x\":1}]}",
         "Depends[0].x: unknown field"},
        {"{\"Version\":\"1.0\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"}],\"Depends\":[{}]}",
         "Depends[0].display_name: missing"},
        /* statements */
        {"{\"Version\":\"1.1\",\"Statement\":[\"x\"]}", "Statement[0]: must be an object"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Sid\":\"1\"}]}",
         "Statement[0].Sid: unknown field"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Action\":\"a:b:c\"}]}", "Statement[0].Effect: missing"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"},"
         "{\"Effect\":\"allow\",\"Action\":\"a:b:c\"}]}",
         "Statement[1].Effect: must be \"Allow\" or \"Deny\""},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\"}]}", "Statement[0].Action: missing"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":{}}]}",
         "Statement[0].Action: must be a string or an array of strings"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[]}]}",
         "Statement[0].Action: must not be empty"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"a:b:c\",7]}]}",
         "Statement[0].Action[1]: must be a string"},
        /* actions */
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims:images:get\",\"ims:*:*\","
         "\"ims:images\"]}]}",
         "Statement[0].Action[2]: invalid action 'ims:images'"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ims:images:get:x\"}]}",
         "Statement[0].Action: invalid action 'ims:images:get:x'"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims::get\"]}]}",
         "Statement[0].Action[0]: invalid action 'ims::get'"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\":images:get\"]}]}",
         "Statement[0].Action[0]: invalid action"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims:images:\"]}]}",
         "Statement[0].Action[0]: invalid action"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"\"]}]}",
         "Statement[0].Action[0]: invalid action"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"i.ms:images:get\"]}]}",
         "segments may contain only"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims:ima ges:get\"]}]}",
         "segments may contain only"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ims:images:g?t\"]}]}",
         "segments may contain only"},
        /* resources */
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Resource\":[\"obs\"]}]}",
         "Statement[0].Resource[0]: invalid resource"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Resource\":[]}]}",
         "Statement[0].Resource: must not be empty"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Resource\":{\"url\":[]}}]}",
         "Statement[0].Resource.url: unknown field"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Resource\":{\"uri\":[\"x\"]}}]}",
         "Statement[0].Resource.uri[0]: invalid resource URI"},
        /* conditions */
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":[]}]}",
         "Statement[0].Condition: must be an object"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"StringEqual\":{\"g:UserName\":[\"a\"]}}}]}",
         "Statement[0].Condition.StringEqual: unknown condition operator"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"ForSomeValue:StringEquals\":{\"g:UserName\":[\"a\"]}}}]}",
         "unknown condition operator"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"NullIfExists\":{\"g:UserName\":[\"true\"]}}}]}",
         "Statement[0].Condition.NullIfExists: unknown condition operator"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"IfExists\":{\"g:UserName\":[\"true\"]}}}]}",
         "unknown condition operator"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\"},{\"Effect\":\"Deny\","
         "\"Action\":\"a:b:c\",\"Condition\":{\"StringEquals\":[\"g:UserName\"]}}]}",
         "Statement[1].Condition.StringEquals: operator value must be an object"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"StringEquals\":{}}}]}",
         "Statement[0].Condition.StringEquals: must not be empty"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"StringEquals\":{\"UserName\":[\"a\"]}}}]}",
         "Statement[0].Condition.StringEquals.UserName: invalid condition key"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"StringEquals\":{\"g:UserName\":{}}}}]}",
         "Statement[0].Condition.StringEquals.g:UserName: must be a string or an array of strings"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"StringEquals\":{\"g:UserName\":[]}}}]}",
         "Statement[0].Condition.StringEquals.g:UserName: must not be empty"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"StringEquals\":{\"g:UserName\":[\"a\",1]}}}]}",
         "Statement[0].Condition.StringEquals.g:UserName[1]: must be a string"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"NumberLessThan\":{\"g:MFAAge\":[\"1\",\"0x10\"]}}}]}",
         "Statement[0].Condition.NumberLessThan.g:MFAAge[1]: invalid number '0x10'"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"DateLessThan\":{\"g:CurrentTime\":[\"tomorrow\"]}}}]}",
         "Statement[0].Condition.DateLessThan.g:CurrentTime[0]: invalid ISO 8601 time 'tomorrow'"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"Bool\":{\"g:MFAPresent\":[\"yes\"]}}}]}",
         "Statement[0].Condition.Bool.g:MFAPresent[0]: must be \"true\" or \"false\""},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"IpAddress\":{\"g:SourceIp\":[\"10.0.0.0/33\"]}}}]}",
         "Statement[0].Condition.IpAddress.g:SourceIp[0]: invalid IPv4 address or CIDR '10.0.0.0/33'"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"IpAddress\":{\"g:SourceIp\":[\"010.0.0.1\"]}}}]}",
         "invalid IPv4 address"},
        {"{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a:b:c\",\"Condition\":"
         "{\"Null\":{\"g:SourceIp\":[\"maybe\"]}}}]}",
         "Statement[0].Condition.Null.g:SourceIp[0]: must be \"true\" or \"false\""},
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++)
        expect_parse_fail(cases[i].json, cases[i].fragment);
    /* Embedded NUL and NULL input. */
    struct ims_policy *p = NULL;
    struct ims_err err = {0};
    static const char nul[] = "{\"Version\":\"1.1\"\0}";
    assert_int_equal(ims_policy_parse(nul, sizeof(nul) - 1, &p, &err), IMS_E_BADREQ);
    assert_int_equal(ims_policy_parse(NULL, 0, &p, &err), IMS_E_BADREQ);
    assert_null(p);
}

/* Builds a document of n statements of k actions and m condition values. */
static char *big_doc(size_t nstmts, size_t nactions, size_t nvalues, size_t nkeys)
{
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    size_t o = (size_t)snprintf(buf, cap, "{\"Version\":\"1.1\",\"Statement\":[");
    for (size_t s = 0; s < nstmts; s++) {
        o += (size_t)snprintf(buf + o, cap - o, "%s{\"Effect\":\"Allow\",\"Action\":[", s ? "," : "");
        for (size_t a = 0; a < nactions; a++)
            o += (size_t)snprintf(buf + o, cap - o, "%s\"a:b:c%zu\"", a ? "," : "", a);
        o += (size_t)snprintf(buf + o, cap - o, "]");
        if (nvalues || nkeys) {
            o += (size_t)snprintf(buf + o, cap - o, ",\"Condition\":{\"StringEquals\":{");
            for (size_t k = 0; k < (nkeys ? nkeys : 1); k++) {
                o += (size_t)snprintf(buf + o, cap - o, "%s\"g:k%zu\":[", k ? "," : "", k);
                for (size_t v = 0; v < (nvalues ? nvalues : 1); v++)
                    o += (size_t)snprintf(buf + o, cap - o, "%s\"v\"", v ? "," : "");
                o += (size_t)snprintf(buf + o, cap - o, "]");
            }
            o += (size_t)snprintf(buf + o, cap - o, "}}");
        }
        o += (size_t)snprintf(buf + o, cap - o, "}");
    }
    snprintf(buf + o, cap - o, "]}");
    return buf;
}

static void expect_big(char *doc, bool ok, const char *fragment)
{
    struct ims_policy *p = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = ims_policy_parse(doc, strlen(doc), &p, &err);
    if (ok && rc != IMS_OK)
        fail_msg("expected OK, got %s", err.msg);
    if (!ok && (rc != IMS_E_BADREQ || !strstr(err.msg, fragment)))
        fail_msg("expected '%s', got %s (%s)", fragment, ims_rc_name(rc), err.msg);
    ims_policy_free(p);
    free(doc);
}

static void test_parse_limits(void **state)
{
    (void)state;
    char *doc = big_doc(1, 1, 0, 0);
    size_t n = strlen(doc);
    char *padded = malloc(IMS_POLICY_MAX_BYTES + 2);
    memset(padded, ' ', IMS_POLICY_MAX_BYTES + 1);
    memcpy(padded, doc, n);
    padded[IMS_POLICY_MAX_BYTES] = 0; /* exactly the limit: fine */
    expect_big(strdup(padded), true, NULL);
    padded[IMS_POLICY_MAX_BYTES] = ' ';
    padded[IMS_POLICY_MAX_BYTES + 1] = 0;
    expect_big(padded, false, "more than 6144");
    free(doc);

    /* The counts are reported by path: these documents are all within
     * the byte limit. */
    expect_big(big_doc(IMS_POLICY_MAX_STATEMENTS, 1, 0, 0), true, NULL);
    expect_big(big_doc(IMS_POLICY_MAX_STATEMENTS + 1, 1, 0, 0), false, "Statement: more than 64 statements");
    expect_big(big_doc(1, IMS_POLICY_MAX_ACTIONS, 0, 0), true, NULL);
    expect_big(big_doc(1, IMS_POLICY_MAX_ACTIONS + 1, 0, 0), false, "Statement[0].Action: more than 256 actions");
    expect_big(big_doc(1, 1, IMS_POLICY_MAX_CONDITION_VALUES, 0), true, NULL);
    expect_big(big_doc(1, 1, IMS_POLICY_MAX_CONDITION_VALUES + 1, 0), false,
               "Statement[0].Condition.StringEquals.g:k0: more than 64 values");
    expect_big(big_doc(1, 1, 1, IMS_POLICY_MAX_CONDITION_KEYS + 1), false,
               "Statement[0].Condition: more than 64 condition keys");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_exact_and_case),
        cmocka_unit_test(test_action_wildcards),
        cmocka_unit_test(test_action_single_string),
        cmocka_unit_test(test_action_long_request),
        cmocka_unit_test(test_action_many_per_statement),
        cmocka_unit_test(test_cond_string),
        cmocka_unit_test(test_cond_number),
        cmocka_unit_test(test_cond_date),
        cmocka_unit_test(test_cond_current_time_sources),
        cmocka_unit_test(test_cond_bool_ip),
        cmocka_unit_test(test_cond_null),
        cmocka_unit_test(test_cond_absent_key),
        cmocka_unit_test(test_cond_multivalued),
        cmocka_unit_test(test_cond_and),
        cmocka_unit_test(test_cond_on_deny),
        cmocka_unit_test(test_eval_statement_index),
        cmocka_unit_test(test_decide_nothing_by_default),
        cmocka_unit_test(test_decide_deny_across_policies),
        cmocka_unit_test(test_decide_required_actions),
        cmocka_unit_test(test_resource_statements),
        cmocka_unit_test(test_system_policies_parse),
        cmocka_unit_test(test_system_ims_readonly),
        cmocka_unit_test(test_system_ims_full_and_admin),
        cmocka_unit_test(test_system_tenant),
        cmocka_unit_test(test_parse_reference_examples),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
