/* SPDX-License-Identifier: Apache-2.0
 * Parsing of a statement's Condition block:
 *   {"[ForAnyValue:|ForAllValues:]Operator[IfExists]": {"key": ["v", ...]}}
 * The operator table is the IAM list (policy_syntax.md shows StringEquals,
 * StringStartWith and StringEndWithIfExists; the rest is the documented
 * Huawei/OTC IAM family, with AWS meaning where IAM is silent). Values are
 * compiled for their operator here (numbers, times, CIDRs, booleans) so a
 * policy that parses can be evaluated without failing or allocating. */
#include "policy-int.h"

#include <string.h>
#include <strings.h>

static const struct pol_op ops[] = {
    {"StringEquals", POL_C_STRING, POL_CMP_EQ, false},
    {"StringNotEquals", POL_C_STRING, POL_CMP_EQ, true},
    {"StringEqualsIgnoreCase", POL_C_STRING, POL_CMP_EQ_IC, false},
    {"StringNotEqualsIgnoreCase", POL_C_STRING, POL_CMP_EQ_IC, true},
    {"StringLike", POL_C_STRING, POL_CMP_LIKE, false},
    {"StringNotLike", POL_C_STRING, POL_CMP_LIKE, true},
    {"StringStartWith", POL_C_STRING, POL_CMP_START, false},
    {"StringNotStartWith", POL_C_STRING, POL_CMP_START, true},
    {"StringStartWithIgnoreCase", POL_C_STRING, POL_CMP_START_IC, false},
    {"StringNotStartWithIgnoreCase", POL_C_STRING, POL_CMP_START_IC, true},
    {"StringEndWith", POL_C_STRING, POL_CMP_END, false},
    {"StringNotEndWith", POL_C_STRING, POL_CMP_END, true},
    {"StringEndWithIgnoreCase", POL_C_STRING, POL_CMP_END_IC, false},
    {"StringNotEndWithIgnoreCase", POL_C_STRING, POL_CMP_END_IC, true},
    {"NumberEquals", POL_C_NUMBER, POL_CMP_EQ, false},
    {"NumberNotEquals", POL_C_NUMBER, POL_CMP_EQ, true},
    {"NumberLessThan", POL_C_NUMBER, POL_CMP_LT, false},
    {"NumberLessThanEquals", POL_C_NUMBER, POL_CMP_LE, false},
    {"NumberGreaterThan", POL_C_NUMBER, POL_CMP_GT, false},
    {"NumberGreaterThanEquals", POL_C_NUMBER, POL_CMP_GE, false},
    {"DateEquals", POL_C_DATE, POL_CMP_EQ, false},
    {"DateNotEquals", POL_C_DATE, POL_CMP_EQ, true},
    {"DateLessThan", POL_C_DATE, POL_CMP_LT, false},
    {"DateLessThanEquals", POL_C_DATE, POL_CMP_LE, false},
    {"DateGreaterThan", POL_C_DATE, POL_CMP_GT, false},
    {"DateGreaterThanEquals", POL_C_DATE, POL_CMP_GE, false},
    {"Bool", POL_C_BOOL, POL_CMP_EQ, false},
    {"IpAddress", POL_C_IP, POL_CMP_IN, false},
    {"NotIpAddress", POL_C_IP, POL_CMP_IN, true},
    {"Null", POL_C_NULL, POL_CMP_EQ, false},
    {"IsNullOrEmpty", POL_C_NULL_OR_EMPTY, POL_CMP_EQ, false},
};

#define FOR_ANY "ForAnyValue:"
#define FOR_ALL "ForAllValues:"
#define IF_EXISTS "IfExists"

void pol_conditions_free(struct pol_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].key);
        for (size_t j = 0; j < c[i].nvalues; j++)
            free((char *)c[i].values[j].s);
        free(c[i].values);
    }
    free(c);
}

/* Splits qualifier, base operator and IfExists. Operator names are case
 * sensitive like every other field name of the document. */
static bool parse_operator(const char *name, struct pol_cond *c)
{
    if (strncmp(name, FOR_ANY, strlen(FOR_ANY)) == 0) {
        c->qualifier = POL_Q_ANY_VALUE;
        name += strlen(FOR_ANY);
    } else if (strncmp(name, FOR_ALL, strlen(FOR_ALL)) == 0) {
        c->qualifier = POL_Q_ALL_VALUES;
        name += strlen(FOR_ALL);
    }
    size_t n = strlen(name);
    if (n > strlen(IF_EXISTS) && strcmp(name + n - strlen(IF_EXISTS), IF_EXISTS) == 0) {
        c->if_exists = true;
        n -= strlen(IF_EXISTS);
    }
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ops); i++) {
        if (strlen(ops[i].name) == n && strncmp(ops[i].name, name, n) == 0) {
            c->op = &ops[i];
            break;
        }
    }
    if (!c->op)
        return false;
    /* Null and IsNullOrEmpty test presence itself: neither an "if it
     * exists" nor a per-value qualifier means anything for them. */
    bool presence = c->op->type == POL_C_NULL || c->op->type == POL_C_NULL_OR_EMPTY;
    return !(presence && (c->if_exists || c->qualifier != POL_Q_NONE));
}

/* "g:UserName", "obs:prefix": a non-empty prefix, ':', a non-empty name;
 * printable ASCII without blanks. */
