/* SPDX-License-Identifier: Apache-2.0
 * Filling the node-local image cache (image_cache.c): a download of an
 * image of a remote store reads through a reader that hands what the
 * client reads to a filler (cache_filler.c), in order from the first
 * byte; the filler's thread writes the cache's temporary file and, once
 * the last byte is written, checks the file's md5 against the image's
 * checksum and renames it into place, off the client's path. A download
 * that stops early, skips (a Range), fails or outruns the filler leaves
 * nothing. While one download fills, others
 * of the same image read from the store as before. Queued images (Glance's
 * PUT /v2/cache/{id}) are filled by the prefetcher thread the same way,
 * which also drops the files of images deleted or changed through other
 * processes or nodes. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/kv.h"
#include "ims/service.h"
#include "ims/store.h"

/* how often the prefetcher looks at the queue, and sweeps the cache */
#define PREFETCH_TICK_MS 500
#define SWEEP_TICKS 120

bool ims_image_cache_wanted(const struct ims_service *svc, const struct ims_image *img)
{
    /* a file store's data is a local file already, read through the page cache */
    const struct ims_store *holder = img->blob ? ims_store_router_find(svc->store, img->blob) : NULL;
    return svc->cache && holder && !ims_store_is_local(holder) &&
           (ims_streq(img->status, "active") || ims_streq(img->status, "deactivated")) && img->checksum &&
           img->size > 0 && (uint64_t)img->size <= ims_image_cache_max_size(svc->cache);
}

struct tee {
    struct ims_blob_reader inner;
    struct ims_cache_filler *filler;
};

static ssize_t tee_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct tee *t = ctx;
    ssize_t n = t->inner.read(t->inner.ctx, pos, buf, max);
    if (t->filler && (n <= 0 || !ims_cache_filler_offer(t->filler, pos, buf, (size_t)n)))
        ims_cache_filler_leave(IMS_TAKE_PTR(t->filler)); /* a failed read: the fill is abandoned */
    return n;
}

static void tee_close(void *ctx)
{
    struct tee *t = ctx;
    ims_cache_filler_leave(t->filler); /* the filler ends the fill if it has every byte, else abandons it */
    if (t->inner.close)
        t->inner.close(t->inner.ctx);
    free(t);
}

/* The download's reader: from the cache's file (a hit), or from the store
 * through a filler of the cache (patient: the prefetcher, which waits for
 * the filler where a client's download would give the fill up). */
