/* SPDX-License-Identifier: Apache-2.0
 * Glance v2 metadata definitions: namespaces, their objects, properties,
 * tags and resource type associations, and the resource types, in the
 * documents Glance 25 answers with (members left out when Glance leaves
 * them out, so glanceclient's models validate them against the schemas
 * of GET /v2/schemas/metadefs/...). The rules are core's
 * (lib/core/metadefs.c); the bodies are parsed by lib/query/metadef.c. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/kv.h"
#include "ims/metadefs.h"

#define NS_BASE "/v2/metadefs/namespaces"
#define LIST_LIMIT_DEFAULT 25 /* Glance's limit_param_default */
#define LIST_LIMIT_MAX 1000   /* Glance's api_limit_max */

static const char *body_data(struct ims_request *req) { return req->body.data ? req->body.data : ""; }

static void kstr_opt(struct ims_jw *w, const char *k, const char *v)
{
    if (v)
        ims_jw_kstr(w, k, v);
}

static void times(struct ims_jw *w, int64_t created, int64_t updated)
{
    char t[21];
    ims_time_iso(created, t);
    ims_jw_kstr(w, "created_at", t);
    ims_time_iso(updated, t);
    ims_jw_kstr(w, "updated_at", t);
}

/* "/v2/metadefs/namespaces/<ns>[/<kind>/<name>]", names percent-encoded. */
static void href(struct ims_jw *w, const char *ns, const char *kind, const char *name)
{
    struct ims_buf b;
    ims_buf_init(&b, 4096);
    ims_buf_adds(&b, NS_BASE "/");
    api_url_encode(&b, ns);
    if (kind) {
        ims_buf_printf(&b, "/%s/", kind);
        api_url_encode(&b, name);
    }
    ims_jw_kstr(w, "self", b.data);
    ims_buf_release(&b);
}

static void assoc_json(struct ims_jw *w, const struct ims_md_assoc *a)
{
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "name", a->name);
    kstr_opt(w, "prefix", a->prefix);
    kstr_opt(w, "properties_target", a->properties_target);
    times(w, a->created_at, a->updated_at);
    ims_jw_obj_end(w);
}

/* A stored property map, its names prefixed for a resource type. */
static void property_map_json(struct ims_jw *w, const char *map, const char *prefix)
{
    char *prefixed = prefix && *prefix ? ims_md_prefix_names(map, prefix) : NULL;
    const char *s = prefixed ? prefixed : map;
    ims_jw_raw(w, s, strlen(s));
    free(prefixed);
}

static void object_json(struct ims_jw *w, const char *ns, const struct ims_md_object *o, const char *prefix)
{
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "name", o->name);
    kstr_opt(w, "description", o->description);
    if (o->required) {
        ims_jw_key(w, "required");
        ims_jw_raw(w, o->required, strlen(o->required));
    }
    if (o->properties) {
        ims_jw_key(w, "properties");
        property_map_json(w, o->properties, prefix);
    }
    times(w, o->created_at, o->updated_at);
    href(w, ns, "objects", o->name);
    ims_jw_kstr(w, "schema", "/v2/schemas/metadefs/object");
    ims_jw_obj_end(w);
}

static void tag_json(struct ims_jw *w, const struct ims_md_tag *t)
{
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "name", t->name);
    times(w, t->created_at, t->updated_at);
    ims_jw_obj_end(w);
}

/* The properties of a namespace as one map {name: definition}. */
static void properties_json(struct ims_jw *w, const struct ims_md_property *p, size_t n, const char *prefix)
{
    ims_jw_obj_begin(w);
    for (size_t i = 0; i < n; i++) {
        struct ims_buf k;
        ims_buf_init(&k, 1024);
        ims_buf_printf(&k, "%s%s", prefix ? prefix : "", p[i].name);
        ims_jw_key(w, k.data);
        ims_buf_release(&k);
        ims_jw_raw(w, p[i].schema, strlen(p[i].schema));
    }
    ims_jw_obj_end(w);
}

static void assocs_json(struct ims_jw *w, const struct ims_md_doc *d)
{
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < d->nassocs; i++)
        assoc_json(w, &d->assocs[i]);
    ims_jw_arr_end(w);
}

static void objects_json(struct ims_jw *w, const char *ns, const struct ims_md_doc *d, const char *prefix)
{
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < d->nobjects; i++)
        object_json(w, ns, &d->objects[i], prefix);
    ims_jw_arr_end(w);
}

