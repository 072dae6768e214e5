/* SPDX-License-Identifier: Apache-2.0
 * The image record: lifecycle of the struct (init/copy/release), the closed
 * vocabularies Glance accepts for formats, statuses and visibility, and the
 * classification of attribute names into core-mutable, read-only, reserved
 * and free-form properties that both image creation and PATCH rely on, and
 * the image name rules of both APIs. */
#include "ims/image.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

void ims_image_init(struct ims_image *img)
{
    *img = (struct ims_image){
        .size = -1,
        .virtual_size = -1,
    };
    strcpy(img->status, "queued");
    /* Glance v2 creates images "shared" when the client names no visibility. */
    strcpy(img->visibility, "shared");
    img->enterprise_project_id = ims_xstrdup("0");
}

void ims_image_release(struct ims_image *img)
{
    if (img->packed) {
        free(img->packed);
        free(img->props.items);
        free(img->tags.items);
        *img = (struct ims_image){0};
        return;
    }
    free(img->owner);
    free(img->name);
    free(img->container_format);
    free(img->disk_format);
    free(img->checksum);
    free(img->os_hash_algo);
    free(img->os_hash_value);
    free(img->enterprise_project_id);
    free(img->blob);
    ims_kvlist_release(&img->props);
    ims_strlist_release(&img->tags);
    *img = (struct ims_image){0};
}

static char *dup_or_null(const char *s)
{
    return s ? ims_xstrdup(s) : NULL;
}

/* dst is treated as raw memory: whatever it held is overwritten, not freed. */
void ims_image_copy(struct ims_image *dst, const struct ims_image *src)
{
    *dst = *src;
    dst->packed = NULL;
    dst->owner = dup_or_null(src->owner);
    dst->name = dup_or_null(src->name);
    dst->container_format = dup_or_null(src->container_format);
    dst->disk_format = dup_or_null(src->disk_format);
    dst->checksum = dup_or_null(src->checksum);
    dst->os_hash_algo = dup_or_null(src->os_hash_algo);
    dst->os_hash_value = dup_or_null(src->os_hash_value);
    dst->enterprise_project_id = dup_or_null(src->enterprise_project_id);
    dst->blob = dup_or_null(src->blob);
    dst->props = (struct ims_kvlist){0};
    ims_kvlist_copy(&dst->props, &src->props);
    dst->tags = (struct ims_strlist){0};
    ims_strlist_copy(&dst->tags, &src->tags);
}

void ims_image_prop_show(struct ims_image *img, const char *key, const char *value)
{
    if (!img->packed) {
        ims_kvlist_set(&img->props, key, value);
        return;
    }
    /* The literals are only read and never freed: release frees the packed
     * block and the items array, not the items. */
    for (size_t i = 0; i < img->props.n; i++) {
        if (strcmp(img->props.items[i].key, key) == 0) {
            img->props.items[i].value = (char *)value;
            return;
        }
    }
    ims_kvlist_push(&img->props, (char *)key, (char *)value);
}

