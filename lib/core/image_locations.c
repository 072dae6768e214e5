/* SPDX-License-Identifier: Apache-2.0
 * Glance v2's PATCH of /locations (add, replace, remove) with
 * [images] show_multiple_locations on, with Glance 25's checks and
 * messages (glance/api/v2/images.py, glance/location.py), on imsd's model of
 * one location per image: the image's blob.
 * - A location names data of one of the configured stores ("<store>://<key>",
 *   the scheme a store's name) that the store holds (size > 0); file://
 *   is one of Glance's restricted schemes (RESTRICTED_URI_SCHEMAS), never
 *   taken from a client, so no path on the host ever becomes an image's
 *   data. A blob the repository does not know is refused at the commit
 *   (its reference count).
 * - add to a queued image gives it that data and makes it active (size from
 *   the store, checksums from validation_data when given); an image that
 *   has its location cannot take a second one (imsd keeps one per image).
 * - replace with the same URLs changes nothing (metadata only); a non-empty
 *   list on an image with another location is Glance's "Original locations
 *   is not empty"; [] on an image without one changes nothing.
 * - remove: the last location cannot be removed (403), as Glance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/patch.h"
#include "ims/service.h"
#include "ims/store.h"

static bool has_location(const struct ims_image *img)
{
    return img->blob && !ims_streq(img->status, "uploading");
}

/* Glance's _get_locations_op_pos: "-" is the end, digits a position
 * (for add up to the count, for remove below it). */
static bool position(const char *token, size_t count, bool allow_end, size_t *ret)
{
    if (!token)
        return false;
    size_t pos = allow_end ? count : count - 1;
    if (*token && strspn(token, "0123456789") == strlen(token)) {
        if (strlen(token) > 9)
            return false;
        pos = (size_t)strtoul(token, NULL, 10);
    } else if (!ims_streq(token, "-")) {
        return false;
    }
    if (!allow_end && !(pos < count))
        return false;
    if (allow_end && pos > count)
        return false;
    *ret = pos;
    return true;
}

/* _check_image_location: a configured store's scheme, not a restricted
 * one, data the store holds; its size for the image. */
static enum ims_rc check_url(struct ims_service *svc, const char *url, int64_t *ret_size, struct ims_err *err)
{
    const char *sep = strstr(url, "://");
    size_t slen = sep ? (size_t)(sep - url) : 0;
    bool known = false;
    const struct ims_backends *be = svc->backends;
    for (size_t i = 0; sep && be && i < be->nstores; i++)
        known = known || (strlen(be->stores[i]->ops->name) == slen && !strncmp(be->stores[i]->ops->name, url, slen));
    if (!sep || !known)
        return ims_fail(err, IMS_E_BADREQ, "Unknown scheme '%.*s' found in URI", (int)(sep ? slen : 0), url);
    if (slen == 4 && !strncmp(url, "file", 4)) /* Glance's RESTRICTED_URI_SCHEMAS */
        return ims_fail(err, IMS_E_BADREQ, "Invalid location");
    struct ims_blob_reader r = {.fd = -1};
    struct ims_err ignored;
    if (svc->store->ops->open_read(svc->store, url, &r, &ignored) != IMS_OK)
        return ims_fail(err, IMS_E_BADREQ, "Invalid location");
    if (r.fd >= 0)
        close(r.fd);
    if (r.close)
        r.close(r.ctx);
    if (r.size == 0)
        return ims_fail(err, IMS_E_BADREQ, "Invalid location");
    *ret_size = (int64_t)r.size;
    return IMS_OK;
}

static bool hex_of(const char *s, size_t len)
{
    return s && strlen(s) == len && strspn(s, "0123456789abcdefABCDEF") == len;
}

/* Glance's _validate_validation_data, for the algorithm imsd computes. */
static enum ims_rc validation_data(const struct ims_image *img, const struct ims_location_value *v,
                                   struct ims_err *err)
{
    if (!v->checksum && !v->os_hash_algo && !v->os_hash_value)
        return IMS_OK;
    if (ims_streq(img->status, "active"))
        return ims_fail(err, IMS_E_CONFLICT, "%s", "Image is already active.");
    if (!v->os_hash_algo || !v->os_hash_value)
        return ims_fail(err, IMS_E_CONFLICT, "%s", "os_hash_algo and os_hash_value must be given together.");
    if (!ims_streq(v->os_hash_algo, "sha512"))
        return ims_fail(err, IMS_E_CONFLICT, "os_hash_algo must be sha512, not %.32s", v->os_hash_algo);
    if (!hex_of(v->os_hash_value, 128))
        return ims_fail(err, IMS_E_CONFLICT, "os_hash_value (%.140s) is not the correct size for sha512 (should "
                                             "be 64 bytes)", v->os_hash_value);
    if (v->checksum && !hex_of(v->checksum, 32))
        return ims_fail(err, IMS_E_CONFLICT, "checksum (%.64s) is not a valid hexadecimal value", v->checksum);
    return IMS_OK;
}