/* Tags by name alone (a namespace's, those POST .../tags added). */
static void tag_names_json(struct ims_jw *w, const struct ims_md_tag *t, size_t n)
{
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        ims_jw_obj_begin(w);
        ims_jw_kstr(w, "name", t[i].name);
        ims_jw_obj_end(w);
    }
    ims_jw_arr_end(w);
}

/* The namespace document; prefix: the resource type's (GET ?resource_type=). */
static void namespace_json(struct ims_jw *w, const struct ims_md_doc *d, bool contents, const char *prefix)
{
    const struct ims_md_namespace *ns = &d->ns;
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "namespace", ns->name);
    kstr_opt(w, "display_name", ns->display_name);
    kstr_opt(w, "description", ns->description);
    ims_jw_kstr(w, "visibility", ns->is_public ? "public" : "private");
    ims_jw_kbool(w, "protected", ns->is_protected);
    ims_jw_kstr(w, "owner", ns->owner);
    times(w, ns->created_at, ns->updated_at);
    if (d->nassocs) {
        ims_jw_key(w, "resource_type_associations");
        assocs_json(w, d);
    }
    if (contents && d->nprops) {
        ims_jw_key(w, "properties");
        properties_json(w, d->props, d->nprops, prefix);
    }
    if (contents && d->nobjects) {
        ims_jw_key(w, "objects");
        objects_json(w, ns->name, d, prefix);
    }
    if (contents && d->ntags) {
        ims_jw_key(w, "tags");
        tag_names_json(w, d->tags, d->ntags);
    }
    href(w, ns->name, NULL, NULL);
    ims_jw_kstr(w, "schema", "/v2/schemas/metadefs/namespace");
    ims_jw_obj_end(w);
}

/* {ns} of the path, checked as a name; NULL after answering 404 (Glance
 * cannot have such a namespace either). */
static const char *path_name(struct ims_request *req, size_t i, size_t max)
{
    const char *s = ims_req_param(req, i);
    if (!ims_md_name_valid(s, max)) {
        struct ims_err err;
        ims_fail(&err, IMS_E_NOTFOUND, "Metadata definition not found: the name is not a valid one.");
        api_fail(req, IMS_E_NOTFOUND, &err);
        return NULL;
    }
    return s;
}

static bool ok_or_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err)
{
    if (rc != IMS_OK)
        api_fail(req, rc, err);
    return rc == IMS_OK;
}

/* ---- namespaces ---- */

static bool list_query(struct ims_request *req, struct ims_md_list_query *q, struct ims_strlist *rts,
                       const char **marker)
{
    struct ims_err err = {0};
    const char *limit = ims_kvlist_get(&req->query, "limit");
    const char *key = ims_kvlist_get(&req->query, "sort_key");
    const char *dir = ims_kvlist_get(&req->query, "sort_dir");
    const char *vis = ims_kvlist_get(&req->query, "visibility");
    const char *types = ims_kvlist_get(&req->query, "resource_types");
    *q = (struct ims_md_list_query){.limit = LIST_LIMIT_DEFAULT, .visibility = -1};
    int64_t n = 0;
    if (limit && !ims_parse_i64(limit, 0, INT64_MAX, &n))
        return ok_or_fail(req, ims_fail(&err, IMS_E_BADREQ, "limit param must be a positive integer"), &err);
    if (limit)
        q->limit = n < LIST_LIMIT_MAX ? n : LIST_LIMIT_MAX;
    if (key && strcmp(key, "created_at") && strcmp(key, "namespace"))
        return ok_or_fail(req, ims_fail(&err, IMS_E_BADREQ, "Invalid sort key: %.80s. It must be one of created_at, namespace.", key), &err);
    q->by_name = key && !strcmp(key, "namespace");
    if (dir && strcmp(dir, "asc") && strcmp(dir, "desc"))
        return ok_or_fail(req, ims_fail(&err, IMS_E_BADREQ, "Invalid sort direction: %.16s", dir), &err);
    q->asc = dir && !strcmp(dir, "asc");
    if (vis && *vis && strcmp(vis, "public") && strcmp(vis, "private"))
        return ok_or_fail(req, ims_fail(&err, IMS_E_BADREQ, "Invalid visibility value: %.16s", vis), &err);
    if (vis && *vis)
        q->visibility = !strcmp(vis, "public");
    if (types && *types) {
        char *copy = ims_xstrdup(types);
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ')
                t++;
            if (*t)
                ims_strlist_add(rts, t);
        }
        free(copy);
        if (rts->n > 32)
            return ok_or_fail(req, ims_fail(&err, IMS_E_BADREQ, "At most 32 resource_types in one list."), &err);
        q->resource_types = rts;
    }
    *marker = ims_kvlist_get(&req->query, "marker");
    return true;
}