void ims_set_str(char **field, const char *value)
{
    /* Copy before freeing: value may point into *field. */
    char *copy = dup_or_null(value);
    free(*field);
    *field = copy;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    if (!s)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

bool ims_image_status_valid(const char *s)
{
    static const char *const statuses[] = {
        "queued", "saving", "active", "killed", "deleted", "pending_delete", "deactivated", "uploading", "importing",
    };
    return in_list(s, statuses, IMS_ARRAY_SIZE(statuses));
}

bool ims_image_job_owned(const struct ims_image *img)
{
    return ims_streq(img->status, "importing");
}

bool ims_image_visibility_valid(const char *s)
{
    static const char *const visibilities[] = {"public", "private", "shared", "community"};
    return in_list(s, visibilities, IMS_ARRAY_SIZE(visibilities));
}

bool ims_disk_format_valid(const char *s)
{
    /* Glance's defaults plus the two IMS (Huawei) formats. */
    static const char *const formats[] = {
        "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop", "zvhd2", "zvhd",
    };
    return in_list(s, formats, IMS_ARRAY_SIZE(formats));
}

bool ims_container_format_valid(const char *s)
{
    static const char *const formats[] = {"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"};
    return in_list(s, formats, IMS_ARRAY_SIZE(formats));
}

void ims_image_mark_active(struct ims_image *img, int64_t now)
{
    char at[21];
    snprintf(img->status, sizeof(img->status), "active");
    ims_time_iso(now, at);
    ims_kvlist_set(&img->props, "active_at", at);
}

enum ims_attr_kind ims_image_attr_kind(const char *name)
{
    static const char *const mutable_attrs[] = {
        "name", "visibility", "protected", "os_hidden", "container_format",
        "disk_format", "min_disk", "min_ram", "tags", "owner",
    };
    /* Glance's _readonly_properties, plus "stores" which it computes. */
    static const char *const readonly_attrs[] = {
        "id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
        "created_at", "updated_at", "file", "self", "schema", "direct_url", "stores",
        /* the IMS name of enterprise_project_id, written from it */
        "_sys_enterprise_project_id",
        /* chosen at create; moving an image between enterprise projects is
         * PATCH /v2/cloudimages, which has its own permission rule */
        "enterprise_project_id",
    };
    /* Glance's _reserved_properties; "locations" is no property nor a
     * create-time attribute: its PATCH operations are image_locations.c's. */
    static const char *const reserved_attrs[] = {"location", "locations", "deleted", "deleted_at"};
    /* What the IMS reference (common_parameters/image_attributes.md, the
     * update API's response) describes as the system's record of an image:
     * its type, registration, storage, size, origin and encryption. Other
     * projects see these values, so a tenant writing them could pass its
     * image off as, e.g., a public (gold) one. The __os_*, __platform,
     * __support_* and __is_config_init attributes describe the guest and
     * stay the owner's to set. */
    static const char *const system_attrs[] = {
        "__imagetype",         "__isregistered", "__image_source_type", "__image_location",
        "__image_size",        "__data_origin",  "__originalimagename", "__originalimagesize",
        "__backup_id",         "__whole_image",  "__root_origin",       "__sequence_num",
        "__system__cmkid",     "__lazyloading",  "__account_code",      "__productcode",
        /* when the image became active (ims_image_mark_active) */
        "active_at",
        /* a full-ECS image's data-disk images (lib/core/whole_images.c) */
        "__whole_image_disks",
    };

    if (in_list(name, mutable_attrs, IMS_ARRAY_SIZE(mutable_attrs)))
        return IMS_ATTR_MUTABLE;
    if (in_list(name, readonly_attrs, IMS_ARRAY_SIZE(readonly_attrs)))
        return IMS_ATTR_READONLY;
    if (in_list(name, reserved_attrs, IMS_ARRAY_SIZE(reserved_attrs)))
        return IMS_ATTR_RESERVED;
    if (in_list(name, system_attrs, IMS_ARRAY_SIZE(system_attrs)))
        return IMS_ATTR_SYSTEM;
    /* Glance reserves the whole os_glance* namespace for its own bookkeeping. */
    if (name && ims_str_startswith(name, "os_glance"))
        return IMS_ATTR_RESERVED;
    return IMS_ATTR_PROPERTY;
}

bool ims_image_prop_hidden(const char *key)
{
    /* the names of glance_import.h's IMS_PROP_STAGE_HOST and
     * IMS_PROP_STAGED_DIGESTS (a record may not include a core header);
     * asked of every property of every image answered, so the first byte
     * decides for nearly all of them */
    return key[0] == 'o' &&
           (ims_streq(key, "os_glance_stage_host") || ims_streq(key, "os_glance_staged_digests") ||
            ims_str_startswith(key, IMS_PROP_COPY_PREFIX) || ims_str_startswith(key, IMS_PROP_META_PREFIX));
}

enum ims_rc ims_image_name_check(const char *v, enum ims_name_rules rules, struct ims_err *err)
{
    if (rules == IMS_NAMES_GLANCE) {
        if (!ims_text_valid(v))
            return ims_fail(err, IMS_E_BADREQ,
                            "Invalid value for attribute 'name': control characters are not allowed");
        if (ims_utf8_chars(v) > IMS_IMAGE_NAME_MAX)
            return ims_fail(err, IMS_E_BADREQ, "Invalid value for attribute 'name': longer than %d characters",
                            IMS_IMAGE_NAME_MAX);
        return IMS_OK;
    }
    size_t n = strlen(v);
    if (ims_utf8_chars(v) > IMS_NAME_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0002", "The image name %.64s... contains more than %d characters.",
                             v, IMS_NAME_MAX);
    if (n == 0 || v[0] == ' ' || v[n - 1] == ' ')
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0003",
                             "Invalid image name '%s': 1 to 128 characters, not starting or ending with a space.", v);
    for (const char *c = v; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  strchr("-._ ", *c);
        if (!ok)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0003",
                                 "Invalid image name '%s': letters, digits, hyphens, periods, underscores and "
                                 "spaces only.",
                                 v);
    }
    return IMS_OK;
}

