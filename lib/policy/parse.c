/* SPDX-License-Identifier: Apache-2.0
 * Parsing and validation of IAM policy documents (reference/iam/permissions/
 * policy_syntax.md): Version "1.1" fine-grained policies and "1.0" role
 * documents (with their "Depends" list), Statement[] with Effect, Action,
 * optional Condition (condition.c) and Resource. Unknown fields are errors
 * and every error names its JSON path, so a rejected custom policy tells
 * its author exactly what to fix. The result is the compiled form of
 * policy-int.h. */
#include "policy-int.h"

#include <string.h>

void ims_policy_free(struct ims_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nstmts; i++) {
        struct pol_stmt *s = &p->stmts[i];
        for (size_t j = 0; j < s->nactions; j++)
            free(s->actions[j].text);
        free(s->actions);
        pol_conditions_free(s->conds, s->nconds);
        for (size_t j = 0; j < s->nresources; j++)
            free(s->resources[j]);
        free(s->resources);
    }
    free(p->stmts);
    for (size_t i = 0; i < p->ndepends; i++)
        free(p->depends[i]);
    free(p->depends);
    free(p);
}

static void policyp(struct ims_policy **p) { ims_policy_free(*p); }

const char *ims_policy_version(const struct ims_policy *p) { return p->version; }

const char *ims_policy_depend(const struct ims_policy *p, size_t i)
{
    return i < p->ndepends ? p->depends[i] : NULL;
}

/* Services are written in lower case ("ecs", "ims") and resource types and
 * operations in camelCase, but actions are case-insensitive as a whole
 * (the IAM issue says so), so "IMS:Images:Get" is accepted and matches. */
static bool seg_char_ok(char c, int seg)
{
    (void)seg;
    return c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static enum pol_seg_kind seg_kind(const char *s, size_t n)
{
    const char *star = memchr(s, '*', n);
    if (!star)
        return POL_SEG_EXACT;
    size_t stars = 0;
    for (size_t i = 0; i < n; i++)
        stars += s[i] == '*';
    if (stars == n)
        return POL_SEG_ANY; /* "*", "**" */
    if (stars == 1 && s[n - 1] == '*')
        return POL_SEG_PREFIX;
    if (stars == 1 && s[0] == '*')
        return POL_SEG_SUFFIX;
    return POL_SEG_GLOB;
}

/* Checks "service:resource:operation" and compiles it into *a. On error
 * *why says what is wrong. */
static bool compile_action(const char *text, struct pol_action *a, const char **why)
{
    size_t n = strlen(text);
    char *t = ims_xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        t[i] = pol_lower(text[i]);
    a->text = t;
    const char *p = t;
    for (int i = 0; i < 3; i++) {
        size_t len = strcspn(p, ":");
        if (len == 0) {
            *why = "expected service:resource:operation, each non-empty";
            return false;
        }
        for (size_t j = 0; j < len; j++) {
            /* text, not t: the upper-case check needs the original. */
            if (!seg_char_ok(text[(p - t) + j], i)) {
                *why = "segments may contain only letters, digits, '_', '-' and '*'";
                return false;
            }
        }
        struct pol_seg *g = &a->seg[i];
        g->kind = seg_kind(p, len);
        g->s = g->kind == POL_SEG_SUFFIX ? p + 1 : p;
        g->len = g->kind == POL_SEG_PREFIX || g->kind == POL_SEG_SUFFIX ? len - 1 : len;
        g->hash = pol_hash(g->s, g->len);
        bool last = i == 2;
        if (last != (p[len] == 0)) {
            *why = "expected service:resource:operation, each non-empty";
            return false;
        }
        t[p - t + len] = 0; /* segments become strings of their own */
        p += len + 1;
    }
    return true;
}

static enum ims_rc parse_actions(json_t *v, const char *path, struct pol_stmt *s, struct ims_err *err)
{
    if (!v)
        return ims_fail(err, IMS_E_BADREQ, "%s.Action: missing", path);
    bool single = json_is_string(v);
    if (!single && !json_is_array(v))
        return ims_fail(err, IMS_E_BADREQ, "%s.Action: must be a string or an array of strings", path);
    size_t n = single ? 1 : json_array_size(v);
    if (n == 0)
        return ims_fail(err, IMS_E_BADREQ, "%s.Action: must not be empty", path);
    if (n > IMS_POLICY_MAX_ACTIONS)
        return ims_fail(err, IMS_E_BADREQ, "%s.Action: more than %d actions", path, IMS_POLICY_MAX_ACTIONS);
    s->actions = ims_xcalloc(n, sizeof(*s->actions));
    for (size_t i = 0; i < n; i++) {
        json_t *item = single ? v : json_array_get(v, i);
        _cleanup_free_ char *ipath =
            single ? ims_xasprintf("%s.Action", path) : ims_xasprintf("%s.Action[%zu]", path, i);
        if (!json_is_string(item))
            return ims_fail(err, IMS_E_BADREQ, "%s: must be a string", ipath);
        const char *why = NULL;
        bool ok = compile_action(json_string_value(item), &s->actions[i], &why);
        s->nactions++; /* owns .text even when invalid */
        if (!ok)
            return ims_fail(err, IMS_E_BADREQ, "%s: invalid action '%.128s': %s", ipath, json_string_value(item),
                            why);
    }
    return IMS_OK;
}

/* service:region:account:type:path with '*' allowed (policy_syntax.md), or
 * the agency form {"uri": ["/iam/agencies/<id>", ...]} (custom policy API). */
static bool resource_valid(const char *r)
{
    size_t colons = 0;
    for (const char *p = r; *p; p++) {
        if ((unsigned char)*p < ' ')
            return false;
        colons += *p == ':';
    }
    return colons >= 4 && r[0] != ':';
}

static enum ims_rc add_resources(json_t *list, const char *lpath, bool uri, struct pol_stmt *s,
                                 struct ims_err *err)
{
    bool single = json_is_string(list);
    if (!single && !json_is_array(list))
        return ims_fail(err, IMS_E_BADREQ, "%s: must be a string or an array of strings", lpath);
    size_t n = single ? 1 : json_array_size(list);
    if (n == 0)
        return ims_fail(err, IMS_E_BADREQ, "%s: must not be empty", lpath);
    if (n > IMS_POLICY_MAX_RESOURCES)
        return ims_fail(err, IMS_E_BADREQ, "%s: more than %d resources", lpath, IMS_POLICY_MAX_RESOURCES);
    s->resources = ims_xcalloc(n, sizeof(*s->resources));
    for (size_t i = 0; i < n; i++) {
        json_t *item = single ? list : json_array_get(list, i);
        const char *r = json_string_value(item);
        bool ok = r && (uri ? r[0] == '/' && strlen(r) <= 128 : resource_valid(r));
        if (!ok)
            return ims_fail(err, IMS_E_BADREQ, "%s[%zu]: invalid resource%s", lpath, i,
                            uri ? " URI (\"/iam/agencies/<id>\", at most 128 characters)"
                                : " (service:region:account:type:path)");
        s->resources[s->nresources++] = ims_xstrdup(r);
    }
    return IMS_OK;
}

static enum ims_rc parse_resource(json_t *v, const char *path, struct pol_stmt *s, struct ims_err *err)
{
    _cleanup_free_ char *rpath = ims_xasprintf("%s.Resource", path);
    if (!json_is_object(v))
        return add_resources(v, rpath, false, s, err);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (strcmp(k, "uri") != 0)
            return ims_fail(err, IMS_E_BADREQ, "%s.%.64s: unknown field", rpath, k);
    }
    json_t *uri = json_object_get(v, "uri");
    if (!uri)
        return ims_fail(err, IMS_E_BADREQ, "%s.uri: missing", rpath);
    _cleanup_free_ char *upath = ims_xasprintf("%s.uri", rpath);
    return add_resources(uri, upath, true, s, err);
}

