/* SPDX-License-Identifier: Apache-2.0
 * GET /v2/images parameters -> struct ims_image_query, with Glance v2's
 * semantics: its RequestDeserializer.index for the control parameters
 * (limit, marker, member_status, visibility, tags, both sort syntaxes) and
 * its SQL layer's rules for filters (operators and "in:" lists on a few
 * core columns, ISO 8601 comparisons on timestamps, size_min/size_max style
 * ranges, exact match on other core columns, anything else a property
 * filter). When a parameter repeats, Glance pops the first occurrence of
 * control parameters and keeps the last one of filters (it folds them into
 * a dict); we do the same. Every refusal is IMS_E_BADREQ with the parameter
 * and value named.
 *
 * The IMS dialect (GET /v2/cloudimages, reference ims_apis/image/
 * querying_images.md) is a second rule table over the same machinery: exact
 * matches, __imagetype, enterprise_project_id (with all_granted_eps), the
 * documented sort keys, limit 500 by default, and IMG error codes.
 *
 * In every dialect a parameter the reference enumerates (query_enums.c,
 * spec/query-enums.tsv) takes only its listed values, each of an "in:" list
 * included: any other value could match no image, and a typo there would
 * otherwise pass as an empty result. */
#include "ims/query.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "query-int.h"

#define PARAM_TEXT_MAX 4096 /* bytes, for parameter names and values */
#define IN_LIST_MAX 1000

enum param_kind {
    PARAM_LIMIT,
    PARAM_MARKER,
    PARAM_MEMBER_STATUS,
    PARAM_VISIBILITY,
    PARAM_TAG,
    PARAM_SORT,
    PARAM_SORT_KEY,
    PARAM_SORT_DIR,
    PARAM_BOOL,
    PARAM_CHANGES_SINCE,
    PARAM_IGNORED,
    PARAM_LISTABLE, /* eq or in: on a text column */
    PARAM_TIME,     /* gt: gte: lt: lte: eq: neq: on a timestamp column */
    PARAM_TEXT,     /* exact match on a text column */
    PARAM_INT,      /* exact match on an integer column */
    PARAM_RANGE_MIN,
    PARAM_RANGE_MAX,
    PARAM_PROPERTY,
    PARAM_IMAGETYPE, /* IMS: gold | private | shared (the values: query_enums.c) */
    PARAM_EP,        /* IMS: enterprise_project_id = 0 | UUID | all_granted_eps */
};

enum occurrence { USE_FIRST, USE_LAST, USE_ALL };

struct param_rule {
    const char *name;
    enum param_kind kind;
    enum occurrence occurrence;
    const char *column; /* filter key of core-column filters */
    const char *code;   /* IMS dialect: error code of a bad value (default IMG.0001) */
};

/* The rules both dialects follow; each dialect's own table below is looked
 * up first. */
static const struct param_rule common_rules[] = {
    {"limit", PARAM_LIMIT, USE_FIRST, NULL, NULL},
    {"marker", PARAM_MARKER, USE_FIRST, NULL, NULL},
    {"member_status", PARAM_MEMBER_STATUS, USE_FIRST, NULL, NULL},
    {"visibility", PARAM_VISIBILITY, USE_FIRST, NULL, NULL},
    {"tag", PARAM_TAG, USE_ALL, NULL, NULL},
    {"sort_key", PARAM_SORT_KEY, USE_ALL, NULL, NULL},
    {"sort_dir", PARAM_SORT_DIR, USE_ALL, NULL, NULL},
    {"protected", PARAM_BOOL, USE_LAST, "protected", NULL},
    {"owner", PARAM_TEXT, USE_LAST, "owner", NULL},
    {"created_at", PARAM_TIME, USE_LAST, "created_at", NULL},
    {"updated_at", PARAM_TIME, USE_LAST, "updated_at", NULL},
};

