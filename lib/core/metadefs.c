/* SPDX-License-Identifier: Apache-2.0
 * The metadata definitions catalog with Glance 25's default rules: reads
 * for the namespace's project and public namespaces for everyone, writes
 * for cloud administrators, no deletion in protected namespaces. Every
 * write reads the namespace inside its write transaction and writes on
 * condition of the revision it read (lib/db/repo_metadefs.c). */
#include <stdio.h>
#include <string.h>

#include "ims/db.h"
#include "ims/metadefs.h"
#include "ims/service.h"

static bool visible(const struct ims_principal *p, const struct ims_md_namespace *ns)
{
    return !p || p->is_admin || ns->is_public || (p->project_id[0] && ims_streq(ns->owner, p->project_id));
}

/* The namespace as the caller may see it: one it cannot see is not there. */
static enum ims_rc ns_read(struct ims_dbc *c, const struct ims_principal *p, const char *name,
                           struct ims_md_namespace *ret, struct ims_err *err)
{
    struct ims_md_namespace ns;
    enum ims_rc rc = ims_repo_md_namespace_get(c, name, &ns, err);
    if (rc != IMS_OK)
        return rc;
    if (!visible(p, &ns)) {
        ims_md_namespace_release(&ns);
        return ims_fail(err, IMS_E_NOTFOUND, "Metadata definition namespace=%s was not found.", name);
    }
    *ret = ns;
    return IMS_OK;
}

static enum ims_rc admin_only(const struct ims_principal *p, const char *action, struct ims_err *err)
{
    if (p && !p->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN, "You are not authorized to complete %s action.", action);
    return IMS_OK;
}

/* A write: begin, read the namespace, check who and protection, then
 * `write` in the same transaction. */
struct write_ctx {
    enum ims_md_kind kind;
    const char *name, *old_name;
    const void *item;
    const struct ims_md_tag *tags;
    size_t ntags;
    bool append;
    const struct ims_md_namespace *in;
    struct ims_md_namespace *ret;
};

typedef enum ims_rc (*write_fn)(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w,
                                struct ims_err *err);

