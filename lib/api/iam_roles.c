/* SPDX-License-Identifier: Apache-2.0
 * Policies and their grants (reference iam/custom_policy_management and
 * permission_management): custom policies under /v3.0/OS-ROLE/roles, the
 * role list /v3/roles (system and the account's custom policies), and
 * grants of a policy to a group on a project, on all projects, on the
 * domain or on an enterprise project. Keystone's roles (admin, member,
 * reader) are listed with the policies and, on projects and the domain,
 * assigned through the same group routes (lib/api/iam_assignments.c). */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/iam_admin.h"

/* System policies carry type "system" in the repository; the reference
 * shows the BASE roles on both levels and the service policies on projects. */
static void role_kind(const struct ims_policy_row *r, const char **type, const char **catalog)
{
    if (r->domain_id) {
        *type = r->type;
        *catalog = "CUSTOMED";
    } else if (ims_str_startswith(r->display_name, "Tenant ")) {
        *type = "AA";
        *catalog = "BASE";
    } else {
        *type = "XA";
        *catalog = "IMS";
    }
}

static void role_json(struct ims_jw *w, struct ims_request *req, const void *item)
{
    const struct ims_policy_row *r = item;
    const char *type, *catalog;
    role_kind(r, &type, &catalog);
    char created[24], updated[24];
    snprintf(created, sizeof(created), "%lld", (long long)r->created_at * 1000);
    snprintf(updated, sizeof(updated), "%lld", (long long)r->updated_at * 1000);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", r->id);
    ims_jw_kstr(w, "name", r->name);
    ims_jw_kstr(w, "display_name", r->display_name);
    ims_jw_kstr(w, "description", r->description ? r->description : "");
    ims_jw_kstr(w, "domain_id", r->domain_id); /* null for system policies */
    ims_jw_kstr(w, "catalog", catalog);
    ims_jw_kstr(w, "type", type);
    /* The reference flags system-defined fine-grained ("1.1") policies. */
    if (!r->domain_id && strstr(r->document, "\"Version\":\"1.1\""))
        ims_jw_kstr(w, "flag", "fine_grained");
    int64_t refs = 0;
    if (r->domain_id && ims_iam_policy_references(req->svc, r->id, &refs, NULL) == IMS_OK)
        ims_jw_kint(w, "references", refs);
    ims_jw_key(w, "policy");
    ims_jw_raw(w, r->document, strlen(r->document));
    ims_jw_kstr(w, "created_time", created);
    ims_jw_kstr(w, "updated_time", updated);
    api_iam_links(w, req, "/v3/roles", r->id);
    ims_jw_obj_end(w);
}

static void reply_role(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_policy_row *r,
                       int status)
{
    api_iam_reply_one(req, rc, err, status, "role", role_json, r);
    if (rc == IMS_OK)
        ims_policy_row_release(r);
}

/* {"roles": [...], "links": ..., "total_number": n}; with `name`, only
 * roles of that internal name. */
static void reply_roles(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_policy_row *rs,
                        size_t n, const char *name, bool total, const struct ims_strlist *keystone)
{
    if (rc != IMS_OK) {
        api_keystone_fail(req, rc, err);
        return;
    }
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "roles");
    int64_t shown = 0;
    /* Keystone's roles (admin, member, reader) first, then the policies. */
    for (size_t i = 0; keystone && i < keystone->n; i++) {
        if (name && !ims_streq(name, keystone->items[i]))
            continue;
        api_iam_keystone_role_json(&w, req, keystone->items[i]);
        shown++;
    }
    for (size_t i = 0; i < n; i++) {
        if (name && !ims_streq(name, rs[i].name))
            continue;
        role_json(&w, req, &rs[i]);
        shown++;
    }
    ims_jw_arr_end(&w);
    api_iam_list_links(&w, req);
    if (total)
        ims_jw_kint(&w, "total_number", shown);
    ims_jw_obj_end(&w);
    ims_policy_row_array_free(rs, n);
}

/* ---- custom policies: /v3.0/OS-ROLE/roles ---- */