static const struct param_rule param_rules[] = {
    {"sort", PARAM_SORT, USE_FIRST, NULL, NULL},
    {"os_hidden", PARAM_BOOL, USE_LAST, "os_hidden", NULL},
    {"changes-since", PARAM_CHANGES_SINCE, USE_FIRST, NULL, NULL},
    /* Glance overwrites any client "deleted" filter with deleted=False. */
    {"deleted", PARAM_IGNORED, USE_ALL, NULL, NULL},
    {"name", PARAM_LISTABLE, USE_LAST, "name", NULL},
    {"id", PARAM_LISTABLE, USE_LAST, "id", NULL},
    {"status", PARAM_LISTABLE, USE_LAST, "status", NULL},
    {"container_format", PARAM_LISTABLE, USE_LAST, "container_format", NULL},
    {"disk_format", PARAM_LISTABLE, USE_LAST, "disk_format", NULL},
    {"checksum", PARAM_TEXT, USE_LAST, "checksum", NULL},
    {"os_hash_algo", PARAM_TEXT, USE_LAST, "os_hash_algo", NULL},
    {"os_hash_value", PARAM_TEXT, USE_LAST, "os_hash_value", NULL},
    {"size", PARAM_INT, USE_LAST, "size", NULL},
    {"virtual_size", PARAM_INT, USE_LAST, "virtual_size", NULL},
    {"min_disk", PARAM_INT, USE_LAST, "min_disk", NULL},
    {"min_ram", PARAM_INT, USE_LAST, "min_ram", NULL},
    {"size_min", PARAM_RANGE_MIN, USE_LAST, "size", NULL},
    {"size_max", PARAM_RANGE_MAX, USE_LAST, "size", NULL},
    {"virtual_size_min", PARAM_RANGE_MIN, USE_LAST, "virtual_size", NULL},
    {"virtual_size_max", PARAM_RANGE_MAX, USE_LAST, "virtual_size", NULL},
    {"min_disk_min", PARAM_RANGE_MIN, USE_LAST, "min_disk", NULL},
    {"min_disk_max", PARAM_RANGE_MAX, USE_LAST, "min_disk", NULL},
    {"min_ram_min", PARAM_RANGE_MIN, USE_LAST, "min_ram", NULL},
    {"min_ram_max", PARAM_RANGE_MAX, USE_LAST, "min_ram", NULL},
};

static const struct param_rule property_rule = {NULL, PARAM_PROPERTY, USE_LAST, NULL, NULL};

/* Glance v1 (GET /v1.1/images/detail): changes-since is a filter there. */
static const struct param_rule v1_changes_since_rule = {"changes-since", PARAM_CHANGES_SINCE, USE_LAST, "updated_at",
                                                        NULL};

/* ---- IMS dialect ---- */
/* Enumerated IMS attributes (__os_type, __platform, ...) are property
 * filters whose values query_enums.c checks. */
static const struct param_rule ims_param_rules[] = {
    {"__imagetype", PARAM_IMAGETYPE, USE_FIRST, NULL, NULL},
    {"enterprise_project_id", PARAM_EP, USE_FIRST, "enterprise_project_id", NULL},
    {"id", PARAM_TEXT, USE_LAST, "id", NULL},
    {"name", PARAM_TEXT, USE_LAST, "name", NULL},
    {"container_format", PARAM_TEXT, USE_LAST, "container_format", NULL},
    {"disk_format", PARAM_TEXT, USE_LAST, "disk_format", NULL},
    {"status", PARAM_TEXT, USE_LAST, "status", NULL},
    {"min_ram", PARAM_INT, USE_LAST, "min_ram", "IMG.0055"},
    {"min_disk", PARAM_INT, USE_LAST, "min_disk", "IMG.0055"},
};

static const char *const ims_sort_keys_valid[] = {
    "name", "container_format", "disk_format", "status", "id", "size", "created_at",
};

static const char *const sort_keys_valid[] = {
    "name", "status", "container_format", "disk_format", "size", "virtual_size", "id", "created_at",
    "updated_at", "visibility", "owner", "protected", "min_disk", "min_ram", "os_hidden",
};

