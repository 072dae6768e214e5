/* SPDX-License-Identifier: Apache-2.0
 * Glance's locations of an image's data in imsd's stores (its own and one
 * copy per further store, include/ims/image_stores.h): the PATCH of
 * /locations (add, replace, remove) with [images] show_multiple_locations
 * on, with Glance 25's checks and messages (glance/api/v2/images.py,
 * glance/location.py), and Glance 2.17's Add and Get Locations (POST/GET
 * /v2/images/{id}/locations) with [images] location_api on.
 * - A location names data of one of the configured stores ("<store>://<key>",
 *   the scheme a store's id) that the store holds (size > 0); a file
 *   store's locations are as Glance's restricted file:// (never taken from
 *   a client, so no path on the host ever becomes an image's data). A
 *   tenant may name only data it may read: a blob held by images it sees
 *   and may download, never one no image holds (an upload in progress);
 *   Glance checks a location of its own store the same way. A blob the
 *   repository does not know is refused at the commit (its reference
 *   count). The data's md5 and sha512 (a holder's, else read) are the
 *   image's: validation_data that says otherwise is refused.
 * - The location's metadata is kept with the image (IMS_PROP_META_PREFIX
 *   <store>), shown as given; a replace with the same URLs changes it.
 * - add to a queued image gives it that data and makes it active; an
 *   active image takes a location in a store holding none of its data as
 *   a copy, if it is the image's data (one location per store).
 * - replace with the same URLs changes metadata only; a non-empty list on
 *   an image with other locations is Glance's "Original locations is not
 *   empty"; [] on an image without one changes nothing.
 * - remove: the last location cannot be removed (403), as Glance; another
 *   goes (an administrator's, as DELETE /v2/stores: Glance's
 *   delete_image_location), its own location's place taken by a copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-int.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/image_stores.h"
#include "ims/images.h"
#include "ims/patch.h"
#include "ims/service.h"
#include "ims/store.h"

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

/* What a location's data is: its size and digests; read_tried: whether
 * reading it for them was tried (remembered_digests). */
struct loc_data {
    int64_t size;
    char md5[33], sha[129];
    bool read_tried;
};

/* A tenant may name only data it may read: every image holding the blob
 * must be one it sees, with data it may download (not deactivated, not
 * staged). A blob no image references is someone's upload in progress or
 * data on its way out: never. Administrators may name any. The digests of
 * a holder that has them come back in d. */
static enum ims_rc holders_readable(struct ims_service *svc, const struct ims_principal *p, const char *url,
                                    const char *store_id, struct loc_data *d, struct ims_err *err)
{
    char prop[64];
    snprintf(prop, sizeof(prop), "%s%s", IMS_PROP_COPY_PREFIX, store_id);
    int64_t refs = -1;
    struct ims_strlist ids = {0};
    enum ims_rc rc = ims_repo_blob_holders(ims_db_conn(svc->db), url, prop, &refs, &ids, err);
    if (rc == IMS_OK && !p->is_admin && (refs <= 0 || ids.n == 0))
        rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid location");
    for (size_t i = 0; rc == IMS_OK && i < ids.n; i++) {
        struct ims_image other;
        struct ims_err ignored;
        if (ims_images_get(svc, p, ids.items[i], &other, &ignored) != IMS_OK) {
            if (!p->is_admin)
                rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid location"); /* says nothing of what it is */
            continue;
        }
        if (!p->is_admin && !ims_streq(other.status, "active") && !ims_streq(other.status, "queued"))
            rc = ims_fail(err, IMS_E_BADREQ, "%s", "Invalid location");
        if (!d->md5[0] && other.checksum && other.os_hash_value && strlen(other.checksum) == 32 &&
            strlen(other.os_hash_value) == 128 && other.size == d->size) {
            memcpy(d->md5, other.checksum, 33);
            memcpy(d->sha, other.os_hash_value, 129);
        }
        ims_image_release(&other);
    }
    ims_strlist_release(&ids);
    return rc;
}

