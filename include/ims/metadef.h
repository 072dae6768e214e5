/* SPDX-License-Identifier: Apache-2.0
 * metadef: Glance's metadata definitions as records, and the pure parsers of
 * what clients send for them (request bodies, the namespace files `imsctl
 * metadefs load` reads; fuzzed by fuzz/fuzz_metadef_bodies.c). A namespace
 * holds objects, properties, tags and resource type associations; a
 * property's definition (title, type, enum, ...) and an object's properties
 * are kept as canonical JSON text, rebuilt member by member from what the
 * parser accepted, so what is stored is only what Glance's model keeps.
 * Every string is heap-owned by its record (NULL: not set); the release
 * functions free them. */
#ifndef IMS_METADEF_H
#define IMS_METADEF_H

#include "ims/base.h"

/* Lengths in bytes, as Glance's schemas and tables bound them. */
#define IMS_MD_NAMESPACE_MAX 80    /* namespace, display_name */
#define IMS_MD_NS_DESCRIPTION_MAX 500
#define IMS_MD_OWNER_MAX 255
#define IMS_MD_NAME_MAX 80         /* objects, properties, tags (Glance's schemas: 80) */
#define IMS_MD_RT_MAX 80           /* resource type names, prefix, properties_target */
#define IMS_MD_TEXT_MAX 65535      /* descriptions of objects and properties, other strings */
#define IMS_MD_ITEMS_MAX 1000      /* objects, properties, tags, associations in one document */

struct ims_md_namespace {
    char *name, *display_name, *description, *owner;
    bool is_public, is_protected;
    char id[IMS_UUID_LEN + 1]; /* the repository's key; never shown */
    int64_t created_at, updated_at, revision;
};

/* schema: the definition as a JSON object without its name. */
struct ims_md_property {
    char *name, *schema;
    int64_t created_at, updated_at;
};

/* required: JSON array of names, properties: JSON object name -> definition. */
struct ims_md_object {
    char *name, *description, *required, *properties;
    int64_t created_at, updated_at;
};

struct ims_md_tag {
    char *name;
    int64_t created_at, updated_at;
};

/* A namespace's association with a resource type (name). */
struct ims_md_assoc {
    char *name, *prefix, *properties_target;
    int64_t created_at, updated_at;
};

struct ims_md_resource_type {
    char *name;
    bool is_protected;
    int64_t created_at, updated_at;
};

/* A namespace with what it holds. */
struct ims_md_doc {
    struct ims_md_namespace ns;
    struct ims_md_assoc *assocs;
    size_t nassocs;
    struct ims_md_property *props;
    size_t nprops;
    struct ims_md_object *objects;
    size_t nobjects;
    struct ims_md_tag *tags;
    size_t ntags;
};

void ims_md_namespace_release(struct ims_md_namespace *ns);
void ims_md_property_release(struct ims_md_property *p);
void ims_md_object_release(struct ims_md_object *o);
void ims_md_tag_release(struct ims_md_tag *t);
void ims_md_assoc_release(struct ims_md_assoc *a);
void ims_md_resource_type_release(struct ims_md_resource_type *r);
void ims_md_doc_release(struct ims_md_doc *d);
void ims_md_doc_array_free(struct ims_md_doc *d, size_t n);

/* A name of `max` bytes at most as the API takes it in a path or a body:
 * non-empty valid text without '/' (a path segment could not name it). */
bool ims_md_name_valid(const char *s, size_t max);

/* The parsers: IMS_E_BADREQ naming the member for anything Glance's schema
 * refuses (unknown members included), IMS_E_FORBIDDEN "Attribute 'x' is
 * read-only." for self, schema, created_at, updated_at, as Glance answers. */
/* A namespace: POST /v2/metadefs/namespaces, PUT (whose contents update
 * ignores), and a namespace file, with its resource_type_associations,
 * properties, objects and tags. visibility defaults to private. */
enum ims_rc ims_md_doc_parse(const char *data, size_t len, struct ims_md_doc *ret, struct ims_err *err);
/* POST/PUT .../objects[/{name}]. */
enum ims_rc ims_md_object_parse(const char *data, size_t len, struct ims_md_object *ret, struct ims_err *err);
/* POST/PUT .../properties[/{name}]: name, title and type required. */
enum ims_rc ims_md_property_parse(const char *data, size_t len, struct ims_md_property *ret, struct ims_err *err);
/* POST .../resource_types: {"name", "prefix"?, "properties_target"?}. */
enum ims_rc ims_md_assoc_parse(const char *data, size_t len, struct ims_md_assoc *ret, struct ims_err *err);
/* PUT .../tags/{name} body (optional {"name"}) and POST .../tags:
 * {"tags": [{"name"}, ...]}; names unique. */
enum ims_rc ims_md_tag_parse(const char *data, size_t len, struct ims_md_tag *ret, struct ims_err *err);
enum ims_rc ims_md_tags_parse(const char *data, size_t len, struct ims_md_tag **ret, size_t *ret_n,
                              struct ims_err *err);

/* Prefixes every property name of a property map (JSON object text) with
 * prefix: the names a resource type sees (GET namespace ?resource_type=).
 * Returns new text (free it), or NULL when json is not such a map. */
char *ims_md_prefix_names(const char *json, const char *prefix);

#endif
