/* SPDX-License-Identifier: Apache-2.0
 * IMS key/value image tags (reference ims-api/common_parameters/
 * image_tag_format.md and ims_apis/image_tagging/): pure parsing and
 * matching, no I/O; part of the `query` module.
 *
 * Storage: an IMS tag (key, value) is the native Glance tag "key=value"
 * ("key" alone when the value is empty), so GET /v2/images/{id} shows it in
 * `tags` the way the reference's native examples do ("test=testvalue"), and
 * a native tag reads back as an IMS tag: split at the first '=', no '=' =
 * a key with the empty value. One key per IMS tag: setting a key replaces
 * every native tag with that key. */
#ifndef IMS_TAGS_H
#define IMS_TAGS_H

#include "ims/base.h"
#include "ims/kv.h"

#define IMS_TAG_KEY_MAX 36          /* characters, after trimming */
#define IMS_TAG_VALUE_MAX 43
#define IMS_TAGS_PER_IMAGE_MAX 10   /* distinct keys an image may carry through the IMS API */
#define IMS_TAG_DELETE_KEY_MAX 127  /* batch delete checks lengths only */
#define IMS_TAG_DELETE_VALUE_MAX 255
#define IMS_TAG_BATCH_MAX 128       /* tags in one batch request */
#define IMS_TAG_QUERY_KEYS_MAX 10   /* per condition field of a query by tag */
#define IMS_TAG_QUERY_VALUES_MAX 10
#define IMS_TAG_QUERY_KEY_MAX 128
#define IMS_TAG_QUERY_VALUE_MAX 255
#define IMS_TAG_QUERY_LIMIT_DEFAULT 10
#define IMS_TAG_QUERY_LIMIT_MAX 1000

/* ---- the native form ---- */
/* Splits a native tag into owned key and value ("" when there is no '='). */
void ims_tag_split(const char *native, char **ret_key, char **ret_value);
/* The native tag of (key, value); owned. */
char *ims_tag_join(const char *key, const char *value);
/* Does the native tag carry `key`? */
bool ims_tag_has_key(const char *native, const char *key);
/* The native tags as (key, value) pairs, in order. */
void ims_tags_to_pairs(const struct ims_strlist *native, struct ims_kvlist *ret);
/* Characters (UTF-8 code points) of s. */
size_t ims_tag_chars(const char *s);

/* ---- request bodies (errors: IMS_E_BADREQ with err->code: IMG.0007 empty
 * body, IMG.0001 malformed or wrongly typed, IMG.0115 invalid tag) ---- */

/* The "tag" string of PUT /v1/cloudimages/tags: "key.value" (split at the
 * first '.'; no '.' = empty value); key 1-36 and value 0-43 of letters,
 * digits, '_' and '-'. */
enum ims_rc ims_tag_parse_dotted(const char *s, char **ret_key, char **ret_value, struct ims_err *err);
/* An image_tags object's key and value: spaces at both ends removed, key
 * 1-36 characters, value 0-43, no control characters, no '=' in the key
 * (the native form's separator). Owned results. */
enum ims_rc ims_tag_check_pair(const char *key, const char *value, char **ret_key, char **ret_value,
                               struct ims_err *err);

/* PUT /v1/cloudimages/tags: {"image_id", "tag" | "image_tag": {key, value}}. */
enum ims_rc ims_tag_v1_parse(const char *body, size_t len, char **ret_image_id, char **ret_key, char **ret_value,
                             struct ims_err *err);
/* POST /v2/{project_id}/images/{image_id}/tags: {"tag": {"key", "value"}}. */
enum ims_rc ims_tag_one_parse(const char *body, size_t len, char **ret_key, char **ret_value, struct ims_err *err);
/* POST /v2/{project_id}/images/{image_id}/tags/action: {"action":
 * "create"|"delete", "tags": [{"key", "value"}]}; keys unique. create:
 * pairs checked like ims_tag_check_pair; delete: key 1-127 and value
 * 0-255 characters, any characters, the value optional (NULL in *ret:
 * any value). */
struct ims_tag_batch {
    bool create;
    struct ims_kvlist tags;
};
enum ims_rc ims_tag_batch_parse(const char *body, size_t len, struct ims_tag_batch *ret, struct ims_err *err);
void ims_tag_batch_release(struct ims_tag_batch *b);

/* POST /v2/{project_id}/images/resource_instances/action. */
struct ims_tag_cond {
    char *key;
    struct ims_strlist values; /* empty: any value */
};
struct ims_tag_conds {
    struct ims_tag_cond *v;
    size_t n;
};
struct ims_tag_query {
    bool count;                 /* action "count" (else "filter") */
    struct ims_tag_conds tags, tags_any, not_tags, not_tags_any;
    bool without_any_tag;
    int64_t limit, offset;      /* filter only */
    char *match_name;           /* matches resource_name: substring; NULL = any */
    char *match_id;             /* matches resource_id: exact; NULL = any */
};
enum ims_rc ims_tag_query_parse(const char *body, size_t len, struct ims_tag_query *ret, struct ims_err *err);
void ims_tag_query_release(struct ims_tag_query *q);
/* Does an image (id, name, native tags) meet q's conditions? */
bool ims_tag_query_match(const struct ims_tag_query *q, const char *id, const char *name,
                         const struct ims_strlist *native_tags);

#endif