static bool key_valid(const char *k)
{
    size_t n = strlen(k);
    const char *colon = strchr(k, ':');
    if (n == 0 || n > 128 || !colon || colon == k || colon[1] == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] <= ' ' || k[i] > '~')
            return false;
    return true;
}

static enum ims_rc compile_value(const struct pol_cond *c, const char *s, struct pol_value *v, const char *path,
                                 size_t idx, struct ims_err *err)
{
    v->len = strlen(s);
    switch (c->op->type) {
    case POL_C_STRING: break;
    case POL_C_NUMBER:
        if (!pol_parse_number(s, &v->num))
            return ims_fail(err, IMS_E_BADREQ, "%s[%zu]: invalid number '%.64s'", path, idx, s);
        break;
    case POL_C_DATE:
        if (!ims_time_parse(s, &v->time))
            return ims_fail(err, IMS_E_BADREQ, "%s[%zu]: invalid ISO 8601 time '%.64s'", path, idx, s);
        break;
    case POL_C_IP:
        if (!pol_parse_cidr(s, &v->addr, &v->mask))
            return ims_fail(err, IMS_E_BADREQ, "%s[%zu]: invalid IPv4 address or CIDR '%.64s'", path, idx, s);
        break;
    case POL_C_BOOL:
    case POL_C_NULL:
    case POL_C_NULL_OR_EMPTY:
        if (!pol_parse_bool(s, &v->b))
            return ims_fail(err, IMS_E_BADREQ, "%s[%zu]: must be \"true\" or \"false\", not '%.64s'", path, idx,
                            s);
        break;
    }
    v->s = ims_xstrdup(s);
    return IMS_OK;
}

/* One key under one operator. The IAM API types values as an array of
 * strings; a single string is taken as a one-element array, as AWS does. */
static enum ims_rc parse_key(struct pol_cond *c, const char *key, json_t *vals, const char *path,
                             struct ims_err *err)
{
    if (!key_valid(key))
        return ims_fail(err, IMS_E_BADREQ, "%s: invalid condition key", path);
    c->key = ims_xstrdup(key);
    c->current_time = strcasecmp(key, "g:CurrentTime") == 0;
    if (json_is_string(vals)) {
        c->values = ims_xcalloc(1, sizeof(*c->values));
        c->nvalues = 1;
        return compile_value(c, json_string_value(vals), &c->values[0], path, 0, err);
    }
    if (!json_is_array(vals))
        return ims_fail(err, IMS_E_BADREQ, "%s: must be a string or an array of strings", path);
    size_t n = json_array_size(vals);
    if (n == 0)
        return ims_fail(err, IMS_E_BADREQ, "%s: must not be empty", path);
    if (n > IMS_POLICY_MAX_CONDITION_VALUES)
        return ims_fail(err, IMS_E_BADREQ, "%s: more than %d values", path, IMS_POLICY_MAX_CONDITION_VALUES);
    c->values = ims_xcalloc(n, sizeof(*c->values));
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(vals, i);
        if (!json_is_string(v))
            return ims_fail(err, IMS_E_BADREQ, "%s[%zu]: must be a string", path, i);
        enum ims_rc rc = compile_value(c, json_string_value(v), &c->values[i], path, i, err);
        if (rc != IMS_OK)
            return rc;
        c->nvalues++;
    }
    return IMS_OK;
}

enum ims_rc pol_conditions_parse(json_t *cond, const char *path, struct pol_cond **ret, size_t *ret_n,
                                 struct ims_err *err)
{
    if (!json_is_object(cond))
        return ims_fail(err, IMS_E_BADREQ, "%s.Condition: must be an object", path);
    size_t total = 0;
    const char *opname;
    json_t *keys;
    json_object_foreach(cond, opname, keys) total += json_is_object(keys) ? json_object_size(keys) : 0;
    if (total > IMS_POLICY_MAX_CONDITION_KEYS)
        return ims_fail(err, IMS_E_BADREQ, "%s.Condition: more than %d condition keys", path,
                        IMS_POLICY_MAX_CONDITION_KEYS);

    struct pol_cond *conds = ims_xcalloc(total ? total : 1, sizeof(*conds));
    size_t n = 0;
    enum ims_rc rc = IMS_OK;
    json_object_foreach(cond, opname, keys)
    {
        _cleanup_free_ char *oppath = ims_xasprintf("%s.Condition.%.64s", path, opname);
        struct pol_cond proto = {0};
        if (!parse_operator(opname, &proto)) {
            rc = ims_fail(err, IMS_E_BADREQ, "%s: unknown condition operator", oppath);
            break;
        }
        if (!json_is_object(keys)) {
            rc = ims_fail(err, IMS_E_BADREQ, "%s: operator value must be an object", oppath);
            break;
        }
        if (json_object_size(keys) == 0) {
            rc = ims_fail(err, IMS_E_BADREQ, "%s: must not be empty", oppath);
            break;
        }
        const char *key;
        json_t *vals;
        json_object_foreach(keys, key, vals)
        {
            _cleanup_free_ char *keypath = ims_xasprintf("%s.%.128s", oppath, key);
            conds[n] = proto;
            rc = parse_key(&conds[n], key, vals, keypath, err);
            n++; /* partly filled entries are freed below */
            if (rc != IMS_OK)
                break;
        }
        if (rc != IMS_OK)
            break;
    }
    if (rc != IMS_OK) {
        pol_conditions_free(conds, n);
        return rc;
    }
    *ret = conds;
    *ret_n = n;
    return IMS_OK;
}
