/* SPDX-License-Identifier: Apache-2.0
 * The image record as the core sees it: core columns plus free-form
 * properties (including the `__`-prefixed IMS attributes) and tags. */
#ifndef IMS_IMAGE_H
#define IMS_IMAGE_H

#include "ims/base.h"
#include "ims/kv.h"

#define IMS_IMAGE_NAME_MAX 255
#define IMS_IMAGE_PROP_KEY_MAX 255
#define IMS_IMAGE_PROP_VALUE_MAX 65535
#define IMS_IMAGE_TAG_MAX 255
#define IMS_IMAGE_TAGS_MAX 128
#define IMS_IMAGE_PROPS_MAX 128

struct ims_image {
    char id[IMS_UUID_LEN + 1];
    char *owner;                  /* project id */
    char *name;                   /* NULL = unset */
    char status[16];              /* queued saving active killed deleted deactivated */
    char visibility[16];          /* public private shared community */
    bool protected_;
    bool os_hidden;
    char *container_format;       /* NULL = unset */
    char *disk_format;            /* NULL = unset */
    int64_t size;                 /* -1 = null */
    int64_t virtual_size;         /* -1 = null */
    char *checksum;               /* md5 hex or NULL */
    char *os_hash_algo;
    char *os_hash_value;
    int64_t min_disk, min_ram;
    char *enterprise_project_id;  /* "0" = default enterprise project */
    int64_t created_at, updated_at;
    char *blob;                   /* store location of the data, NULL if none */
    struct ims_kvlist props;      /* extra properties, string values */
    struct ims_strlist tags;
    int64_t revision;             /* raised by every change (repository) */
    /* Only id and revision were read: a list whose caller holds the image's
     * document for that revision (struct ims_image_query.known). */
    bool stub;
    /* As the repository read it, nothing changed since: only such a
     * record's document may be kept for its revision (lib/api/image_cache.c).
     * The record a write returns holds the same values in another order
     * (properties as the change applied them; a read gives them by name),
     * so a document rendered from it differs from a read's in bytes. */
    bool as_read;
    /* A list page's row whose kept document the page asked for
     * (struct ims_image_query.known) and did not find: rendering it asks
     * the cache no second time in the same request (at 100,000 images most
     * rows miss, and each lookup hashed the id and walked a cold set). */
    bool doc_missed;
    /* A list page's record (lib/db/repo_images.c, read_row_packed): its
     * strings, property keys and values and tags all live in this one
     * allocation, freed by ims_image_release; nothing may replace or remove
     * one of them (the page only renders and frees its records). */
    char *packed;
};

void ims_image_init(struct ims_image *img);
void ims_image_release(struct ims_image *img);
static inline void ims_image_releasep(struct ims_image *img) { ims_image_release(img); }
void ims_image_copy(struct ims_image *dst, const struct ims_image *src);
/* The documented IMS attributes an image shows while it has no value of its
 * own (image.c says why they are not stored): its answers add each one whose
 * key its properties lack, its filters match an absent key as its default. */
struct ims_prop_default {
    const char *key, *value;
    size_t key_len;
};
extern const struct ims_prop_default ims_image_shown_defaults[];
extern const size_t ims_image_nshown_defaults;
/* The default shown for key, or NULL when it has none. */
const char *ims_image_shown_default(const char *key);
/* Which shown defaults props hold a value of their own for: bit i for
 * ims_image_shown_defaults[i] (at most 64 of them). An answer shows the
 * others, from one pass over the properties. */
uint64_t ims_image_defaults_held(const struct ims_kvlist *props);

/* Sets property key to value for an answer; key and value must outlive img
 * (literals): on a list page's packed record they are not copied (its
 * strings may not be freed one by one), on any other it is ims_kvlist_set. */
void ims_image_prop_show(struct ims_image *img, const char *key, const char *value);
/* Replaces *field with a copy of value (NULL allowed). */
void ims_set_str(char **field, const char *value);
/* The image's status becomes active, now: active_at (the reference's time
 * the image became active) records it. For the first activation (upload,
 * import, copy); reactivation keeps the time. */
void ims_image_mark_active(struct ims_image *img, int64_t now);

bool ims_image_status_valid(const char *s);
/* Whether a job is writing the image (a copy being replicated: status
 * "importing"): the API may not upload into, change or delete it. */
bool ims_image_job_owned(const struct ims_image *img);
bool ims_image_visibility_valid(const char *s);
bool ims_disk_format_valid(const char *s);
bool ims_container_format_valid(const char *s);

/* Image names: the one check of every route that sets a name. Each API
 * keeps its own contract, stated here side by side:
 * - IMS_NAMES_GLANCE (Glance v2 create and PATCH): Glance's schema, text of
 *   at most IMS_IMAGE_NAME_MAX characters (valid UTF-8, no control
 *   characters; any script); 400 without an IMS code.
 * - IMS_NAMES_IMS (IMS PATCH, copy, the create/import/export and
 *   server/backup bodies): the IMS reference's rule, 1 to IMS_NAME_MAX
 *   characters, ASCII letters, digits, hyphens, periods, underscores and
 *   spaces, no space at either end; IMG.0002 when too long, IMG.0003
 *   otherwise (callers answer IMG.0013 for a name not given). */
#define IMS_NAME_MAX 128
enum ims_name_rules { IMS_NAMES_GLANCE, IMS_NAMES_IMS };
enum ims_rc ims_image_name_check(const char *name, enum ims_name_rules rules, struct ims_err *err);

/* Core attributes the client may set at create time or by PATCH. */
enum ims_attr_kind {
    IMS_ATTR_PROPERTY = 0, /* not a core attribute: a free-form property */
    IMS_ATTR_MUTABLE,      /* name, visibility, protected, os_hidden, formats, min_*, tags */
    IMS_ATTR_READONLY,     /* id, status, size, checksum, created_at, ... : 403 on change */
    IMS_ATTR_RESERVED,     /* location, deleted, ... : 403 */
    IMS_ATTR_SYSTEM,       /* IMS attributes the system sets (__imagetype, ...): a property
                            * only an administrator may set; 403 for tenants */
};
enum ims_attr_kind ims_image_attr_kind(const char *name);
/* Properties the service keeps for itself and no API shows, as Glance's
 * _hidden_properties: where staged data waits (os_glance_stage_host), the
 * staged data's digests, and the image's data in further stores. */
bool ims_image_prop_hidden(const char *key);
/* The image's data in a store besides its own location (img->blob):
 * property IMS_PROP_COPY_PREFIX<store id> = that store's location
 * (lib/core/image_stores.c). The repository counts them as references of
 * their blobs, as it counts img->blob. */
#define IMS_PROP_COPY_PREFIX "os_glance_location_"
/* The metadata of a location (Glance keeps a JSON object per location):
 * IMS_PROP_META_PREFIX<store id> (any store, the image's own location's
 * included), a JSON object; hidden too. */
#define IMS_PROP_META_PREFIX "os_glance_locmeta_"

#endif
