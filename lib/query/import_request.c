/* SPDX-License-Identifier: Apache-2.0
 * The bodies of the import, registration and export calls, field by field
 * as the reference documents them, each refusal with its IMS error code.
 * Pure: the OS table is compiled in, nothing else is read. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ims/import_request.h"
#include "ims/os_version.h"
#include "ims/tags.h"
#include "query-int.h"

#define BAD(code, ...) ims_fail_code(err, IMS_E_BADREQ, code, __VA_ARGS__)
#define URL_MAX 2048 /* "bucket:object": a 63-byte bucket, a 1024-byte key, with room to spare */
#define RAM_MAX 2147483647

void ims_obs_url_release(struct ims_obs_url *u)
{
    free(u->bucket);
    free(u->object);
    *u = (struct ims_obs_url){0};
}

static void image_release(struct ims_import_image *im)
{
    free(im->name);
    free(im->description);
    ims_obs_url_release(&im->file);
    ims_strlist_release(&im->tags);
    *im = (struct ims_import_image){0};
}

void ims_import_request_release(struct ims_import_request *r)
{
    image_release(&r->image);
    for (size_t i = 0; i < r->n_data; i++)
        image_release(&r->data_images[i]);
    free(r->os_version);
    free(r->os_type);
    free(r->type);
    free(r->enterprise_project_id);
    free(r->hw_firmware_type);
    free(r->architecture);
    free(r->cmk_id);
    *r = (struct ims_import_request){0};
}

void ims_export_request_release(struct ims_export_request *r)
{
    ims_obs_url_release(&r->target);
    free(r->file_format);
    *r = (struct ims_export_request){0};
}

static enum ims_rc load_object(const char *body, size_t len, json_t **ret, struct ims_err *err)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i]))
        i++;
    if (i == len)
        return BAD("IMG.0007", "The request body is empty.");
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return BAD("IMG.0001", "Malformed JSON in request body: %s.", je.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return BAD("IMG.0001", "The request body must be a JSON object.");
    }
    *ret = doc;
    return IMS_OK;
}

/* An optional string member: absent or null leaves *ret NULL; anything but
 * a string is refused with `code`. */
static enum ims_rc opt_str(json_t *o, const char *key, const char *code, const char **ret, struct ims_err *err)
{
    json_t *v = json_object_get(o, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return IMS_OK;
    if (!json_is_string(v))
        return BAD(code, "'%s' must be a string.", key);
    if (!ims_text_valid(json_string_value(v)))
        return BAD(code, "'%s' contains control characters.", key);
    *ret = json_string_value(v);
    return IMS_OK;
}

static enum ims_rc opt_bool(json_t *o, const char *key, bool *ret, struct ims_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return IMS_OK;
    if (!json_is_boolean(v))
        return BAD("IMG.0001", "'%s' must be true or false.", key);
    *ret = json_is_true(v);
    return IMS_OK;
}

/* An integer in [min, max] (IMG.0055 otherwise: "The memory or disk size is
 * invalid"); absent leaves *ret alone unless required. */
static enum ims_rc int_in(json_t *o, const char *key, int64_t min, int64_t max, bool required, int64_t *ret,
                          struct ims_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            return BAD("IMG.0055", "'%s' is required.", key);
        return IMS_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return BAD("IMG.0055", "'%s' must be an integer from %lld to %lld.", key, (long long)min, (long long)max);
    *ret = json_integer_value(v);
    return IMS_OK;
}

static enum ims_rc parse_url(const char *field, const char *s, struct ims_obs_url *ret, struct ims_err *err)
{
    const char *colon = s ? strchr(s, ':') : NULL;
    if (!colon || colon == s || !colon[1])
        return BAD("IMG.0001", "%s must be \"bucket:object\".", field);
    if (strlen(s) > URL_MAX)
        return BAD("IMG.0017", "%s is longer than %d bytes.", field, URL_MAX);
    ret->bucket = ims_xstrndup(s, (size_t)(colon - s));
    ret->object = ims_xstrdup(colon + 1);
    return IMS_OK;
}

static enum ims_rc url_member(json_t *o, const char *key, struct ims_obs_url *ret, struct ims_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return BAD("IMG.0001", "'%s' (\"bucket:object\") is required.", key);
    if (!json_is_string(v) || !ims_text_valid(json_string_value(v)))
        return BAD("IMG.0001", "'%s' must be a string \"bucket:object\".", key);
    return parse_url(key, json_string_value(v), ret, err);
}

/* tags (["key.value"]) or image_tags ([{"key", "value"}]), not both; the
 * native form, one tag per key (the last wins), at most
 * IMS_TAGS_PER_IMAGE_MAX keys. */
static enum ims_rc parse_tags(json_t *o, struct ims_strlist *ret, struct ims_err *err)
{
    json_t *tags = json_object_get(o, "tags"), *image_tags = json_object_get(o, "image_tags");
    if (json_is_null(tags))
        tags = NULL;
    if (json_is_null(image_tags))
        image_tags = NULL;
    if (tags && image_tags)
        return BAD("IMG.0115", "Use either 'tags' or 'image_tags', not both.");
    json_t *list = tags ? tags : image_tags;
    if (!list)
        return IMS_OK;
    if (!json_is_array(list))
        return BAD("IMG.0115", "'%s' must be an array.", tags ? "tags" : "image_tags");
    struct ims_kvlist pairs = {0};
    enum ims_rc rc = IMS_OK;
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        char *k = NULL, *v = NULL;
        if (tags) {
            rc = json_is_string(t) ? ims_tag_parse_dotted(json_string_value(t), &k, &v, err)
                                   : BAD("IMG.0115", "Each tag must be a string \"key.value\".");
        } else {
            const char *ks = json_string_value(json_object_get(t, "key"));
            json_t *vj = json_object_get(t, "value");
            if (!json_is_object(t) || !ks || (vj && !json_is_null(vj) && !json_is_string(vj)))
                rc = BAD("IMG.0115", "Each image tag must be an object with a string key and value.");
            else
                rc = ims_tag_check_pair(ks, json_is_string(vj) ? json_string_value(vj) : "", &k, &v, err);
        }
        if (rc != IMS_OK)
            break;
        ims_kvlist_set(&pairs, k, v);
        free(k);
        free(v);
        if (pairs.n > IMS_TAGS_PER_IMAGE_MAX) {
            rc = BAD("IMG.0116", "An image carries at most %d tags.", IMS_TAGS_PER_IMAGE_MAX);
            break;
        }
    }
    for (size_t j = 0; rc == IMS_OK && j < pairs.n; j++) {
        char *native = ims_tag_join(pairs.items[j].key, pairs.items[j].value);
        ims_strlist_add(ret, native);
        free(native);
    }
    ims_kvlist_release(&pairs);
    return rc;
}