static enum ims_rc in_write(struct ims_service *svc, const struct ims_principal *p, const char *ns_name,
                            const char *action, bool deletes, write_fn fn, struct write_ctx *w, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_md_namespace ns = {0};
    rc = ns_read(c, p, ns_name, &ns, err);
    if (rc == IMS_OK)
        rc = admin_only(p, action, err);
    if (rc == IMS_OK && deletes && ns.is_protected) {
        static const char *const nouns[] = {"object", "property", "tag", "resource-type-association"};
        if (w->name)
            rc = ims_fail(err, IMS_E_FORBIDDEN, "Metadata definition %s %s is protected and cannot be deleted.",
                          nouns[w->kind], w->name);
        else
            rc = ims_fail(err, IMS_E_FORBIDDEN,
                          "Metadata definition namespace %s is protected and cannot be deleted.", ns.name);
    }
    if (rc == IMS_OK)
        rc = fn(c, &ns, w, err);
    ims_md_namespace_release(&ns);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_md_namespace_list(struct ims_service *svc, const struct ims_principal *p,
                                  struct ims_md_list_query *q, const char *marker_name, struct ims_md_doc **ret,
                                  size_t *ret_n, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    q->project_id = p ? p->project_id : NULL;
    q->is_admin = !p || p->is_admin;
    struct ims_md_namespace marker = {0};
    ims_db_read_begin(c); /* the marker and the page from one snapshot */
    enum ims_rc rc = marker_name ? ns_read(c, p, marker_name, &marker, err) : IMS_OK;
    q->marker = marker_name && rc == IMS_OK ? &marker : NULL;
    if (rc == IMS_OK)
        rc = ims_repo_md_namespace_list(c, q, ret, ret_n, err);
    ims_db_read_end(c);
    ims_md_namespace_release(&marker);
    q->marker = NULL;
    return rc;
}

enum ims_rc ims_md_namespace_contents(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                      struct ims_md_doc *ret, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_md_doc d = {0};
    ims_db_read_begin(c);
    enum ims_rc rc = ns_read(c, p, name, &d.ns, err);
    if (rc == IMS_OK)
        rc = ims_repo_md_contents(c, &d, err);
    ims_db_read_end(c);
    if (rc != IMS_OK) {
        ims_md_doc_release(&d);
        return rc;
    }
    *ret = d;
    return IMS_OK;
}

enum ims_rc ims_md_namespace_show(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                  struct ims_md_doc *ret, struct ims_err *err)
{
    return ims_md_namespace_contents(svc, p, name, ret, err);
}

enum ims_rc ims_md_namespace_create(struct ims_service *svc, const struct ims_principal *p, struct ims_md_doc *doc,
                                    struct ims_err *err)
{
    enum ims_rc rc = admin_only(p, "add_metadef_namespace", err);
    if (rc != IMS_OK)
        return rc;
    ims_uuid_new(doc->ns.id);
    if (!doc->ns.owner)
        doc->ns.owner = ims_xstrdup(p ? p->project_id : "");
    int64_t now = ims_now();
    doc->ns.created_at = doc->ns.updated_at = now;
    doc->ns.revision = 0;
    /* what it holds is made with it (and so shown in the answer) */
    for (size_t i = 0; i < doc->nassocs; i++)
        doc->assocs[i].created_at = doc->assocs[i].updated_at = now;
    for (size_t i = 0; i < doc->nprops; i++)
        doc->props[i].created_at = doc->props[i].updated_at = now;
    for (size_t i = 0; i < doc->nobjects; i++)
        doc->objects[i].created_at = doc->objects[i].updated_at = now;
    for (size_t i = 0; i < doc->ntags; i++)
        doc->tags[i].created_at = doc->tags[i].updated_at = now;
    return ims_repo_md_namespace_insert(ims_db_conn(svc->db), doc, err);
}

static enum ims_rc do_update(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w, struct ims_err *err)
{
    int64_t now = ims_now();
    enum ims_rc rc = ims_repo_md_namespace_update(c, ns, w->in, now, err);
    if (rc == IMS_OK)
        rc = ims_repo_md_namespace_get(c, w->in->name, w->ret, err);
    return rc;
}

enum ims_rc ims_md_namespace_update(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                    const struct ims_md_namespace *in, bool owner_given,
                                    struct ims_md_namespace *ret, struct ims_err *err)
{
    struct ims_md_namespace fields = *in;
    if (!owner_given || !in->owner)
        fields.owner = (char *)(p ? p->project_id : "");
    struct write_ctx w = {.in = &fields, .ret = ret};
    return in_write(svc, p, name, "modify_metadef_namespace", false, do_update, &w, err);
}

static enum ims_rc do_delete(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w, struct ims_err *err)
{
    return ims_repo_md_namespace_delete(c, ns, err);
}

enum ims_rc ims_md_namespace_delete(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                    struct ims_err *err)
{
    struct write_ctx w = {0};
    return in_write(svc, p, name, "delete_metadef_namespace", true, do_delete, &w, err);
}

static enum ims_rc do_contents_delete(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w,
                                      struct ims_err *err)
{
    return ims_repo_md_contents_delete(c, ns, w->kind, ims_now(), err);
}

enum ims_rc ims_md_contents_delete(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                   enum ims_md_kind kind, struct ims_err *err)
{
    static const char *const actions[] = {"delete_metadef_object", "remove_metadef_property", "delete_metadef_tags",
                                          "remove_metadef_resource_type_association"};
    struct write_ctx w = {.kind = kind};
    return in_write(svc, p, name, actions[kind], true, do_contents_delete, &w, err);
}

enum ims_rc ims_md_item_get(struct ims_service *svc, const struct ims_principal *p, const char *ns_name,
                            enum ims_md_kind kind, const char *name, void *ret, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_md_namespace ns;
    ims_db_read_begin(c);
    enum ims_rc rc = ns_read(c, p, ns_name, &ns, err);
    if (rc == IMS_OK) {
        if (kind == IMS_MD_OBJECTS)
            rc = ims_repo_md_object_get(c, ns.id, name, ret, err);
        else if (kind == IMS_MD_PROPERTIES)
            rc = ims_repo_md_property_get(c, ns.id, name, ret, err);
        else
            rc = ims_repo_md_tag_get(c, ns.id, name, ret, err);
        ims_md_namespace_release(&ns);
    }
    ims_db_read_end(c);
    return rc;
}

static enum ims_rc do_put(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w, struct ims_err *err)
{
    return ims_repo_md_item_put(c, ns, w->kind, w->old_name, w->item, ims_now(), err);
}

enum ims_rc ims_md_item_put(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                            enum ims_md_kind kind, const char *old_name, const void *item, struct ims_err *err)
{
    static const char *const add[] = {"add_metadef_object", "add_metadef_property", "add_metadef_tag",
                                      "add_metadef_resource_type_association"};
    static const char *const modify[] = {"modify_metadef_object", "modify_metadef_property", "modify_metadef_tag",
                                         "add_metadef_resource_type_association"};
    struct write_ctx w = {.kind = kind, .old_name = old_name, .item = item};
    return in_write(svc, p, ns, old_name ? modify[kind] : add[kind], false, do_put, &w, err);
}

static enum ims_rc do_item_delete(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w,
                                  struct ims_err *err)
{
    return ims_repo_md_item_delete(c, ns, w->kind, w->name, ims_now(), err);
}

enum ims_rc ims_md_item_delete(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                               enum ims_md_kind kind, const char *name, struct ims_err *err)
{
    static const char *const actions[] = {"delete_metadef_object", "remove_metadef_property", "delete_metadef_tag",
                                          "remove_metadef_resource_type_association"};
    struct write_ctx w = {.kind = kind, .name = name};
    return in_write(svc, p, ns, actions[kind], true, do_item_delete, &w, err);
}

static enum ims_rc do_tags(struct ims_dbc *c, struct ims_md_namespace *ns, struct write_ctx *w, struct ims_err *err)
{
    int64_t now = ims_now();
    enum ims_rc rc = IMS_OK;
    if (!w->append) {
        rc = ims_repo_md_contents_delete(c, ns, IMS_MD_TAGS, now, err);
        ns->revision++; /* each write below is conditional on the one before it */
    }
    for (size_t i = 0; rc == IMS_OK && i < w->ntags; i++, ns->revision++)
        rc = ims_repo_md_item_put(c, ns, IMS_MD_TAGS, NULL, &w->tags[i], now, err);
    return rc;
}

enum ims_rc ims_md_tags_add(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                            const struct ims_md_tag *tags, size_t n, bool append, struct ims_err *err)
{
    struct write_ctx w = {.kind = IMS_MD_TAGS, .tags = tags, .ntags = n, .append = append};
    return in_write(svc, p, ns, "add_metadef_tags", false, do_tags, &w, err);
}

enum ims_rc ims_md_resource_types(struct ims_service *svc, struct ims_md_resource_type **ret, size_t *ret_n,
                                  struct ims_err *err)
{
    return ims_repo_md_resource_types(ims_db_conn(svc->db), ret, ret_n, err);
}

void ims_md_resource_type_array_free(struct ims_md_resource_type *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_md_resource_type_release(&r[i]);
    free(r);
}

enum ims_rc ims_md_load(struct ims_service *svc, struct ims_md_doc *doc, bool overwrite, bool *ret_skipped,
                        struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    *ret_skipped = false;
    if (!doc->ns.owner) { /* Glance's loader gives them to "admin": here the admin project */
        struct ims_project proj;
        enum ims_rc prc = ims_repo_project_get(c, NULL, IMS_DEFAULT_DOMAIN_ID, IMS_ADMIN_PROJECT, &proj, err);
        doc->ns.owner = ims_xstrdup(prc == IMS_OK ? proj.id : IMS_ADMIN_PROJECT);
        if (prc == IMS_OK)
            ims_project_release(&proj);
    }
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_md_namespace old;
    rc = ims_repo_md_namespace_get(c, doc->ns.name, &old, err);
    if (rc == IMS_OK) {
        if (overwrite)
            rc = ims_repo_md_namespace_delete(c, &old, err);
        else
            *ret_skipped = true;
        ims_md_namespace_release(&old);
    } else if (rc == IMS_E_NOTFOUND) {
        rc = IMS_OK;
    }
    if (rc == IMS_OK && !*ret_skipped)
        rc = ims_md_namespace_create(svc, NULL, doc, err);
    return ims_db_end(c, rc, err);
}
