/* SPDX-License-Identifier: Apache-2.0
 * Metadata definitions: the records' lifecycle and the parsers of what
 * clients send (namespace, object, property, tag and association bodies,
 * and the namespace files imsctl loads). Pure: bytes in, records out.
 * Each member is checked by kind and length the way Glance's schemas do;
 * a property definition is rebuilt member by member (Glance's model keeps
 * nothing else), so stored JSON is canonical and bounded. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ims/metadef.h"
#include "query-int.h"

#define BAD(...) ims_fail(err, IMS_E_BADREQ, __VA_ARGS__)
#define LIST_MAX 1000 /* enum values, operators, required names */

void ims_md_namespace_release(struct ims_md_namespace *ns)
{
    free(ns->name);
    free(ns->display_name);
    free(ns->description);
    free(ns->owner);
    *ns = (struct ims_md_namespace){0};
}

void ims_md_property_release(struct ims_md_property *p)
{
    free(p->name);
    free(p->schema);
    *p = (struct ims_md_property){0};
}

void ims_md_object_release(struct ims_md_object *o)
{
    free(o->name);
    free(o->description);
    free(o->required);
    free(o->properties);
    *o = (struct ims_md_object){0};
}

void ims_md_tag_release(struct ims_md_tag *t)
{
    free(t->name);
    *t = (struct ims_md_tag){0};
}

void ims_md_assoc_release(struct ims_md_assoc *a)
{
    free(a->name);
    free(a->prefix);
    free(a->properties_target);
    *a = (struct ims_md_assoc){0};
}

void ims_md_resource_type_release(struct ims_md_resource_type *r)
{
    free(r->name);
    *r = (struct ims_md_resource_type){0};
}

void ims_md_doc_release(struct ims_md_doc *d)
{
    ims_md_namespace_release(&d->ns);
    for (size_t i = 0; i < d->nassocs; i++)
        ims_md_assoc_release(&d->assocs[i]);
    for (size_t i = 0; i < d->nprops; i++)
        ims_md_property_release(&d->props[i]);
    for (size_t i = 0; i < d->nobjects; i++)
        ims_md_object_release(&d->objects[i]);
    for (size_t i = 0; i < d->ntags; i++)
        ims_md_tag_release(&d->tags[i]);
    free(d->assocs);
    free(d->props);
    free(d->objects);
    free(d->tags);
    *d = (struct ims_md_doc){0};
}

void ims_md_doc_array_free(struct ims_md_doc *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_md_doc_release(&d[i]);
    free(d);
}

bool ims_md_name_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= max && ims_text_valid(s) && !strchr(s, '/');
}

/* ---- members ---- */

/* A JSON string of at most max bytes without NUL; names must also be
 * ims_md_name_valid. */
static bool str_ok(json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    return s && strlen(s) == json_string_length(v) && strlen(s) <= max;
}

static bool get_text(json_t *o, const char *key, const char *what, size_t max, bool required, char **ret,
                     struct ims_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || (json_is_null(v) && !required))
        return required ? (BAD("'%s' is a required property of %s.", key, what), false) : true;
    if (!str_ok(v, max))
        return BAD("'%s' of %s must be a string of at most %zu bytes.", key, what, max), false;
    free(*ret);
    *ret = ims_xstrdup(json_string_value(v));
    return true;
}

static bool get_name(json_t *o, const char *key, const char *what, size_t max, char **ret, struct ims_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return BAD("'%s' is a required property of %s.", key, what), false;
    if (!str_ok(v, max) || !ims_md_name_valid(json_string_value(v), max))
        return BAD("'%s' of %s must be 1 to %zu bytes of text without '/' or control characters.", key, what,
                   max),
               false;
    *ret = ims_xstrdup(json_string_value(v));
    return true;
}

/* Members outside allowed (NULL-terminated) are refused; those in ignored
 * pass and are dropped (the read-only members of nested items a client
 * echoes back); those in readonly answer 403 as Glance does. */
