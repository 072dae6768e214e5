/* SPDX-License-Identifier: Apache-2.0
 * Version discovery: Glance's multiple-choices document (GET /, /v2) and
 * Keystone's v3 version document (GET /v3). */
#include <stdio.h>

#include "api-int.h"

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
    for (size_t i = 0; i < IMS_ARRAY_SIZE(image_versions); i++) {
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "id", image_versions[i][0]);
        ims_jw_kstr(&w, "status", image_versions[i][1]);
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