bool ims_query_sort_key_valid(const char *key)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(sort_keys_valid); i++)
        if (strcmp(key, sort_keys_valid[i]) == 0)
            return true;
    return false;
}

void ims_image_query_release(struct ims_image_query *q)
{
    for (size_t i = 0; i < q->nfilters; i++) {
        free(q->filters[i].key);
        ims_strlist_release(&q->filters[i].values);
    }
    free(q->filters);
    ims_strlist_release(&q->tags);
    free(q->visibility);
    free(q->member_status);
    for (size_t i = 0; i < q->nsorts; i++)
        free(q->sorts[i].key);
    free(q->marker);
    free(q->imagetype);
    *q = (struct ims_image_query){0};
}

static void image_queryp(struct ims_image_query *q) { ims_image_query_release(q); }
static void strlistp(struct ims_strlist *l) { ims_strlist_release(l); }

/* Sort parameters are gathered while scanning and resolved at the end,
 * because a single sort_dir applies to every sort_key wherever it appears. */
struct sort_spec {
    struct ims_strlist keys, dirs;
    enum ims_query_dialect dialect;
};

static void sort_specp(struct sort_spec *s)
{
    ims_strlist_release(&s->keys);
    ims_strlist_release(&s->dirs);
}

static const struct param_rule *rule_in(const struct param_rule *rules, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, rules[i].name) == 0)
            return &rules[i];
    return NULL;
}

static const struct param_rule *rule_for(enum ims_query_dialect d, const char *name)
{
    if (d == IMS_QUERY_GLANCE_V1 && strcmp(name, v1_changes_since_rule.name) == 0)
        return &v1_changes_since_rule;
    const struct param_rule *r = d == IMS_QUERY_IMS ? rule_in(ims_param_rules, IMS_ARRAY_SIZE(ims_param_rules), name)
                                                    : rule_in(param_rules, IMS_ARRAY_SIZE(param_rules), name);
    if (!r)
        r = rule_in(common_rules, IMS_ARRAY_SIZE(common_rules), name);
    return r ? r : &property_rule;
}

/* True when this occurrence of a repeated parameter is not the one used. */
static bool superseded(const struct ims_kvlist *params, size_t i, enum occurrence occ)
{
    const char *key = params->items[i].key;
    if (occ == USE_FIRST) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(params->items[j].key, key) == 0)
                return true;
    } else if (occ == USE_LAST) {
        for (size_t j = i + 1; j < params->n; j++)
            if (strcmp(params->items[j].key, key) == 0)
                return true;
    }
    return false;
}

static struct ims_filter *add_filter(struct ims_image_query *q, const char *key, bool is_property,
                                     enum ims_field_type type, enum ims_cmp op)
{
    q->filters = ims_xrealloc(q->filters, (q->nfilters + 1) * sizeof(*q->filters));
    struct ims_filter *f = &q->filters[q->nfilters++];
    *f = (struct ims_filter){.key = ims_xstrdup(key), .is_property = is_property, .type = type, .op = op};
    return f;
}

static void add_single_filter(struct ims_image_query *q, const char *key, bool is_property,
                              enum ims_field_type type, enum ims_cmp op, const char *value)
{
    struct ims_filter *f = add_filter(q, key, is_property, type, op);
    ims_strlist_add(&f->values, value);
}

/* ---- control parameters ---- */

static enum ims_rc parse_limit(const char *value, const struct ims_query_limits *lim, int64_t *ret,
                               struct ims_err *err)
{
    /* Python's int(): surrounding blanks and a sign are fine; values beyond
     * int64 are simply "more than the maximum" and clamp like any other. */
    _cleanup_free_ char *s = ims_strip_dup(value);
    const char *p = s;
    bool negative = false, huge = false;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    if (!*p)
        return ims_fail(err, IMS_E_BADREQ, "Invalid limit value: %s. limit param must be an integer", value);
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return ims_fail(err, IMS_E_BADREQ, "Invalid limit value: %s. limit param must be an integer", value);
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            huge = true;
        else
            v = v * 10 + d;
    }
    if (negative && (v || huge))
        return ims_fail(err, IMS_E_BADREQ, "Invalid limit value: %s. limit param must be positive", value);
    *ret = huge || v > lim->max_limit ? lim->max_limit : v;
    return IMS_OK;
}