static void namespaces_list(struct ims_request *req)
{
    struct ims_md_list_query q;
    struct ims_strlist rts = {0};
    const char *marker = NULL;
    if (!list_query(req, &q, &rts, &marker)) {
        ims_strlist_release(&rts);
        return;
    }
    struct ims_err err = {0};
    struct ims_md_doc *docs = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_md_namespace_list(req->svc, req->principal, &q, marker, &docs, &n, &err);
    ims_strlist_release(&rts);
    if (!ok_or_fail(req, rc, &err))
        return;
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "namespaces");
    for (size_t i = 0; i < n; i++)
        namespace_json(&w, &docs[i], false, NULL);
    ims_jw_arr_end(&w);
    struct ims_buf qs, link;
    ims_buf_init(&qs, 64 * 1024);
    api_link_query(&qs, &req->query);
    ims_buf_init(&link, 128 * 1024);
    ims_buf_printf(&link, NS_BASE "%s", qs.len ? qs.data : "");
    ims_jw_kstr(&w, "first", link.data);
    if (n > 0 && (int64_t)n == q.limit) {
        ims_buf_adds(&link, qs.len ? "&marker=" : "?marker=");
        api_url_encode(&link, docs[n - 1].ns.name);
        ims_jw_kstr(&w, "next", link.data);
    }
    ims_jw_kstr(&w, "schema", "/v2/schemas/metadefs/namespaces");
    ims_jw_obj_end(&w);
    ims_buf_release(&link);
    ims_buf_release(&qs);
    ims_md_doc_array_free(docs, n);
}

void api_md_namespaces(struct ims_request *req)
{
    if (req->method == IMS_GET) {
        namespaces_list(req);
        return;
    }
    struct ims_err err = {0};
    struct ims_md_doc doc;
    enum ims_rc rc = ims_md_doc_parse(body_data(req), req->body.len, &doc, &err);
    if (!ok_or_fail(req, rc, &err))
        return;
    rc = ims_md_namespace_create(req->svc, req->principal, &doc, &err);
    if (ok_or_fail(req, rc, &err)) {
        struct ims_buf loc;
        ims_buf_init(&loc, 1024);
        ims_buf_adds(&loc, NS_BASE "/");
        api_url_encode(&loc, doc.ns.name);
        ims_resp_header(req, "Location", loc.data);
        ims_buf_release(&loc);
        struct ims_jw w;
        ims_jw_init(&w, ims_resp_json_buf(req, 201));
        namespace_json(&w, &doc, true, NULL);
    }
    ims_md_doc_release(&doc);
}

/* The prefix of the namespace's association with resource type rt, if any. */
static const char *prefix_for(const struct ims_md_doc *d, const char *rt)
{
    for (size_t i = 0; rt && i < d->nassocs; i++)
        if (!strcmp(d->assocs[i].name, rt))
            return d->assocs[i].prefix;
    return NULL;
}

void api_md_namespace(struct ims_request *req)
{
    const char *name = path_name(req, 0, IMS_MD_NAMESPACE_MAX);
    if (!name)
        return;
    struct ims_err err = {0};
    enum ims_rc rc;
    if (req->method == IMS_DELETE) {
        rc = ims_md_namespace_delete(req->svc, req->principal, name, &err);
        if (ok_or_fail(req, rc, &err))
            ims_resp_empty(req, 204);
        return;
    }
    struct ims_jw w;
    if (req->method == IMS_PUT) {
        struct ims_md_doc in;
        rc = ims_md_doc_parse(body_data(req), req->body.len, &in, &err);
        if (!ok_or_fail(req, rc, &err))
            return;
        struct ims_md_doc out = {0};
        rc = ims_md_namespace_update(req->svc, req->principal, name, &in.ns, in.ns.owner != NULL, &out.ns, &err);
        ims_md_doc_release(&in);
        if (ok_or_fail(req, rc, &err)) {
            ims_jw_init(&w, ims_resp_json_buf(req, 200));
            namespace_json(&w, &out, false, NULL);
        }
        ims_md_doc_release(&out);
        return;
    }
    struct ims_md_doc d;
    rc = ims_md_namespace_show(req->svc, req->principal, name, &d, &err);
    if (!ok_or_fail(req, rc, &err))
        return;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    namespace_json(&w, &d, true, prefix_for(&d, ims_kvlist_get(&req->query, "resource_type")));
    ims_md_doc_release(&d);
}