/* The queued image takes the location's data and becomes active. */
static enum ims_rc take(struct ims_service *svc, struct ims_image *img, const struct ims_location_value *v,
                        struct ims_err *err)
{
    int64_t size = 0;
    enum ims_rc rc = validation_data(img, v, err);
    if (rc == IMS_OK)
        rc = check_url(svc, v->url, &size, err);
    if (rc != IMS_OK)
        return rc;
    if (has_location(img))
        return ims_streq(img->blob, v->url)
                   ? ims_fail(err, IMS_E_BADREQ, "The location %s already exists", v->url)
                   : ims_fail(err, IMS_E_BADREQ, "Image %s already has a location: imsd keeps one location per "
                                                 "image.", img->id);
    ims_set_str(&img->blob, v->url);
    if (img->size < 0)
        img->size = size;
    if (v->os_hash_value) {
        ims_set_str(&img->checksum, v->checksum);
        ims_set_str(&img->os_hash_algo, v->os_hash_algo);
        ims_set_str(&img->os_hash_value, v->os_hash_value);
    }
    if (ims_streq(img->status, "queued"))
        ims_image_mark_active(img, ims_now());
    return IMS_OK;
}

static enum ims_rc one_op(struct ims_service *svc, struct ims_image *img, const struct ims_patch_op *op,
                          struct ims_err *err)
{
    const char *verb = op->op == IMS_PATCH_REMOVE ? "remove" : op->op == IMS_PATCH_REPLACE ? "update" : "add";
    if (!svc->cfg->show_multiple_locations)
        return ims_fail(err, IMS_E_FORBIDDEN, "It's not allowed to %s locations if locations are invisible.", verb);
    size_t count = has_location(img) ? 1 : 0;
    if (op->op == IMS_PATCH_REMOVE) {
        size_t pos;
        if (!ims_streq(img->status, "active"))
            return ims_fail(err, IMS_E_CONFLICT, "It's not allowed to remove locations if image status is %s.",
                            img->status);
        if (count == 1)
            return ims_fail(err, IMS_E_FORBIDDEN, "%s", "Cannot remove last location in the image.");
        if (!position(op->index, count, false, &pos))
            return ims_fail(err, IMS_E_BADREQ, "%s", "Invalid position for removing a location.");
        return IMS_OK; /* unreachable with one location at most */
    }
    if (!ims_streq(img->status, "active") && !ims_streq(img->status, "queued"))
        return ims_fail(err, IMS_E_CONFLICT, "It's not allowed to %s locations if image status is %s.",
                        op->op == IMS_PATCH_REPLACE ? "replace" : "add", img->status);
    struct ims_location_value *v = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_patch_locations_value(op, &v, &n, err);
    if (rc != IMS_OK)
        return rc;
    size_t pos;
    if (op->op == IMS_PATCH_ADD) {
        if (!position(op->index, count, true, &pos))
            rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid position for adding a location.");
        else
            rc = take(svc, img, &v[0], err);
    } else if (n == count && (n == 0 || ims_streq(v[0].url, img->blob))) {
        rc = IMS_OK; /* the same URLs: only their metadata, which imsd does not keep */
    } else if (count > 0) {
        rc = ims_fail(err, IMS_E_BADREQ, "Original locations is not empty: %s", img->blob);
    } else if (n > 1) {
        rc = ims_streq(v[0].url, v[1].url) ? ims_fail(err, IMS_E_BADREQ, "The location %s already exists", v[0].url)
                                           : ims_fail(err, IMS_E_BADREQ, "%s", "imsd keeps one location per image.");
    } else {
        rc = take(svc, img, &v[0], err);
    }
    ims_location_values_free(v, n);
    return rc;
}

enum ims_rc ims_image_locations_apply(struct ims_service *svc, struct ims_image *img, const struct ims_patch *patch,
                                      struct ims_patch *ret_rest, struct ims_err *err)
{
    *ret_rest = (struct ims_patch){.ops = ims_xcalloc(patch->n ? patch->n : 1, sizeof(*patch->ops)),
                                   .add_must_be_new = patch->add_must_be_new};
    for (size_t i = 0; i < patch->n; i++) {
        const struct ims_patch_op *op = &patch->ops[i];
        if (!ims_streq(op->path, "locations")) {
            ret_rest->ops[ret_rest->n++] = *op; /* borrowed: the caller frees only the array */
            continue;
        }
        enum ims_rc rc = one_op(svc, img, op, err);
        if (rc != IMS_OK) {
            free(IMS_TAKE_PTR(ret_rest->ops));
            ret_rest->n = 0;
            return rc;
        }
    }
    return IMS_OK;
}