void api_iam_custom_create(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:createRole"))
        return;
    json_t *body;
    json_t *role = api_iam_body(req, "role", &body);
    if (!role)
        return;
    struct ims_iam_policy_input in;
    _cleanup_free_ char *doc = NULL;
    struct ims_err err = {0};
    if (!api_iam_policy_parse(role, &in, &doc, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        struct ims_policy_row out;
        enum ims_rc rc = ims_iam_policy_add(req->svc, api_iam_domain(req), &in, &out, &err);
        reply_role(req, rc, &err, &out, 201);
    }
    json_decref(body);
}

void api_iam_custom_list(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:listRoles"))
        return;
    struct ims_policy_row *rs = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_policy_list(req->svc, api_iam_domain(req), true, &rs, &n, &err);
    reply_roles(req, rc, &err, rs, n, NULL, true, NULL);
}

void api_iam_custom_show(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:getRole"))
        return;
    struct ims_policy_row r;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_policy_get(req->svc, api_iam_domain(req), ims_req_param(req, 0), true, &r, &err);
    reply_role(req, rc, &err, &r, 200);
}

void api_iam_custom_update(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:updateRole"))
        return;
    json_t *body;
    json_t *role = api_iam_body(req, "role", &body);
    if (!role)
        return;
    struct ims_iam_policy_input in;
    _cleanup_free_ char *doc = NULL;
    struct ims_err err = {0};
    if (!api_iam_policy_parse(role, &in, &doc, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        struct ims_policy_row out;
        enum ims_rc rc = ims_iam_policy_update(req->svc, api_iam_domain(req), ims_req_param(req, 0), &in, &out, &err);
        reply_role(req, rc, &err, &out, 200);
    }
    json_decref(body);
}

/* The reference answers a deleted custom policy with 200 and no body. */
void api_iam_custom_delete(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:deleteRole"))
        return;
    struct ims_err err = {0};
    api_iam_done(req, ims_iam_policy_delete(req->svc, api_iam_domain(req), ims_req_param(req, 0), &err), &err, 200);
}

/* ---- /v3/roles ---- */

/* With domain_id, only the account's custom policies (the reference);
 * without, the system ones and the caller's own. */
void api_iam_roles_list(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:listRoles"))
        return;
    bool custom = ims_kvlist_get(&req->query, "domain_id") != NULL;
    struct ims_policy_row *rs = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    bool other = api_iam_other_domain_filter(req);
    enum ims_rc rc = other ? IMS_OK : ims_iam_policy_list(req->svc, api_iam_domain(req), custom, &rs, &n, &err);
    /* Keystone's global roles, unless only the account's custom ones are asked for. */
    struct ims_strlist keystone = {0};
    for (size_t i = 0; !custom && !other && ims_keystone_roles[i]; i++)
        ims_strlist_add(&keystone, ims_keystone_roles[i]);
    reply_roles(req, rc, &err, rs, n, ims_kvlist_get(&req->query, "name"), true, &keystone);
    ims_strlist_release(&keystone);
}

void api_iam_roles_show(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:roles:getRole"))
        return;
    if (ims_keystone_role_valid(ims_req_param(req, 0))) {
        struct ims_jw w;
        ims_jw_init(&w, ims_resp_json_buf(req, 200));
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, "role");
        api_iam_keystone_role_json(&w, req, ims_req_param(req, 0));
        ims_jw_obj_end(&w);
        return;
    }
    struct ims_policy_row r;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_policy_get(req->svc, api_iam_domain(req), ims_req_param(req, 0), false, &r, &err);
    reply_role(req, rc, &err, &r, 200);
}

/* ---- grants ---- */

/* One grant route: PUT grants, GET/HEAD checks, DELETE revokes; 204 each.
 * actions[] follows enum ims_iam_op. */
static void grant(struct ims_request *req, enum ims_scope_type scope, const char *scope_ref, const char *group,
                  const char *role, const char *const actions[3])
{
    /* Keystone's roles on a project or the domain are role assignments. */
    if ((scope == IMS_SCOPE_PROJECT || scope == IMS_SCOPE_DOMAIN) && ims_keystone_role_valid(role)) {
        api_iam_assign(req, IMS_ACTOR_GROUP, scope == IMS_SCOPE_PROJECT ? IMS_TARGET_PROJECT : IMS_TARGET_DOMAIN,
                       scope_ref, group, role, actions);
        return;
    }
    enum ims_iam_op op = req->method == IMS_PUT      ? IMS_IAM_ADD
                         : req->method == IMS_DELETE ? IMS_IAM_REMOVE
                                                     : IMS_IAM_CHECK;
    if (!api_iam_admit(req, actions[op]))
        return;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_grant_apply(req->svc, api_iam_domain(req), group, role, scope, scope_ref, op, &err);
    api_iam_done(req, rc, &err, 204);
}

/* /v3/projects/{project_id}/groups/{group_id}/roles/{role_id} */
void api_iam_grant_project(struct ims_request *req)
{
    static const char *const actions[] = {"iam:permissions:grantRoleToGroupOnProject",
                                          "iam:permissions:checkRoleForGroupOnProject",
                                          "iam:permissions:revokeRoleFromGroupOnProject"};
    grant(req, IMS_SCOPE_PROJECT, ims_req_param(req, 0), ims_req_param(req, 1), ims_req_param(req, 2), actions);
}

/* /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects */
void api_iam_grant_all_projects(struct ims_request *req)
{
    static const char *const actions[] = {"iam:permissions:grantRoleToGroup", "iam:permissions:checkRoleForGroup",
                                          "iam:permissions:revokeRoleFromGroup"};
    grant(req, IMS_SCOPE_ALL_PROJECTS, ims_req_param(req, 0), ims_req_param(req, 1), ims_req_param(req, 2),
          actions);
}

/* /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id} */
void api_iam_grant_domain(struct ims_request *req)
{
    static const char *const actions[] = {"iam:permissions:grantRoleToGroupOnDomain",
                                          "iam:permissions:checkRoleForGroupOnDomain",
                                          "iam:permissions:revokeRoleFromGroupOnDomain"};
    grant(req, IMS_SCOPE_DOMAIN, ims_req_param(req, 0), ims_req_param(req, 1), ims_req_param(req, 2), actions);
}

/* /v3.0/OS-PERMISSION/enterprise-projects/{ep_id}/groups/{group_id}/roles/{role_id} */
void api_iam_grant_ep(struct ims_request *req)
{
    static const char *const actions[] = {"iam:permissions:grantRoleToGroupOnEnterpriseProject",
                                          "iam:permissions:checkRoleForGroupOnEnterpriseProject",
                                          "iam:permissions:revokeRoleFromGroupOnEnterpriseProject"};
    grant(req, IMS_SCOPE_ENTERPRISE_PROJECT, ims_req_param(req, 0), ims_req_param(req, 1), ims_req_param(req, 2),
          actions);
}

static void grant_list(struct ims_request *req, enum ims_scope_type scope, const char *action)
{
    if (!api_iam_admit(req, action))
        return;
    struct ims_policy_row *rs = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_grant_list(req->svc, api_iam_domain(req), ims_req_param(req, 1), scope,
                                        ims_req_param(req, 0), &rs, &n, &err);
    struct ims_strlist keystone = {0};
    if (rc == IMS_OK)
        rc = api_iam_assigned_roles(req, IMS_ACTOR_GROUP,
                                    scope == IMS_SCOPE_PROJECT ? IMS_TARGET_PROJECT : IMS_TARGET_DOMAIN,
                                    ims_req_param(req, 0), ims_req_param(req, 1), &keystone, &err);
    reply_roles(req, rc, &err, rs, n, NULL, false, &keystone);
    ims_strlist_release(&keystone);
}

/* GET /v3/projects/{project_id}/groups/{group_id}/roles */
void api_iam_grants_project_list(struct ims_request *req)
{
    grant_list(req, IMS_SCOPE_PROJECT, "iam:permissions:listRolesForGroupOnProject");
}

/* GET /v3/domains/{domain_id}/groups/{group_id}/roles */
void api_iam_grants_domain_list(struct ims_request *req)
{
    grant_list(req, IMS_SCOPE_DOMAIN, "iam:permissions:listRolesForGroupOnDomain");
}
