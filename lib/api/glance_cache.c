/* SPDX-License-Identifier: Apache-2.0
 * Glance v2's cache API (API v2.14+, as Glance 25 serves it): GET, PUT
 * and DELETE /v2/cache/{image_id}, DELETE /v2/cache (clear, with
 * x-image-cache-clear-target), over this node's image cache. Cloud
 * administrators only (core's check, after the route's IAM action). */
#include <stdio.h>

#include "api-int.h"
#include "ims/image_cache.h"
#include "ims/json_writer.h"

void api_cache_list(struct ims_request *req)
{
    struct ims_err err = {0};
    struct ims_cached_list cached;
    struct ims_strlist queued;
    enum ims_rc rc = ims_cache_list(req->svc, req->principal, &cached, &queued, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "cached_images");
    ims_jw_arr_begin(&w);
    for (size_t i = 0; i < cached.n; i++) {
        const struct ims_cached_entry *e = &cached.items[i];
        char num[48];
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "image_id", e->image_id);
        ims_jw_kint(&w, "hits", e->hits);
        ims_jw_key(&w, "last_accessed"); /* epoch seconds as a float, as Glance's sqlite driver */
        ims_jw_raw(&w, num, (size_t)snprintf(num, sizeof(num), "%.6f", e->last_accessed));
        ims_jw_key(&w, "last_modified");
        ims_jw_raw(&w, num, (size_t)snprintf(num, sizeof(num), "%.6f", e->last_modified));
        ims_jw_kint(&w, "size", (int64_t)e->size);
        ims_jw_obj_end(&w);
    }
    ims_jw_arr_end(&w);
    ims_jw_kstrlist(&w, "queued_images", &queued);
    ims_jw_obj_end(&w);
    ims_cached_list_release(&cached);
    ims_strlist_release(&queued);
}

/* The calls that answer with no body. */
static void answer(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int status)
{
    if (rc != IMS_OK)
        api_fail(req, rc, err);
    else
        ims_resp_empty(req, status);
}

void api_cache_queue(struct ims_request *req)
{
    struct ims_err err = {0};
    answer(req, ims_cache_queue(req->svc, req->principal, ims_req_param(req, 0), &err), &err, 202);
}

void api_cache_delete(struct ims_request *req)
{
    struct ims_err err = {0};
    answer(req, ims_cache_delete(req->svc, req->principal, ims_req_param(req, 0), &err), &err, 204);
}

void api_cache_clear(struct ims_request *req)
{
    struct ims_err err = {0};
    const char *target = ims_req_header(req, "x-image-cache-clear-target");
    bool cached = true, queued = true;
    if (target && ims_streq(target, "cache"))
        queued = false;
    else if (target && ims_streq(target, "queue"))
        cached = false;
    else if (target && *target) {
        ims_fail(&err, IMS_E_BADREQ, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty "
                                     "string.");
        api_fail(req, IMS_E_BADREQ, &err);
        return;
    }
    answer(req, ims_cache_clear(req->svc, req->principal, cached, queued, &err), &err, 204);
}