static bool one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static void replace_str(char **field, const char *value)
{
    free(*field);
    *field = ims_xstrdup(value);
}

static enum ims_rc parse_visibility(const char *value, enum ims_query_dialect d, struct ims_image_query *q,
                                    struct ims_err *err)
{
    static const char *const allowed[] = {"public", "private", "shared", "community", "all"};
    /* IMS documents the first three only. */
    if (!one_of(value, allowed, d == IMS_QUERY_IMS ? 3 : IMS_ARRAY_SIZE(allowed)))
        return ims_fail(err, IMS_E_BADREQ, "Invalid visibility value: %s", value);
    replace_str(&q->visibility, value);
    return IMS_OK;
}

static enum ims_rc parse_member_status(const char *value, enum ims_query_dialect d, struct ims_image_query *q,
                                       struct ims_err *err)
{
    static const char *const allowed[] = {"pending", "accepted", "rejected", "all"};
    if (!one_of(value, allowed, d == IMS_QUERY_IMS ? 3 : IMS_ARRAY_SIZE(allowed)))
        return ims_fail(err, IMS_E_BADREQ,
                        "Invalid member_status value: %s. It must be one of: pending, accepted, rejected, all",
                        value);
    replace_str(&q->member_status, value);
    return IMS_OK;
}

/* ---- sorting ---- */

static enum ims_rc add_sort_key(struct sort_spec *s, const char *raw, struct ims_err *err)
{
    _cleanup_free_ char *key = ims_strip_dup(raw);
    bool ims = s->dialect == IMS_QUERY_IMS;
    const char *const *keys = ims ? ims_sort_keys_valid : sort_keys_valid;
    size_t nkeys = ims ? IMS_ARRAY_SIZE(ims_sort_keys_valid) : IMS_ARRAY_SIZE(sort_keys_valid);
    if (!one_of(key, keys, nkeys)) {
        struct ims_buf valid;
        ims_buf_init(&valid, 1024);
        for (size_t i = 0; i < nkeys; i++)
            ims_buf_printf(&valid, "%s%s", i ? ", " : "", keys[i]);
        enum ims_rc rc = ims_fail(err, IMS_E_BADREQ, "Invalid sort key: %s. It must be one of the following: %s.",
                                  key, valid.data);
        ims_buf_release(&valid);
        return rc;
    }
    if (s->keys.n == IMS_QUERY_MAX_SORT)
        return ims_fail(err, IMS_E_BADREQ, "Too many sort keys: %s (at most %d)", key, IMS_QUERY_MAX_SORT);
    ims_strlist_add(&s->keys, key);
    return IMS_OK;
}

static enum ims_rc add_sort_dir(struct sort_spec *s, const char *raw, struct ims_err *err)
{
    _cleanup_free_ char *dir = ims_strip_dup(raw);
    if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
        return ims_fail(err, IMS_E_BADREQ, "Invalid sort direction: %s", dir);
    if (s->dirs.n == IMS_QUERY_MAX_SORT)
        return ims_fail(err, IMS_E_BADREQ, "Too many sort directions: %s (at most %d)", dir, IMS_QUERY_MAX_SORT);
    ims_strlist_add(&s->dirs, dir);
    return IMS_OK;
}

/* Calls add(s, piece) for each comma-separated piece of value; empty pieces
 * included, as Python's str.split(','). */