/* The digests of a blob no holder has digests for (full-ECS images from
 * backups carry none), read once: remembered on its blob row, so a later
 * request reads them there, and claimed while read, so concurrent requests
 * do not each read the whole blob. The read runs on a thread of its own
 * (digest_reads.c), never in an edit: the request that claims it (may_read:
 * the prepare step before the edit) waits for it up to DIGEST_WAIT_MS; a
 * longer read, or another request meanwhile, is told to retry (409), as a
 * Glance that computes them in the background shows none yet. */
#define DIGEST_WAIT_MS 2000
static enum ims_rc remembered_digests(struct ims_service *svc, const char *url, bool may_read, struct loc_data *d,
                                      struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    bool started = false;
    for (int waited = 0;; waited += 100) {
        struct ims_blob_digests bd;
        enum ims_rc rc = ims_repo_blob_digests_get(c, url, &bd, err);
        if (rc != IMS_OK)
            return rc;
        if (!bd.found) /* as the edit's reference to it would say */
            return ims_fail(err, IMS_E_NOTFOUND, "The image data is no longer stored (it was removed meanwhile).");
        if (bd.md5[0]) {
            memcpy(d->md5, bd.md5, sizeof(d->md5));
            memcpy(d->sha, bd.sha512, sizeof(d->sha));
            return IMS_OK;
        }
        d->read_tried = may_read;
        if (ims_streq(bd.hasher, IMS_BLOB_HASH_FAILED) && bd.hash_until >= ims_now()) /* read lately, failed */
            return ims_fail(err, IMS_E_BADREQ, "Invalid location: its data could not be read.");
        const char *owner = ims_process_owner();
        /* this process's claim holds while it reads (one left behind by a
         * failed write does not); another's while its lease and owner live */
        bool held = bd.hasher[0] && (ims_streq(bd.hasher, owner)
                                         ? ims_digest_read_running(svc, url)
                                         : bd.hash_until >= ims_now() && !ims_owner_gone(bd.hasher));
        if (started && !held) /* the read ended without digests */
            return ims_fail(err, IMS_E_BADREQ, "Invalid location: its data could not be read.");
        if (!started && may_read && !held && ims_digest_read_reserve(svc, url)) {
            bool claimed = false;
            rc = ims_repo_blob_hash_claim(c, url, bd.hasher, owner, ims_now() + svc->cfg->upload_lease_seconds,
                                          &claimed, err);
            if (rc != IMS_OK || !claimed)
                ims_digest_read_unreserve(svc, url);
            if (rc != IMS_OK)
                return rc;
            if (claimed && !(started = ims_digest_read_start(svc, url)))
                ims_repo_blob_hash_end(c, url, owner, NULL, NULL, 0, err); /* not started: nobody's claim */
            if (started)
                continue;
        }
        if (!started || waited >= DIGEST_WAIT_MS)
            return ims_fail(err, IMS_E_CONFLICT, "The data at %s is being read for its checksums; retry later.",
                            url);
        ims_digest_reads_wait(svc, 100);
    }
}

/* _check_image_location: a configured store's scheme, not a restricted
 * one (a file store's, as Glance's file://), data the store holds, data
 * the caller may read; its size and digests (a holder's, else those
 * remembered, else read if may_read). Whether the store holds the data is
 * a request to it (S3: a HEAD), asked only before the edit (sizes NULL):
 * the edit, which holds the image's row (on SQLite the database's write
 * lock), takes the size found then from sizes, so a slow store never
 * stalls other writes. */
static enum ims_rc check_url(struct ims_service *svc, const struct ims_principal *p, const char *url,
                             const struct ims_kvlist *sizes, bool may_read, struct loc_data *d, struct ims_err *err)
{
    *d = (struct loc_data){0};
    const char *sep = strstr(url, "://");
    const struct ims_store *store = sep ? ims_store_of_location(svc, url) : NULL;
    if (!store)
        return ims_fail(err, IMS_E_BADREQ, "Unknown scheme '%.*s' found in URI", (int)(sep ? sep - url : 0), url);
    if (ims_store_is_local(store)) /* Glance's RESTRICTED_URI_SCHEMAS */
        return ims_fail(err, IMS_E_BADREQ, "Invalid location");
    if (sizes) {
        const char *size = ims_kvlist_get(sizes, url); /* none: the store did not hold it */
        d->size = size ? strtoll(size, NULL, 10) : 0;
    } else {
        struct ims_blob_reader r = {.fd = -1};
        struct ims_err ignored;
        if (svc->store->ops->open_read(svc->store, url, &r, &ignored) == IMS_OK) {
            d->size = (int64_t)r.size;
            ims_blob_reader_close(&r);
        }
    }
    enum ims_rc rc = d->size <= 0 ? ims_fail(err, IMS_E_BADREQ, "Invalid location")
                                  : holders_readable(svc, p, url, ims_store_id(store), d, err);
    if (rc == IMS_OK && !d->md5[0])
        rc = remembered_digests(svc, url, may_read, d, err);
    return rc;
}

