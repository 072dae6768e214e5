/* SPDX-License-Identifier: Apache-2.0
 * IMS key/value image tags: the native "key=value" form, the tag formats of
 * reference common_parameters/image_tag_format.md, the request bodies of
 * the image tagging calls, and the conditions of a query by tag. Pure. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ims/tags.h"

/* ---- native form ---- */

void ims_tag_split(const char *native, char **ret_key, char **ret_value)
{
    const char *eq = strchr(native, '=');
    if (!eq) {
        *ret_key = ims_xstrdup(native);
        *ret_value = ims_xstrdup("");
        return;
    }
    size_t n = (size_t)(eq - native);
    char *k = ims_xmalloc(n + 1);
    memcpy(k, native, n);
    k[n] = 0;
    *ret_key = k;
    *ret_value = ims_xstrdup(eq + 1);
}

char *ims_tag_join(const char *key, const char *value)
{
    if (!value || !*value)
        return ims_xstrdup(key);
    size_t kn = strlen(key), vn = strlen(value);
    char *s = ims_xmalloc(kn + vn + 2);
    memcpy(s, key, kn);
    s[kn] = '=';
    memcpy(s + kn + 1, value, vn + 1);
    return s;
}

bool ims_tag_has_key(const char *native, const char *key)
{
    size_t n = strlen(key);
    return strncmp(native, key, n) == 0 && (native[n] == 0 || native[n] == '=');
}

void ims_tags_to_pairs(const struct ims_strlist *native, struct ims_kvlist *ret)
{
    for (size_t i = 0; i < native->n; i++) {
        char *k, *v;
        ims_tag_split(native->items[i], &k, &v);
        ims_kvlist_add(ret, k, v);
        free(k);
        free(v);
    }
}

size_t ims_tag_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ---- checks ---- */

#define bad_tag(err, ...) ims_fail_code((err), IMS_E_BADREQ, "IMG.0115", __VA_ARGS__)

static bool simple_chars(const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static char *trimmed(const char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    char *r = ims_xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

enum ims_rc ims_tag_parse_dotted(const char *s, char **ret_key, char **ret_value, struct ims_err *err)
{
    const char *dot = strchr(s, '.');
    size_t kn = dot ? (size_t)(dot - s) : strlen(s);
    const char *v = dot ? dot + 1 : "";
    if (kn == 0)
        return bad_tag(err, "Invalid tag '%.64s': the key is empty (format key.value).", s);
    if (kn > IMS_TAG_KEY_MAX)
        return bad_tag(err, "Invalid tag '%.64s...': the key has more than %d characters.", s, IMS_TAG_KEY_MAX);
    if (strlen(v) > IMS_TAG_VALUE_MAX)
        return bad_tag(err, "Invalid tag '%.64s...': the value has more than %d characters.", s, IMS_TAG_VALUE_MAX);
    char *k = ims_xmalloc(kn + 1);
    memcpy(k, s, kn);
    k[kn] = 0;
    if (!simple_chars(k) || !simple_chars(v)) {
        free(k);
        return bad_tag(err, "Invalid tag '%.80s': only letters, digits, underscores (_) and hyphens (-) are "
                            "allowed in the key and the value.",
                       s);
    }
    *ret_key = k;
    *ret_value = ims_xstrdup(v);
    return IMS_OK;
}

enum ims_rc ims_tag_check_pair(const char *key, const char *value, char **ret_key, char **ret_value,
                               struct ims_err *err)
{
    char *k = trimmed(key), *v = trimmed(value);
    enum ims_rc rc = IMS_OK;
    if (!*k)
        rc = bad_tag(err, "Invalid tag key '%.64s': the key cannot be empty.", key);
    else if (ims_tag_chars(k) > IMS_TAG_KEY_MAX)
        rc = bad_tag(err, "Invalid tag key '%.64s...': more than %d characters.", k, IMS_TAG_KEY_MAX);
    else if (ims_tag_chars(v) > IMS_TAG_VALUE_MAX)
        rc = bad_tag(err, "Invalid tag value '%.64s...': more than %d characters.", v, IMS_TAG_VALUE_MAX);
    else if (has_control(k) || has_control(v))
        rc = bad_tag(err, "Invalid tag '%.64s': control characters are not allowed.", k);
    else if (strchr(k, '='))
        rc = bad_tag(err, "Invalid tag key '%.64s': '=' is not allowed in a key.", k);
    if (rc != IMS_OK) {
        free(k);
        free(v);
        return rc;
    }
    *ret_key = k;
    *ret_value = v;
    return IMS_OK;
}

/* ---- bodies ---- */

static enum ims_rc load_object(const char *body, size_t len, json_t **ret, struct ims_err *err)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0007", "The request body is empty.");
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Malformed JSON in request body: %s.", je.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "The request body must be a JSON object.");
    }
    *ret = doc;
    return IMS_OK;
}

