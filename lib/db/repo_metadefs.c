/* SPDX-License-Identifier: Apache-2.0
 * Metadata definitions' rows (migration 16): namespaces, their objects,
 * properties, tags and resource type associations, and resource types.
 * Every write of a namespace or of what it holds runs in one write
 * transaction that first moves the namespace's revision on condition
 * that it is still the one the caller read, so a write based on a stale
 * read changes nothing (IMS_E_CONFLICT). */
#include <stdio.h>
#include <string.h>

#include "db-int.h"
#include "ims/kv.h"

#define NS_COLS "id, namespace, display_name, description, visibility, protected, owner, created_at, updated_at, revision"
#define RT_FILTER_MAX 32 /* resource types one list may filter on (the API refuses more) */

static void read_ns(struct ims_q *q, struct ims_md_namespace *ns)
{
    *ns = (struct ims_md_namespace){0};
    snprintf(ns->id, sizeof(ns->id), "%s", ims_q_col_text(q, 0) ? ims_q_col_text(q, 0) : "");
    ns->name = ims_q_col_dup(q, 1);
    ns->display_name = ims_q_col_dup(q, 2);
    ns->description = ims_q_col_dup(q, 3);
    ns->is_public = ims_streq(ims_q_col_text(q, 4), "public");
    ns->is_protected = ims_q_col_int(q, 5) != 0;
    ns->owner = ims_q_col_dup(q, 6);
    ns->created_at = ims_q_col_int(q, 7);
    ns->updated_at = ims_q_col_int(q, 8);
    ns->revision = ims_q_col_int(q, 9);
}

static void ns_row(struct ims_q *q, void *ret) { read_ns(q, ret); }

/* The one row q selects, read by `row` into ret; IMS_E_NOTFOUND without a
 * message (the caller names what) when there is none. Finishes q. */
static enum ims_rc one_row(struct ims_q *q, void (*row)(struct ims_q *, void *), void *ret, struct ims_err *err)
{
    enum ims_step st = ims_q_step(q);
    enum ims_rc rc = st == IMS_STEP_ROW ? IMS_OK : st == IMS_STEP_DONE ? IMS_E_NOTFOUND : ims_q_dberr(q, err);
    if (rc == IMS_OK)
        row(q, ret);
    ims_q_done(q);
    return rc;
}

static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 8;
    return ims_xrealloc(arr, *cap * size);
}

enum ims_rc ims_repo_md_namespace_get(struct ims_dbc *c, const char *name, struct ims_md_namespace *ret,
                                      struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT " NS_COLS " FROM metadef_namespaces WHERE namespace = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, name);
    enum ims_rc rc = one_row(&q, ns_row, ret, err);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Metadata definition namespace=%s was not found.", name);
    return rc;
}

/* The columns each item's row reader takes, in its order. */
#define OBJECT_COLS "name, description, required, properties, created_at, updated_at"
#define PROPERTY_COLS "name, json_schema, created_at, updated_at"
#define TAG_COLS "name, created_at, updated_at"
#define ASSOC_COLS "resource_type, prefix, properties_target, created_at, updated_at"

static void object_row(struct ims_q *q, void *ret)
{
    *(struct ims_md_object *)ret = (struct ims_md_object){.name = ims_q_col_dup(q, 0),
                                                          .description = ims_q_col_dup(q, 1),
                                                          .required = ims_q_col_dup(q, 2),
                                                          .properties = ims_q_col_dup(q, 3),
                                                          .created_at = ims_q_col_int(q, 4),
                                                          .updated_at = ims_q_col_int(q, 5)};
}

static void property_row(struct ims_q *q, void *ret)
{
    *(struct ims_md_property *)ret = (struct ims_md_property){.name = ims_q_col_dup(q, 0),
                                                              .schema = ims_q_col_dup(q, 1),
                                                              .created_at = ims_q_col_int(q, 2),
                                                              .updated_at = ims_q_col_int(q, 3)};
}

