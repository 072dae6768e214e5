/* SPDX-License-Identifier: Apache-2.0
 * JSON patch for images (Glance v2): parsing of both media types and the
 * application of the operations to an ims_image, with Glance's rules for
 * read-only and reserved attributes. Pure: no I/O. */
#ifndef IMS_PATCH_H
#define IMS_PATCH_H

#include <jansson.h>

#include "ims/base.h"
#include "ims/image.h"

#define IMS_PATCH_MEDIA_V21 "application/openstack-images-v2.1-json-patch"
#define IMS_PATCH_MEDIA_V20 "application/openstack-images-v2.0-json-patch"

enum ims_patch_opcode { IMS_PATCH_ADD, IMS_PATCH_REMOVE, IMS_PATCH_REPLACE };

struct ims_patch_op {
    enum ims_patch_opcode op;
    char *path;     /* the attribute (one JSON-pointer segment, unescaped: ~1 -> /, ~0 -> ~) */
    char *index;    /* "/locations/N" (add, remove): N or "-", unescaped; NULL otherwise */
    json_t *value;  /* owned reference; NULL for remove */
};

struct ims_patch {
    struct ims_patch_op *ops;
    size_t n;
    /* v2.0 dialect (JSON Schema draft 4): "add" of an attribute or property
     * that is already present is a conflict (409), not a replace. */
    bool add_must_be_new;
};

/* media_type selects the dialect: v2.1 = RFC 6902 ({"op":"add","path":...}),
 * v2.0 = {"add": "/path", "value": ...}. Anything else → IMS_E_MEDIA.
 * Bad JSON, unknown op, missing value, path with more than one segment
 * (except "/locations/N" for add and remove, its N kept in index) →
 * IMS_E_BADREQ. */
enum ims_rc ims_patch_parse(const char *media_type, const char *body, size_t len, struct ims_patch *ret,
                            struct ims_err *err);
void ims_patch_release(struct ims_patch *p);

/* A location as Glance's image schema takes it in a PATCH of /locations:
 * {"url": string (at most 255), "metadata": object[, "validation_data":
 * {"checksum", "os_hash_algo", "os_hash_value"}]}. */
struct ims_location_value {
    char *url;
    char *checksum, *os_hash_algo, *os_hash_value; /* validation_data's; NULL when not given */
    char *metadata; /* the location's metadata: a JSON object, compact, keys sorted, ASCII */
};
/* The locations op's value (lib/query/patch_locations.c): for add one
 * location, for replace a list of them (*ret_n may be 0); IMS_E_BADREQ
 * naming what the schema refuses. remove has none (*ret_n 0). */
enum ims_rc ims_patch_locations_value(const struct ims_patch_op *op, struct ims_location_value **ret, size_t *ret_n,
                                      struct ims_err *err);
/* The body of POST /v2/images/{id}/locations: {"url", "validation_data"}
 * as a PATCH's location without metadata (ret->metadata NULL); the
 * caller frees ret's members (ims_location_values_free of a copy, or by
 * hand). IMS_E_BADREQ naming what is refused. */
enum ims_rc ims_location_add_body(json_t *body, struct ims_location_value *ret, struct ims_err *err);
void ims_location_values_free(struct ims_location_value *v, size_t n);

/* Applies the ops in order to img (a copy the caller owns). Rules as Glance:
 * read-only attributes → IMS_E_FORBIDDEN; reserved → IMS_E_FORBIDDEN;
 * bad value type or value (e.g. visibility "foo", min_ram -1) → IMS_E_BADREQ;
 * remove of a missing property → IMS_E_CONFLICT ... see patch.c for the table.
 * `is_admin` lets the caller change owner. On error img may be partially modified. */
enum ims_rc ims_patch_apply(const struct ims_patch *p, struct ims_image *img, bool is_admin, struct ims_err *err);

/* The IMS dialect (PATCH /v2/cloudimages/{image_id}, reference ims_apis/
 * image/updating_an_image.md): body [{"op": add|replace|remove, "path":
 * "/attr", "value": ...}] with any JSON content type. Only the documented
 * attributes and lower-case extension attributes may change; values are
 * checked by the IMS rules (name 1-128 of [A-Za-z0-9-._ ] not starting or
 * ending with a space: IMG.0002/IMG.0003; __description up to 1024
 * characters without < > or line breaks: IMG.0004/IMG.0054; min_ram an
 * integer: IMG.0055; hw_firmware_type bios|uefi: IMG.0141; anything else
 * IMG.0001, in err->code). The result is Glance ops for ims_patch_apply
 * (property replace/add = set); a change of /enterprise_project_id is not
 * an op: its target is returned in *ret_ep (owned, NULL if none). */
enum ims_rc ims_cloudimage_patch_parse(const char *body, size_t len, struct ims_patch *ret, char **ret_ep,
                                       struct ims_err *err);

#endif