/* name (mandatory unless a default is given), description, tags. */
static enum ims_rc parse_common(json_t *o, const char *default_name, struct ims_import_image *im,
                                struct ims_err *err)
{
    const char *name, *desc;
    enum ims_rc rc = opt_str(o, "name", "IMG.0003", &name, err);
    if (rc != IMS_OK)
        return rc;
    if (!name || !*name) {
        if (!default_name)
            return BAD("IMG.0013", "The image name is not specified.");
        name = default_name;
    }
    if ((rc = ims_image_name_check(name, IMS_NAMES_IMS, err)) != IMS_OK)
        return rc;
    if ((rc = opt_str(o, "description", "IMG.0054", &desc, err)) != IMS_OK)
        return rc;
    if (desc && (rc = ims_cloudimage_check_description(desc, err)) != IMS_OK)
        return rc;
    if ((rc = parse_tags(o, &im->tags, err)) != IMS_OK)
        return rc;
    im->name = ims_xstrdup(name);
    im->description = desc && *desc ? ims_xstrdup(desc) : NULL;
    return IMS_OK;
}

static bool one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ims_streq(s, set[i]))
            return true;
    return false;
}

static enum ims_rc check_os_type(const char *os_type, bool data, struct ims_err *err)
{
    static const char *const system[] = {"Linux", "Windows", "Other"};
    if (!os_type || one_of(os_type, system, data ? 2 : 3))
        return IMS_OK;
    return BAD("IMG.0122", "The OS type %.32s is invalid: it must be %s.", os_type,
               data ? "Linux or Windows" : "Linux, Windows or Other");
}

/* Fields every import shares: os_version, os_type, enterprise project,
 * memory, firmware, key, automatic configuration. */