/* ---- objects, properties, tags, associations ---- */

/* One object, property or tag: the item handlers of the three kinds are one
 * path, told apart only where Glance tells them apart (the kind's parser,
 * document and record). */
union md_item {
    struct ims_md_object o;
    struct ims_md_property p;
    struct ims_md_tag t;
};

static enum ims_rc item_parse(struct ims_request *req, enum ims_md_kind kind, union md_item *ret, struct ims_err *err)
{
    if (kind == IMS_MD_OBJECTS)
        return ims_md_object_parse(body_data(req), req->body.len, &ret->o, err);
    if (kind == IMS_MD_PROPERTIES)
        return ims_md_property_parse(body_data(req), req->body.len, &ret->p, err);
    return ims_md_tag_parse(body_data(req), req->body.len, &ret->t, err);
}

static const char *item_name(enum ims_md_kind kind, const union md_item *it)
{
    return kind == IMS_MD_OBJECTS ? it->o.name : kind == IMS_MD_PROPERTIES ? it->p.name : it->t.name;
}

static void item_release(enum ims_md_kind kind, union md_item *it)
{
    if (kind == IMS_MD_OBJECTS)
        ims_md_object_release(&it->o);
    else if (kind == IMS_MD_PROPERTIES)
        ims_md_property_release(&it->p);
    else
        ims_md_tag_release(&it->t);
}

/* A property as Glance shows one: its definition with its name first. */
static void property_json(struct ims_jw *w, const struct ims_md_property *p, const char *name)
{
    /* schema is a canonical JSON object: "{...}" or "{}" */
    size_t n = strlen(p->schema);
    struct ims_buf b;
    ims_buf_init(&b, n + 1024);
    struct ims_jw kw;
    ims_jw_init(&kw, &b);
    ims_jw_obj_begin(&kw);
    ims_jw_kstr(&kw, "name", name);
    ims_jw_obj_end(&kw);
    /* {"name":"x"} + the definition's members */
    b.len--; /* drop '}' */
    if (n > 2) {
        ims_buf_addc(&b, ',');
        ims_buf_add(&b, p->schema + 1, n - 1);
    } else {
        ims_buf_addc(&b, '}');
    }
    ims_jw_raw(w, b.data, b.len);
    ims_buf_release(&b);
}

/* The answer with one item; shown: the name the client knows it by (a
 * property's may carry a resource type's prefix). */
static void item_answer(struct ims_request *req, int status, const char *ns, enum ims_md_kind kind,
                        const union md_item *it, const char *shown)
{
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    if (kind == IMS_MD_OBJECTS)
        object_json(&w, ns, &it->o, NULL);
    else if (kind == IMS_MD_PROPERTIES)
        property_json(&w, &it->p, shown);
    else
        tag_json(&w, &it->t);
}

/* GET of a namespace's items of one kind (and their namespace's rules). */
static void contents_list(struct ims_request *req, const char *ns, enum ims_md_kind kind)
{
    struct ims_err err = {0};
    struct ims_md_doc d;
    if (!ok_or_fail(req, ims_md_namespace_contents(req->svc, req->principal, ns, &d, &err), &err))
        return;
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    if (kind == IMS_MD_OBJECTS) {
        ims_jw_key(&w, "objects");
        objects_json(&w, ns, &d, NULL);
        ims_jw_kstr(&w, "schema", "v2/schemas/metadefs/objects");
    } else if (kind == IMS_MD_PROPERTIES) {
        ims_jw_key(&w, "properties");
        properties_json(&w, d.props, d.nprops, NULL);
    } else if (kind == IMS_MD_TAGS) {
        ims_jw_key(&w, "tags");
        ims_jw_arr_begin(&w);
        for (size_t i = 0; i < d.ntags; i++)
            tag_json(&w, &d.tags[i]);
        ims_jw_arr_end(&w);
    } else {
        ims_jw_key(&w, "resource_type_associations");
        assocs_json(&w, &d);
    }
    ims_jw_obj_end(&w);
    ims_md_doc_release(&d);
}