static void tag_row(struct ims_q *q, void *ret)
{
    *(struct ims_md_tag *)ret = (struct ims_md_tag){
        .name = ims_q_col_dup(q, 0), .created_at = ims_q_col_int(q, 1), .updated_at = ims_q_col_int(q, 2)};
}

static void assoc_row(struct ims_q *q, void *ret)
{
    *(struct ims_md_assoc *)ret = (struct ims_md_assoc){.name = ims_q_col_dup(q, 0),
                                                        .prefix = ims_q_col_dup(q, 1),
                                                        .properties_target = ims_q_col_dup(q, 2),
                                                        .created_at = ims_q_col_int(q, 3),
                                                        .updated_at = ims_q_col_int(q, 4)};
}

static void resource_type_row(struct ims_q *q, void *ret)
{
    *(struct ims_md_resource_type *)ret = (struct ims_md_resource_type){.name = ims_q_col_dup(q, 0),
                                                                        .is_protected = ims_q_col_int(q, 1) != 0,
                                                                        .created_at = ims_q_col_int(q, 2),
                                                                        .updated_at = ims_q_col_int(q, 3)};
}

/* Every row sql selects (bound to ns_id unless NULL), each read by `row` into
 * the array *arr of *n records of `size` bytes, grown as it goes; on failure
 * what was read stays there for the caller to free. */
