/* SPDX-License-Identifier: Apache-2.0
 * The route table as data: method, path, handler, and the IAM actions and
 * scopes each route requires (spec/api-permissions.tsv), plus the hooks
 * the HTTP layer calls around every request: token check, 404/405, access
 * log. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/config.h"
#include "ims/identity.h"
#include "ims/service.h"

/* Glance's routes (R, NA) match exactly, as Glance's do: "/v2/images/" or "/v2/images/{id}/" is 404. */
#define R(m, p, h, a, iam, ep) {.methods = (m), .pattern = (p), .handler = (h), .actions = (a), .flags = IMS_ROUTE_EXACT, .iam_project = (iam), .enterprise_project = (ep)}
/* The same, for a handler that may wait on the image store or object storage (IMS_ROUTE_REMOTE_IO). */
#define R_REMOTE(m, p, h, a, iam, ep) {.methods = (m), .pattern = (p), .handler = (h), .actions = (a), .flags = IMS_ROUTE_EXACT | IMS_ROUTE_REMOTE_IO, .iam_project = (iam), .enterprise_project = (ep)}
/* Token needed, no action (the table's "N/A"). */
#define NA(m, p, h) {.methods = (m), .pattern = (p), .handler = (h), .flags = IMS_ROUTE_EXACT, .iam_project = true}
#define PUBLIC(m, p, h) {.methods = (m), .pattern = (p), .handler = (h), .flags = IMS_ROUTE_PUBLIC, .iam_project = true}
#define UNLISTED(m, p, h, a, fl) {.methods = (m), .pattern = (p), .handler = (h), .actions = (a), .flags = IMS_ROUTE_UNLISTED | (fl), .iam_project = true}

/* Every row of spec/api-permissions.tsv has its route here, with the
 * same actions and scope flags; tests/unit/test_route_table.c holds the two
 * to each other. */
