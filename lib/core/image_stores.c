/* SPDX-License-Identifier: Apache-2.0
 * An image's data in several stores (include/ims/image_stores.h): its own
 * location and its copies (IMS_PROP_COPY_PREFIX<store id> properties, blob
 * references the repository counts), copy-image's copy into one more
 * store, the removal of one store's data, and a reader from whichever
 * store answers. Every change is an image edit (lib/core/image_edit.c)
 * that checks its rules against the row as it is then. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/glance_import.h"
#include "ims/image_stores.h"
#include "ims/images.h"
#include "ims/store.h"

bool ims_stores_named(const struct ims_service *svc)
{
    return svc->backends && svc->backends->nnamed > 0;
}

struct ims_store *ims_store_of_location(const struct ims_service *svc, const char *location)
{
    return location ? ims_store_router_find(svc->store, location) : NULL;
}

struct ims_store *ims_store_by_id(const struct ims_service *svc, const char *id)
{
    const struct ims_backends *be = svc->backends;
    size_t n = !be ? 0 : be->nnamed ? be->nnamed : be->nstores ? 1 : 0;
    for (size_t i = 0; i < n && id; i++)
        if (ims_streq(ims_store_id(be->stores[i]), id))
            return be->stores[i];
    return NULL;
}

/* A location of img in the store (its scheme) that wrote it: the
 * configured store's id, else the scheme where it is a store id (a store
 * taken out of [stores] enabled since). */
static struct ims_image_location location_of(const struct ims_service *svc, const char *url, const char *copy_store)
{
    struct ims_image_location l = {.url = url};
    const struct ims_store *store = ims_store_of_location(svc, url);
    l.enabled = store != NULL;
    const char *sep = strstr(url, "://");
    if (copy_store) /* a copy: under its store's id, whatever its URL */
        snprintf(l.store, sizeof(l.store), "%s", copy_store);
    else if (store)
        snprintf(l.store, sizeof(l.store), "%s", ims_store_id(store));
    else if (ims_stores_named(svc) && sep && (size_t)(sep - url) < sizeof(l.store)) {
        snprintf(l.store, sizeof(l.store), "%.*s", (int)(sep - url), url);
        if (ims_store_id_check(l.store, NULL) != IMS_OK)
            l.store[0] = '\0';
    }
    return l;
}

size_t ims_image_locations(const struct ims_service *svc, const struct ims_image *img,
                           struct ims_image_location *ret, size_t cap)
{
    /* staged data (an uploading image's blob) is no location until imported */
    if (!img->blob || ims_streq(img->status, "uploading") || cap == 0)
        return 0;
    size_t n = 0;
    ret[n++] = location_of(svc, img->blob, NULL);
    for (size_t i = 0; i < img->props.n && n < cap; i++) {
        const struct ims_kv *kv = &img->props.items[i];
        if (ims_str_startswith(kv->key, IMS_PROP_COPY_PREFIX))
            ret[n++] = location_of(svc, kv->value, kv->key + strlen(IMS_PROP_COPY_PREFIX));
    }
    return n;
}

const char *ims_image_location_in(const struct ims_service *svc, const struct ims_image *img, const char *store_id)
{
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, img, locs, IMS_ARRAY_SIZE(locs));
    for (size_t i = 0; i < n; i++)
        if (ims_streq(locs[i].store, store_id))
            return locs[i].url;
    return NULL;
}

char *ims_image_stores_list(const struct ims_service *svc, const struct ims_image *img)
{
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, img, locs, IMS_ARRAY_SIZE(locs));
    struct ims_buf b;
    ims_buf_init(&b, (IMS_STORE_ID_MAX + 1) * (IMS_STORES_MAX + 1));
    for (size_t i = 0; i < n; i++) {
        if (!locs[i].store[0]) /* Glance lists every location's store, configured or not */
            continue;
        if (b.len)
            ims_buf_addc(&b, ',');
        ims_buf_adds(&b, locs[i].store);
    }
    char *s = ims_xstrdup(b.data ? b.data : "");
    ims_buf_release(&b);
    return s;
}

enum ims_rc ims_image_open_any(struct ims_service *svc, const struct ims_image *img, struct ims_blob_reader *ret,
                               struct ims_err *err)
{
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, img, locs, IMS_ARRAY_SIZE(locs));
    enum ims_rc rc = ims_fail(err, IMS_E_IO, "image %s has no data in the stores configured", img->id);
    const char *failed = NULL; /* the store that could not be read */
    for (size_t i = 0; i < n; i++) {
        if (!locs[i].enabled) /* a store taken out of [stores] enabled: skipped, as glance_store does */
            continue;
        if (failed)
            ims_warn("image %s: its data in store %s could not be read (%s); read from store %s instead", img->id,
                     failed, err->msg, locs[i].store);
        *ret = (struct ims_blob_reader){.fd = -1};
        rc = svc->store->ops->open_read(svc->store, locs[i].url, ret, err);
        if (rc == IMS_OK)
            return rc;
        failed = locs[i].store;
    }
    return rc;
}