static enum ims_rc rows_of(struct ims_dbc *c, const char *sql, const char *ns_id, void (*row)(struct ims_q *, void *),
                           size_t size, void **arr, size_t *n, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    if (ns_id)
        ims_q_text(&q, ns_id);
    size_t cap = *n;
    enum ims_step st;
    while ((st = ims_q_step(&q)) == IMS_STEP_ROW) {
        *arr = grow(*arr, *n, &cap, size);
        row(&q, (char *)*arr + (*n)++ * size);
    }
    enum ims_rc rc = st == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

static enum ims_rc assocs_of(struct ims_dbc *c, struct ims_md_doc *d, struct ims_err *err)
{
    void *arr = d->assocs;
    enum ims_rc rc = rows_of(c,
                             "SELECT " ASSOC_COLS " FROM metadef_namespace_resource_types WHERE namespace_id = ? "
                             "ORDER BY created_at, resource_type",
                             d->ns.id, assoc_row, sizeof(*d->assocs), &arr, &d->nassocs, err);
    d->assocs = arr;
    return rc;
}

enum ims_rc ims_repo_md_contents(struct ims_dbc *c, struct ims_md_doc *d, struct ims_err *err)
{
    ims_db_read_begin(c); /* one snapshot for the four kinds */
    enum ims_rc rc = assocs_of(c, d, err);
    void *props = d->props, *objects = d->objects, *tags = d->tags;
    if (rc == IMS_OK)
        rc = rows_of(c, "SELECT " PROPERTY_COLS " FROM metadef_properties WHERE namespace_id = ? ORDER BY name",
                     d->ns.id, property_row, sizeof(*d->props), &props, &d->nprops, err);
    if (rc == IMS_OK)
        rc = rows_of(c, "SELECT " OBJECT_COLS " FROM metadef_objects WHERE namespace_id = ? ORDER BY name", d->ns.id,
                     object_row, sizeof(*d->objects), &objects, &d->nobjects, err);
    if (rc == IMS_OK)
        rc = rows_of(c, "SELECT " TAG_COLS " FROM metadef_tags WHERE namespace_id = ? ORDER BY created_at, name",
                     d->ns.id, tag_row, sizeof(*d->tags), &tags, &d->ntags, err);
    d->props = props;
    d->objects = objects;
    d->tags = tags;
    ims_db_read_end(c);
    return rc;
}

enum ims_rc ims_repo_md_namespace_list(struct ims_dbc *c, const struct ims_md_list_query *lq, struct ims_md_doc **ret,
                                       size_t *ret_n, struct ims_err *err)
{
    struct ims_buf sql;
    ims_buf_init(&sql, 8192);
    ims_buf_adds(&sql, "SELECT " NS_COLS " FROM metadef_namespaces WHERE (? = 1 OR visibility = 'public' OR owner = ?)");
    if (lq->visibility >= 0)
        ims_buf_adds(&sql, " AND visibility = ?");
    size_t nrt = lq->resource_types ? lq->resource_types->n : 0;
    if (nrt > RT_FILTER_MAX)
        nrt = RT_FILTER_MAX;
    if (nrt) {
        ims_buf_adds(&sql, " AND id IN (SELECT namespace_id FROM metadef_namespace_resource_types WHERE "
                           "resource_type IN (?");
        for (size_t i = 1; i < nrt; i++)
            ims_buf_adds(&sql, ", ?");
        ims_buf_adds(&sql, "))");
    }
    const char *key = lq->by_name ? "namespace" : "created_at";
    const char *cmp = lq->asc ? ">" : "<", *dir = lq->asc ? "ASC" : "DESC";
    char tail[256];
    if (lq->marker) {
        /* after the marker in (key, namespace) order: names are unique */
        if (lq->by_name)
            snprintf(tail, sizeof(tail), " AND namespace %s ?", cmp);
        else
            snprintf(tail, sizeof(tail), " AND (created_at %s ? OR (created_at = ? AND namespace %s ?))", cmp, cmp);
        ims_buf_adds(&sql, tail);
    }
    snprintf(tail, sizeof(tail), " ORDER BY %s %s, namespace %s LIMIT ?", key, dir, dir);
    ims_buf_adds(&sql, tail);
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql.data, err)) {
        ims_buf_release(&sql);
        return IMS_E_DB;
    }
    ims_buf_release(&sql);
    ims_q_int(&q, lq->is_admin ? 1 : 0);
    ims_q_text(&q, lq->project_id ? lq->project_id : "");
    if (lq->visibility >= 0)
        ims_q_text(&q, lq->visibility ? "public" : "private");
    for (size_t i = 0; i < nrt; i++)
        ims_q_text(&q, lq->resource_types->items[i]);
    if (lq->marker && lq->by_name) {
        ims_q_text(&q, lq->marker->name);
    } else if (lq->marker) {
        ims_q_int(&q, lq->marker->created_at);
        ims_q_int(&q, lq->marker->created_at);
        ims_q_text(&q, lq->marker->name);
    }
    ims_q_int(&q, lq->limit);
    ims_db_read_begin(c);
    struct ims_md_doc *docs = NULL;
    size_t n = 0, cap = 0;
    enum ims_step st;
    while ((st = ims_q_step(&q)) == IMS_STEP_ROW) {
        docs = grow(docs, n, &cap, sizeof(*docs));
        docs[n] = (struct ims_md_doc){0};
        read_ns(&q, &docs[n++].ns);
    }
    enum ims_rc rc = st == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    for (size_t i = 0; rc == IMS_OK && i < n; i++)
        rc = assocs_of(c, &docs[i], err);
    ims_db_read_end(c);
    if (rc != IMS_OK) {
        ims_md_doc_array_free(docs, n);
        return rc;
    }
    *ret = docs;
    *ret_n = n;
    return IMS_OK;
}

/* ---- writes ---- */

/* The namespace's revision moves on, if it is still before's. */
static enum ims_rc bump(struct ims_dbc *c, const struct ims_md_namespace *before, int64_t now, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE metadef_namespaces SET revision = revision + 1, updated_at = ? "
                       "WHERE id = ? AND revision = ?",
                       err))
        return IMS_E_DB;
    ims_q_int(&q, now);
    ims_q_text(&q, before->id);
    ims_q_int(&q, before->revision);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_CONFLICT, "Namespace %s was changed by another request; try again.", before->name);
    return rc;
}

static enum ims_rc ensure_resource_type(struct ims_dbc *c, const char *name, int64_t now, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) "
                       "VALUES (?, 0, ?, ?) ON CONFLICT (name) DO NOTHING",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, name);
    ims_q_int(&q, now);
    ims_q_int(&q, now);
    return ims_q_exec(&q, err);
}