/* POST of one object or property: added, then shown (an object as stored,
 * a property as sent: its definition is all there is of it). */
static void item_create(struct ims_request *req, const char *ns, enum ims_md_kind kind)
{
    struct ims_err err = {0};
    union md_item in = {0}, out = {0};
    bool reread = kind == IMS_MD_OBJECTS;
    enum ims_rc rc = item_parse(req, kind, &in, &err);
    if (rc == IMS_OK)
        rc = ims_md_item_put(req->svc, req->principal, ns, kind, NULL, &in, &err);
    if (rc == IMS_OK && reread)
        rc = ims_md_item_get(req->svc, req->principal, ns, kind, item_name(kind, &in), &out, &err);
    if (ok_or_fail(req, rc, &err))
        item_answer(req, 201, ns, kind, reread ? &out : &in, item_name(kind, &in));
    item_release(kind, &in);
    item_release(kind, &out);
}

/* POST .../tags: every tag of the body added (or replacing all), their names shown. */
static void tags_add(struct ims_request *req, const char *ns)
{
    struct ims_err err = {0};
    struct ims_md_tag *tags = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_md_tags_parse(body_data(req), req->body.len, &tags, &n, &err);
    if (!ok_or_fail(req, rc, &err))
        return;
    const char *append = ims_req_header(req, "X-Openstack-Append");
    bool appending = append && (!strcasecmp(append, "true") || !strcasecmp(append, "1") ||
                                !strcasecmp(append, "yes") || !strcasecmp(append, "on"));
    rc = ims_md_tags_add(req->svc, req->principal, ns, tags, n, appending, &err);
    if (ok_or_fail(req, rc, &err)) {
        struct ims_jw w;
        ims_jw_init(&w, ims_resp_json_buf(req, 201));
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, "tags");
        tag_names_json(&w, tags, n);
        ims_jw_obj_end(&w);
    }
    for (size_t i = 0; i < n; i++)
        ims_md_tag_release(&tags[i]);
    free(tags);
}

/* POST .../resource_types: the association as stored. */
static void assoc_create(struct ims_request *req, const char *ns)
{
    struct ims_err err = {0};
    struct ims_md_assoc a;
    enum ims_rc rc = ims_md_assoc_parse(body_data(req), req->body.len, &a, &err);
    if (!ok_or_fail(req, rc, &err))
        return;
    rc = ims_md_item_put(req->svc, req->principal, ns, IMS_MD_ASSOCS, NULL, &a, &err);
    struct ims_md_doc d = {0};
    if (rc == IMS_OK)
        rc = ims_md_namespace_contents(req->svc, req->principal, ns, &d, &err);
    const struct ims_md_assoc *made = NULL;
    for (size_t i = 0; rc == IMS_OK && i < d.nassocs && !made; i++)
        if (!strcmp(d.assocs[i].name, a.name))
            made = &d.assocs[i];
    if (rc == IMS_OK && !made)
        rc = ims_fail(&err, IMS_E_CONFLICT, "The association was removed by another request.");
    if (ok_or_fail(req, rc, &err)) {
        struct ims_jw w;
        ims_jw_init(&w, ims_resp_json_buf(req, 201));
        assoc_json(&w, made);
    }
    ims_md_doc_release(&d);
    ims_md_assoc_release(&a);
}

/* GET, POST and DELETE (every item of the kind) of a namespace's objects,
 * properties, tags or associations, as the route table allows them. */
static void collection_call(struct ims_request *req, enum ims_md_kind kind)
{
    const char *ns = path_name(req, 0, IMS_MD_NAMESPACE_MAX);
    if (!ns)
        return;
    if (req->method == IMS_DELETE) {
        struct ims_err err = {0};
        if (ok_or_fail(req, ims_md_contents_delete(req->svc, req->principal, ns, kind, &err), &err))
            ims_resp_empty(req, 204);
    } else if (req->method == IMS_POST && kind == IMS_MD_TAGS) {
        tags_add(req, ns);
    } else if (req->method == IMS_POST && kind == IMS_MD_ASSOCS) {
        assoc_create(req, ns);
    } else if (req->method == IMS_POST) {
        item_create(req, ns, kind);
    } else {
        contents_list(req, ns, kind);
    }
}