static enum ims_rc parse_statement(json_t *st, size_t idx, struct pol_stmt *s, struct ims_err *err)
{
    char path[32];
    snprintf(path, sizeof(path), "Statement[%zu]", idx);
    if (!json_is_object(st))
        return ims_fail(err, IMS_E_BADREQ, "%s: must be an object", path);
    const char *k;
    json_t *v;
    json_object_foreach(st, k, v)
    {
        if (strcmp(k, "Effect") != 0 && strcmp(k, "Action") != 0 && strcmp(k, "Condition") != 0 &&
            strcmp(k, "Resource") != 0)
            return ims_fail(err, IMS_E_BADREQ, "%s.%.64s: unknown field", path, k);
    }
    json_t *effect = json_object_get(st, "Effect");
    const char *e = json_string_value(effect);
    if (!effect)
        return ims_fail(err, IMS_E_BADREQ, "%s.Effect: missing", path);
    if (e && strcmp(e, "Allow") == 0)
        s->effect = IMS_EFFECT_ALLOW;
    else if (e && strcmp(e, "Deny") == 0)
        s->effect = IMS_EFFECT_DENY;
    else
        return ims_fail(err, IMS_E_BADREQ, "%s.Effect: must be \"Allow\" or \"Deny\"", path);

    enum ims_rc rc = parse_actions(json_object_get(st, "Action"), path, s, err);
    if (rc == IMS_OK)
        pol_stmt_index(s);
    if (rc == IMS_OK && (v = json_object_get(st, "Resource")))
        rc = parse_resource(v, path, s, err);
    if (rc == IMS_OK && (v = json_object_get(st, "Condition")))
        rc = pol_conditions_parse(v, path, &s->conds, &s->nconds, err);
    return rc;
}

/* "Depends": [{"catalog": "BASE", "display_name": "Tenant Guest"}]: the
 * roles the console attaches along with a 1.0 role. */
