/* SPDX-License-Identifier: Apache-2.0
 * core: an image's data in several stores (lib/core/image_stores.c), as
 * Glance's multi-store (enabled_backends) keeps it: the image's own
 * location (img->blob) and one copy per further store, each a hidden
 * property IMS_PROP_COPY_PREFIX<store id> naming that store's blob (the
 * repository counts it as a reference, as it counts img->blob). The stores
 * are the ones [stores] enabled names, by id; each location's scheme is
 * its store's id. */
#ifndef IMS_IMAGE_STORES_H
#define IMS_IMAGE_STORES_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/service.h"
#include "ims/store.h"

/* Whether several stores are configured by id ([stores] enabled): what
 * Glance's enabled_backends switches on (the images' `stores`, copy-image,
 * DELETE /v2/stores/...). */
bool ims_stores_named(const struct ims_service *svc);
/* The store of location, or NULL when no configured store holds it. */
struct ims_store *ims_store_of_location(const struct ims_service *svc, const char *location);
/* The store with this id that imports may name, or NULL. */
struct ims_store *ims_store_by_id(const struct ims_service *svc, const char *id);

/* One location of an image's data (url borrowed from the image). A store
 * taken out of [stores] enabled leaves its locations with the images, as
 * Glance's do: still listed under the store's id, read by nobody. */
struct ims_image_location {
    const char *url;
    /* its store's id: the configured store's, else the one it was written
     * under (its scheme, or the copy's); "" when it names none */
    char store[IMS_STORE_ID_MAX + 1];
    bool enabled; /* a configured store holds it: it can be read and removed */
};
/* img's locations: its own first, then its copies; none while it has no
 * data of its own (queued, or staged data that is not yet its data).
 * Returns how many (at most cap). */
size_t ims_image_locations(const struct ims_service *svc, const struct ims_image *img,
                           struct ims_image_location *ret, size_t cap);
/* The location of img's data in store id, or NULL. */
const char *ims_image_location_in(const struct ims_service *svc, const struct ims_image *img, const char *store_id);
/* The ids of the stores holding img's data, comma-separated as Glance's
 * `stores` property ("" when none); owned by the caller. */
char *ims_image_stores_list(const struct ims_service *svc, const struct ims_image *img);
/* A reader of img's data from the first of its locations that opens (its
 * own, then its copies): a download goes on while one store is away, and
 * reads nothing from a store no longer configured. */
enum ims_rc ims_image_open_any(struct ims_service *svc, const struct ims_image *img, struct ims_blob_reader *ret,
                               struct ims_err *err);
/* Drops the copies' properties (an image made from another shares only
 * its own location). */
void ims_image_copies_drop(struct ims_kvlist *props);

/* Takes img's location in store_id out of img (an edit's) when another
 * store holds its data too: a copy's properties go, or, for its own
 * location, the first copy takes its place. The removed URL comes back
 * (the caller's to release once the edit commits), NULL when nothing was
 * taken. */
char *ims_image_location_take(const struct ims_service *svc, struct ims_image *img, const char *store_id);
/* Takes img's copy in store_id out of img (an edit's): its properties
 * go and its URL comes back (the caller's to release once the edit
 * commits); NULL when store_id holds no copy (its own location is none). */
char *ims_image_copy_take(struct ims_image *img, const char *store_id);

/* copy-image's step for one store: the image's data read from a store that
 * holds it, its md5 and sha512 checked against the image's, written to
 * store_id as a new blob, and recorded as the image's copy there (store_id
 * out of os_glance_importing_to_stores) in an edit that checks the image
 * is still active and task_id still holds its import lock. A store already
 * holding the data is left as it is (IMS_OK). keep_going false stops it
 * (IMS_E_BUSY, nothing left). */
enum ims_rc ims_image_copy_to_store(struct ims_service *svc, const char *image_id, const char *task_id,
                                    const char *store_id, bool (*keep_going)(void *ctx), void *ctx,
                                    struct ims_err *err);
/* glance-direct and web-download import into the default store, then
 * copy to the stores the task names: where the task did not name the
 * default, its data there goes once another store holds it (the image
 * active and task_id holding its lock; otherwise nothing changes). */
enum ims_rc ims_image_unrequested_store_drop(struct ims_service *svc, const char *image_id, const char *task_id,
                                             const char *store_id, struct ims_err *err);
/* Glance 2.17's Add Location (lib/core/image_locations.c), with [images]
 * location_api (404 without): the image visible (404); the service role,
 * its project or an admin (403); queued (409); v's location checked as a
 * PATCH's (400: a store's, data it holds and the caller may read, the
 * validation data's digests the data's); the image takes that data and
 * becomes active. */
struct ims_location_value;
enum ims_rc ims_image_location_add(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   const struct ims_location_value *v, struct ims_err *err);
/* Glance 2.17's Get Locations: with location_api (404 without), the image
 * visible (404), the caller holding the service role (403, Glance's
 * fetch_image_location); the image out for its locations. */
enum ims_rc ims_image_locations_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                    struct ims_image *ret, struct ims_err *err);
/* DELETE /v2/stores/{store_id}/{image_id} (Glance 25): an administrator
 * (403, Glance's delete_image_location policy), stores named (404),
 * store_id known (409), the image visible (404), active
 * (409), with data in another store too (403: "the only store"), in
 * store_id (404); the data there is removed (a copy of its own location
 * becomes its location). */
enum ims_rc ims_image_delete_from_store(struct ims_service *svc, const struct ims_principal *p, const char *store_id,
                                        const char *image_id, struct ims_err *err);

#endif