const struct ims_route ims_api_routes[] = {
    /* versions and identity */
    PUBLIC(IMS_GET, "/", api_versions),
    {.methods = IMS_GET, .pattern = "/versions", .handler = api_versions, .flags = IMS_ROUTE_PUBLIC | IMS_ROUTE_UNLISTED},
    {.methods = IMS_GET, .pattern = "/v2", .handler = api_versions, .flags = IMS_ROUTE_PUBLIC | IMS_ROUTE_UNLISTED},
    {.methods = IMS_GET, .pattern = "/v3", .handler = api_keystone_version,
     .flags = IMS_ROUTE_PUBLIC | IMS_ROUTE_UNLISTED | IMS_ROUTE_KEYSTONE_ERRORS},
    /* Logins and password-setting calls hash passwords (argon2, ~30 ms): on
     * the deferred pool, never on an event-loop thread. */
    {.methods = IMS_POST, .pattern = "/v3/auth/tokens", .handler = api_tokens_create,
     .flags = IMS_ROUTE_PUBLIC | IMS_ROUTE_UNLISTED | IMS_ROUTE_DEFERRED | IMS_ROUTE_KEYSTONE_ERRORS},
    UNLISTED(IMS_GET, "/v3/auth/tokens", api_tokens_show, NULL, IMS_ROUTE_KEYSTONE_ERRORS),
    /* a reader may revoke its own token, as Keystone lets any token's owner */
    UNLISTED(IMS_DELETE, "/v3/auth/tokens", api_tokens_delete, NULL, IMS_ROUTE_KEYSTONE_ERRORS | IMS_ROUTE_READS),

    /* native OpenStack Image API */
    R(IMS_GET, "/v2/images", api_images_list, "ims:images:list", true, false),
    /* creates waiting together share a commit (lib/db/shared_commit.c) */
    {.methods = IMS_POST, .pattern = "/v2/images", .handler = api_images_create, .actions = "ims:images:create",
     .flags = IMS_ROUTE_EXACT | IMS_ROUTE_SHARED_COMMIT, .iam_project = true},
    R(IMS_GET, "/v2/images/{image_id}", api_images_show, "ims:images:get", true, true),
    R(IMS_PATCH, "/v2/images/{image_id}", api_images_update, "ims:images:update", true, true),
    /* removing the image's data waits on its store */
    R_REMOTE(IMS_DELETE, "/v2/images/{image_id}", api_images_delete, "ims:images:delete", true, true),
    R(IMS_POST, "/v2/images/{image_id}/actions/deactivate", api_images_deactivate, "ims:images:update", true, false),
    R(IMS_POST, "/v2/images/{image_id}/actions/reactivate", api_images_reactivate, "ims:images:update", true, false),
    {.methods = IMS_PUT, .pattern = "/v2/images/{image_id}/file", .sink = &api_images_upload,
     .actions = "ims:images:get+ims:images:update+ims:images:upload", .flags = IMS_ROUTE_EXACT, .iam_project = true},
    /* Interoperable import (lib/api/glance_import.c; not in the reference's
     * tables, so the table's rows for them follow the upload's):
     * staging and importing write the image's data as an upload does, so
     * they take the upload's actions; Glance's modify_image (the image's
     * project or an admin) is core's check. The task (a job) is authorized
     * again with ims:images:upload whenever a worker takes it. */
    {.methods = IMS_PUT, .pattern = "/v2/images/{image_id}/stage", .sink = &api_images_stage,
     .actions = "ims:images:get+ims:images:update+ims:images:upload", .flags = IMS_ROUTE_EXACT, .iam_project = true},
    /* on the deferred pool: a web-download URI's host is resolved (DNS may block) */
    {.methods = IMS_POST, .pattern = "/v2/images/{image_id}/import", .handler = api_images_import,
     .actions = "ims:images:get+ims:images:update+ims:images:upload", .flags = IMS_ROUTE_EXACT | IMS_ROUTE_DEFERRED,
     .iam_project = true},
    NA(IMS_GET, "/v2/info/import", api_info_import),
    NA(IMS_GET, "/v2/info/stores", api_info_stores),
    R_REMOTE(IMS_DELETE, "/v2/stores/{store_id}/{image_id}", api_store_image_delete, "ims:images:get+ims:images:update",
      true, false),
    /* Glance 2.17's Add and Get Locations (lib/api/glance_locations.c),
     * with [images] location_api: the add may read the data for its
     * digests (deferred pool); the roles are core's checks */
    {.methods = IMS_POST, .pattern = "/v2/images/{image_id}/locations", .handler = api_image_location_add,
     .actions = "ims:images:get+ims:images:update", .flags = IMS_ROUTE_EXACT | IMS_ROUTE_DEFERRED,
     .iam_project = true},
    R(IMS_GET, "/v2/images/{image_id}/locations", api_image_locations_get, "ims:images:get", true, false),
    /* Tasks (lib/api/glance_tasks.c): an image's tasks for whoever may get
     * the image; the task API itself is Glance 25's tasks_api_access, the
     * admin role, checked by the handler after the IAM read action. */
    R(IMS_GET, "/v2/images/{image_id}/tasks", api_image_tasks, "ims:images:get", true, false),
    R(IMS_GET, "/v2/tasks", api_tasks_list, "ims:images:list", true, false),
    R(IMS_GET, "/v2/tasks/{task_id}", api_tasks_show, "ims:images:get", true, false),
    NA(IMS_GET, "/v2/schemas/task", api_schema_task),
    NA(IMS_GET, "/v2/schemas/tasks", api_schema_tasks),
    /* Glance's cache API (lib/api/glance_cache.c): Glance 25's cache_*
     * policies give it to the admin role alone, core's check after these
     * IAM actions (reading the cache needs list, an image's entry get, and
     * changing it the update an image's data needs). */
    R(IMS_GET, "/v2/cache", api_cache_list, "ims:images:list", true, false),
    R(IMS_DELETE, "/v2/cache", api_cache_clear, "ims:images:list+ims:images:update", true, false),
    R(IMS_PUT, "/v2/cache/{image_id}", api_cache_queue, "ims:images:get+ims:images:update", true, false),
    R(IMS_DELETE, "/v2/cache/{image_id}", api_cache_delete, "ims:images:get+ims:images:update", true, false),
    /* Downloading is not in the reference's tables; Glance's download_image needs get. */
    /* its handler asks the store for the data's size (an S3 HEAD); the
     * bytes are read off the event loop (lib/http/pump.c) */
    R_REMOTE(IMS_GET, "/v2/images/{image_id}/file", api_images_download, "ims:images:get", true, false),
    R(IMS_PUT, "/v2/images/{image_id}/tags/{tag}", api_tags_add, "ims:images:get+ims:images:update", true, false),
    R(IMS_DELETE, "/v2/images/{image_id}/tags/{tag}", api_tags_delete, "ims:images:get+ims:images:update", true,
      false),
    R(IMS_POST, "/v2/images/{image_id}/members", api_members_create, "ims:images:get+ims:images:share", true, false),
    R(IMS_GET, "/v2/images/{image_id}/members", api_members_list, "ims:images:get+ims:images:share", true, false),
    R(IMS_GET, "/v2/images/{image_id}/members/{member_id}", api_members_show, "ims:images:get+ims:images:share", true,
      false),
    R(IMS_PUT, "/v2/images/{image_id}/members/{member_id}", api_members_update, "ims:images:get+ims:images:share",
      true, false),
    R(IMS_DELETE, "/v2/images/{image_id}/members/{member_id}", api_members_delete,
      "ims:images:get+ims:images:share", true, false),
    NA(IMS_GET, "/v2/schemas/image", api_schema_image),
    NA(IMS_GET, "/v2/schemas/images", api_schema_images),
    NA(IMS_GET, "/v2/schemas/member", api_schema_member),
    NA(IMS_GET, "/v2/schemas/members", api_schema_members),
    /* Metadata definitions (lib/api/glance_metadefs.c): not in the
     * reference's tables (the table's rows say so). Reading the catalog takes ims:images:list at the
     * IAM project (what a project's reader of images holds); Glance's
     * visibility applies beyond it. Writes take no IAM action: Glance
     * 25's default policy gives them to the cloud administrator (the admin
     * role) alone, checked by core (lib/core/metadefs.c) after the
     * namespace is found, so a namespace a caller cannot see is 404. */
#define MD(m, p, h) NA(m, p, h)
#define MD_READ(m, p, h) R(m, p, h, "ims:images:list", true, false)
    MD_READ(IMS_GET, "/v2/metadefs/namespaces", api_md_namespaces),
    MD(IMS_POST, "/v2/metadefs/namespaces", api_md_namespaces),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}", api_md_namespace),
    MD(IMS_PUT | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}", api_md_namespace),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/objects", api_md_objects),
    MD(IMS_POST | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/objects", api_md_objects),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/objects/{object_name}", api_md_object),
    MD(IMS_PUT | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/objects/{object_name}", api_md_object),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/properties", api_md_properties),
    MD(IMS_POST | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/properties", api_md_properties),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/properties/{property_name}", api_md_property),
    MD(IMS_PUT | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/properties/{property_name}", api_md_property),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/tags", api_md_tags),
    MD(IMS_POST | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/tags", api_md_tags),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/tags/{tag_name}", api_md_tag),
    MD(IMS_POST | IMS_PUT | IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/tags/{tag_name}", api_md_tag),
    MD_READ(IMS_GET, "/v2/metadefs/resource_types", api_md_resource_types),
    MD_READ(IMS_GET, "/v2/metadefs/namespaces/{namespace}/resource_types", api_md_assocs),
    MD(IMS_POST, "/v2/metadefs/namespaces/{namespace}/resource_types", api_md_assocs),
    MD(IMS_DELETE, "/v2/metadefs/namespaces/{namespace}/resource_types/{resource_type}", api_md_assoc),
    NA(IMS_GET, "/v2/schemas/metadefs/{name}", api_schema_metadefs),
#undef MD
#undef MD_READ
    R(IMS_GET, "/v1.1/images/detail", api_legacy_images_detail, "ims:images:list", true, false),
    R(IMS_HEAD, "/v1/images/{image_id}", api_legacy_image_head, "ims:images:get", true, false),
    R_REMOTE(IMS_DELETE, "/v1.1/images/{image_id}", api_legacy_image_delete, "ims:images:delete", true, false),

    /* IMS API */
    /* lib/api/cloudimages.c */
#define IMS(m, p, h, a, d, iam, ep) {.methods = (m), .pattern = (p), .handler = (h), .actions = (a), .deferred = (d), .flags = IMS_ROUTE_IMS_ERRORS, .iam_project = (iam), .enterprise_project = (ep)}
/* a handler that checks the source file on object storage (a HEAD) */
#define IMS_REMOTE(m, p, h, a, d, iam, ep) {.methods = (m), .pattern = (p), .handler = (h), .actions = (a), .deferred = (d), .flags = IMS_ROUTE_IMS_ERRORS | IMS_ROUTE_REMOTE_IO, .iam_project = (iam), .enterprise_project = (ep)}
    IMS(IMS_GET, "/v2/cloudimages", api_cloudimages_list, "ims:images:list", NULL, true, true),
    IMS(IMS_GET, "/v1/cloudimages/os_version", api_cloudimages_os_versions, "ims:images:list", NULL, true, false),
    IMS(IMS_PATCH, "/v2/cloudimages/{image_id}", api_cloudimages_update, "ims:images:update+ims:serverImages:create",
        "ims:serverImages:create", true, true),
    /* lib/api/ims_import.c (from a server or a disk: 501 until issue 12) */
    IMS_REMOTE(IMS_POST, "/v2/cloudimages/action", api_ims_create_image, "ims:serverImages:create", NULL, true, true),
    IMS_REMOTE(IMS_POST, "/v2/cloudimages/quickimport/action", api_ims_quick_import,
        "ims:serverImages:create|ims:dataImages:create", NULL, true, true),
    IMS_REMOTE(IMS_POST, "/v1/cloudimages/dataimages/action", api_ims_data_import, "ims:dataImages:create", NULL, true,
        true),
    IMS(IMS_POST, "/v1/cloudimages/wholeimages/action", api_ims_whole_image, "ims:wholeImages:create", NULL, true, true),
    IMS_REMOTE(IMS_PUT, "/v1/cloudimages/{image_id}/upload", api_ims_register, "ims:images:upload", NULL, true, true),
    IMS(IMS_POST, "/v1/cloudimages/{image_id}/file", api_ims_export, "ims:images:export", NULL, true, true),
    /* lib/api/ims_tags.c */
    IMS(IMS_PUT, "/v1/cloudimages/tags", api_ims_tags_v1_put, "ims:images:get+ims:images:update", NULL, true, false),
    IMS(IMS_GET, "/v1/cloudimages/tags", api_ims_tags_v1_list, "ims:images:list", NULL, true, false),
    /* a query by tags, sent as POST: a read */
    {.methods = IMS_POST, .pattern = "/v2/{project_id}/images/resource_instances/action", .handler = api_ims_tags_query,
     .actions = "ims:images:list", .flags = IMS_ROUTE_IMS_ERRORS | IMS_ROUTE_READS, .iam_project = true},
    IMS(IMS_POST, "/v2/{project_id}/images/{image_id}/tags/action", api_ims_tags_batch, "ims:images:update", NULL,
        true, false),
    IMS(IMS_POST, "/v2/{project_id}/images/{image_id}/tags", api_ims_tags_add, "ims:images:update", NULL, true,
        false),
    IMS(IMS_DELETE, "/v2/{project_id}/images/{image_id}/tags/{key}", api_ims_tags_delete, "ims:images:update", NULL,
        true, false),
    IMS(IMS_GET, "/v2/{project_id}/images/{image_id}/tags", api_ims_tags_show, "ims:images:list", NULL, true, false),
    IMS(IMS_GET, "/v2/{project_id}/images/tags", api_ims_tags_project, "ims:images:list", NULL, true, false),
    /* Asynchronous calls: answered with a job id (lib/api/ims_jobs.c). */
    {.methods = IMS_POST | IMS_PUT | IMS_DELETE, .pattern = "/v1/cloudimages/members",
     .handler = api_ims_members_batch, .actions = "ims:images:share", .flags = IMS_ROUTE_IMS_ERRORS,
     .iam_project = true},
    {.methods = IMS_POST, .pattern = "/v1/cloudimages/{image_id}/copy", .handler = api_ims_copy,
     .actions = "ims:images:copy+ims:serverImages:create", .deferred = "ims:serverImages:create",
     .flags = IMS_ROUTE_IMS_ERRORS, .iam_project = true, .enterprise_project = true},
    IMS(IMS_GET, "/v1/cloudimages/quota", api_cloudimages_quota, "ims:quotas:get", NULL, true, true),
#undef IMS
#undef IMS_REMOTE
    {.methods = IMS_GET, .pattern = "/v1/{project_id}/jobs/{job_id}", .handler = api_ims_job_show,
     .flags = IMS_ROUTE_IMS_ERRORS, .iam_project = true},

    /* IAM management API (lib/api/iam_*.c): not IMS routes, so not in the
     * permission table. IAM is a global service: each handler checks its
     * own iam:/eps: action against the caller's domain grants
     * (ims_iam_admin_check), hence no route actions here. */
#define IAM(m, p, h) \
    {.methods = (m), .pattern = (p), .handler = (h), .flags = IMS_ROUTE_UNLISTED | IMS_ROUTE_KEYSTONE_ERRORS, .actions = NULL}
#define IAM_HASHING(m, p, h) \
    {.methods = (m), .pattern = (p), .handler = (h), \
     .flags = IMS_ROUTE_UNLISTED | IMS_ROUTE_DEFERRED | IMS_ROUTE_KEYSTONE_ERRORS, .actions = NULL}
    IAM_HASHING(IMS_POST, "/v3/users", api_iam_users_create),
    IAM(IMS_GET, "/v3/users", api_iam_users_list),
    IAM(IMS_GET, "/v3/users/{user_id}", api_iam_users_show),
    IAM_HASHING(IMS_PATCH, "/v3/users/{user_id}", api_iam_users_update),
    IAM(IMS_DELETE, "/v3/users/{user_id}", api_iam_users_delete),
    IAM(IMS_GET, "/v3/users/{user_id}/groups", api_iam_user_groups),
    IAM(IMS_POST, "/v3/groups", api_iam_groups_create),
    IAM(IMS_GET, "/v3/groups", api_iam_groups_list),
    IAM(IMS_GET, "/v3/groups/{group_id}", api_iam_groups_show),
    IAM(IMS_PATCH, "/v3/groups/{group_id}", api_iam_groups_update),
    IAM(IMS_DELETE, "/v3/groups/{group_id}", api_iam_groups_delete),
    IAM(IMS_GET, "/v3/groups/{group_id}/users", api_iam_group_users),
    IAM(IMS_PUT | IMS_GET | IMS_DELETE, "/v3/groups/{group_id}/users/{user_id}", api_iam_group_member),
    IAM(IMS_POST, "/v3/projects", api_iam_projects_create),
    IAM(IMS_GET, "/v3/projects", api_iam_projects_list),
    IAM(IMS_GET, "/v3/projects/{project_id}", api_iam_projects_show),
    IAM(IMS_PATCH, "/v3/projects/{project_id}", api_iam_projects_update),
    IAM(IMS_DELETE, "/v3/projects/{project_id}", api_iam_projects_delete),
    /* Keystone role assignments (lib/api/iam_assignments.c); the group forms
     * below take Keystone roles as well as policies. */
    IAM(IMS_PUT | IMS_GET | IMS_DELETE, "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
        api_iam_assign_user_project),
    IAM(IMS_GET, "/v3/projects/{project_id}/users/{user_id}/roles", api_iam_user_project_roles),
    IAM(IMS_PUT | IMS_GET | IMS_DELETE, "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}",
        api_iam_assign_user_domain),
    IAM(IMS_GET, "/v3/domains/{domain_id}/users/{user_id}/roles", api_iam_user_domain_roles),
    IAM(IMS_GET, "/v3/role_assignments", api_iam_role_assignments),
    IAM(IMS_GET, "/v3/projects/{project_id}/groups/{group_id}/roles", api_iam_grants_project_list),
    IAM(IMS_PUT | IMS_GET | IMS_DELETE, "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}",
        api_iam_grant_project),
    IAM(IMS_PUT | IMS_GET | IMS_DELETE,
        "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
        api_iam_grant_all_projects),
    IAM(IMS_GET, "/v3/domains/{domain_id}/groups/{group_id}/roles", api_iam_grants_domain_list),
    IAM(IMS_PUT | IMS_GET | IMS_DELETE, "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}",
        api_iam_grant_domain),
    IAM(IMS_PUT | IMS_DELETE, "/v3.0/OS-PERMISSION/enterprise-projects/{ep_id}/groups/{group_id}/roles/{role_id}",
        api_iam_grant_ep),
    IAM(IMS_GET, "/v3/roles", api_iam_roles_list),
    IAM(IMS_GET, "/v3/roles/{role_id}", api_iam_roles_show),
    IAM(IMS_POST, "/v3.0/OS-ROLE/roles", api_iam_custom_create),
    IAM(IMS_GET, "/v3.0/OS-ROLE/roles", api_iam_custom_list),
    IAM(IMS_GET, "/v3.0/OS-ROLE/roles/{role_id}", api_iam_custom_show),
    IAM(IMS_PATCH, "/v3.0/OS-ROLE/roles/{role_id}", api_iam_custom_update),
    IAM(IMS_DELETE, "/v3.0/OS-ROLE/roles/{role_id}", api_iam_custom_delete),
    IAM(IMS_POST, "/v1.0/enterprise-projects", api_iam_eps_create),
    IAM(IMS_GET, "/v1.0/enterprise-projects", api_iam_eps_list),
    IAM(IMS_GET, "/v1.0/enterprise-projects/{enterprise_project_id}", api_iam_eps_show),
    IAM(IMS_PUT, "/v1.0/enterprise-projects/{enterprise_project_id}", api_iam_eps_update),
    IAM(IMS_POST, "/v1.0/enterprise-projects/{enterprise_project_id}/action", api_iam_eps_action),
#undef IAM

    /* The compute admin API (lib/api/admin_compute.c): cloud administrators
     * only (each handler checks the admin role first), not in the
     * permission table. The compute source may block (registration reads
     * disk headers, a backup copies disks, libvirt answers over a socket):
     * every call runs on the deferred pool, off the event loop. */
#define ADMIN(m, p, h) \
    {.methods = (m), .pattern = (p), .handler = (h), .flags = IMS_ROUTE_UNLISTED | IMS_ROUTE_IMS_ERRORS | IMS_ROUTE_DEFERRED}
    ADMIN(IMS_GET | IMS_POST, "/v1/admin/servers", api_admin_servers),
    ADMIN(IMS_GET | IMS_PATCH | IMS_DELETE, "/v1/admin/servers/{server_id}", api_admin_server),
    ADMIN(IMS_GET | IMS_POST, "/v1/admin/volumes", api_admin_volumes),
    ADMIN(IMS_GET | IMS_DELETE, "/v1/admin/volumes/{volume_id}", api_admin_volume),
    ADMIN(IMS_GET | IMS_POST, "/v1/admin/backups", api_admin_backups),
    ADMIN(IMS_GET | IMS_DELETE, "/v1/admin/backups/{backup_id}", api_admin_backup),
#undef ADMIN
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
    if (p->read_only && ims_route_writes(req->route, req->method)) {
        /* Glance 25's and Keystone's default policies: writes need member or admin */
        ims_fail(&err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed: the reader role is read-only.",
                 req->route->actions ? req->route->actions : "this write");
        api_fail(req, IMS_E_FORBIDDEN, &err);
        return false;
    }
    char required[256];
    if (!ims_route_required_actions(req->route, required, sizeof(required)))
        return true;
    /* IAM: the route's actions, at the scopes the permission table gives. */
    struct ims_authz_result *acc = ims_xcalloc(1, sizeof(*acc));
    p->authz = acc;
    rc = ims_authorize(req->svc, p, required, req->route->iam_project, req->route->enterprise_project, acc, &err);
    if (rc != IMS_OK) { /* ims_authorize logged the Deny and what decided it */
        api_fail(req, rc, &err);
        return false;
    }
    return true;
}