static enum ims_rc parse_settings(json_t *o, struct ims_import_request *r, struct ims_err *err)
{
    const char *os_version, *os_type, *ep, *fw, *cmk;
    enum ims_rc rc;
    if ((rc = opt_str(o, "os_version", "IMG.0056", &os_version, err)) != IMS_OK)
        return rc;
    if (os_version && *os_version && !ims_os_table_find(ims_os_table_builtin(), os_version))
        return BAD("IMG.0056", "Invalid OS version %.64s: see GET /v1/cloudimages/os_version.", os_version);
    if ((rc = opt_str(o, "os_type", "IMG.0122", &os_type, err)) != IMS_OK)
        return rc;
    if ((rc = check_os_type(os_type, r->image.data, err)) != IMS_OK)
        return rc;
    if ((rc = opt_str(o, "enterprise_project_id", "IMG.0155", &ep, err)) != IMS_OK)
        return rc;
    if (ep && *ep && strcmp(ep, "0") && !ims_uuid_valid(ep))
        return BAD("IMG.0155", "Invalid enterprise_project_id: it must be \"0\" or an enterprise project UUID.");
    if ((rc = opt_str(o, "hw_firmware_type", "IMG.0141", &fw, err)) != IMS_OK)
        return rc;
    if (fw && strcmp(fw, "bios") && strcmp(fw, "uefi"))
        return BAD("IMG.0141", "The value of hw_firmware_type is not uefi or bios.");
    if ((rc = opt_str(o, "cmk_id", "IMG.0095", &cmk, err)) != IMS_OK)
        return rc;
    if (cmk && *cmk && !ims_uuid_valid(cmk))
        return BAD("IMG.0095", "The KMS key %.64s does not exist.", cmk);
    r->min_ram = r->max_ram = -1;
    if ((rc = int_in(o, "min_ram", 0, RAM_MAX, false, &r->min_ram, err)) != IMS_OK ||
        (rc = int_in(o, "max_ram", 0, RAM_MAX, false, &r->max_ram, err)) != IMS_OK)
        return rc;
    if (r->min_ram > 0 && r->max_ram > 0 && r->max_ram < r->min_ram)
        return BAD("IMG.0055", "max_ram (%lld MB) is less than min_ram (%lld MB).", (long long)r->max_ram,
                   (long long)r->min_ram);
    if ((rc = opt_bool(o, "is_config", &r->is_config, err)) != IMS_OK)
        return rc;
    r->os_version = os_version && *os_version ? ims_xstrdup(os_version) : NULL;
    r->os_type = os_type ? ims_xstrdup(os_type) : NULL;
    r->enterprise_project_id = ims_xstrdup(ep && *ep ? ep : "0");
    r->hw_firmware_type = fw ? ims_xstrdup(fw) : NULL;
    r->cmk_id = cmk && *cmk ? ims_xstrdup(cmk) : NULL;
    return IMS_OK;
}

/* The data disks of a system-disk import (Table 2 of creating_an_image):
 * image_url and min_disk (1-2048 GB) each, name defaulting to the system
 * image's with a suffix, no file named twice (IMG.0123). */
static enum ims_rc parse_data_images(json_t *o, struct ims_import_request *r, struct ims_err *err)
{
    json_t *list = json_object_get(o, "data_images");
    if (!list || json_is_null(list))
        return IMS_OK;
    if (!json_is_array(list))
        return BAD("IMG.0001", "'data_images' must be an array.");
    if (json_array_size(list) > IMS_IMPORT_DATA_IMAGES_MAX)
        return BAD("IMG.0194", "An image file import adds at most %d data disks.", IMS_IMPORT_DATA_IMAGES_MAX);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        if (!json_is_object(d))
            return BAD("IMG.0001", "Each entry of 'data_images' must be an object.");
        struct ims_import_image *im = &r->data_images[r->n_data++];
        im->data = true;
        char dflt[160];
        snprintf(dflt, sizeof(dflt), "%.100s-data%zu", r->image.name, i + 1);
        enum ims_rc rc = parse_common(d, dflt, im, err);
        if (rc == IMS_OK)
            rc = url_member(d, "image_url", &im->file, err);
        if (rc == IMS_OK)
            rc = int_in(d, "min_disk", 1, 2048, true, &im->min_disk, err);
        if (rc == IMS_OK && json_object_get(d, "is_quick_import") &&
            (rc = opt_bool(d, "is_quick_import", &(bool){0}, err)) == IMS_OK &&
            json_is_true(json_object_get(d, "is_quick_import")) != r->quick)
            rc = BAD("IMG.0001", "The data disks are imported the way the system disk is: is_quick_import must "
                                 "agree.");
        if (rc != IMS_OK)
            return rc;
    }
    /* Every file once: the system disk's and the data disks'. */
    for (size_t a = 0; a < r->n_data; a++) {
        const struct ims_obs_url *u = &r->data_images[a].file;
        bool dup = ims_streq(u->bucket, r->image.file.bucket) && ims_streq(u->object, r->image.file.object);
        for (size_t b = 0; b < a && !dup; b++)
            dup = ims_streq(u->bucket, r->data_images[b].file.bucket) &&
                  ims_streq(u->object, r->data_images[b].file.object);
        if (dup)
            return BAD("IMG.0123", "The image file %.64s:%.200s is named twice.", u->bucket, u->object);
    }
    return IMS_OK;
}