static enum ims_rc parse_depends(json_t *v, struct ims_policy *p, struct ims_err *err)
{
    if (!json_is_array(v))
        return ims_fail(err, IMS_E_BADREQ, "Depends: must be an array");
    size_t n = json_array_size(v);
    if (n > IMS_POLICY_MAX_STATEMENTS)
        return ims_fail(err, IMS_E_BADREQ, "Depends: more than %d roles", IMS_POLICY_MAX_STATEMENTS);
    p->depends = ims_xcalloc(n ? n : 1, sizeof(*p->depends));
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(v, i);
        if (!json_is_object(d))
            return ims_fail(err, IMS_E_BADREQ, "Depends[%zu]: must be an object", i);
        const char *k;
        json_t *x;
        json_object_foreach(d, k, x)
        {
            if (strcmp(k, "catalog") != 0 && strcmp(k, "display_name") != 0)
                return ims_fail(err, IMS_E_BADREQ, "Depends[%zu].%.64s: unknown field", i, k);
            if (!json_is_string(x))
                return ims_fail(err, IMS_E_BADREQ, "Depends[%zu].%s: must be a string", i, k);
        }
        const char *name = json_string_value(json_object_get(d, "display_name"));
        if (!name || !*name)
            return ims_fail(err, IMS_E_BADREQ, "Depends[%zu].display_name: missing", i);
        p->depends[p->ndepends++] = ims_xstrdup(name);
    }
    return IMS_OK;
}

static enum ims_rc parse_document(json_t *doc, struct ims_policy *p, struct ims_err *err)
{
    if (!json_is_object(doc))
        return ims_fail(err, IMS_E_BADREQ, "policy document must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Statement") != 0 && strcmp(k, "Depends") != 0)
            return ims_fail(err, IMS_E_BADREQ, "%.64s: unknown field", k);
    }
    json_t *version = json_object_get(doc, "Version");
    const char *ver = json_string_value(version);
    if (!version)
        return ims_fail(err, IMS_E_BADREQ, "Version: missing");
    if (!ver || (strcmp(ver, "1.0") != 0 && strcmp(ver, "1.1") != 0))
        return ims_fail(err, IMS_E_BADREQ, "Version: must be \"1.0\" or \"1.1\"");
    memcpy(p->version, ver, 4);

    if ((v = json_object_get(doc, "Depends"))) {
        if (strcmp(ver, "1.0") != 0)
            return ims_fail(err, IMS_E_BADREQ, "Depends: only allowed in Version \"1.0\" role documents");
        enum ims_rc rc = parse_depends(v, p, err);
        if (rc != IMS_OK)
            return rc;
    }

    json_t *stmts = json_object_get(doc, "Statement");
    if (!stmts)
        return ims_fail(err, IMS_E_BADREQ, "Statement: missing");
    if (!json_is_array(stmts))
        return ims_fail(err, IMS_E_BADREQ, "Statement: must be an array");
    size_t n = json_array_size(stmts);
    if (n == 0)
        return ims_fail(err, IMS_E_BADREQ, "Statement: must not be empty");
    if (n > IMS_POLICY_MAX_STATEMENTS)
        return ims_fail(err, IMS_E_BADREQ, "Statement: more than %d statements", IMS_POLICY_MAX_STATEMENTS);
    p->stmts = ims_xcalloc(n, sizeof(*p->stmts));
    for (size_t i = 0; i < n; i++) {
        enum ims_rc rc = parse_statement(json_array_get(stmts, i), i, &p->stmts[i], err);
        p->nstmts++; /* whatever was filled in is freed with p */
        if (rc != IMS_OK)
            return rc;
        p->has_deny = p->has_deny || p->stmts[i].effect == IMS_EFFECT_DENY;
    }
    return IMS_OK;
}

enum ims_rc ims_policy_parse(const char *json, size_t len, struct ims_policy **ret, struct ims_err *err)
{
    *ret = NULL;
    if (!json)
        return ims_fail(err, IMS_E_BADREQ, "policy document missing");
    if (len > IMS_POLICY_MAX_BYTES)
        return ims_fail(err, IMS_E_BADREQ, "policy document is %zu bytes, more than %d", len, IMS_POLICY_MAX_BYTES);
    /* Duplicate keys would let a reviewer read one Effect and the engine
     * another; jansson would silently keep the last. */
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return ims_fail(err, IMS_E_BADREQ, "invalid JSON at line %d, column %d: %.200s", jerr.line, jerr.column,
                        jerr.text);
    _cleanup_(policyp) struct ims_policy *p = ims_xcalloc(1, sizeof(*p));
    enum ims_rc rc = parse_document(doc, p, err);
    json_decref(doc);
    if (rc != IMS_OK)
        return rc;
    *ret = IMS_TAKE_PTR(p);
    return IMS_OK;
}
