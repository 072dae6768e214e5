/* SPDX-License-Identifier: Apache-2.0
 * The route table as data: method, path, handler, and the IAM actions and
 * scopes each route requires (../shared/api-permissions.tsv), plus the hooks
 * the HTTP layer calls around every request: token check, 404/405, access
 * log. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"

#define R(m, p, h, a, iam, ep) {.methods = (m), .pattern = (p), .handler = (h), .actions = (a), .iam_project = (iam), .enterprise_project = (ep)}
#define PUBLIC(m, p, h) {.methods = (m), .pattern = (p), .handler = (h), .flags = IMS_ROUTE_PUBLIC, .iam_project = true}

const struct ims_route ims_api_routes[] = {
    PUBLIC(IMS_GET, "/", api_versions),
    PUBLIC(IMS_GET, "/versions", api_versions),
    PUBLIC(IMS_GET, "/v2", api_versions),
    PUBLIC(IMS_GET, "/v3", api_keystone_version),
    PUBLIC(IMS_POST, "/v3/auth/tokens", api_tokens_create),
    R(IMS_GET, "/v3/auth/tokens", api_tokens_show, NULL, true, false),
    R(IMS_DELETE, "/v3/auth/tokens", api_tokens_delete, NULL, true, false),

    R(IMS_GET, "/v2/images", api_images_list, "ims:images:list", true, false),
    R(IMS_POST, "/v2/images", api_images_create, "ims:images:create", true, false),
    R(IMS_GET, "/v2/images/{image_id}", api_images_show, "ims:images:get", true, true),
    R(IMS_PATCH, "/v2/images/{image_id}", api_images_update, "ims:images:update", true, true),
    R(IMS_DELETE, "/v2/images/{image_id}", api_images_delete, "ims:images:delete", true, true),
    R(IMS_POST, "/v2/images/{image_id}/actions/deactivate", api_images_deactivate, "ims:images:update", true, false),
    R(IMS_POST, "/v2/images/{image_id}/actions/reactivate", api_images_reactivate, "ims:images:update", true, false),
    {.methods = IMS_PUT, .pattern = "/v2/images/{image_id}/file", .sink = &api_images_upload,
     .actions = "ims:images:get,ims:images:update,ims:images:upload", .iam_project = true},
    R(IMS_GET, "/v2/images/{image_id}/file", api_images_download, "ims:images:get", true, false),
    R(IMS_PUT, "/v2/images/{image_id}/tags/{tag}", api_tags_add, "ims:images:get,ims:images:update", true, false),
    R(IMS_DELETE, "/v2/images/{image_id}/tags/{tag}", api_tags_delete, "ims:images:get,ims:images:update", true,
      false),
    R(IMS_POST, "/v2/images/{image_id}/members", api_members_create, "ims:images:get,ims:images:share", true, false),
    R(IMS_GET, "/v2/images/{image_id}/members", api_members_list, "ims:images:get,ims:images:share", true, false),
    R(IMS_GET, "/v2/images/{image_id}/members/{member_id}", api_members_show, "ims:images:get,ims:images:share", true,
      false),
    R(IMS_PUT, "/v2/images/{image_id}/members/{member_id}", api_members_update, "ims:images:get,ims:images:share",
      true, false),
    R(IMS_DELETE, "/v2/images/{image_id}/members/{member_id}", api_members_delete,
      "ims:images:get,ims:images:share", true, false),
    R(IMS_GET, "/v2/schemas/image", api_schema_image, NULL, true, false),
    R(IMS_GET, "/v2/schemas/images", api_schema_images, NULL, true, false),
    R(IMS_GET, "/v2/schemas/member", api_schema_member, NULL, true, false),
    R(IMS_GET, "/v2/schemas/members", api_schema_members, NULL, true, false),

    R(IMS_GET, "/v1.1/images/detail", api_legacy_images_detail, "ims:images:list", true, false),
    R(IMS_HEAD, "/v1/images/{image_id}", api_legacy_image_head, "ims:images:get", true, false),
    R(IMS_DELETE, "/v1.1/images/{image_id}", api_legacy_image_delete, "ims:images:delete", true, false),
};

const size_t ims_api_nroutes = IMS_ARRAY_SIZE(ims_api_routes);

static bool authenticate(struct ims_request *req)
{
    if (req->route->flags & IMS_ROUTE_PUBLIC)
        return true;
    struct ims_err err = {0};
    const char *token = ims_req_header(req, "X-Auth-Token");
    struct ims_principal *p = ims_xcalloc(1, sizeof(*p));
    enum ims_rc rc = token ? ims_identity_validate(req->svc, token, p, &err)
                           : ims_fail(&err, IMS_E_UNAUTH, "The request you have made requires authentication.");
    if (rc != IMS_OK) {
        free(p);
        api_fail(req, rc, &err);
        return false;
    }
    req->principal = p;
    if (!req->route->actions)
        return true;
    /* IAM: the route's actions, at the scopes the permission table gives. */
    struct ims_access *acc = ims_xcalloc(1, sizeof(*acc));
    p->access = acc;
    rc = ims_authorize(req->svc, p, req->route->actions, req->route->iam_project, req->route->enterprise_project, acc,
                       &err);
    if (rc != IMS_OK) {
        ims_info("%s denied %s %s to user %s: %s", req->request_id, req->method_name, req->path, p->user_id,
                 acc->deciding[0] ? acc->deciding : "no statement allows it");
        api_fail(req, rc, &err);
        return false;
    }
    return true;
}

static void no_route(struct ims_request *req, unsigned allowed)
{
    if (!allowed) {
        ims_http_error(req, 404, "The resource could not be found.");
        return;
    }
    struct ims_buf b;
    ims_buf_init(&b, 256);
    for (unsigned m = 1; m <= IMS_OPTIONS; m <<= 1) {
        if (allowed & m) {
            if (b.len)
                ims_buf_adds(&b, ", ");
            ims_buf_adds(&b, ims_method_name((enum ims_method)m));
        }
    }
    ims_resp_header(req, "Allow", b.data ? b.data : "");
    ims_buf_release(&b);
    ims_http_error(req, 405, "The method is not allowed for the requested URL.");
}

static void access_log(struct ims_request *req)
{
    int64_t us = ims_mono_us() - req->started_us;
    ims_info("%s %s %s %d %lld.%03lldms user=%s project=%s", req->request_id, req->method_name, req->path,
             req->resp.status, (long long)(us / 1000), (long long)(us % 1000),
             req->principal ? req->principal->user_id : "-",
             req->principal && req->principal->project_id[0] ? req->principal->project_id : "-");
}

static void cleanup(struct ims_request *req)
{
    if (req->principal && req->principal->access) {
        ims_access_release((struct ims_access *)req->principal->access);
        free((void *)req->principal->access);
    }
    free(req->principal);
    req->principal = NULL;
}

void ims_api_app_init(struct ims_http_app *app, struct ims_service *svc)
{
    *app = (struct ims_http_app){
        .routes = ims_api_routes,
        .nroutes = ims_api_nroutes,
        .svc = svc,
        .before = authenticate,
        .no_route = no_route,
        .after = access_log,
        .cleanup = cleanup,
        .public_url = svc->cfg->public_url && *svc->cfg->public_url ? svc->cfg->public_url : NULL,
    };
}