/* Before the edit's transaction: the size of url's data (into sizes when
 * the store holds it) and its digests, read now if nobody has them, so the
 * edit (which holds the image's row, and on SQLite the database's write
 * lock) never asks the store nor reads a blob. Only a reading that was
 * tried fails it (busy elsewhere, unreadable); whatever else is wrong with
 * the location the edit says, in Glance's order of checks. */
static enum ims_rc prepare_url(struct ims_service *svc, const struct ims_principal *p, const char *url,
                               struct ims_kvlist *sizes, struct ims_err *err)
{
    struct loc_data d;
    struct ims_err e = {0};
    enum ims_rc rc = check_url(svc, p, url, NULL, true, &d, &e);
    if (d.size > 0) {
        char size[24];
        snprintf(size, sizeof(size), "%lld", (long long)d.size);
        ims_kvlist_set(sizes, url, size);
    }
    if (rc != IMS_OK && d.read_tried)
        return ims_fail(err, rc, "%s", e.msg);
    return IMS_OK;
}

/* Before any data is read for image id: the caller sees it (404 otherwise)
 * and may change it (denied: the 403's words), so a caller who may not
 * never starts a read. The edit asks again of the row as it is then. */
static enum ims_rc may_change(struct ims_service *svc, const struct ims_principal *p, const char *id,
                              bool service_may, const char *denied, struct ims_err *err)
{
    struct ims_image img = {0};
    enum ims_rc rc = ims_images_get(svc, p, id, &img, err);
    if (rc == IMS_OK && !(service_may && p->is_service) && !ims_images_can_modify(p, &img))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "%s", denied);
    ims_image_release(&img);
    return rc;
}

/* Keeps a location's metadata ("{}" or none: none kept, the default shown). */
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

/* The validation data, when given, must be the data's. */
static enum ims_rc validation_matches(const struct ims_location_value *v, const struct loc_data *d,
                                      struct ims_err *err)
{
    if ((v->os_hash_value && strcasecmp(v->os_hash_value, d->sha) != 0) ||
        (v->checksum && strcasecmp(v->checksum, d->md5) != 0))
        return ims_fail(err, IMS_E_BADREQ, "The validation data does not match the data at %s.", v->url);
    return IMS_OK;
}

/* The store of url holds no location of img yet, and url is none of
 * img's locations. */
static enum ims_rc a_new_store(struct ims_service *svc, const struct ims_image *img, const char *url,
                               struct ims_err *err)
{
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, img, locs, IMS_ARRAY_SIZE(locs));
    const struct ims_store *store = ims_store_of_location(svc, url);
    for (size_t i = 0; i < n; i++) {
        if (ims_streq(locs[i].url, url))
            return ims_fail(err, IMS_E_BADREQ, "The location %s already exists", url);
        if (store && ims_streq(locs[i].store, ims_store_id(store)))
            return ims_fail(err, IMS_E_BADREQ, "Image %s has its data in store %s already: imsd keeps one location "
                                               "per store.", img->id, locs[i].store);
    }
    return IMS_OK;
}

/* img takes the location v: a queued image (no location) takes the data
 * and becomes active; an image that has data takes it as a copy in the
 * location's store, if it is the same data. */