/* A JSON string without embedded NULs. */
static const char *str_of(const json_t *v)
{
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* {"key": string, "value": string} as an image_tags pair. */
static enum ims_rc object_pair(const json_t *o, const char *what, char **ret_key, char **ret_value,
                               struct ims_err *err)
{
    if (!json_is_object(o))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must be an object with key and value.", what);
    const char *k = str_of(json_object_get(o, "key")), *v = str_of(json_object_get(o, "value"));
    if (!k || !v)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' needs a string 'key' and a string 'value'.",
                             what);
    return ims_tag_check_pair(k, v, ret_key, ret_value, err);
}

enum ims_rc ims_tag_v1_parse(const char *body, size_t len, char **ret_image_id, char **ret_key, char **ret_value,
                             struct ims_err *err)
{
    json_t *doc;
    enum ims_rc rc = load_object(body, len, &doc, err);
    if (rc != IMS_OK)
        return rc;
    const char *id = str_of(json_object_get(doc, "image_id"));
    json_t *tag = json_object_get(doc, "tag"), *image_tag = json_object_get(doc, "image_tag");
    char *k = NULL, *v = NULL;
    if (!id || !*id || strlen(id) > 64)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'image_id' must be the ID of an image.");
    else if (tag && image_tag)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Use either 'tag' or 'image_tag', not both.");
    else if (!tag && !image_tag)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Give the tag in 'tag' or 'image_tag'.");
    else if (tag && !str_of(tag))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'tag' must be a string (key.value).");
    else if (tag)
        rc = ims_tag_parse_dotted(str_of(tag), &k, &v, err);
    else
        rc = object_pair(image_tag, "image_tag", &k, &v, err);
    if (rc == IMS_OK) {
        *ret_image_id = ims_xstrdup(id);
        *ret_key = k;
        *ret_value = v;
    }
    json_decref(doc);
    return rc;
}

enum ims_rc ims_tag_one_parse(const char *body, size_t len, char **ret_key, char **ret_value, struct ims_err *err)
{
    json_t *doc;
    enum ims_rc rc = load_object(body, len, &doc, err);
    if (rc != IMS_OK)
        return rc;
    json_t *tag = json_object_get(doc, "tag");
    if (!tag)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "The request body needs 'tag': {\"key\", \"value\"}.");
    else
        rc = object_pair(tag, "tag", ret_key, ret_value, err);
    json_decref(doc);
    return rc;
}

void ims_tag_batch_release(struct ims_tag_batch *b)
{
    ims_kvlist_release(&b->tags);
    memset(b, 0, sizeof(*b));
}

