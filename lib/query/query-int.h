/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the query parsers: Glance's "op:value" filter
 * expressions and its quoted "in:" lists. Not part of the public API. */
#ifndef IMS_QUERY_INT_H
#define IMS_QUERY_INT_H

#include "ims/base.h"
#include "ims/image.h"
#include "ims/kv.h"

/* An "op:value" expression split in place: op points into the input and is
 * op_len bytes long; value is the rest. */
struct ims_filter_expr {
    const char *op;
    size_t op_len;
    const char *value;
};

/* Glance's split_filter_op: the text before the first ':' is the operator,
 * unless the whole expression is an ISO 8601 time (which has colons of its
 * own) or has no ':' at all; then the operator is "eq". */
void ims_filter_expr_split(const char *expr, struct ims_filter_expr *ret);
bool ims_filter_expr_op_is(const struct ims_filter_expr *e, const char *op);

/* Glance's split_filter_value_for_quotes: "a,\"b,c\",d" -> a | b,c | d.
 * Quotes must sit right after a comma (or at the start) and right before a
 * comma (or at the end); \" inside quotes is kept verbatim. At most
 * max_values items, else IMS_E_BADREQ. `param` names the parameter in errors. */
enum ims_rc ims_filter_in_list_split(const char *param, const char *list, size_t max_values,
                                     struct ims_strlist *ret, struct ims_err *err);

/* Python's str.strip() for ASCII whitespace, into a fresh string. */
char *ims_strip_dup(const char *s);

/* IMS image descriptions (reference common_parameters/image_attributes.md),
 * shared by the IMS PATCH dialect and the import requests: at most 1024
 * characters (IMG.0004) without angle brackets or line breaks (IMG.0054).
 * Names: ims_image_name_check (image.h), the rule of every route. */
enum ims_rc ims_cloudimage_check_description(const char *v, struct ims_err *err);

/* The body helpers of the IMS create calls (lib/query/import_request.c),
 * shared with the server-image bodies (server_request.c). json_t is
 * jansson's; every refusal is IMS_E_BADREQ with its IMS code. */
struct json_t;
/* A JSON object (IMG.0007 empty, IMG.0001 not JSON or not an object). */
enum ims_rc ims_qbody_load(const char *body, size_t len, struct json_t **ret, struct ims_err *err);
/* An optional valid-text string member (absent or null: *ret NULL); `code` otherwise. */
enum ims_rc ims_qbody_str(struct json_t *o, const char *key, const char *code, const char **ret,
                          struct ims_err *err);
/* An optional integer in [min, max] (IMG.0055). */
enum ims_rc ims_qbody_int(struct json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret,
                          struct ims_err *err);
/* tags or image_tags in their native form (IMG.0115, IMG.0116). */
enum ims_rc ims_qbody_tags(struct json_t *o, struct ims_strlist *ret, struct ims_err *err);

#endif
