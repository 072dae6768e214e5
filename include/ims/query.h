/* SPDX-License-Identifier: Apache-2.0
 * query: pure parsing of the image-list query string (Glance v2 dialect)
 * into a structured filter the metadata repository turns into SQL.
 * No I/O; depends on base only. */
#ifndef IMS_QUERY_H
#define IMS_QUERY_H

#include "ims/base.h"
#include "ims/kv.h"

enum ims_cmp { IMS_CMP_EQ, IMS_CMP_NEQ, IMS_CMP_GT, IMS_CMP_GTE, IMS_CMP_LT, IMS_CMP_LTE, IMS_CMP_IN };

/* What a filter compares against. Core columns are named by their column
 * name; anything else is a property filter (key in image_properties). */
enum ims_field_type { IMS_FIELD_TEXT, IMS_FIELD_INT, IMS_FIELD_BOOL, IMS_FIELD_TIME };

struct ims_filter {
    char *key;            /* canonical: "name", "id", "owner", "status", "container_format",
                           * "disk_format", "protected", "os_hidden", "size", "created_at",
                           * "updated_at", "visibility"?? (no: see query.visibility), or a
                           * property key when is_property */
    bool is_property;
    /* Added by the dialect, not asked for (IMS: __isregistered=true): it
     * matches nearly every image, so no index is used for it. */
    bool implied;
    enum ims_field_type type;
    enum ims_cmp op;      /* IMS_CMP_IN: values holds the list */
    struct ims_strlist values; /* TEXT values as given; BOOL "1"/"0"; TIME/INT as decimal epoch/int */
};

struct ims_sort {
    char *key;  /* a core column name (see ims_query_sort_key_valid) */
    bool desc;
};

#define IMS_QUERY_MAX_SORT 8

struct ims_image_query {
    struct ims_filter *filters;
    size_t nfilters;
    struct ims_strlist tags;      /* every tag must be present */
    char *visibility;             /* NULL: Glance's default view; else public|private|shared|community|all */
    char *member_status;          /* NULL = "accepted"; pending|accepted|rejected|all */
    bool os_hidden_given;         /* false: hidden images are excluded */
    struct ims_sort sorts[IMS_QUERY_MAX_SORT];
    size_t nsorts;                /* always >= 1 after parse; "created_at desc" by default */
    int64_t limit;                /* after clamping to max */
    char *marker;                 /* image id or NULL */
    /* IMS dialect (GET /v2/cloudimages): __imagetype gold = public images,
     * private = the caller's own, shared = shared ones (owner's or accepted
     * by the caller, member_status applies); NULL = any. */
    char *imagetype;
    /* Set by the caller, never parsed: a row for which known(known_ctx, id,
     * revision, owner) is true comes back as a stub (struct ims_image.stub:
     * only its id and revision read), its document being the caller's. */
    bool (*known)(void *ctx, const char *id, int64_t revision, const char *owner);
    void *known_ctx;
};

/* The list dialects over the one query structure: Glance v2 (GET
 * /v2/images), IMS (GET /v2/cloudimages: reference ims_apis/image/
 * querying_images.md; its own parameters, defaults and value checks, and
 * errors carrying IMG codes in err->code), and Glance v1 (GET
 * /v1.1/images/detail): v2's rules, but `changes-since` filters as v1 did
 * (updated at or after an ISO 8601 time) instead of being refused. */
enum ims_query_dialect { IMS_QUERY_GLANCE, IMS_QUERY_IMS, IMS_QUERY_GLANCE_V1 };

/* Enumerated parameters (spec/query-enums.tsv): a filter whose values the
 * reference enumerates. dialects is a bit set of (1u << enum
 * ims_query_dialect); values is NULL-terminated; ims_code is the IMS error
 * code of any other value. The parser enforces them; the table is public
 * so a test can hold it against the spec. */
struct ims_query_enum {
    const char *param;
    unsigned dialects;
    const char *const *values;
    const char *ims_code;
};
extern const struct ims_query_enum ims_query_enums[];
extern const size_t ims_query_nenums;
/* The enumeration of param in dialect d, or NULL when its values are free. */
const struct ims_query_enum *ims_query_enum_find(enum ims_query_dialect d, const char *param);
bool ims_query_enum_allows(const struct ims_query_enum *e, const char *value);

struct ims_query_limits {
    int64_t default_limit; /* Glance: 25 */
    int64_t max_limit;     /* Glance api_limit_max: 1000 */
};

/* Parses decoded query parameters (repeatable keys appear several times, in
 * order). Errors are precise: IMS_E_BADREQ with err->msg naming the parameter.
 * On success *ret is filled and must be released. */
enum ims_rc ims_image_query_parse(const struct ims_kvlist *params, const struct ims_query_limits *lim,
                                  struct ims_image_query *ret, struct ims_err *err);
enum ims_rc ims_image_query_parse_dialect(const struct ims_kvlist *params, const struct ims_query_limits *lim,
                                          enum ims_query_dialect dialect, struct ims_image_query *ret,
                                          struct ims_err *err);
void ims_image_query_release(struct ims_image_query *q);
bool ims_query_sort_key_valid(const char *key);

/* Splits "a=1&b=%20x&b=y" into decoded pairs (application/x-www-form-urlencoded:
 * '+' is a space). Caps: at most max_params pairs, else IMS_E_BADREQ. */
enum ims_rc ims_query_string_parse(const char *qs, size_t max_params, struct ims_kvlist *ret, struct ims_err *err);

#endif