static enum ims_rc parse_import(enum ims_import_route route, json_t *o, struct ims_import_request *r,
                                struct ims_err *err)
{
    static const char *const system_types[] = {"ECS", "BMS", "FusionCompute", "IsoImage", "Ironic"};
    static const char *const quick_types[] = {"ECS", "BMS", "DataImage"};
    r->route = route;
    const char *type = NULL, *arch = NULL;
    enum ims_rc rc = opt_str(o, "type", "IMG.0024", &type, err);
    if (rc != IMS_OK)
        return rc;
    if (route == IMS_IMPORT_FILE && type && !one_of(type, system_types, IMS_ARRAY_SIZE(system_types)))
        return BAD("IMG.0024", "The image type %.32s is incorrect: ECS, BMS, FusionCompute, IsoImage or Ironic.",
                   type);
    if (route == IMS_IMPORT_QUICK && type && !one_of(type, quick_types, IMS_ARRAY_SIZE(quick_types)))
        return BAD("IMG.0024", "The image type %.32s is incorrect: ECS, BMS or DataImage.", type);
    if (route == IMS_IMPORT_DATA_FILE && type && strcmp(type, "DataImage"))
        return BAD("IMG.0024", "The image type %.32s is incorrect: a data disk image is DataImage.", type);
    r->image.data = route == IMS_IMPORT_DATA_FILE || ims_streq(type, "DataImage");
    r->type = ims_xstrdup(r->image.data ? "DataImage" : type ? type : "ECS");
    if (route == IMS_IMPORT_QUICK)
        r->quick = true;
    else if ((rc = opt_bool(o, "is_quick_import", &r->quick, err)) != IMS_OK)
        return rc;
    if ((rc = parse_common(o, NULL, &r->image, err)) != IMS_OK)
        return rc;
    if ((rc = url_member(o, "image_url", &r->image.file, err)) != IMS_OK)
        return rc;
    /* min_disk: system disks 1-1024 GB; data disks 40-2048 GB on the v1
     * data-image call, 1-1024 on quick import (the reference's ranges). */
    int64_t lo = route == IMS_IMPORT_DATA_FILE ? 40 : 1, hi = route == IMS_IMPORT_DATA_FILE ? 2048 : 1024;
    if ((rc = int_in(o, "min_disk", lo, hi, true, &r->image.min_disk, err)) != IMS_OK)
        return rc;
    if ((rc = parse_settings(o, r, err)) != IMS_OK)
        return rc;
    if ((rc = opt_str(o, "architecture", "IMG.0212", &arch, err)) != IMS_OK)
        return rc;
    if (arch && (route != IMS_IMPORT_QUICK || (strcmp(arch, "x86") && strcmp(arch, "arm"))))
        return BAD("IMG.0212", "The value of Architecture must be x86 or Arm%s.",
                   route != IMS_IMPORT_QUICK ? " (and is taken by quick import only)" : "");
    if (arch && !strcmp(arch, "arm")) {
        if (ims_streq(r->hw_firmware_type, "bios"))
            return BAD("IMG.0141", "Arm images boot in UEFI mode only.");
        free(r->hw_firmware_type);
        r->hw_firmware_type = ims_xstrdup("uefi");
    }
    r->architecture = arch ? ims_xstrdup(arch) : NULL;
    if (!r->image.data) {
        if (r->quick && !r->os_version)
            return BAD("IMG.0056", "os_version is required to import a system disk image quickly.");
        if (ims_streq(r->type, "IsoImage") && !r->os_version)
            return BAD("IMG.0166", "OS information must be given for an ISO file (os_version).");
        if (ims_streq(r->type, "IsoImage") && r->quick)
            return BAD("IMG.0167", "ISO files cannot be imported quickly.");
    } else {
        /* A data disk has no OS: os_type says which family reads it. */
        free(r->os_version);
        r->os_version = NULL;
    }
    if (route == IMS_IMPORT_FILE && (rc = parse_data_images(o, r, err)) != IMS_OK)
        return rc;
    if (route != IMS_IMPORT_FILE && json_object_get(o, "data_images"))
        return BAD("IMG.0001", "'data_images' is taken by POST /v2/cloudimages/action only.");
    return IMS_OK;
}