static enum ims_rc for_each_comma_piece(struct sort_spec *s, const char *value,
                                        enum ims_rc (*add)(struct sort_spec *, const char *, struct ims_err *),
                                        struct ims_err *err)
{
    const char *p = value;
    for (;;) {
        size_t len = strcspn(p, ",");
        _cleanup_free_ char *piece = ims_xstrndup(p, len);
        enum ims_rc rc = add(s, piece, err);
        if (rc != IMS_OK)
            return rc;
        if (!p[len])
            return IMS_OK;
        p += len + 1;
    }
}

/* New syntax: sort=name:asc,size (a missing direction is desc). */
static enum ims_rc add_sort_pair(struct sort_spec *s, const char *piece, struct ims_err *err)
{
    const char *colon = strchr(piece, ':');
    _cleanup_free_ char *key = colon ? ims_xstrndup(piece, (size_t)(colon - piece)) : ims_xstrdup(piece);
    const char *dir = colon && colon[1] ? colon + 1 : "desc";
    enum ims_rc rc = add_sort_key(s, key, err);
    if (rc == IMS_OK)
        rc = add_sort_dir(s, dir, err);
    return rc;
}

static enum ims_rc parse_sort(struct sort_spec *s, const char *value, struct ims_err *err)
{
    _cleanup_free_ char *stripped = ims_strip_dup(value);
    return for_each_comma_piece(s, stripped, add_sort_pair, err);
}

static enum ims_rc resolve_sort(struct sort_spec *s, struct ims_image_query *q, struct ims_err *err)
{
    size_t nkeys = s->keys.n, ndirs = s->dirs.n;
    /* One direction applies to every key; several must pair up one to one. */
    if (ndirs > 1 && ndirs != nkeys)
        return ims_fail(err, IMS_E_BADREQ,
                        "Number of sort dirs does not match the number of sort keys (%zu dirs, %zu keys)", ndirs,
                        nkeys);
    if (nkeys == 0)
        ims_strlist_add(&s->keys, "created_at");
    for (size_t i = 0; i < s->keys.n; i++) {
        const char *dir = ndirs == 0 ? "desc" : s->dirs.items[ndirs == 1 ? 0 : i];
        q->sorts[i] = (struct ims_sort){.key = ims_xstrdup(s->keys.items[i]), .desc = strcmp(dir, "desc") == 0};
        q->nsorts++;
    }
    return IMS_OK;
}

/* ---- filters ---- */

/* Refuses a value the reference's enumeration of param (query_enums.c) does
 * not list; a parameter without one takes any value. */
static enum ims_rc check_enum(enum ims_query_dialect d, const char *param, const char *value, struct ims_err *err)
{
    const struct ims_query_enum *e = ims_query_enum_find(d, param);
    if (!e || ims_query_enum_allows(e, value))
        return IMS_OK;
    struct ims_buf valid;
    ims_buf_init(&valid, 1024);
    for (size_t i = 0; e->values[i]; i++)
        ims_buf_printf(&valid, "%s%s", i ? ", " : "", e->values[i]);
    enum ims_rc rc = ims_fail_code(err, IMS_E_BADREQ, d == IMS_QUERY_IMS ? e->ims_code : "",
                                   "Invalid value '%s' for '%s'. It must be one of: %s.", value, param, valid.data);
    ims_buf_release(&valid);
    return rc;
}

static enum ims_rc parse_listable(const struct param_rule *r, const char *value, enum ims_query_dialect d,
                                  struct ims_image_query *q, struct ims_err *err)
{
    struct ims_filter_expr e;
    ims_filter_expr_split(value, &e);
    if (ims_filter_expr_op_is(&e, "in")) {
        _cleanup_(strlistp) struct ims_strlist values = {0};
        enum ims_rc rc = ims_filter_in_list_split(r->name, e.value, IN_LIST_MAX, &values, err);
        for (size_t i = 0; rc == IMS_OK && i < values.n; i++)
            rc = check_enum(d, r->name, values.items[i], err);
        if (rc != IMS_OK)
            return rc;
        struct ims_filter *f = add_filter(q, r->column, false, IMS_FIELD_TEXT, IMS_CMP_IN);
        f->values = values;
        values = (struct ims_strlist){0};
        return IMS_OK;
    }
    if (ims_filter_expr_op_is(&e, "eq")) {
        enum ims_rc rc = check_enum(d, r->name, e.value, err);
        if (rc != IMS_OK)
            return rc;
        add_single_filter(q, r->column, false, IMS_FIELD_TEXT, IMS_CMP_EQ, e.value);
        return IMS_OK;
    }
    return ims_fail(err, IMS_E_BADREQ, "Unable to filter by unknown operator '%.*s' for %s: %s",
                    (int)(e.op_len > 64 ? 64 : e.op_len), e.op, r->name, value);
}

