/* SPDX-License-Identifier: Apache-2.0
 * Glance v2's PATCH of /locations (add, replace, remove) with
 * [images] show_multiple_locations on, with Glance 25's checks and
 * messages (glance/api/v2/images.py, glance/location.py), on imsd's model of
 * one location per image: the image's blob.
 * - A location names data of one of the configured stores ("<store>://<key>",
 *   the scheme a store's id) that the store holds (size > 0); a file
 *   store's locations are as Glance's restricted file:// (never taken from
 *   a client, so no path on the host ever becomes an image's data). A
 *   tenant may name only data it may read: a blob held by images it sees
 *   and may download, never one no image holds (an upload in progress);
 *   Glance checks a location of its own store the same way. A blob the
 *   repository does not know is refused at the commit (its reference
 *   count).
 * - The location's metadata is kept with the image (IMS_PROP_META_PREFIX
 *   <store>), shown as given; a replace with the same URL changes it.
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
#include "ims/db.h"
#include "ims/image_stores.h"
#include "ims/images.h"
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

/* A tenant may name only data it may read: every image holding the blob
 * must be one it sees, with data it may download (not deactivated, not
 * staged). A blob no image references is someone's upload in progress or
 * data on its way out: never. Administrators may name any. */
static enum ims_rc holders_readable(struct ims_service *svc, const struct ims_principal *p, const char *url,
                                    const char *store_id, struct ims_err *err)
{
    if (p->is_admin)
        return IMS_OK;
    char prop[64];
    snprintf(prop, sizeof(prop), "%s%s", IMS_PROP_COPY_PREFIX, store_id);
    int64_t refs = -1;
    struct ims_strlist ids = {0};
    enum ims_rc rc = ims_repo_blob_holders(ims_db_conn(svc->db), url, prop, &refs, &ids, err);
    if (rc == IMS_OK && (refs <= 0 || ids.n == 0))
        rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid location");
    for (size_t i = 0; rc == IMS_OK && i < ids.n; i++) {
        struct ims_image other;
        struct ims_err ignored;
        if (ims_images_get(svc, p, ids.items[i], &other, &ignored) != IMS_OK)
            rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid location"); /* says nothing of what it is */
        else {
            if (!ims_streq(other.status, "active") && !ims_streq(other.status, "queued"))
                rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid location");
            ims_image_release(&other);
        }
    }
    ims_strlist_release(&ids);
    return rc;
}

/* _check_image_location: a configured store's scheme, not a restricted
 * one (a file store's, as Glance's file://), data the store holds, data
 * the caller may read; its size for the image. */
static enum ims_rc check_url(struct ims_service *svc, const struct ims_principal *p, const char *url,
                             int64_t *ret_size, struct ims_err *err)
{
    const char *sep = strstr(url, "://");
    const struct ims_store *store = sep ? ims_store_of_location(svc, url) : NULL;
    if (!store)
        return ims_fail(err, IMS_E_BADREQ, "Unknown scheme '%.*s' found in URI", (int)(sep ? sep - url : 0), url);
    if (ims_store_is_local(store)) /* Glance's RESTRICTED_URI_SCHEMAS */
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
    enum ims_rc rc = holders_readable(svc, p, url, ims_store_id(store), err);
    if (rc == IMS_OK)
        *ret_size = (int64_t)r.size;
    return rc;
}

/* Keeps a location's metadata ("{}": none kept, the default shown). */
static void set_metadata(struct ims_service *svc, struct ims_image *img, const char *url, const char *metadata)
{
    const struct ims_store *store = ims_store_of_location(svc, url);
    if (!store)
        return;
    char key[64];
    snprintf(key, sizeof(key), "%s%s", IMS_PROP_META_PREFIX, ims_store_id(store));
    if (!metadata || ims_streq(metadata, "{}"))
        ims_kvlist_remove(&img->props, key);
    else
        ims_kvlist_set(&img->props, key, metadata);
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
static enum ims_rc take(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                        const struct ims_location_value *v, struct ims_err *err)
{
    int64_t size = 0;
    enum ims_rc rc = validation_data(img, v, err);
    if (rc == IMS_OK)
        rc = check_url(svc, p, v->url, &size, err);
    if (rc != IMS_OK)
        return rc;
    if (has_location(img))
        return ims_streq(img->blob, v->url)
                   ? ims_fail(err, IMS_E_BADREQ, "The location %s already exists", v->url)
                   : ims_fail(err, IMS_E_BADREQ, "Image %s already has a location: imsd keeps one location per "
                                                 "image.", img->id);
    ims_set_str(&img->blob, v->url);
    set_metadata(svc, img, v->url, v->metadata);
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

static enum ims_rc one_op(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                          const struct ims_patch_op *op, struct ims_err *err)
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
            rc = take(svc, p, img, &v[0], err);
    } else if (n == count && (n == 0 || ims_streq(v[0].url, img->blob))) {
        if (n) /* the same URLs: only their metadata */
            set_metadata(svc, img, v[0].url, v[0].metadata);
    } else if (count > 0) {
        rc = ims_fail(err, IMS_E_BADREQ, "Original locations is not empty: %s", img->blob);
    } else if (n > 1) {
        rc = ims_streq(v[0].url, v[1].url) ? ims_fail(err, IMS_E_BADREQ, "The location %s already exists", v[0].url)
                                           : ims_fail(err, IMS_E_BADREQ, "%s", "imsd keeps one location per image.");
    } else {
        rc = take(svc, p, img, &v[0], err);
    }
    ims_location_values_free(v, n);
    return rc;
}

enum ims_rc ims_image_locations_apply(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                                      const struct ims_patch *patch, struct ims_patch *ret_rest, struct ims_err *err)
{
    *ret_rest = (struct ims_patch){.ops = ims_xcalloc(patch->n ? patch->n : 1, sizeof(*patch->ops)),
                                   .add_must_be_new = patch->add_must_be_new};
    for (size_t i = 0; i < patch->n; i++) {
        const struct ims_patch_op *op = &patch->ops[i];
        if (!ims_streq(op->path, "locations")) {
            ret_rest->ops[ret_rest->n++] = *op; /* borrowed: the caller frees only the array */
            continue;
        }
        enum ims_rc rc = one_op(svc, p, img, op, err);
        if (rc != IMS_OK) {
            free(IMS_TAKE_PTR(ret_rest->ops));
            ret_rest->n = 0;
            return rc;
        }
    }
    return IMS_OK;
}