/* On GET ?resource_type=, the prefix of that association a property's name
 * carries (NULL: the namespace has no such association, names as they are),
 * kept in d; IMS_E_NOTFOUND when the name does not start with it. */
static enum ims_rc property_prefix(struct ims_request *req, const char *ns, const char *name, struct ims_md_doc *d,
                                   const char **prefix, struct ims_err *err)
{
    const char *rt = ims_kvlist_get(&req->query, "resource_type");
    if (!rt || !*rt)
        return IMS_OK;
    enum ims_rc rc = ims_md_namespace_contents(req->svc, req->principal, ns, d, err);
    if (rc != IMS_OK)
        return rc;
    *prefix = prefix_for(d, rt);
    if (*prefix && !ims_str_startswith(name, *prefix))
        return ims_fail(err, IMS_E_NOTFOUND, "Property %.255s does not start with the expected resource type "
                                             "association prefix of '%.80s'.", name, *prefix);
    return IMS_OK;
}

/* GET, PUT (replace or rename) and DELETE of one object, property, tag or
 * association (DELETE only), and POST of a tag by name: after a write the
 * item is shown as stored. */
static void item_call(struct ims_request *req, enum ims_md_kind kind)
{
    const char *ns = path_name(req, 0, IMS_MD_NAMESPACE_MAX);
    const char *name = ns ? path_name(req, 1, kind == IMS_MD_ASSOCS ? IMS_MD_RT_MAX : IMS_MD_NAME_MAX) : NULL;
    if (!name)
        return;
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    if (req->method == IMS_DELETE) {
        rc = ims_md_item_delete(req->svc, req->principal, ns, kind, name, &err);
        if (ok_or_fail(req, rc, &err))
            ims_resp_empty(req, 204);
        return;
    }
    int status = 200;
    const char *shown = name;
    union md_item in = {0}, out = {0};
    if (req->method == IMS_POST) { /* POST .../tags/{name}: a new tag of that name, no body */
        in.t.name = ims_xstrdup(name);
        rc = ims_md_item_put(req->svc, req->principal, ns, kind, NULL, &in, &err);
        status = 201;
    } else if (req->method == IMS_PUT) { /* replace, or rename */
        rc = item_parse(req, kind, &in, &err);
        if (rc == IMS_OK)
            rc = ims_md_item_put(req->svc, req->principal, ns, kind, name, &in, &err);
        shown = item_name(kind, &in);
    }
    const char *prefix = NULL;
    struct ims_md_doc d = {0};
    if (rc == IMS_OK && kind == IMS_MD_PROPERTIES && req->method == IMS_GET)
        rc = property_prefix(req, ns, name, &d, &prefix, &err);
    if (rc == IMS_OK)
        rc = ims_md_item_get(req->svc, req->principal, ns, kind, shown + (prefix ? strlen(prefix) : 0), &out, &err);
    if (ok_or_fail(req, rc, &err))
        item_answer(req, status, ns, kind, &out, shown);
    ims_md_doc_release(&d);
    item_release(kind, &in);
    item_release(kind, &out);
}

void api_md_objects(struct ims_request *req) { collection_call(req, IMS_MD_OBJECTS); }
void api_md_object(struct ims_request *req) { item_call(req, IMS_MD_OBJECTS); }
void api_md_properties(struct ims_request *req) { collection_call(req, IMS_MD_PROPERTIES); }
void api_md_property(struct ims_request *req) { item_call(req, IMS_MD_PROPERTIES); }
void api_md_tags(struct ims_request *req) { collection_call(req, IMS_MD_TAGS); }
void api_md_tag(struct ims_request *req) { item_call(req, IMS_MD_TAGS); }
void api_md_assocs(struct ims_request *req) { collection_call(req, IMS_MD_ASSOCS); }
void api_md_assoc(struct ims_request *req) { item_call(req, IMS_MD_ASSOCS); }

/* ---- resource types ---- */

void api_md_resource_types(struct ims_request *req)
{
    struct ims_err err = {0};
    struct ims_md_resource_type *r = NULL;
    size_t n = 0;
    if (!ok_or_fail(req, ims_md_resource_types(req->svc, &r, &n, &err), &err))
        return;
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "resource_types");
    for (size_t i = 0; i < n; i++) {
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "name", r[i].name);
        times(&w, r[i].created_at, r[i].updated_at);
        ims_jw_obj_end(&w);
    }
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_md_resource_type_array_free(r, n);
}