void ims_image_copies_drop(struct ims_kvlist *props)
{
    for (size_t i = props->n; i-- > 0;) {
        const char *key = props->items[i].key;
        if (ims_str_startswith(key, IMS_PROP_COPY_PREFIX) || ims_str_startswith(key, IMS_PROP_META_PREFIX)) {
            char *k = ims_xstrdup(key);
            ims_kvlist_remove(props, k);
            free(k);
        }
    }
}

static void copy_key(char out[64], const char *store_id)
{
    snprintf(out, 64, "%s%s", IMS_PROP_COPY_PREFIX, store_id);
}

char *ims_image_copy_take(struct ims_image *img, const char *store_id)
{
    char key[64], meta[64];
    copy_key(key, store_id);
    snprintf(meta, sizeof(meta), "%s%s", IMS_PROP_META_PREFIX, store_id);
    const char *url = ims_kvlist_get(&img->props, key);
    if (!url || ims_streq(url, img->blob))
        return NULL;
    char *taken = ims_xstrdup(url);
    ims_kvlist_remove(&img->props, key);
    ims_kvlist_remove(&img->props, meta);
    return taken;
}

/* ---- copy-image ---- */
static enum ims_rc write_to_store(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct ims_store_writer *w = ctx;
    return w->store->ops->write(w, p, n, err);
}

#define DIRECT_ALIGN 4096

/* A file reader's descriptor switched to O_DIRECT (its own: open_read
 * opened it for this reader): a whole blob read once needs no page cache,
 * and the kernel's copy out of it was a quarter of a copy's CPU
 * (bench/README, copy-image). False where the file system refuses. */
static bool read_direct(const struct ims_blob_reader *r)
{
    int fl = r->fd >= 0 ? fcntl(r->fd, F_GETFL) : -1;
    return fl >= 0 && fcntl(r->fd, F_SETFL, fl | O_DIRECT) == 0;
}

/* Streams reader r through the digests into writer w (NULL: digests
 * only); the digests out (md5 "" when w said md5_at_commit: the commit's).
 * direct: a file's data read with O_DIRECT where the file system allows it. */