/* A filter on a timestamp column, its value in epoch seconds as stored. */
static enum ims_rc add_time_filter(struct ims_image_query *q, const char *column, enum ims_cmp op, int64_t t)
{
    char epoch[24];
    snprintf(epoch, sizeof(epoch), "%lld", (long long)t);
    add_single_filter(q, column, false, IMS_FIELD_TIME, op, epoch);
    return IMS_OK;
}

static enum ims_rc parse_time(const struct param_rule *r, const char *value, struct ims_image_query *q,
                              struct ims_err *err)
{
    static const struct {
        const char *name;
        enum ims_cmp cmp;
    } ops[] = {
        {"gt", IMS_CMP_GT}, {"gte", IMS_CMP_GTE}, {"lt", IMS_CMP_LT},
        {"lte", IMS_CMP_LTE}, {"eq", IMS_CMP_EQ}, {"neq", IMS_CMP_NEQ},
    };
    struct ims_filter_expr e;
    ims_filter_expr_split(value, &e);
    int64_t t;
    if (!ims_time_parse(e.value, &t))
        return ims_fail(err, IMS_E_BADREQ, "Bad \"%s\" query filter format: %s. Use ISO 8601 DateTime notation.",
                        r->name, value);
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ops); i++) {
        if (ims_filter_expr_op_is(&e, ops[i].name))
            return add_time_filter(q, r->column, ops[i].cmp, t);
    }
    return ims_fail(err, IMS_E_BADREQ, "Unable to filter on a unknown operator '%.*s' for %s: %s",
                    (int)(e.op_len > 64 ? 64 : e.op_len), e.op, r->name, value);
}

/* Glance v1's registry: images updated since an ISO 8601 time (no operator
 * prefix; "Unrecognized changes-since value" otherwise). An image updated
 * within the given second counts: times are kept to the second. */
static enum ims_rc parse_changes_since(const struct param_rule *r, const char *value, struct ims_image_query *q,
                                       struct ims_err *err)
{
    int64_t t;
    if (!ims_time_parse(value, &t))
        return ims_fail(err, IMS_E_BADREQ, "Unrecognized changes-since value: %s", value);
    return add_time_filter(q, r->column, IMS_CMP_GTE, t);
}

static enum ims_rc parse_int_filter(const struct param_rule *r, const char *value, enum ims_cmp op,
                                    struct ims_image_query *q, struct ims_err *err)
{
    /* Glance runs int() on these, which allows surrounding blanks. */
    _cleanup_free_ char *stripped = ims_strip_dup(value);
    int64_t v;
    if (!ims_parse_i64(stripped, 0, INT64_MAX, &v))
        return ims_fail_code(err, IMS_E_BADREQ, r->code ? r->code : "", "Invalid %s value: %s. It must be a non-negative integer",
                             r->name, value);
    char canonical[24];
    snprintf(canonical, sizeof(canonical), "%lld", (long long)v);
    add_single_filter(q, r->column, false, IMS_FIELD_INT, op, canonical);
    return IMS_OK;
}