static enum ims_rc members_ok(json_t *o, const char *what, const char *const *allowed, const char *const *ignored,
                              bool readonly_forbidden, struct ims_err *err)
{
    static const char *const readonly[] = {"self", "schema", "created_at", "updated_at", NULL};
    if (!json_is_object(o))
        return BAD("%s must be a JSON object.", what);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        for (const char *const *a = ignored; a && *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (known)
            continue;
        bool ro = false;
        for (const char *const *a = readonly; *a && !ro; a++)
            ro = strcmp(*a, key) == 0;
        if (ro && readonly_forbidden)
            return ims_fail(err, IMS_E_FORBIDDEN, "Attribute '%s' is read-only.", key);
        char name[72];
        snprintf(name, sizeof(name), "%s", ims_text_valid(key) && strlen(key) < 64 ? key : "?");
        return BAD("Additional properties are not allowed in %s ('%s' was unexpected).", what, name);
    }
    return IMS_OK;
}

static const char *const item_readonly[] = {"self", "schema", "created_at", "updated_at", NULL};

static bool type_ok(const char *t)
{
    static const char *const types[] = {"array", "boolean", "integer", "number", "object", "string", NULL};
    for (const char *const *p = types; *p; p++)
        if (t && strcmp(*p, t) == 0)
            return true;
    return false;
}

/* An array of up to LIST_MAX scalars (strings of text, numbers, booleans);
 * strings_only for name lists; unique when asked. */
static bool scalar_list(json_t *v, const char *key, const char *what, bool strings_only, bool unique,
                        struct ims_err *err)
{
    if (!json_is_array(v) || json_array_size(v) > LIST_MAX)
        return BAD("'%s' of %s must be an array of at most %d values.", key, what, LIST_MAX), false;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        bool ok = json_is_string(e) ? str_ok(e, IMS_MD_TEXT_MAX)
                                    : !strings_only && (json_is_number(e) || json_is_boolean(e));
        if (!ok)
            return BAD("'%s' of %s must hold %s.", key, what, strings_only ? "strings" : "strings, numbers or booleans"),
                   false;
        for (size_t k = 0; unique && k < i; k++)
            if (json_equal(e, json_array_get(v, k)))
                return BAD("'%s' of %s has non-unique elements.", key, what), false;
    }
    return true;
}

/* One property definition into a new canonical object (members in
 * Glance's model order); NULL after err. */