enum ims_rc ims_import_request_parse(enum ims_import_route route, const char *body, size_t len,
                                     struct ims_import_request *ret, struct ims_err *err)
{
    json_t *o;
    enum ims_rc rc = load_object(body, len, &o, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_import_request r = {0};
    rc = parse_import(route, o, &r, err);
    json_decref(o);
    if (rc != IMS_OK) {
        ims_import_request_release(&r);
        return rc;
    }
    *ret = r;
    return IMS_OK;
}

enum ims_rc ims_register_request_parse(const char *body, size_t len, struct ims_obs_url *ret, struct ims_err *err)
{
    json_t *o;
    enum ims_rc rc = load_object(body, len, &o, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_obs_url u = {0};
    rc = url_member(o, "image_url", &u, err);
    json_decref(o);
    if (rc == IMS_OK)
        *ret = u;
    return rc;
}

/* The exported file's name (the object key's last segment): 1-128
 * characters (IMG.0074) of letters, digits, '-', '.', '_' and spaces, not
 * at either end (IMG.0075); no spaces in the folders (IMG.0175). */
static enum ims_rc check_export_name(const char *key, struct ims_err *err)
{
    const char *slash = strrchr(key, '/');
    const char *file = slash ? slash + 1 : key;
    size_t n = strlen(file);
    if (n == 0)
        return BAD("IMG.0073", "The name of the exported file is empty.");
    if (n > 128)
        return BAD("IMG.0074", "The file name has more than 128 characters.");
    if (file[0] == ' ' || file[n - 1] == ' ')
        return BAD("IMG.0075", "The file name cannot start or end with a space.");
    for (const char *c = file; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("-._ ", *c)))
            return BAD("IMG.0075", "The file name contains invalid characters: letters, digits, hyphens, "
                                   "periods, underscores and spaces only.");
    if (slash && memchr(key, ' ', (size_t)(slash - key)))
        return BAD("IMG.0175", "The folder name cannot contain spaces.");
    return IMS_OK;
}

enum ims_rc ims_export_request_parse(const char *body, size_t len, struct ims_export_request *ret,
                                     struct ims_err *err)
{
    static const char *const formats[] = {"qcow2", "vhd", "vmdk", "zvhd", "zvhd2", "raw"};
    json_t *o;
    enum ims_rc rc = load_object(body, len, &o, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_export_request r = {0};
    const char *fmt = NULL;
    rc = url_member(o, "bucket_url", &r.target, err);
    if (rc == IMS_OK)
        rc = check_export_name(r.target.object, err);
    if (rc == IMS_OK)
        rc = opt_bool(o, "is_quick_export", &r.quick, err);
    if (rc == IMS_OK)
        rc = opt_str(o, "file_format", "IMG.0072", &fmt, err);
    if (rc == IMS_OK) {
        if (r.quick && fmt && *fmt)
            rc = BAD("IMG.0001", "A quick export takes no file_format: the file is exported as it is stored.");
        else if (!r.quick && (!fmt || !*fmt))
            rc = BAD("IMG.0072", "file_format is required: qcow2, vhd, vmdk, zvhd, zvhd2 or raw.");
        else if (!r.quick && !one_of(fmt, formats, IMS_ARRAY_SIZE(formats)))
            rc = BAD("IMG.0072", "The file format %.32s is not supported: qcow2, vhd, vmdk, zvhd, zvhd2 or raw.",
                     fmt);
    }
    if (rc == IMS_OK && !r.quick)
        r.file_format = ims_xstrdup(fmt);
    json_decref(o);
    if (rc != IMS_OK) {
        ims_export_request_release(&r);
        return rc;
    }
    *ret = r;
    return IMS_OK;
}

/* ---- shared with server_request.c (query-int.h) ---- */

enum ims_rc ims_qbody_load(const char *body, size_t len, json_t **ret, struct ims_err *err)
{
    return load_object(body, len, ret, err);
}

enum ims_rc ims_qbody_str(json_t *o, const char *key, const char *code, const char **ret, struct ims_err *err)
{
    return opt_str(o, key, code, ret, err);
}

enum ims_rc ims_qbody_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret, struct ims_err *err)
{
    return int_in(o, key, min, max, false, ret, err);
}

enum ims_rc ims_qbody_tags(json_t *o, struct ims_strlist *ret, struct ims_err *err)
{
    return parse_tags(o, ret, err);
}