static enum ims_rc parse_bool_filter(const struct param_rule *r, const char *value, struct ims_image_query *q,
                                     struct ims_err *err)
{
    /* Glance lower-cases os_hidden before checking it, but not protected. */
    bool is_hidden = strcmp(r->column, "os_hidden") == 0;
    int (*cmp)(const char *, const char *) = is_hidden ? strcasecmp : strcmp;
    bool v;
    if (cmp(value, "true") == 0)
        v = true;
    else if (cmp(value, "false") == 0)
        v = false;
    else
        return ims_fail(err, IMS_E_BADREQ, "Invalid value '%s' for '%s' filter. Valid values are 'true' or 'false'.",
                        value, r->name);
    add_single_filter(q, r->column, false, IMS_FIELD_BOOL, IMS_CMP_EQ, v ? "1" : "0");
    if (is_hidden)
        q->os_hidden_given = true;
    return IMS_OK;
}

/* ---- IMS dialect filters ---- */

static enum ims_rc bad_ims_value(const struct param_rule *r, const char *value, struct ims_err *err)
{
    return ims_fail_code(err, IMS_E_BADREQ, r->code ? r->code : "IMG.0001", "Invalid value '%s' for '%s'.", value,
                         r->name);
}

static enum ims_rc parse_ep(const struct param_rule *r, const char *value, struct ims_image_query *q,
                            struct ims_err *err)
{
    if (strcmp(value, "all_granted_eps") == 0)
        return IMS_OK; /* every enterprise project the caller may list in */
    if (strcmp(value, "0") != 0 && !ims_uuid_valid(value))
        return bad_ims_value(r, value, err);
    add_single_filter(q, r->column, false, IMS_FIELD_TEXT, IMS_CMP_EQ, value);
    return IMS_OK;
}

/* ---- driver ---- */

static bool has_param(const struct ims_kvlist *params, const char *key)
{
    for (size_t i = 0; i < params->n; i++)
        if (strcmp(params->items[i].key, key) == 0)
            return true;
    return false;
}

static enum ims_rc parse_param(const struct param_rule *r, const struct ims_kv *kv,
                               const struct ims_query_limits *lim, struct ims_image_query *q, struct sort_spec *sort,
                               struct ims_err *err)
{
    const char *value = kv->value ? kv->value : "";
    enum ims_query_dialect d = sort->dialect;
    /* "in:" lists are checked value by value (parse_listable). */
    if (r->kind != PARAM_LISTABLE) {
        enum ims_rc rc = check_enum(d, kv->key, value, err);
        if (rc != IMS_OK)
            return rc;
    }
    switch (r->kind) {
    case PARAM_IMAGETYPE:
        replace_str(&q->imagetype, value); /* checked by check_enum */
        return IMS_OK;
    case PARAM_EP:
        return parse_ep(r, value, q, err);
    case PARAM_LIMIT:
        return parse_limit(value, lim, &q->limit, err);
    case PARAM_MARKER:
        replace_str(&q->marker, value);
        return IMS_OK;
    case PARAM_MEMBER_STATUS:
        return parse_member_status(value, d, q, err);
    case PARAM_VISIBILITY:
        return parse_visibility(value, d, q, err);
    case PARAM_TAG: {
        _cleanup_free_ char *tag = ims_strip_dup(value);
        ims_strlist_add(&q->tags, tag);
        return IMS_OK;
    }
    case PARAM_SORT:
        return parse_sort(sort, value, err);
    case PARAM_SORT_KEY:
        return for_each_comma_piece(sort, value, add_sort_key, err);
    case PARAM_SORT_DIR:
        return for_each_comma_piece(sort, value, add_sort_dir, err);
    case PARAM_BOOL:
        return parse_bool_filter(r, value, q, err);
    case PARAM_CHANGES_SINCE:
        if (d == IMS_QUERY_GLANCE_V1)
            return parse_changes_since(r, value, q, err);
        return ims_fail(err, IMS_E_BADREQ, "The \"changes-since\" filter is no longer available on v2.");
    case PARAM_IGNORED:
        return IMS_OK;
    case PARAM_LISTABLE:
        return parse_listable(r, value, d, q, err);
    case PARAM_TIME:
        return parse_time(r, value, q, err);
    case PARAM_TEXT:
        add_single_filter(q, r->column, false, IMS_FIELD_TEXT, IMS_CMP_EQ, value);
        return IMS_OK;
    case PARAM_INT:
        return parse_int_filter(r, value, IMS_CMP_EQ, q, err);
    case PARAM_RANGE_MIN:
        return parse_int_filter(r, value, IMS_CMP_GTE, q, err);
    case PARAM_RANGE_MAX:
        return parse_int_filter(r, value, IMS_CMP_LTE, q, err);
    case PARAM_PROPERTY:
        add_single_filter(q, kv->key, true, IMS_FIELD_TEXT, IMS_CMP_EQ, value);
        return IMS_OK;
    }
    return ims_fail(err, IMS_E_INTERNAL, "unhandled query parameter kind");
}

