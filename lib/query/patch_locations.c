/* SPDX-License-Identifier: Apache-2.0
 * The value of a Glance v2 PATCH of /locations, checked as Glance's image
 * schema checks it (its "locations" items): an object with a string url of
 * at most 255 characters and an object metadata, and optionally
 * validation_data of checksum, os_hash_algo and os_hash_value strings;
 * nothing else; and the body of POST /v2/images/{id}/locations (Glance
 * 2.17's Add Location): the same without metadata. Pure: what the
 * locations mean is the core's. */
#include <string.h>

#include "ims/patch.h"

#define URL_MAX 255
#define LOCATIONS_MAX 100 /* a list any client sends is capped */
#define METADATA_MAX 4096 /* bytes of a location's metadata as compact JSON, kept with the image */

/* with_metadata: a PATCH's location (metadata required); else the body of
 * POST /v2/images/{id}/locations (url and validation_data only). */
static enum ims_rc one_location(json_t *v, bool with_metadata, struct ims_location_value *ret, struct ims_err *err)
{
    if (!json_is_object(v))
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: a location must be an object.");
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member) {
        if (strcmp(key, "url") && (!with_metadata || strcmp(key, "metadata")) && strcmp(key, "validation_data"))
            return ims_fail(err, IMS_E_BADREQ, "Invalid locations: additional property '%.64s' is not allowed.", key);
    }
    json_t *url = json_object_get(v, "url"), *meta = with_metadata ? json_object_get(v, "metadata") : NULL;
    if (!url)
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'url' is a required property.");
    if (!meta && with_metadata)
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'metadata' is a required property.");
    if (!json_is_string(url) || !ims_text_valid(json_string_value(url)))
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'url' must be a string.");
    if (ims_utf8_chars(json_string_value(url)) > URL_MAX)
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'url' is longer than %d characters.", URL_MAX);
    if (meta && !json_is_object(meta))
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'metadata' must be an object.");
    json_t *vd = json_object_get(v, "validation_data");
    static const char *const vd_keys[] = {"checksum", "os_hash_algo", "os_hash_value"};
    char *vals[3] = {0};
    if (vd) {
        if (!json_is_object(vd))
            return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'validation_data' must be an object.");
        json_object_foreach(vd, key, member) {
            size_t k = 0;
            while (k < 3 && strcmp(key, vd_keys[k]))
                k++;
            if (k == 3 || !json_is_string(member) || !ims_text_valid(json_string_value(member)) ||
                strlen(json_string_value(member)) > 256) {
                for (size_t i = 0; i < 3; i++)
                    free(vals[i]);
                return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'validation_data' member '%.64s' is not "
                                                   "allowed or not a string.", key);
            }
            free(vals[k]);
            vals[k] = ims_xstrdup(json_string_value(member));
        }
    }
    /* kept as compact JSON with sorted keys; valid text (ims_fail's rule) */
    char *metadata = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    if (meta && (!metadata || strlen(metadata) > METADATA_MAX)) {
        free(metadata);
        for (size_t i = 0; i < 3; i++)
            free(vals[i]);
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: 'metadata' is longer than %d bytes as JSON.",
                        METADATA_MAX);
    }
    *ret = (struct ims_location_value){.url = ims_xstrdup(json_string_value(url)), .checksum = vals[0],
                                       .os_hash_algo = vals[1], .os_hash_value = vals[2], .metadata = metadata};
    return IMS_OK;
}

enum ims_rc ims_patch_locations_value(const struct ims_patch_op *op, struct ims_location_value **ret, size_t *ret_n,
                                      struct ims_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    if (op->op == IMS_PATCH_REMOVE)
        return IMS_OK;
    if (op->op == IMS_PATCH_ADD) {
        struct ims_location_value *v = ims_xcalloc(1, sizeof(*v));
        enum ims_rc rc = one_location(op->value, true, v, err);
        if (rc != IMS_OK) {
            free(v);
            return rc;
        }
        *ret = v;
        *ret_n = 1;
        return IMS_OK;
    }
    if (!json_is_array(op->value))
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: the value must be a list of locations.");
    size_t n = json_array_size(op->value);
    if (n > LOCATIONS_MAX)
        return ims_fail(err, IMS_E_BADREQ, "Invalid locations: more than %d locations.", LOCATIONS_MAX);
    struct ims_location_value *v = ims_xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        enum ims_rc rc = one_location(json_array_get(op->value, i), true, &v[i], err);
        if (rc != IMS_OK) {
            ims_location_values_free(v, i);
            return rc;
        }
    }
    *ret = v;
    *ret_n = n;
    return IMS_OK;
}

enum ims_rc ims_location_add_body(json_t *body, struct ims_location_value *ret, struct ims_err *err)
{
    *ret = (struct ims_location_value){0};
    return one_location(body, false, ret, err);
}

void ims_location_values_free(struct ims_location_value *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].url);
        free(v[i].checksum);
        free(v[i].os_hash_algo);
        free(v[i].os_hash_value);
        free(v[i].metadata);
    }
    free(v);
}