static enum ims_rc take(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                        const struct ims_location_value *v, const struct ims_kvlist *sizes, struct ims_err *err)
{
    struct loc_data d;
    enum ims_rc rc = validation_data(img, v, err);
    if (rc == IMS_OK)
        rc = check_url(svc, p, v->url, sizes, false, &d, err);
    if (rc == IMS_OK)
        rc = validation_matches(v, &d, err);
    if (rc == IMS_OK)
        rc = a_new_store(svc, img, v->url, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image_location one;
    if (ims_image_locations(svc, img, &one, 1) > 0) { /* a copy of its data in one more store */
        if (d.size != img->size || !ims_streq(d.md5, img->checksum) ||
            (img->os_hash_value && !ims_streq(d.sha, img->os_hash_value)))
            return ims_fail(err, IMS_E_BADREQ, "The data at %s is not image %s's data.", v->url, img->id);
        char key[64];
        snprintf(key, sizeof(key), "%s%s", IMS_PROP_COPY_PREFIX, ims_store_id(ims_store_of_location(svc, v->url)));
        ims_kvlist_set(&img->props, key, v->url);
        set_metadata(svc, img, v->url, v->metadata);
        return IMS_OK;
    }
    if (img->blob) /* staged data is no location: the image is not queued */
        return ims_fail(err, IMS_E_CONFLICT, "Image %s's data is being imported.", img->id);
    ims_set_str(&img->blob, v->url);
    set_metadata(svc, img, v->url, v->metadata);
    img->size = d.size;
    ims_set_str(&img->checksum, d.md5);
    ims_set_str(&img->os_hash_algo, "sha512");
    ims_set_str(&img->os_hash_value, d.sha);
    if (ims_streq(img->status, "queued"))
        ims_image_mark_active(img, ims_now());
    return IMS_OK;
}

/* The same URLs (in any order): only their metadata changes. */
static bool same_urls(const struct ims_image_location *locs, size_t count, const struct ims_location_value *v,
                      size_t n)
{
    if (n != count)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < count && !found; j++)
            found = ims_streq(v[i].url, locs[j].url);
        for (size_t j = 0; j < i && found; j++)
            found = !ims_streq(v[i].url, v[j].url);
        if (!found)
            return false;
    }
    return true;
}

static enum ims_rc remove_one(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                              const struct ims_image_location *locs, size_t count, const char *index,
                              struct ims_err *err)
{
    size_t pos;
    if (!ims_streq(img->status, "active"))
        return ims_fail(err, IMS_E_CONFLICT, "It's not allowed to remove locations if image status is %s.",
                        img->status);
    if (count <= 1)
        return ims_fail(err, IMS_E_FORBIDDEN, "%s", "Cannot remove last location in the image.");
    if (!position(index, count, false, &pos))
        return ims_fail(err, IMS_E_BADREQ, "%s", "Invalid position for removing a location.");
    if (!p->is_admin) /* Glance's delete_image_location, as DELETE /v2/stores */
        return ims_fail(err, IMS_E_FORBIDDEN, "%s", "You are not authorized to complete delete_image_location action.");
    /* a store taken out of [stores] enabled too: its location goes (its data is left where it is) */
    char *removed = locs[pos].store[0] ? ims_image_location_take(svc, img, locs[pos].store) : NULL;
    if (!removed)
        return ims_fail(err, IMS_E_BADREQ, "%s", "Invalid position for removing a location.");
    free(removed); /* collected once the edit commits: no row references it then */
    return IMS_OK;
}

static enum ims_rc one_op(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                          const struct ims_patch_op *op, const struct ims_kvlist *sizes, struct ims_err *err)
{
    const char *verb = op->op == IMS_PATCH_REMOVE ? "remove" : op->op == IMS_PATCH_REPLACE ? "update" : "add";
    if (!svc->cfg->show_multiple_locations)
        return ims_fail(err, IMS_E_FORBIDDEN, "It's not allowed to %s locations if locations are invisible.", verb);
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t count = ims_image_locations(svc, img, locs, IMS_ARRAY_SIZE(locs));
    if (op->op == IMS_PATCH_REMOVE)
        return remove_one(svc, p, img, locs, count, op->index, err);
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
            rc = take(svc, p, img, &v[0], sizes, err);
    } else if (same_urls(locs, count, v, n)) {
        for (size_t i = 0; i < n; i++) /* the same URLs: only their metadata */
            set_metadata(svc, img, v[i].url, v[i].metadata);
    } else if (count > 0) {
        rc = ims_fail(err, IMS_E_BADREQ, "Original locations is not empty: %s", locs[0].url);
    } else {
        for (size_t i = 0; rc == IMS_OK && i < n; i++) /* the first its data, the others copies of it */
            rc = take(svc, p, img, &v[i], sizes, err);
    }
    ims_location_values_free(v, n);
    return rc;
}