enum ims_rc ims_image_query_parse(const struct ims_kvlist *params, const struct ims_query_limits *lim,
                                  struct ims_image_query *ret, struct ims_err *err)
{
    return ims_image_query_parse_dialect(params, lim, IMS_QUERY_GLANCE, ret, err);
}

static enum ims_rc parse_all(const struct ims_kvlist *params, const struct ims_query_limits *lim,
                             enum ims_query_dialect dialect, struct ims_image_query *ret, struct ims_err *err)
{
    _cleanup_(image_queryp) struct ims_image_query q = {.limit = lim->default_limit};
    _cleanup_(sort_specp) struct sort_spec sort = {.dialect = dialect};

    if (q.limit > lim->max_limit)
        q.limit = lim->max_limit;
    for (size_t i = 0; i < params->n; i++) {
        const struct ims_kv *kv = &params->items[i];
        if (strlen(kv->key) > PARAM_TEXT_MAX)
            return ims_fail(err, IMS_E_BADREQ, "Query parameter name too long: %.64s... (at most %d bytes)", kv->key,
                            PARAM_TEXT_MAX);
        if (kv->value && strlen(kv->value) > PARAM_TEXT_MAX)
            return ims_fail(err, IMS_E_BADREQ, "Value of query parameter %.64s too long: %.64s... (at most %d bytes)",
                            kv->key, kv->value, PARAM_TEXT_MAX);
    }
    if (dialect != IMS_QUERY_IMS && has_param(params, "sort") &&
        (has_param(params, "sort_key") || has_param(params, "sort_dir")))
        return ims_fail(err, IMS_E_BADREQ,
                        "Old and new sorting syntax cannot be combined (sort with sort_key/sort_dir)");
    for (size_t i = 0; i < params->n; i++) {
        const struct param_rule *r = rule_for(dialect, params->items[i].key);
        if (superseded(params, i, r->occurrence))
            continue;
        enum ims_rc rc = parse_param(r, &params->items[i], lim, &q, &sort, err);
        if (rc != IMS_OK)
            return rc;
    }
    enum ims_rc rc = resolve_sort(&sort, &q, err);
    if (rc != IMS_OK)
        return rc;
    /* IMS: "__isregistered is true for all extension APIs by default". */
    if (dialect == IMS_QUERY_IMS && !has_param(params, "__isregistered")) {
        add_single_filter(&q, "__isregistered", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "true");
        q.filters[q.nfilters - 1].implied = true;
    }
    *ret = q;
    q = (struct ims_image_query){0};
    return IMS_OK;
}

enum ims_rc ims_image_query_parse_dialect(const struct ims_kvlist *params, const struct ims_query_limits *lim,
                                          enum ims_query_dialect dialect, struct ims_image_query *ret,
                                          struct ims_err *err)
{
    struct ims_err local = {0};
    struct ims_err *e = err ? err : &local;
    e->code[0] = 0;
    enum ims_rc rc = parse_all(params, lim, dialect, ret, e);
    if (rc != IMS_OK && dialect == IMS_QUERY_IMS && !e->code[0])
        snprintf(e->code, sizeof(e->code), "IMG.0001");
    return rc;
}