static json_t *property_def(json_t *p, const char *what, struct ims_err *err)
{
    static const char *const allowed[] = {"name", "type", "title", "description", "operators", "default",
                                          "readonly", "minimum", "maximum", "enum", "pattern", "minLength",
                                          "maxLength", "confidential", "items", "uniqueItems", "minItems",
                                          "maxItems", "additionalItems", "required", NULL};
    if (members_ok(p, what, allowed, NULL, false, err) != IMS_OK)
        return NULL;
    json_t *type = json_object_get(p, "type"), *title = json_object_get(p, "title");
    if (!type || !title)
        return BAD("%s needs 'title' and 'type'.", what), NULL;
    if (!json_is_string(type) || !type_ok(json_string_value(type)))
        return BAD("'type' of %s must be one of array, boolean, integer, number, object, string.", what), NULL;
    if (!str_ok(title, IMS_MD_TEXT_MAX))
        return BAD("'title' of %s must be a string.", what), NULL;
    json_t *out = json_object();
    for (const char *const *k = allowed + 1; *k; k++) {
        const char *key = *k;
        json_t *v = json_object_get(p, key);
        if (!v || strcmp(key, "required") == 0)
            continue; /* required: not part of Glance's property model, dropped */
        bool ok = true;
        if (!strcmp(key, "type") || !strcmp(key, "title") || !strcmp(key, "description") || !strcmp(key, "pattern"))
            ok = str_ok(v, IMS_MD_TEXT_MAX);
        else if (!strcmp(key, "operators"))
            ok = scalar_list(v, key, what, true, false, err);
        else if (!strcmp(key, "enum"))
            ok = scalar_list(v, key, what, false, false, err);
        else if (!strcmp(key, "default"))
            ok = (json_is_string(v) && str_ok(v, IMS_MD_TEXT_MAX)) || json_is_number(v) || json_is_boolean(v);
        else if (!strcmp(key, "readonly") || !strcmp(key, "confidential") || !strcmp(key, "uniqueItems") ||
                 !strcmp(key, "additionalItems"))
            ok = json_is_boolean(v);
        else if (!strcmp(key, "minimum") || !strcmp(key, "maximum"))
            ok = json_is_number(v);
        else if (!strcmp(key, "minLength") || !strcmp(key, "maxLength") || !strcmp(key, "minItems") ||
                 !strcmp(key, "maxItems"))
            ok = json_is_integer(v) && json_integer_value(v) >= 0;
        else if (!strcmp(key, "items")) {
            static const char *const item_allowed[] = {"type", "enum", NULL};
            char w[200];
            snprintf(w, sizeof(w), "'items' of %s", what);
            json_t *it = json_object_get(v, "type"), *en = json_object_get(v, "enum");
            if (members_ok(v, w, item_allowed, NULL, false, err) != IMS_OK ||
                (en && !scalar_list(en, "enum", w, false, false, err))) {
                json_decref(out);
                return NULL;
            }
            if (!json_is_string(it) || !type_ok(json_string_value(it))) {
                json_decref(out);
                return BAD("%s needs a 'type' (array, boolean, integer, number, object, string).", w), NULL;
            }
            json_t *copy = json_object();
            json_object_set(copy, "type", it);
            if (en)
                json_object_set(copy, "enum", en);
            json_object_set_new(out, key, copy);
            continue;
        }
        if (!ok) {
            /* operators and enum named their own fault */
            if (strcmp(key, "operators") && strcmp(key, "enum"))
                BAD("'%s' of %s has the wrong type.", key, what);
            json_decref(out);
            return NULL;
        }
        json_object_set(out, key, v);
    }
    return out;
}

static char *dump(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s)
        abort(); /* only allocation fails here */
    char *out = ims_xstrdup(s);
    free(s);
    return out;
}

/* A property map {name: definition} into canonical JSON text. */
static bool property_map(json_t *m, const char *what, size_t name_max, char **ret, size_t *ret_n,
                         struct ims_err *err)
{
    if (!json_is_object(m) || json_object_size(m) > IMS_MD_ITEMS_MAX)
        return BAD("'properties' of %s must be an object of at most %d properties.", what, IMS_MD_ITEMS_MAX), false;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(m, key, v)
    {
        if (!ims_md_name_valid(key, name_max)) {
            json_decref(out);
            return BAD("A property name of %s must be 1 to %zu bytes of text without '/'.", what, name_max), false;
        }
        char w[160];
        snprintf(w, sizeof(w), "property '%.64s' of %s", key, what);
        json_t *def = property_def(v, w, err);
        if (!def) {
            json_decref(out);
            return false;
        }
        json_object_del(def, "name");
        json_object_set_new(out, key, def);
    }
    *ret = dump(out);
    if (ret_n)
        *ret_n = json_object_size(out);
    json_decref(out);
    return true;
}

static json_t *load(const char *data, size_t len, struct ims_err *err)
{
    json_error_t je;
    json_t *body = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return ims_fail(err, IMS_E_BADREQ, "Malformed JSON in request body: %.120s.", je.text), NULL;
    return body;
}