/* The documented IMS attributes (spec/image-fields.tsv: every field the
 * response tables and examples of the image APIs show) an image shows while
 * it has no value of its own. They are not stored: a property row costs
 * every read of the image, and defaults stored in every image made lists,
 * GETs, creates and PATCHes several times slower. Where a field means
 * nothing in imsd it shows the reference's documented default or "not
 * set": no charging (__account_code, __productcode), no encryption
 * (__system__cmkid), no lazy loading, no agents, no GPU or special hardware
 * (__support_* "false", GPU types empty), storage kept private
 * (__image_location empty), the slot number the reference calls
 * unavailable (__sequence_num empty); active_at is empty until the image
 * first becomes active (ims_image_mark_active). */
#define DEFAULT(k, v) {k, v, sizeof(k) - 1}
const struct ims_prop_default ims_image_shown_defaults[] = {
    DEFAULT("__description", ""),
    DEFAULT("__originalimagename", ""),
    DEFAULT("__backup_id", ""),
    DEFAULT("__data_origin", ""),
    DEFAULT("__root_origin", ""),
    DEFAULT("__sequence_num", ""),
    DEFAULT("__productcode", ""),
    DEFAULT("__account_code", ""),
    DEFAULT("__image_location", ""),
    DEFAULT("__system__cmkid", ""),
    DEFAULT("__lazyloading", "false"),
    DEFAULT("__os_feature_list", "[]"),
    DEFAULT("__support_agent_list", ""),
    DEFAULT("__support_kvm", "false"),
    DEFAULT("__support_xen", "false"),
    DEFAULT("__support_largememory", "false"),
    DEFAULT("__support_diskintensive", "false"),
    DEFAULT("__support_highperformance", "false"),
    DEFAULT("__support_xen_gpu_type", ""),
    DEFAULT("__support_kvm_gpu_type", ""),
    DEFAULT("__support_xen_hana", "false"),
    DEFAULT("__support_kvm_infiniband", "false"),
    DEFAULT("__support_kvm_hi1822_hisriov", "false"),
    DEFAULT("__support_kvm_hi1822_hivirtionet", "false"),
    DEFAULT("__support_amd", "false"),
    DEFAULT("__support_fc_inject", "false"),
    DEFAULT("hw_firmware_type", "bios"),
    DEFAULT("hw_vif_multiqueue_enabled", "false"),
    DEFAULT("max_ram", ""),
    DEFAULT("active_at", ""),
};
#undef DEFAULT
const size_t ims_image_nshown_defaults = sizeof(ims_image_shown_defaults) / sizeof(ims_image_shown_defaults[0]);

_Static_assert(sizeof(ims_image_shown_defaults) / sizeof(ims_image_shown_defaults[0]) <= 64,
               "ims_image_defaults_held's mask has a bit per shown default");
_Static_assert(sizeof("__support_kvm_hi1822_hivirtionet") < 64, "the longest key fits by_len");

/* The defaults by key length: bit i of by_len[n] for each default whose
 * key has n bytes (keys are shorter than 64). Every image answer asks
 * shown_default_index of each of its properties: a strcmp against each
 * default was 14 % of a list request's cycles, a length test against each
 * still 4 %; now a property is compared with the one or two defaults of
 * its length, if any. */
static uint64_t by_len[64];
static pthread_once_t by_len_once = PTHREAD_ONCE_INIT;

static void by_len_build(void)
{
    for (size_t i = 0; i < ims_image_nshown_defaults; i++)
        by_len[ims_image_shown_defaults[i].key_len] |= UINT64_C(1) << i;
}

/* by_len built (pthread_once) before the call. The last byte first: most
 * keys of one length share their "__support_" start, and an image's dozen
 * properties were compared with every default of their length, a memcmp
 * call each. */
static int shown_default_index_built(const char *key, size_t len)
{
    if (len >= 64 || len == 0)
        return -1;
    for (uint64_t m = by_len[len]; m; m &= m - 1) {
        int i = __builtin_ctzll(m);
        const char *d = ims_image_shown_defaults[i].key;
        if (d[len - 1] == key[len - 1] && memcmp(d, key, len - 1) == 0)
            return i;
    }
    return -1;
}

static int shown_default_index(const char *key, size_t len)
{
    pthread_once(&by_len_once, by_len_build);
    return shown_default_index_built(key, len);
}

const char *ims_image_shown_default(const char *key)
{
    int i = shown_default_index(key, strlen(key));
    return i < 0 ? NULL : ims_image_shown_defaults[i].value;
}

uint64_t ims_image_defaults_held(const struct ims_kvlist *props)
{
    uint64_t held = 0;
    pthread_once(&by_len_once, by_len_build);
    for (size_t i = 0; i < props->n; i++) {
        int d = shown_default_index_built(props->items[i].key, strlen(props->items[i].key));
        if (d >= 0)
            held |= UINT64_C(1) << d;
    }
    return held;
}