static enum ims_rc batch_delete_pair(const json_t *o, struct ims_kvlist *out, struct ims_err *err)
{
    if (!json_is_object(o))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Each tag must be an object with a key.");
    const char *k = str_of(json_object_get(o, "key"));
    json_t *jv = json_object_get(o, "value");
    const char *v = jv && !json_is_null(jv) ? str_of(jv) : NULL;
    if (!k || (jv && !json_is_null(jv) && !v))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Each tag needs a string 'key' (and 'value', if any).");
    char *key = trimmed(k), *value = v ? trimmed(v) : NULL;
    enum ims_rc rc = IMS_OK;
    if (!*key)
        rc = bad_tag(err, "Invalid tag key '%.64s': the key cannot be empty.", k);
    else if (ims_tag_chars(key) > IMS_TAG_DELETE_KEY_MAX)
        rc = bad_tag(err, "Invalid tag key '%.64s...': more than %d characters.", key, IMS_TAG_DELETE_KEY_MAX);
    else if (value && ims_tag_chars(value) > IMS_TAG_DELETE_VALUE_MAX)
        rc = bad_tag(err, "Invalid tag value '%.64s...': more than %d characters.", value,
                     IMS_TAG_DELETE_VALUE_MAX);
    if (rc == IMS_OK)
        ims_kvlist_add(out, key, value);
    free(key);
    free(value);
    return rc;
}

enum ims_rc ims_tag_batch_parse(const char *body, size_t len, struct ims_tag_batch *ret, struct ims_err *err)
{
    json_t *doc;
    enum ims_rc rc = load_object(body, len, &doc, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_tag_batch b = {0};
    const char *action = str_of(json_object_get(doc, "action"));
    json_t *tags = json_object_get(doc, "tags");
    if (!action || (strcmp(action, "create") && strcmp(action, "delete")))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'action' must be create or delete.");
    else if (!json_is_array(tags) || json_array_size(tags) == 0)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'tags' must be a non-empty array of tags.");
    else if (json_array_size(tags) > IMS_TAG_BATCH_MAX)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0116", "At most %d tags per request.", IMS_TAG_BATCH_MAX);
    b.create = action && !strcmp(action, "create");
    size_t i;
    json_t *o;
    if (rc == IMS_OK) {
        json_array_foreach(tags, i, o)
        {
            if (b.create) {
                char *k, *v;
                rc = object_pair(o, "tags[]", &k, &v, err);
                if (rc == IMS_OK) {
                    ims_kvlist_add(&b.tags, k, v);
                    free(k);
                    free(v);
                }
            } else {
                rc = batch_delete_pair(o, &b.tags, err);
            }
            if (rc != IMS_OK)
                break;
            for (size_t j = 0; j + 1 < b.tags.n; j++)
                if (!strcmp(b.tags.items[j].key, b.tags.items[b.tags.n - 1].key)) {
                    rc = bad_tag(err, "Tag key '%.64s' appears more than once in the request.",
                                 b.tags.items[j].key);
                    break;
                }
            if (rc != IMS_OK)
                break;
        }
    }
    json_decref(doc);
    if (rc != IMS_OK) {
        ims_tag_batch_release(&b);
        return rc;
    }
    *ret = b;
    return IMS_OK;
}

/* ---- query by tag ---- */

static void conds_release(struct ims_tag_conds *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        ims_strlist_release(&c->v[i].values);
    }
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

void ims_tag_query_release(struct ims_tag_query *q)
{
    conds_release(&q->tags);
    conds_release(&q->tags_any);
    conds_release(&q->not_tags);
    conds_release(&q->not_tags_any);
    free(q->match_name);
    free(q->match_id);
    memset(q, 0, sizeof(*q));
}

static enum ims_rc parse_conds(json_t *doc, const char *field, struct ims_tag_conds *out, struct ims_err *err)
{
    json_t *arr = json_object_get(doc, field);
    if (!arr || json_is_null(arr))
        return IMS_OK;
    if (!json_is_array(arr))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must be an array of {key, values}.", field);
    if (json_array_size(arr) > IMS_TAG_QUERY_KEYS_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0115", "'%s' has more than %d tag keys.", field,
                             IMS_TAG_QUERY_KEYS_MAX);
    out->v = ims_xcalloc(json_array_size(arr) + 1, sizeof(*out->v));
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *k = json_is_object(o) ? str_of(json_object_get(o, "key")) : NULL;
        json_t *vals = json_is_object(o) ? json_object_get(o, "values") : NULL;
        if (!k || !json_is_array(vals))
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001",
                                 "Each element of '%s' needs a string 'key' and an array 'values'.", field);
        if (!*k || ims_tag_chars(k) > IMS_TAG_QUERY_KEY_MAX)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0115", "'%s': a tag key has 1 to %d characters.", field,
                                 IMS_TAG_QUERY_KEY_MAX);
        for (size_t j = 0; j < out->n; j++)
            if (!strcmp(out->v[j].key, k))
                return ims_fail_code(err, IMS_E_BADREQ, "IMG.0115", "'%s': tag key '%.64s' appears twice.", field,
                                     k);
        if (json_array_size(vals) > IMS_TAG_QUERY_VALUES_MAX)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0115", "'%s': more than %d values for tag key '%.64s'.",
                                 field, IMS_TAG_QUERY_VALUES_MAX, k);
        struct ims_tag_cond *c = &out->v[out->n++];
        c->key = ims_xstrdup(k);
        size_t j;
        json_t *jv;
        json_array_foreach(vals, j, jv)
        {
            const char *v = str_of(jv);
            if (!v)
                return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s': tag values must be strings.", field);
            if (ims_tag_chars(v) > IMS_TAG_QUERY_VALUE_MAX)
                return ims_fail_code(err, IMS_E_BADREQ, "IMG.0115", "'%s': a tag value has at most %d characters.",
                                     field, IMS_TAG_QUERY_VALUE_MAX);
            if (ims_strlist_contains(&c->values, v))
                return ims_fail_code(err, IMS_E_BADREQ, "IMG.0115", "'%s': tag value '%.64s' appears twice.", field,
                                     v);
            ims_strlist_add(&c->values, v);
        }
    }
    return IMS_OK;
}