static enum ims_rc object_from(json_t *o, const char *what, bool top, struct ims_md_object *ret,
                               struct ims_err *err)
{
    static const char *const allowed[] = {"name", "description", "required", "properties", NULL};
    struct ims_md_object ob = {0};
    enum ims_rc rc = members_ok(o, what, allowed, top ? NULL : item_readonly, top, err);
    if (rc != IMS_OK)
        return rc;
    bool ok = get_name(o, "name", what, IMS_MD_NAME_MAX, &ob.name, err) &&
              get_text(o, "description", what, IMS_MD_TEXT_MAX, false, &ob.description, err);
    json_t *req = json_object_get(o, "required");
    if (ok && req && !json_is_null(req)) {
        ok = scalar_list(req, "required", what, true, true, err);
        if (ok)
            ob.required = dump(req);
    }
    json_t *props = json_object_get(o, "properties");
    if (ok && props && !json_is_null(props))
        ok = property_map(props, what, IMS_MD_NAME_MAX, &ob.properties, NULL, err);
    if (!ok) {
        ims_md_object_release(&ob);
        return IMS_E_BADREQ;
    }
    *ret = ob;
    return IMS_OK;
}

static enum ims_rc assoc_from(json_t *a, const char *what, bool top, struct ims_md_assoc *ret, struct ims_err *err)
{
    static const char *const allowed[] = {"name", "prefix", "properties_target", NULL};
    struct ims_md_assoc as = {0};
    enum ims_rc rc = members_ok(a, what, allowed, top ? NULL : item_readonly, top, err);
    if (rc != IMS_OK)
        return rc;
    bool ok = get_name(a, "name", what, IMS_MD_RT_MAX, &as.name, err) &&
              get_text(a, "prefix", what, IMS_MD_RT_MAX, false, &as.prefix, err) &&
              get_text(a, "properties_target", what, IMS_MD_RT_MAX, false, &as.properties_target, err);
    if (ok && ((as.prefix && !ims_text_valid(as.prefix)) ||
               (as.properties_target && !ims_text_valid(as.properties_target))))
        ok = (BAD("'prefix' and 'properties_target' of %s must be text without control characters.", what), false);
    if (!ok) {
        ims_md_assoc_release(&as);
        return IMS_E_BADREQ;
    }
    *ret = as;
    return IMS_OK;
}

static enum ims_rc tag_from(json_t *t, const char *what, bool top, struct ims_md_tag *ret, struct ims_err *err)
{
    static const char *const allowed[] = {"name", NULL};
    struct ims_md_tag tg = {0};
    enum ims_rc rc = members_ok(t, what, allowed, top ? NULL : item_readonly, top, err);
    if (rc != IMS_OK)
        return rc;
    if (!get_name(t, "name", what, IMS_MD_NAME_MAX, &tg.name, err))
        return IMS_E_BADREQ;
    *ret = tg;
    return IMS_OK;
}

/* An array member of items parsed by `one`, names unique (409 as Glance's
 * duplicate). */
#define ITEMS(json, key, type, arr, n, one, namefield)                                                          \
    do {                                                                                                        \
        json_t *a_ = json_object_get((json), (key));                                                            \
        if (!a_ || json_is_null(a_))                                                                            \
            break;                                                                                              \
        if (!json_is_array(a_) || json_array_size(a_) > IMS_MD_ITEMS_MAX) {                                     \
            rc = BAD("'%s' must be an array of at most %d items.", (key), IMS_MD_ITEMS_MAX);                    \
            break;                                                                                              \
        }                                                                                                       \
        (arr) = ims_xcalloc(json_array_size(a_) + 1, sizeof(type));                                             \
        for (size_t i_ = 0; rc == IMS_OK && i_ < json_array_size(a_); i_++) {                                   \
            char w_[64];                                                                                        \
            snprintf(w_, sizeof(w_), "%s[%zu]", (key), i_);                                                     \
            rc = one(json_array_get(a_, i_), w_, false, &(arr)[i_], err);                                       \
            if (rc != IMS_OK)                                                                                   \
                break;                                                                                          \
            (n)++;                                                                                              \
            for (size_t k_ = 0; k_ < i_; k_++)                                                                  \
                if (strcmp((arr)[k_].namefield, (arr)[i_].namefield) == 0)                                      \
                    rc = ims_fail(err, IMS_E_CONFLICT, "Duplicate name '%s' in '%s'.", (arr)[i_].namefield,      \
                                  (key));                                                                       \
        }                                                                                                       \
    } while (0)