bool ims_route_writes(const struct ims_route *r, enum ims_method m)
{
    return m != IMS_GET && m != IMS_HEAD && m != IMS_OPTIONS && !(r->flags & (IMS_ROUTE_PUBLIC | IMS_ROUTE_READS));
}

bool ims_route_required_actions(const struct ims_route *r, char *out, size_t cap)
{
    out[0] = 0;
    /* "a|b": which one applies depends on the request; the handler decides. */
    if (!r->actions || strchr(r->actions, '|'))
        return false;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", r->actions);
    size_t len = 0;
    for (char *save = NULL, *a = strtok_r(buf, "+", &save); a; a = strtok_r(NULL, "+", &save)) {
        if (r->deferred && strstr(r->deferred, a))
            continue;
        len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s%s", len ? "+" : "", a);
    }
    return len > 0 && len < cap;
}

/* Identity paths answer in Keystone's shape even when no route matched. */
static bool identity_path(const char *path)
{
    return strncmp(path, "/v3", 3) == 0 && (path[3] == 0 || path[3] == '/' || path[3] == '.');
}

static void no_route(struct ims_request *req, unsigned allowed)
{
    void (*error)(struct ims_request *, int, const char *) =
        identity_path(req->path) ? ims_http_keystone_error : ims_http_error;
    if (!allowed) {
        error(req, 404, "The resource could not be found.");
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
    error(req, 405, "The method is not allowed for the requested URL.");
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
    if (req->principal && req->principal->authz) {
        ims_authz_result_release((struct ims_authz_result *)req->principal->authz);
        free((void *)req->principal->authz);
    }
    free(req->principal);
    req->principal = NULL;
}

/* A handler-pool thread's database connection, opened before a request
 * waits for it (on PostgreSQL a new connection is a new server process). */
static void thread_start(void *svc) { ims_db_conn(((struct ims_service *)svc)->db); }

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
        .thread_start = thread_start,
        .public_url = svc->cfg->public_url && *svc->cfg->public_url ? svc->cfg->public_url : NULL,
    };
}