/* limit / offset: a string of digits (the reference's type) or an integer. */
static enum ims_rc parse_count(json_t *doc, const char *field, int64_t def, int64_t min, int64_t max, int64_t *ret,
                               struct ims_err *err)
{
    json_t *v = json_object_get(doc, field);
    int64_t n = def;
    bool ok = true;
    if (v && json_is_integer(v)) {
        n = json_integer_value(v);
        ok = n >= min && n <= max;
    } else if (v && json_is_string(v)) {
        ok = str_of(v) && ims_parse_i64(str_of(v), min, max, &n);
    } else if (v && !json_is_null(v)) {
        ok = false;
    }
    if (!ok)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must be an integer from %lld to %lld.", field,
                             (long long)min, (long long)max);
    *ret = n;
    return IMS_OK;
}

static enum ims_rc parse_matches(json_t *doc, struct ims_tag_query *q, struct ims_err *err)
{
    json_t *arr = json_object_get(doc, "matches");
    if (!arr || json_is_null(arr))
        return IMS_OK;
    if (!json_is_array(arr))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'matches' must be an array of {key, value}.");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *k = json_is_object(o) ? str_of(json_object_get(o, "key")) : NULL;
        const char *v = json_is_object(o) ? str_of(json_object_get(o, "value")) : NULL;
        if (!k || !v)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001",
                                 "Each element of 'matches' needs a string 'key' and a string 'value'.");
        char **slot = !strcmp(k, "resource_name") ? &q->match_name : !strcmp(k, "resource_id") ? &q->match_id : NULL;
        if (!slot)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001",
                                 "'matches': key '%.64s' is not resource_name or resource_id.", k);
        if (*slot)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'matches': key %s appears twice.", k);
        if (!*v || ims_tag_chars(v) > IMS_TAG_QUERY_VALUE_MAX)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'matches': the value of %s has 1 to %d characters.",
                                 k, IMS_TAG_QUERY_VALUE_MAX);
        *slot = ims_xstrdup(v);
    }
    return IMS_OK;
}