enum ims_rc ims_md_doc_parse(const char *data, size_t len, struct ims_md_doc *ret, struct ims_err *err)
{
    static const char *const allowed[] = {"namespace", "display_name", "description", "visibility", "protected",
                                          "owner", "resource_type_associations", "properties", "objects", "tags",
                                          NULL};
    json_t *body = load(data, len, err);
    if (!body)
        return IMS_E_BADREQ;
    struct ims_md_doc d = {0};
    enum ims_rc rc = IMS_OK;
    const char *what = "the namespace";
    char *vis = NULL;
    rc = members_ok(body, what, allowed, NULL, true, err);
    if (rc == IMS_OK && (!get_name(body, "namespace", what, IMS_MD_NAMESPACE_MAX, &d.ns.name, err) ||
        !get_text(body, "display_name", what, IMS_MD_NAMESPACE_MAX, false, &d.ns.display_name, err) ||
        !get_text(body, "description", what, IMS_MD_NS_DESCRIPTION_MAX, false, &d.ns.description, err) ||
        !get_text(body, "owner", what, IMS_MD_OWNER_MAX, false, &d.ns.owner, err) ||
        !get_text(body, "visibility", what, 16, false, &vis, err)))
        rc = IMS_E_BADREQ;
    if (rc == IMS_OK && d.ns.display_name && !ims_text_valid(d.ns.display_name))
        rc = BAD("'display_name' must be text without control characters.");
    if (rc == IMS_OK && d.ns.owner && (!d.ns.owner[0] || !ims_text_valid(d.ns.owner)))
        rc = BAD("'owner' must be 1 to %d bytes of text.", IMS_MD_OWNER_MAX);
    if (rc == IMS_OK && vis && strcmp(vis, "public") && strcmp(vis, "private"))
        rc = BAD("'visibility' must be one of public, private.");
    d.ns.is_public = vis && !strcmp(vis, "public");
    free(vis);
    json_t *prot = json_object_get(body, "protected");
    if (rc == IMS_OK && prot && !json_is_null(prot) && !json_is_boolean(prot))
        rc = BAD("'protected' must be a boolean.");
    d.ns.is_protected = json_is_true(prot);
    if (rc == IMS_OK)
        ITEMS(body, "resource_type_associations", struct ims_md_assoc, d.assocs, d.nassocs, assoc_from, name);
    if (rc == IMS_OK)
        ITEMS(body, "objects", struct ims_md_object, d.objects, d.nobjects, object_from, name);
    if (rc == IMS_OK)
        ITEMS(body, "tags", struct ims_md_tag, d.tags, d.ntags, tag_from, name);
    json_t *props = json_object_get(body, "properties");
    if (rc == IMS_OK && props && !json_is_null(props)) {
        char *map = NULL;
        if (!property_map(props, what, IMS_MD_NAME_MAX, &map, NULL, err)) {
            rc = IMS_E_BADREQ;
        } else {
            /* The canonical map, split into one record per property. */
            json_t *m = json_loads(map, 0, NULL);
            d.props = ims_xcalloc(json_object_size(m) + 1, sizeof(*d.props));
            const char *key;
            json_t *v;
            json_object_foreach(m, key, v)
            {
                d.props[d.nprops].name = ims_xstrdup(key);
                d.props[d.nprops++].schema = dump(v);
            }
            json_decref(m);
            free(map);
        }
    }
    json_decref(body);
    if (rc != IMS_OK) {
        ims_md_doc_release(&d);
        return rc;
    }
    *ret = d;
    return IMS_OK;
}