static enum ims_rc open_read(struct ims_service *svc, const struct ims_image *img, bool patient,
                             struct ims_blob_reader *ret, struct ims_err *err)
{
    char key[IMS_CACHE_KEY_MAX];
    if (!ims_image_cache_key(img, key))
        return ims_fail(err, IMS_E_INTERNAL, "image %s has no data to cache", img->id);
    int fd = ims_image_cache_lookup(svc->cache, key, (uint64_t)img->size);
    if (fd >= 0) {
        *ret = (struct ims_blob_reader){.fd = fd, .size = (uint64_t)img->size};
        return IMS_OK;
    }
    struct ims_blob_reader rd;
    enum ims_rc rc = svc->store->ops->open_read(svc->store, img->blob, &rd, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_cache_fill *fill = NULL;
    if (rd.fd < 0 && rd.read && rd.size == (uint64_t)img->size)
        fill = ims_image_cache_fill_begin(svc->cache, key, img->checksum, rd.size);
    struct ims_cache_filler *filler = fill ? ims_cache_filler_start(fill, rd.size, patient) : NULL;
    if (!filler) { /* another download fills it, or it cannot be cached */
        *ret = rd;
        return IMS_OK;
    }
    struct tee *t = ims_xcalloc(1, sizeof(*t));
    t->inner = rd;
    t->filler = filler;
    *ret = (struct ims_blob_reader){.fd = -1, .size = rd.size, .read = tee_read, .close = tee_close, .ctx = t};
    return IMS_OK;
}

enum ims_rc ims_image_cache_open_read(struct ims_service *svc, const struct ims_image *img,
                                      struct ims_blob_reader *ret, struct ims_err *err)
{
    return open_read(svc, img, false, ret, err);
}

enum ims_rc ims_image_cache_fill_now(struct ims_service *svc, const struct ims_image *img, struct ims_err *err)
{
    struct ims_blob_reader rd;
    enum ims_rc rc = open_read(svc, img, true, &rd, err);
    if (rc != IMS_OK)
        return rc;
    if (rd.fd >= 0) { /* cached already */
        close(rd.fd);
        return IMS_OK;
    }
    enum { CHUNK = 1 << 20 };
    char *buf = ims_xmalloc(CHUNK);
    for (uint64_t pos = 0; pos < rd.size;) {
        ssize_t n = rd.read(rd.ctx, pos, buf, CHUNK);
        if (n <= 0) {
            rc = ims_fail(err, IMS_E_IO, "reading image %s's data failed at byte %llu", img->id,
                          (unsigned long long)pos);
            break;
        }
        pos += (uint64_t)n;
    }
    free(buf);
    rd.close(rd.ctx);
    return rc;
}

/* An image's row as it is now, whoever may see it (the prefetcher acts
 * for an administrator who queued it, or for no one: the sweep). */
static enum ims_rc image_now(struct ims_service *svc, const char *id, struct ims_image *ret, struct ims_err *err)
{
    return ims_repo_image_get(ims_db_conn(svc->db), id, ret, err);
}

void ims_image_cache_sweep(struct ims_service *svc)
{
    struct ims_cached_list l;
    ims_image_cache_scan(svc->cache, &l);
    for (size_t i = 0; i < l.n; i++) {
        struct ims_err err = {0};
        struct ims_image img;
        enum ims_rc rc = image_now(svc, l.items[i].image_id, &img, &err);
        if (rc != IMS_OK && rc != IMS_E_NOTFOUND)
            continue; /* unsure: keep it */
        char key[IMS_CACHE_KEY_MAX];
        bool current = rc == IMS_OK && !ims_streq(img.status, "deleted") && ims_image_cache_key(&img, key) &&
                       ims_streq(key, l.items[i].key);
        if (!current) {
            ims_image_cache_remove_key(svc->cache, l.items[i].key);
            ims_info("image cache: dropped %s (the image's data is gone)", l.items[i].key);
        }
        if (rc == IMS_OK)
            ims_image_release(&img);
    }
    ims_cached_list_release(&l);
}

static void prefetch_one(struct ims_service *svc, const char *id)
{
    struct ims_err err = {0};
    struct ims_image img;
    enum ims_rc rc = image_now(svc, id, &img, &err);
    bool wanted = false;
    if (rc == IMS_OK) {
        wanted = ims_image_cache_wanted(svc, &img);
        if (wanted)
            rc = ims_image_cache_fill_now(svc, &img, &err);
        ims_image_release(&img);
    }
    if (rc == IMS_OK && wanted)
        ims_info("image cache: prefetched %s", id);
    else if (rc != IMS_OK)
        ims_warn("image cache: prefetching %s failed: %s", id, err.msg);
    /* Glance's prefetcher also forgets what it could not fetch */
    ims_image_cache_dequeue(svc->cache, id);
}

/* One step of the prefetcher: the queue, and every SWEEP_TICKS steps the sweep. */
static void prefetch(void *arg)
{
    struct ims_service *svc = arg;
    static _Atomic unsigned steps; /* one prefetcher per process */
    struct ims_strlist q;
    ims_image_cache_queued(svc->cache, &q);
    for (size_t i = 0; i < q.n; i++)
        prefetch_one(svc, q.items[i]);
    ims_strlist_release(&q);
    if (steps++ % SWEEP_TICKS == 0)
        ims_image_cache_sweep(svc);
}

enum ims_rc ims_cache_prefetcher_start(struct ims_service *svc, struct ims_ticker **ret, struct ims_err *err)
{
    return ims_ticker_start("image cache's prefetcher", prefetch, svc, PREFETCH_TICK_MS, ret, err);
}
