/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/cache_admin.c, image_cache.c, cache_fill.c): the
 * node-local image cache of images whose data is in a remote store (S3),
 * and Glance's cache API over it (cloud administrators only). Each node
 * (each [cache] directory) has its own cache and queue; the file store's
 * images are never cached (their data is a local file already). */
#ifndef IMS_IMAGE_CACHE_H
#define IMS_IMAGE_CACHE_H

#include "ims/auth.h"
#include "ims/base.h"
#include "ims/kv.h"
#include "ims/service.h"

/* "<image id>.<32 hex of the data location's digest>" */
#define IMS_CACHE_KEY_MAX (IMS_UUID_LEN + 1 + 32 + 1)

/* A cached image, as Glance's GET /v2/cache lists it. */
struct ims_cached_entry {
    char key[IMS_CACHE_KEY_MAX];
    char image_id[IMS_UUID_LEN + 1];
    uint64_t size;
    double last_accessed, last_modified; /* epoch seconds */
    int64_t hits;                        /* downloads served by this process from the file */
};
struct ims_cached_list {
    struct ims_cached_entry *items;
    size_t n;
};
void ims_cached_list_release(struct ims_cached_list *l);

/* GET /v2/cache: the cached images whose data is still the image's, and
 * the queued image ids. Empty when the cache is off. */
enum ims_rc ims_cache_list(struct ims_service *svc, const struct ims_principal *p, struct ims_cached_list *ret_cached,
                           struct ims_strlist *ret_queued, struct ims_err *err);
/* PUT /v2/cache/{id}: 404 for an image that does not exist, 400 for one
 * that is not active (no data); the prefetcher fills it. An image of the
 * file store, or any image while the cache is off, is accepted and not
 * queued: its downloads are not cached. */
enum ims_rc ims_cache_queue(struct ims_service *svc, const struct ims_principal *p, const char *id,
                            struct ims_err *err);
/* DELETE /v2/cache/{id}: the image's file and queue entry (404 for an
 * image that does not exist and is not cached). */
enum ims_rc ims_cache_delete(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             struct ims_err *err);
/* DELETE /v2/cache: the cached files, the queue, or both. */
enum ims_rc ims_cache_clear(struct ims_service *svc, const struct ims_principal *p, bool cached, bool queued,
                            struct ims_err *err);

#endif