enum ims_rc ims_md_object_parse(const char *data, size_t len, struct ims_md_object *ret, struct ims_err *err)
{
    json_t *body = load(data, len, err);
    if (!body)
        return IMS_E_BADREQ;
    enum ims_rc rc = object_from(body, "the object", true, ret, err);
    json_decref(body);
    return rc;
}

enum ims_rc ims_md_property_parse(const char *data, size_t len, struct ims_md_property *ret, struct ims_err *err)
{
    json_t *body = load(data, len, err);
    if (!body)
        return IMS_E_BADREQ;
    struct ims_md_property p = {0};
    enum ims_rc rc = IMS_OK;
    static const char *const ro[] = {"self", "schema", "created_at", "updated_at", NULL};
    for (const char *const *k = ro; *k && rc == IMS_OK; k++)
        if (json_is_object(body) && json_object_get(body, *k))
            rc = ims_fail(err, IMS_E_FORBIDDEN, "Attribute '%s' is read-only.", *k);
    if (rc == IMS_OK && !json_is_object(body))
        rc = BAD("The property must be a JSON object.");
    if (rc == IMS_OK && !get_name(body, "name", "the property", IMS_MD_NAME_MAX, &p.name, err))
        rc = IMS_E_BADREQ;
    json_t *def = rc == IMS_OK ? property_def(body, "the property", err) : NULL;
    if (rc == IMS_OK && !def)
        rc = IMS_E_BADREQ;
    if (rc == IMS_OK) {
        json_object_del(def, "name");
        p.schema = dump(def);
        *ret = p;
    } else {
        ims_md_property_release(&p);
    }
    json_decref(def);
    json_decref(body);
    return rc;
}

enum ims_rc ims_md_assoc_parse(const char *data, size_t len, struct ims_md_assoc *ret, struct ims_err *err)
{
    json_t *body = load(data, len, err);
    if (!body)
        return IMS_E_BADREQ;
    enum ims_rc rc = assoc_from(body, "the resource type association", true, ret, err);
    json_decref(body);
    return rc;
}

enum ims_rc ims_md_tag_parse(const char *data, size_t len, struct ims_md_tag *ret, struct ims_err *err)
{
    json_t *body = load(data, len, err);
    if (!body)
        return IMS_E_BADREQ;
    enum ims_rc rc = tag_from(body, "the tag", true, ret, err);
    json_decref(body);
    return rc;
}

enum ims_rc ims_md_tags_parse(const char *data, size_t len, struct ims_md_tag **ret, size_t *ret_n,
                              struct ims_err *err)
{
    static const char *const allowed[] = {"tags", NULL};
    json_t *body = load(data, len, err);
    if (!body)
        return IMS_E_BADREQ;
    enum ims_rc rc = IMS_OK;
    struct ims_md_tag *tags = NULL;
    size_t n = 0;
    rc = members_ok(body, "the body", allowed, NULL, true, err);
    if (rc == IMS_OK && !json_is_array(json_object_get(body, "tags")))
        rc = BAD("'tags' is a required array.");
    if (rc == IMS_OK)
        ITEMS(body, "tags", struct ims_md_tag, tags, n, tag_from, name);
    json_decref(body);
    if (rc != IMS_OK) {
        for (size_t i = 0; i < n; i++)
            ims_md_tag_release(&tags[i]);
        free(tags);
        return rc;
    }
    if (!tags)
        tags = ims_xcalloc(1, sizeof(*tags));
    *ret = tags;
    *ret_n = n;
    return IMS_OK;
}

char *ims_md_prefix_names(const char *json, const char *prefix)
{
    json_t *m = json_loads(json ? json : "", 0, NULL);
    if (!json_is_object(m)) {
        json_decref(m);
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(m, key, v)
    {
        size_t n = strlen(prefix) + strlen(key) + 1;
        char *k = ims_xmalloc(n);
        snprintf(k, n, "%s%s", prefix, key);
        json_object_set(out, k, v);
        free(k);
    }
    char *s = dump(out);
    json_decref(out);
    json_decref(m);
    return s;
}