enum ims_rc ims_image_locations_prepare(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                        const struct ims_patch *patch, struct ims_kvlist *sizes, struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    bool checked = false;
    for (size_t i = 0; rc == IMS_OK && svc->cfg->show_multiple_locations && i < patch->n; i++) {
        const struct ims_patch_op *op = &patch->ops[i];
        struct ims_location_value *v = NULL;
        size_t n = 0;
        struct ims_err ignored; /* a bad value is the edit's to refuse */
        if (!ims_streq(op->path, "locations") || op->op == IMS_PATCH_REMOVE ||
            ims_patch_locations_value(op, &v, &n, &ignored) != IMS_OK)
            continue;
        if (n && !checked) {
            char denied[128];
            snprintf(denied, sizeof(denied), "You are not permitted to modify image %s.", id);
            rc = may_change(svc, p, id, false, denied, err);
            checked = true;
        }
        for (size_t j = 0; rc == IMS_OK && j < n; j++)
            rc = prepare_url(svc, p, v[j].url, sizes, err);
        ims_location_values_free(v, n);
    }
    return rc;
}

enum ims_rc ims_image_locations_apply(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                                      const struct ims_patch *patch, const struct ims_kvlist *sizes,
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
        enum ims_rc rc = one_op(svc, p, img, op, sizes, err);
        if (rc != IMS_OK) {
            free(IMS_TAKE_PTR(ret_rest->ops));
            ret_rest->n = 0;
            return rc;
        }
    }
    return IMS_OK;
}

/* ---- Glance 2.17: POST and GET /v2/images/{id}/locations ---- */
enum ims_rc ims_image_location_add(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   const struct ims_location_value *v, struct ims_err *err)
{
    if (!svc->cfg->location_api)
        return ims_fail(err, IMS_E_NOTFOUND, "%s", "The resource could not be found.");
    struct ims_kvlist sizes = {0};
    enum ims_rc rc = may_change(svc, p, id, true, "You are not authorized to complete add_image_location action.", err);
    if (rc == IMS_OK)
        rc = prepare_url(svc, p, v->url, &sizes, err);
    struct ims_image_edit e;
    if (rc == IMS_OK)
        rc = ims_image_edit_begin(svc, p, id, &e, err);
    if (rc != IMS_OK) {
        ims_kvlist_release(&sizes);
        return rc;
    }
    /* Glance's add_image_location: the service role, the image's project, an admin */
    if (!p->is_service && !ims_images_can_modify(p, &e.image))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "%s", "You are not authorized to complete add_image_location action.");
    else if (ims_image_job_owned(&e.image))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s is being written by a job and cannot be changed now.", id);
    else if (!ims_streq(e.image.status, "queued"))
        rc = ims_fail(err, IMS_E_CONFLICT, "It's not allowed to add locations if image status is %s.",
                      e.image.status);
    else
        rc = take(svc, p, &e.image, v, &sizes, err);
    ims_kvlist_release(&sizes);
    if (rc != IMS_OK)
        return ims_image_edit_end(&e, rc, err);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_image_locations_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                    struct ims_image *ret, struct ims_err *err)
{
    if (!svc->cfg->location_api)
        return ims_fail(err, IMS_E_NOTFOUND, "%s", "The resource could not be found.");
    enum ims_rc rc = ims_images_get(svc, p, id, ret, err);
    if (rc == IMS_OK && !p->is_service) { /* Glance's fetch_image_location: the service role's */
        ims_image_release(ret);
        rc = ims_fail(err, IMS_E_FORBIDDEN, "%s", "You are not authorized to complete fetch_image_location action.");
    }
    return rc;
}