static enum ims_rc stream(const struct ims_blob_reader *r, struct ims_store_writer *w, bool direct, char md5[33],
                          char sha[129], bool (*keep_going)(void *ctx), void *ctx, struct ims_err *err)
{
    struct ims_hash_pipe *h =
        ims_hash_pipe_new_digests(w ? write_to_store : NULL, w, !(w && w->md5_at_commit), sha != NULL);
    if (!h)
        return ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    enum ims_rc rc = IMS_OK;
    size_t cap = 1024 * 1024;
    char *buf = ims_xaligned_alloc(DIRECT_ALIGN, cap);
    direct = direct && read_direct(r);
    uint64_t pos = 0;
    while (rc == IMS_OK && pos < r->size) {
        if (keep_going && !keep_going(ctx)) {
            rc = ims_fail(err, IMS_E_BUSY, "stopped");
            break;
        }
        size_t want = r->size - pos < cap ? (size_t)(r->size - pos) : cap;
        /* O_DIRECT reads whole blocks: the tail's is rounded up, the file ends it */
        size_t ask = direct ? (want + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN : want;
        ssize_t got = r->fd >= 0 ? pread(r->fd, buf, ask, (off_t)pos) : r->read(r->ctx, pos, buf, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got > (ssize_t)want)
            got = (ssize_t)want;
        if (got <= 0)
            rc = ims_fail(err, IMS_E_IO, "the image's data ended at %llu of %llu bytes", (unsigned long long)pos,
                          (unsigned long long)r->size);
        else if (!ims_hash_pipe_update(h, buf, (size_t)got))
            rc = ims_hash_pipe_error(h, err);
        else
            pos += (uint64_t)got;
    }
    free(buf);
    if (rc == IMS_OK && !ims_hash_pipe_final(h, md5, sha))
        rc = ims_hash_pipe_error(h, err);
    ims_hash_pipe_free(h);
    return rc;
}

enum ims_rc ims_blob_digests(const struct ims_blob_reader *r, char md5[33], char sha[129], bool (*keep_going)(void *ctx),
                             void *ctx, struct ims_err *err)
{
    return stream(r, NULL, false, md5, sha, keep_going, ctx, err);
}

void ims_blob_reader_close(struct ims_blob_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    if (r->close)
        r->close(r->ctx);
    r->fd = -1;
    r->close = NULL;
}

/* The copy's edit: the image still active, the lock still the task's, no
 * copy in that store meanwhile; the store out of the importing ones. */
static enum ims_rc record_copy(struct ims_service *svc, const char *image_id, const char *task_id,
                               const char *store_id, const char *location, const char *md5, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin_internal(svc, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    char key[64];
    copy_key(key, store_id);
    if (!ims_glance_import_has_data(&e.image) ||
        !ims_streq(ims_kvlist_get(&e.image.props, IMS_PROP_IMPORT_TASK), task_id))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s was changed during the copy (status %s).", image_id,
                      e.image.status);
    else if (!ims_streq(e.image.checksum, md5))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s's data changed during the copy.", image_id);
    else if (ims_image_location_in(svc, &e.image, store_id))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s is already present at store '%s'", image_id, store_id);
    if (rc != IMS_OK) {
        ims_image_edit_abort(&e);
        return rc;
    }
    ims_kvlist_set(&e.image.props, key, location);
    struct ims_strlist one = {0};
    ims_strlist_add(&one, store_id);
    ims_glance_import_stores_done(&e.image, &one);
    ims_strlist_release(&one);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_image_copy_to_store(struct ims_service *svc, const char *image_id, const char *task_id,
                                    const char *store_id, bool (*keep_going)(void *ctx), void *ctx,
                                    struct ims_err *err)
{
    struct ims_store *target = ims_store_by_id(svc, store_id);
    if (!target)
        return ims_fail(err, IMS_E_CONFLICT, "Unknown scheme '%s' found in URI", store_id);
    struct ims_image img;
    enum ims_rc rc = ims_repo_image_get(ims_db_conn(svc->db), image_id, &img, err);
    if (rc != IMS_OK)
        return rc;
    if (ims_image_location_in(svc, &img, store_id)) { /* there already (a resumed task's earlier copy) */
        ims_image_release(&img);
        struct ims_strlist one = {0};
        ims_strlist_add(&one, store_id);
        struct ims_image_edit e;
        rc = ims_image_edit_begin_internal(svc, image_id, &e, err);
        if (rc == IMS_OK) {
            ims_glance_import_stores_done(&e.image, &one);
            rc = ims_image_edit_commit(&e, NULL, err);
        }
        ims_strlist_release(&one);
        return rc;
    }
    if (!ims_glance_import_has_data(&img) || !img.checksum) {
        rc = ims_fail(err, IMS_E_CONFLICT, "Only images with status active can be targeted for copying");
        ims_image_release(&img);
        return rc;
    }
    struct ims_blob_reader r = {.fd = -1};
    struct ims_store_writer *w = NULL;
    char md5[33] = "", sha[129] = "";
    char *location = NULL;
    int64_t started = ims_mono_us();
    rc = ims_image_open_any(svc, &img, &r, err);
    /* the size is known: an S3 target takes it as one PUT, as an upload of known size */
    if (rc == IMS_OK)
        rc = ims_blob_writer_open_in(svc, target, (int64_t)r.size, &w, err);
    if (rc == IMS_OK)
        rc = stream(&r, w, svc->cfg->direct_io, md5, sha, keep_going, ctx, err);
    if (r.fd >= 0)
        close(r.fd);
    if (r.close)
        r.close(r.ctx);
    /* what was read must be the image's data, as its digests say (an md5
     * left to the store's commit is checked once it is had) */
    if (rc == IMS_OK && ((md5[0] && !ims_streq(md5, img.checksum)) ||
                         (img.os_hash_value && !ims_streq(sha, img.os_hash_value))))
        rc = ims_fail(err, IMS_E_IO, "the data read for image %s does not match its checksum", image_id);
    const char *md5_from = "";
    if (rc == IMS_OK) {
        rc = ims_blob_writer_commit_md5(svc, IMS_TAKE_PTR(w), &location, md5, &md5_from, err);
        if (rc == IMS_OK && !ims_streq(md5, img.checksum)) {
            rc = ims_fail(err, IMS_E_IO, "the data stored for image %s does not match its checksum", image_id);
            ims_blob_unclaim(svc, location); /* no image took it */
            free(IMS_TAKE_PTR(location));
        }
    } else if (w) {
        ims_blob_writer_abort(svc, IMS_TAKE_PTR(w));
    }
    if (rc == IMS_OK) {
        double secs = (double)(ims_mono_us() - started) / 1e6;
        ims_info("image %s: copied to store %s, %lld bytes in %.2f s (%.0f MB/s); md5 %s", image_id, store_id,
                 (long long)img.size, secs, secs > 0 ? (double)img.size / secs / 1e6 : 0.0, md5_from);
        rc = record_copy(svc, image_id, task_id, store_id, location, md5, err);
        if (rc != IMS_OK)
            ims_blob_unclaim(svc, location); /* no image took it */
    }
    free(location);
    ims_image_release(&img);
    return rc;
}

char *ims_image_location_take(const struct ims_service *svc, struct ims_image *img, const char *store_id)
{
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, img, locs, IMS_ARRAY_SIZE(locs));
    const char *gone = ims_image_location_in(svc, img, store_id);
    if (!gone || n < 2)
        return NULL;
    char *removed = ims_xstrdup(gone);
    char key[64];
    copy_key(key, store_id);
    if (ims_streq(img->blob, removed)) { /* its own location: the first copy (one readable first) takes its place */
        const char *next = NULL;
        for (size_t i = 0; i < n && !next; i++)
            if (!ims_streq(locs[i].url, removed) && locs[i].enabled)
                next = locs[i].url;
        for (size_t i = 0; i < n && !next; i++)
            if (!ims_streq(locs[i].url, removed))
                next = locs[i].url;
        for (size_t i = 0; i < n; i++)
            if (ims_streq(locs[i].url, next))
                copy_key(key, locs[i].store);
        ims_set_str(&img->blob, next);
    }
    char meta[64];
    snprintf(meta, sizeof(meta), "%s%s", IMS_PROP_META_PREFIX, store_id);
    ims_kvlist_remove(&img->props, key);
    ims_kvlist_remove(&img->props, meta);
    return removed;
}

/* ---- DELETE /v2/stores/{store_id}/{image_id} ---- */
/* Ends edit e by removing the image's data in store_id (it has data in
 * another store too); the blob is released after the commit. */
static enum ims_rc drop_location(struct ims_service *svc, struct ims_image_edit *e, const char *store_id,
                                 struct ims_err *err)
{
    char *removed = ims_image_location_take(svc, &e->image, store_id);
    enum ims_rc rc = ims_image_edit_commit(e, NULL, err);
    if (rc == IMS_OK) /* after the commit: no image row references it */
        ims_blob_release(svc, removed);
    free(removed);
    return rc;
}

enum ims_rc ims_image_unrequested_store_drop(struct ims_service *svc, const char *image_id, const char *task_id,
                                             const char *store_id, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin_internal(svc, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, &e.image, locs, IMS_ARRAY_SIZE(locs));
    if (!ims_glance_import_has_data(&e.image) ||
        !ims_streq(ims_kvlist_get(&e.image.props, IMS_PROP_IMPORT_TASK), task_id) || n < 2 ||
        !ims_image_location_in(svc, &e.image, store_id))
        return ims_image_edit_end(&e, IMS_OK, err); /* nothing to drop, or not the task's to */
    return drop_location(svc, &e, store_id, err);
}

enum ims_rc ims_image_delete_from_store(struct ims_service *svc, const struct ims_principal *p, const char *store_id,
                                        const char *image_id, struct ims_err *err)
{
    /* Glance's delete_image_location policy is the admin role's */
    if (!p->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN, "%s", "You are not authorized to complete delete_image_location action.");
    if (!ims_stores_named(svc))
        return ims_fail(err, IMS_E_NOTFOUND, "%s", "The resource could not be found.");
    if (!ims_store_by_id(svc, store_id))
        return ims_fail(err, IMS_E_CONFLICT, "The selected store %s is not available on this node.", store_id);
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(svc, &e.image, locs, IMS_ARRAY_SIZE(locs));
    const char *gone = ims_image_location_in(svc, &e.image, store_id);
    if (!ims_streq(e.image.status, "active"))
        rc = ims_fail(err, IMS_E_CONFLICT, "%s",
                      "It's not allowed to remove image data from store if image status is not 'active'");
    else if (n == 1 && gone)
        rc = ims_fail(err, IMS_E_FORBIDDEN, "%s",
                      "Cannot delete image data from the only store containing it. Consider deleting the image "
                      "instead.");
    else if (!gone)
        rc = ims_fail(err, IMS_E_NOTFOUND, "Image %s is not stored in store %s.", image_id, store_id);
    if (rc != IMS_OK)
        return ims_image_edit_end(&e, rc, err);
    return drop_location(svc, &e, store_id, err);
}
