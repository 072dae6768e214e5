/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/metadefs.c): Glance's metadata definitions catalog with
 * Glance 25's default rules. Anyone may read the public namespaces and
 * those its project owns (a cloud administrator: all); what it cannot see
 * does not exist for it (IMS_E_NOTFOUND). Writes are the cloud
 * administrator's (IMS_E_FORBIDDEN otherwise); a protected namespace and
 * what it holds cannot be deleted (IMS_E_FORBIDDEN) until it is updated to
 * unprotected. Each write is one write transaction that reads the
 * namespace and writes on condition of the revision it read.
 * p NULL is the local administrator (imsctl). Records returned are the
 * caller's to release (include/ims/metadef.h). */
#ifndef IMS_METADEFS_H
#define IMS_METADEFS_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/metadef.h"
#include "ims/service.h"

/* q's viewer (project_id, is_admin) and marker are set here from p and
 * marker_name (a namespace the caller sees, else IMS_E_NOTFOUND). */
enum ims_rc ims_md_namespace_list(struct ims_service *svc, const struct ims_principal *p,
                                  struct ims_md_list_query *q, const char *marker_name, struct ims_md_doc **ret,
                                  size_t *ret_n, struct ims_err *err);
/* The namespace with what it holds. */
enum ims_rc ims_md_namespace_show(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                  struct ims_md_doc *ret, struct ims_err *err);
/* doc->ns gets its id, owner (the caller's project unless given) and
 * times. */
enum ims_rc ims_md_namespace_create(struct ims_service *svc, const struct ims_principal *p, struct ims_md_doc *doc,
                                    struct ims_err *err);
/* Glance's PUT: every field from in (visibility private, protected false
 * and owner the caller's project when not given); what in's document holds
 * besides is ignored. *ret: the namespace as written. */
enum ims_rc ims_md_namespace_update(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                    const struct ims_md_namespace *in, bool owner_given,
                                    struct ims_md_namespace *ret, struct ims_err *err);
enum ims_rc ims_md_namespace_delete(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                    struct ims_err *err);
/* DELETE .../objects, .../properties, .../tags: every item of kind. */
enum ims_rc ims_md_contents_delete(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                   enum ims_md_kind kind, struct ims_err *err);
/* One item of a namespace: ret is a struct ims_md_object, ims_md_property
 * or ims_md_tag as kind says. */
enum ims_rc ims_md_item_get(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                            enum ims_md_kind kind, const char *name, void *ret, struct ims_err *err);
/* Adds (old_name NULL) or replaces old_name by item (as ims_repo_md_item_put). */
enum ims_rc ims_md_item_put(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                            enum ims_md_kind kind, const char *old_name, const void *item, struct ims_err *err);
enum ims_rc ims_md_item_delete(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                               enum ims_md_kind kind, const char *name, struct ims_err *err);
/* POST .../tags: adds tags (replacing every tag when !append), all or none. */
enum ims_rc ims_md_tags_add(struct ims_service *svc, const struct ims_principal *p, const char *ns,
                            const struct ims_md_tag *tags, size_t n, bool append, struct ims_err *err);
/* The namespace's contents of one kind (in a doc whose ns is the namespace). */
enum ims_rc ims_md_namespace_contents(struct ims_service *svc, const struct ims_principal *p, const char *name,
                                      struct ims_md_doc *ret, struct ims_err *err);
/* Every resource type. */
enum ims_rc ims_md_resource_types(struct ims_service *svc, struct ims_md_resource_type **ret, size_t *ret_n,
                                  struct ims_err *err);
void ims_md_resource_type_array_free(struct ims_md_resource_type *r, size_t n);

/* imsctl metadefs load: creates the namespace of doc (owner: the admin
 * project unless the file names one); one that exists is left alone
 * (*ret_skipped) unless overwrite, which replaces it and all it holds. */
enum ims_rc ims_md_load(struct ims_service *svc, struct ims_md_doc *doc, bool overwrite, bool *ret_skipped,
                        struct ims_err *err);

#endif
