/* SPDX-License-Identifier: Apache-2.0
 * Glance 2.17's Add Location and Get Locations (POST and GET
 * /v2/images/{image_id}/locations), behind [images] location_api: the
 * body read, the core's answer written (lib/core/image_locations.c). */
#include <stdlib.h>

#include "api-int.h"
#include "ims/config.h"
#include "ims/image_stores.h"
#include "ims/patch.h"

void api_image_location_add(struct ims_request *req)
{
    struct ims_err err = {0};
    if (!req->svc->cfg->location_api) { /* no such route while off: nothing of the body is read */
        api_fail(req, ims_fail(&err, IMS_E_NOTFOUND, "%s", "The resource could not be found."), &err);
        return;
    }
    json_t *body = api_json_body(req);
    if (!body)
        return;
    struct ims_location_value *v = ims_xcalloc(1, sizeof(*v));
    enum ims_rc rc = ims_location_add_body(body, v, &err);
    json_decref(body);
    if (rc == IMS_OK)
        rc = ims_image_location_add(req->svc, req->principal, ims_req_param(req, 0), v, &err);
    ims_location_values_free(v, 1);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    else
        ims_resp_empty(req, 202); /* Glance: 202 Accepted, no body */
}

void api_image_locations_get(struct ims_request *req)
{
    struct ims_err err = {0};
    struct ims_image img;
    enum ims_rc rc = ims_image_locations_get(req->svc, req->principal, ims_req_param(req, 0), &img, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w; /* a bare list, as Glance answers */
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_arr_begin(&w);
    api_location_items(&w, req, &img);
    ims_jw_arr_end(&w);
    ims_image_release(&img);
}
