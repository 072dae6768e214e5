/* SPDX-License-Identifier: Apache-2.0
 * Glance's cache API (Glance 25, /v2/cache) over this node's image cache
 * (image_cache.c): its default policies give every call to the cloud
 * administrator (the admin role) alone; an image named is looked up as the
 * administrator sees it, so one that does not exist is 404. */
#include <string.h>

#include "core-int.h"
#include "ims/db.h"
#include "ims/image_cache.h"
#include "ims/images.h"

static enum ims_rc admin_only(const struct ims_principal *p, const char *policy, struct ims_err *err)
{
    if (p->is_admin)
        return IMS_OK;
    return ims_fail(err, IMS_E_FORBIDDEN, "You are not authorized to complete %s action.", policy);
}

enum ims_rc ims_cache_list(struct ims_service *svc, const struct ims_principal *p, struct ims_cached_list *ret_cached,
                           struct ims_strlist *ret_queued, struct ims_err *err)
{
    enum ims_rc rc = admin_only(p, "cache_list", err);
    if (rc != IMS_OK)
        return rc;
    *ret_cached = (struct ims_cached_list){0};
    *ret_queued = (struct ims_strlist){0};
    if (!svc->cache)
        return IMS_OK;
    ims_image_cache_sweep(svc); /* images deleted or changed elsewhere are not listed */
    ims_image_cache_scan(svc->cache, ret_cached);
    ims_image_cache_queued(svc->cache, ret_queued);
    return IMS_OK;
}

enum ims_rc ims_cache_queue(struct ims_service *svc, const struct ims_principal *p, const char *id,
                            struct ims_err *err)
{
    enum ims_rc rc = admin_only(p, "cache_image", err);
    struct ims_image img;
    if (rc == IMS_OK)
        rc = ims_images_get(svc, p, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_streq(img.status, "active"))
        rc = ims_fail(err, IMS_E_BADREQ, "Only images with status active can be targeted for queueing");
    else if (ims_image_cache_wanted(svc, &img) && !ims_image_cache_enqueue(svc->cache, img.id))
        rc = ims_fail(err, IMS_E_IO, "cannot queue image %s for caching", img.id);
    ims_image_release(&img);
    return rc;
}

enum ims_rc ims_cache_delete(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             struct ims_err *err)
{
    enum ims_rc rc = admin_only(p, "cache_delete", err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image img;
    rc = ims_images_get(svc, p, id, &img, err);
    if (rc == IMS_OK)
        ims_image_release(&img);
    if (svc->cache && ims_uuid_valid(id) && strlen(id) == IMS_UUID_LEN) {
        ims_image_cache_drop_image(svc->cache, id);
        ims_image_cache_dequeue(svc->cache, id);
    }
    return rc;
}

enum ims_rc ims_cache_clear(struct ims_service *svc, const struct ims_principal *p, bool cached, bool queued,
                            struct ims_err *err)
{
    enum ims_rc rc = admin_only(p, "cache_delete", err);
    if (rc != IMS_OK || !svc->cache)
        return rc;
    if (cached)
        ims_image_cache_drop_image(svc->cache, NULL);
    if (queued)
        ims_image_cache_dequeue(svc->cache, NULL);
    return IMS_OK;
}
