/* SPDX-License-Identifier: Apache-2.0
 * Version discovery: Glance's multiple-choices document (GET /, /v2) and
 * Keystone's v3 version document (GET /v3). */
#include <stdio.h>

#include "api-int.h"
#include "ims/config.h"

/* Newest first, as Glance lists them. */
static const char *const image_versions[][2] = {
    {"v2.16", "CURRENT"},   {"v2.15", "SUPPORTED"}, {"v2.14", "SUPPORTED"}, {"v2.9", "SUPPORTED"}, {"v2.7", "SUPPORTED"},
    {"v2.6", "SUPPORTED"},  {"v2.5", "SUPPORTED"},  {"v2.4", "SUPPORTED"}, {"v2.3", "SUPPORTED"},
    {"v2.2", "SUPPORTED"},  {"v2.1", "SUPPORTED"},  {"v2.0", "SUPPORTED"},
};

void api_versions(struct ims_request *req)
{
    char href[300];
    snprintf(href, sizeof(href), "%s/v2/", ims_req_base_url(req));
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 300));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "versions");
    ims_jw_arr_begin(&w);
    /* Glance 2.17 is the location calls' version ([images] location_api):
     * offered, it is the current one */
    bool v217 = req->svc->cfg->location_api;
    for (size_t i = v217 ? 0 : 1; i <= IMS_ARRAY_SIZE(image_versions); i++) {
        const char *id = i == 0 ? "v2.17" : image_versions[i - 1][0];
        const char *status = i == 0 ? "CURRENT" : i == 1 && v217 ? "SUPPORTED" : image_versions[i - 1][1];
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "id", id);
        ims_jw_kstr(&w, "status", status);
        ims_jw_key(&w, "links");
        ims_jw_arr_begin(&w);
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "rel", "self");
        ims_jw_kstr(&w, "href", href);
        ims_jw_obj_end(&w);
        ims_jw_arr_end(&w);
        ims_jw_obj_end(&w);
    }
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
}

void api_keystone_version(struct ims_request *req)
{
    char href[300];
    snprintf(href, sizeof(href), "%s/v3/", ims_req_base_url(req));
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "version");
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "id", "v3.14");
    ims_jw_kstr(&w, "status", "stable");
    ims_jw_kstr(&w, "updated", "2020-04-07T00:00:00Z");
    ims_jw_key(&w, "links");
    ims_jw_arr_begin(&w);
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "rel", "self");
    ims_jw_kstr(&w, "href", href);
    ims_jw_obj_end(&w);
    ims_jw_arr_end(&w);
    ims_jw_key(&w, "media-types");
    ims_jw_arr_begin(&w);
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "base", "application/json");
    ims_jw_kstr(&w, "type", "application/vnd.openstack.identity-v3+json");
    ims_jw_obj_end(&w);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_jw_obj_end(&w);
}