enum ims_rc ims_repo_md_seed_resource_types(struct ims_dbc *c, struct ims_err *err)
{
    static const char *const seeded[] = {"OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor",
                                         "OS::Nova::Aggregate", "OS::Nova::Server"};
    enum ims_rc rc = IMS_OK;
    int64_t now = ims_now();
    for (size_t i = 0; rc == IMS_OK && i < IMS_ARRAY_SIZE(seeded); i++) {
        struct ims_q q;
        if (!ims_q_prepare(&q, c,
                           "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) "
                           "VALUES (?, 1, ?, ?)",
                           err))
            return IMS_E_DB;
        ims_q_text(&q, seeded[i]);
        ims_q_int(&q, now);
        ims_q_int(&q, now);
        rc = ims_q_exec(&q, err);
    }
    return rc;
}

static const char *kind_noun(enum ims_md_kind k)
{
    static const char *const nouns[] = {"object", "property", "tag", "resource type association"};
    return nouns[k];
}

static enum ims_rc insert_item(struct ims_dbc *c, const char *ns_id, enum ims_md_kind kind, const void *item,
                               int64_t created, int64_t now, struct ims_err *err)
{
    struct ims_q q;
    static const char *const sql[] = {
        "INSERT INTO metadef_objects (namespace_id, name, description, required, properties, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        "INSERT INTO metadef_properties (namespace_id, name, json_schema, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        "INSERT INTO metadef_tags (namespace_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        "INSERT INTO metadef_namespace_resource_types (namespace_id, resource_type, prefix, properties_target, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    };
    const char *name = NULL;
    if (kind == IMS_MD_ASSOCS) {
        name = ((const struct ims_md_assoc *)item)->name;
        enum ims_rc rc = ensure_resource_type(c, name, now, err);
        if (rc != IMS_OK)
            return rc;
    }
    if (!ims_q_prepare(&q, c, sql[kind], err))
        return IMS_E_DB;
    ims_q_text(&q, ns_id);
    switch (kind) {
    case IMS_MD_OBJECTS: {
        const struct ims_md_object *o = item;
        name = o->name;
        ims_q_text(&q, o->name);
        ims_q_text(&q, o->description);
        ims_q_text(&q, o->required);
        ims_q_text(&q, o->properties);
        break;
    }
    case IMS_MD_PROPERTIES: {
        const struct ims_md_property *p = item;
        name = p->name;
        ims_q_text(&q, p->name);
        ims_q_text(&q, p->schema);
        break;
    }
    case IMS_MD_TAGS:
        name = ((const struct ims_md_tag *)item)->name;
        ims_q_text(&q, name);
        break;
    case IMS_MD_ASSOCS: {
        const struct ims_md_assoc *a = item;
        ims_q_text(&q, a->name);
        ims_q_text(&q, a->prefix);
        ims_q_text(&q, a->properties_target);
        break;
    }
    }
    ims_q_int(&q, created);
    ims_q_int(&q, now);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_E_CONFLICT)
        rc = ims_fail(err, IMS_E_CONFLICT, "A metadata definition %s with name=%s already exists in this namespace.",
                      kind_noun(kind), name);
    return rc;
}

static const char *const item_table[] = {"metadef_objects", "metadef_properties", "metadef_tags",
                                         "metadef_namespace_resource_types"};
static const char *const item_key[] = {"name", "name", "name", "resource_type"};

/* Deletes one item (name) or all of a kind (name NULL); *ret_n rows. */
static enum ims_rc delete_items(struct ims_dbc *c, const char *ns_id, enum ims_md_kind kind, const char *name,
                                int64_t *ret_n, struct ims_err *err)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE namespace_id = ?%s%s%s", item_table[kind], name ? " AND " : "",
             name ? item_key[kind] : "", name ? " = ?" : "");
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    ims_q_text(&q, ns_id);
    if (name)
        ims_q_text(&q, name);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && ret_n)
        *ret_n = c->ops->changes(c->h);
    return rc;
}