enum ims_rc ims_tag_query_parse(const char *body, size_t len, struct ims_tag_query *ret, struct ims_err *err)
{
    json_t *doc;
    enum ims_rc rc = load_object(body, len, &doc, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_tag_query q = {.limit = IMS_TAG_QUERY_LIMIT_DEFAULT};
    const char *action = str_of(json_object_get(doc, "action"));
    json_t *wat = json_object_get(doc, "without_any_tag");
    if (!action || (strcmp(action, "filter") && strcmp(action, "count")))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'action' must be filter or count.");
    else if (wat && !json_is_null(wat) && !json_is_boolean(wat))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'without_any_tag' must be a boolean.");
    if (rc == IMS_OK) {
        q.count = !strcmp(action, "count");
        q.without_any_tag = json_is_true(wat);
        rc = parse_conds(doc, "tags", &q.tags, err);
    }
    if (rc == IMS_OK)
        rc = parse_conds(doc, "tags_any", &q.tags_any, err);
    if (rc == IMS_OK)
        rc = parse_conds(doc, "not_tags", &q.not_tags, err);
    if (rc == IMS_OK)
        rc = parse_conds(doc, "not_tags_any", &q.not_tags_any, err);
    if (rc == IMS_OK)
        rc = parse_matches(doc, &q, err);
    /* limit and offset count for filter only ("invalid" for count). */
    if (rc == IMS_OK && !q.count)
        rc = parse_count(doc, "limit", IMS_TAG_QUERY_LIMIT_DEFAULT, 1, IMS_TAG_QUERY_LIMIT_MAX, &q.limit, err);
    if (rc == IMS_OK && !q.count)
        rc = parse_count(doc, "offset", 0, 0, INT64_MAX / 2, &q.offset, err);
    json_decref(doc);
    if (rc != IMS_OK) {
        ims_tag_query_release(&q);
        return rc;
    }
    *ret = q;
    return IMS_OK;
}

/* Does the image carry a tag meeting c (its key, and one of its values if any)? */
static bool cond_met(const struct ims_tag_cond *c, const struct ims_strlist *tags)
{
    for (size_t i = 0; i < tags->n; i++) {
        const char *t = tags->items[i];
        if (!ims_tag_has_key(t, c->key))
            continue;
        if (c->values.n == 0)
            return true;
        const char *v = t[strlen(c->key)] == '=' ? t + strlen(c->key) + 1 : "";
        if (ims_strlist_contains(&c->values, v))
            return true;
    }
    return false;
}

static bool all_met(const struct ims_tag_conds *cs, const struct ims_strlist *tags)
{
    for (size_t i = 0; i < cs->n; i++)
        if (!cond_met(&cs->v[i], tags))
            return false;
    return true;
}

static bool any_met(const struct ims_tag_conds *cs, const struct ims_strlist *tags)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cond_met(&cs->v[i], tags))
            return true;
    return false;
}

bool ims_tag_query_match(const struct ims_tag_query *q, const char *id, const char *name,
                         const struct ims_strlist *native_tags)
{
    if (q->match_id && !ims_streq(q->match_id, id))
        return false;
    if (q->match_name && !strstr(name ? name : "", q->match_name))
        return false;
    if (q->without_any_tag)
        return native_tags->n == 0;
    if (q->tags.n && !all_met(&q->tags, native_tags))
        return false;
    if (q->tags_any.n && !any_met(&q->tags_any, native_tags))
        return false;
    if (q->not_tags.n && all_met(&q->not_tags, native_tags))
        return false;
    if (q->not_tags_any.n && any_met(&q->not_tags_any, native_tags))
        return false;
    return true;
}
