/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target for image JSON patch: the input is a PATCH body, parsed as
 * both media types and applied, as admin and as a plain user, to a fresh
 * image that has a few properties and tags; the values of its /locations
 * operations are read as Glance's schema takes them, and the input as
 * the body of POST /v2/images/{id}/locations. Checks that whatever succeeds
 * leaves an image every other layer can trust. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/patch.h"

#define INPUT_MAX (256 * 1024)

static void fresh_image(struct ims_image *img)
{
    ims_image_init(img);
    ims_set_str(&img->name, "seed");
    ims_set_str(&img->owner, "project");
    ims_kvlist_add(&img->props, "existing", "v");
    ims_kvlist_add(&img->props, "__platform", "Ubuntu");
    ims_strlist_add(&img->tags, "t");
}

static void check_image(const struct ims_image *img, bool is_admin)
{
    fuzz_check(ims_image_visibility_valid(img->visibility), "visibility valid");
    fuzz_check(!img->container_format || ims_container_format_valid(img->container_format), "container_format valid");
    fuzz_check(!img->disk_format || ims_disk_format_valid(img->disk_format), "disk_format valid");
    fuzz_check(img->min_disk >= 0 && img->min_disk <= 2147483647, "min_disk in range");
    fuzz_check(img->min_ram >= 0 && img->min_ram <= 2147483647, "min_ram in range");
    fuzz_check(img->props.n <= IMS_IMAGE_PROPS_MAX, "property quota");
    fuzz_check(img->tags.n <= IMS_IMAGE_TAGS_MAX, "tag quota");
    fuzz_check(strcmp(img->status, "queued") == 0 && img->size == -1, "read-only attributes untouched");
    fuzz_check(img->owner != NULL && (is_admin || strcmp(img->owner, "project") == 0), "owner only changed by admin");
    for (size_t i = 0; i < img->props.n; i++) {
        fuzz_check(img->props.items[i].value != NULL, "property values are strings");
        enum ims_attr_kind kind = ims_image_attr_kind(img->props.items[i].key);
        /* IMS system attributes (__imagetype, ...) are properties an administrator may set */
        fuzz_check(kind == IMS_ATTR_PROPERTY || (kind == IMS_ATTR_SYSTEM && is_admin),
                   "no core name among properties, system attributes only by an administrator");
    }
    for (size_t i = 0; i < img->tags.n; i++)
        for (size_t j = i + 1; j < img->tags.n; j++)
            fuzz_check(strcmp(img->tags.items[i], img->tags.items[j]) != 0, "tags unique");
}

static void run(const char *media, const uint8_t *data, size_t size)
{
    struct ims_patch p = {0};
    struct ims_err err;
    enum ims_rc rc = ims_patch_parse(media, (const char *)data, size, &p, &err);
    fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "parse fails with 400 only");
    if (rc != IMS_OK)
        return;
    for (size_t i = 0; i < p.n; i++) {
        fuzz_check((p.ops[i].index != NULL) == (strcmp(p.ops[i].path, "locations") == 0 &&
                                           p.ops[i].op != IMS_PATCH_REPLACE),
              "a position only for a /locations/N add or remove");
        if (strcmp(p.ops[i].path, "locations") != 0)
            continue;
        struct ims_location_value *v = NULL;
        size_t n = 0;
        rc = ims_patch_locations_value(&p.ops[i], &v, &n, &err);
        fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "a location value fails with 400 only");
        for (size_t k = 0; rc == IMS_OK && k < n; k++) {
            fuzz_check(v[k].url && ims_text_valid(v[k].url) && ims_utf8_chars(v[k].url) <= 255, "location urls are text");
            /* kept with the image and shown as raw JSON: an object, text, bounded */
            fuzz_check(v[k].metadata && v[k].metadata[0] == '{' && ims_text_valid(v[k].metadata) &&
                           strlen(v[k].metadata) <= 4096,
                       "location metadata is a bounded JSON object as text");
        }
        ims_location_values_free(v, n);
    }
    for (int admin = 0; admin < 2; admin++) {
        struct ims_image img;
        fresh_image(&img);
        rc = ims_patch_apply(&p, &img, admin, &err);
        fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ || rc == IMS_E_FORBIDDEN || rc == IMS_E_CONFLICT ||
                  rc == IMS_E_TOOLARGE,
              "apply fails with 400/403/409/413 only");
        if (rc == IMS_OK)
            check_image(&img, admin);
        ims_image_release(&img);
    }
    ims_patch_release(&p);
}

/* The Add Location body: a url of text, no metadata, validation data
 * strings only. */
static void add_location_body(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!body)
        return;
    struct ims_location_value v;
    struct ims_err err;
    enum ims_rc rc = ims_location_add_body(body, &v, &err);
    fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "an Add Location body fails with 400 only");
    if (rc == IMS_OK) {
        fuzz_check(v.url && ims_text_valid(v.url) && ims_utf8_chars(v.url) <= 255 && !v.metadata,
                   "an added location's url is text, without metadata");
        fuzz_check((!v.checksum || ims_text_valid(v.checksum)) && (!v.os_hash_value || ims_text_valid(v.os_hash_value)),
                   "validation data is text");
        struct ims_location_value *one = ims_xcalloc(1, sizeof(*one));
        *one = v;
        ims_location_values_free(one, 1);
    }
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    add_location_body(data, size);
    run(IMS_PATCH_MEDIA_V21, data, size);
    run(IMS_PATCH_MEDIA_V20, data, size);
    return 0;
}