/* The namespace's own columns as both its insert and its update name them:
 * namespace, display_name, description, visibility, protected, owner. */
static void bind_ns_fields(struct ims_q *q, const struct ims_md_namespace *ns)
{
    ims_q_text(q, ns->name);
    ims_q_text(q, ns->display_name);
    ims_q_text(q, ns->description);
    ims_q_text(q, ns->is_public ? "public" : "private");
    ims_q_int(q, ns->is_protected);
    ims_q_text(q, ns->owner ? ns->owner : "");
}

/* Runs the namespace's insert or update; its name taken: IMS_E_CONFLICT saying so. */
static enum ims_rc ns_exec(struct ims_q *q, const struct ims_md_namespace *ns, struct ims_err *err)
{
    enum ims_rc rc = ims_q_exec(q, err);
    if (rc == IMS_E_CONFLICT)
        rc = ims_fail(err, IMS_E_CONFLICT, "A metadata definition namespace with name=%s already exists.", ns->name);
    return rc;
}

enum ims_rc ims_repo_md_namespace_insert(struct ims_dbc *c, const struct ims_md_doc *d, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "INSERT INTO metadef_namespaces (" NS_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                       err))
        return ims_db_end(c, IMS_E_DB, err);
    const struct ims_md_namespace *ns = &d->ns;
    ims_q_text(&q, ns->id);
    bind_ns_fields(&q, ns);
    ims_q_int(&q, ns->created_at);
    ims_q_int(&q, ns->updated_at);
    rc = ns_exec(&q, ns, err);
    for (size_t i = 0; rc == IMS_OK && i < d->nassocs; i++)
        rc = insert_item(c, ns->id, IMS_MD_ASSOCS, &d->assocs[i], ns->created_at, ns->created_at, err);
    for (size_t i = 0; rc == IMS_OK && i < d->nprops; i++)
        rc = insert_item(c, ns->id, IMS_MD_PROPERTIES, &d->props[i], ns->created_at, ns->created_at, err);
    for (size_t i = 0; rc == IMS_OK && i < d->nobjects; i++)
        rc = insert_item(c, ns->id, IMS_MD_OBJECTS, &d->objects[i], ns->created_at, ns->created_at, err);
    for (size_t i = 0; rc == IMS_OK && i < d->ntags; i++)
        rc = insert_item(c, ns->id, IMS_MD_TAGS, &d->tags[i], ns->created_at, ns->created_at, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_md_namespace_update(struct ims_dbc *c, const struct ims_md_namespace *before,
                                         const struct ims_md_namespace *ns, int64_t now, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = bump(c, before, now, err);
    struct ims_q q;
    if (rc == IMS_OK && !ims_q_prepare(&q, c,
                                       "UPDATE metadef_namespaces SET namespace = ?, display_name = ?, description = ?, "
                                       "visibility = ?, protected = ?, owner = ? WHERE id = ?",
                                       err))
        rc = IMS_E_DB;
    if (rc == IMS_OK) {
        bind_ns_fields(&q, ns);
        ims_q_text(&q, before->id);
        rc = ns_exec(&q, ns, err);
    }
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_md_namespace_delete(struct ims_dbc *c, const struct ims_md_namespace *before,
                                         struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = bump(c, before, before->updated_at, err);
    for (int k = IMS_MD_OBJECTS; rc == IMS_OK && k <= IMS_MD_ASSOCS; k++)
        rc = delete_items(c, before->id, (enum ims_md_kind)k, NULL, NULL, err);
    struct ims_q q;
    if (rc == IMS_OK && !ims_q_prepare(&q, c, "DELETE FROM metadef_namespaces WHERE id = ?", err))
        rc = IMS_E_DB;
    if (rc == IMS_OK) {
        ims_q_text(&q, before->id);
        rc = ims_q_exec(&q, err);
    }
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_md_contents_delete(struct ims_dbc *c, const struct ims_md_namespace *before,
                                        enum ims_md_kind kind, int64_t now, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = bump(c, before, now, err);
    if (rc == IMS_OK)
        rc = delete_items(c, before->id, kind, NULL, NULL, err);
    return ims_db_end(c, rc, err);
}

/* One row of an item table by name, read by `row`. */
static enum ims_rc item_get(struct ims_dbc *c, const char *sql, const char *ns_id, enum ims_md_kind kind,
                            const char *name, void (*row)(struct ims_q *, void *), void *ret, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    ims_q_text(&q, ns_id);
    ims_q_text(&q, name);
    enum ims_rc rc = one_row(&q, row, ret, err);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Metadata definition %s not found: %s.", kind_noun(kind), name);
    return rc;
}

static void created_row(struct ims_q *q, void *ret) { *(int64_t *)ret = ims_q_col_int(q, 0); }

/* created_at of the item old_name, to keep it across a replacement. */
static enum ims_rc item_created(struct ims_dbc *c, const char *ns_id, enum ims_md_kind kind, const char *name,
                                int64_t *ret, struct ims_err *err)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT created_at FROM %s WHERE namespace_id = ? AND %s = ?", item_table[kind],
             item_key[kind]);
    return item_get(c, sql, ns_id, kind, name, created_row, ret, err);
}

enum ims_rc ims_repo_md_item_put(struct ims_dbc *c, const struct ims_md_namespace *before, enum ims_md_kind kind,
                                 const char *old_name, const void *item, int64_t now, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = bump(c, before, now, err);
    int64_t created = now;
    if (rc == IMS_OK && old_name) {
        rc = item_created(c, before->id, kind, old_name, &created, err);
        if (rc == IMS_OK)
            rc = delete_items(c, before->id, kind, old_name, NULL, err);
    }
    if (rc == IMS_OK)
        rc = insert_item(c, before->id, kind, item, created, now, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_md_item_delete(struct ims_dbc *c, const struct ims_md_namespace *before, enum ims_md_kind kind,
                                    const char *name, int64_t now, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = bump(c, before, now, err);
    int64_t n = 0;
    if (rc == IMS_OK)
        rc = delete_items(c, before->id, kind, name, &n, err);
    if (rc == IMS_OK && n == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Metadata definition %s not found: %s.", kind_noun(kind), name);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_md_object_get(struct ims_dbc *c, const char *ns_id, const char *name, struct ims_md_object *ret,
                                   struct ims_err *err)
{
    return item_get(c,
                    "SELECT " OBJECT_COLS " FROM metadef_objects WHERE namespace_id = ? AND name = ?",
                    ns_id, IMS_MD_OBJECTS, name, object_row, ret, err);
}

enum ims_rc ims_repo_md_property_get(struct ims_dbc *c, const char *ns_id, const char *name,
                                     struct ims_md_property *ret, struct ims_err *err)
{
    return item_get(c,
                    "SELECT " PROPERTY_COLS " FROM metadef_properties WHERE namespace_id = ? AND name = ?",
                    ns_id, IMS_MD_PROPERTIES, name, property_row, ret, err);
}

enum ims_rc ims_repo_md_tag_get(struct ims_dbc *c, const char *ns_id, const char *name, struct ims_md_tag *ret,
                                struct ims_err *err)
{
    return item_get(c, "SELECT " TAG_COLS " FROM metadef_tags WHERE namespace_id = ? AND name = ?",
                    ns_id, IMS_MD_TAGS, name, tag_row, ret, err);
}

enum ims_rc ims_repo_md_resource_types(struct ims_dbc *c, struct ims_md_resource_type **ret, size_t *ret_n,
                                       struct ims_err *err)
{
    void *arr = NULL;
    size_t n = 0;
    enum ims_rc rc = rows_of(c, "SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY name",
                             NULL, resource_type_row, sizeof(**ret), &arr, &n, err);
    struct ims_md_resource_type *r = arr;
    if (rc != IMS_OK) {
        for (size_t i = 0; i < n; i++)
            ims_md_resource_type_release(&r[i]);
        free(r);
        return rc;
    }
    *ret = r;
    *ret_n = n;
    return IMS_OK;
}
