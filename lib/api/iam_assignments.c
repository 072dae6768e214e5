/* SPDX-License-Identifier: Apache-2.0
 * Keystone role assignments: the roles admin, member and reader of users and
 * groups on projects and domains (PUT/GET/HEAD/DELETE
 * /v3/{projects|domains}/{id}/{users|groups}/{id}/roles/{role}, their role
 * lists, GET /v3/role_assignments), so `openstack role add --user U
 * --project P admin` works. The group forms share their routes with the IAM
 * policy grants (lib/api/iam_roles.c), which hand Keystone roles over here. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/iam_admin.h"

static const char *const role_descriptions[] = {
    "Cloud administrator: every image of every project, any owner (Glance's admin).",
    "Member of the project: may use it; IAM policies say what it may do.",
    "Reader of the project: may use it; IAM policies say what it may do.",
    "Service user (Glance's service_api): may get image locations; reads only without member or admin.",
};

bool api_iam_keystone_role_json(struct ims_jw *w, struct ims_request *req, const char *id)
{
    for (size_t i = 0; ims_keystone_roles[i]; i++) {
        if (!ims_streq(id, ims_keystone_roles[i]))
            continue;
        ims_jw_obj_begin(w);
        ims_jw_kstr(w, "id", id);
        ims_jw_kstr(w, "name", id);
        ims_jw_kstr(w, "display_name", id);
        ims_jw_knull(w, "domain_id");
        ims_jw_kstr(w, "description", role_descriptions[i]);
        ims_jw_key(w, "options");
        ims_jw_obj_begin(w);
        ims_jw_obj_end(w);
        api_iam_links(w, req, "/v3/roles", id);
        ims_jw_obj_end(w);
        return true;
    }
    return false;
}

/* One assignment route: PUT gives, GET/HEAD checks, DELETE takes; 204. */
void api_iam_assign(struct ims_request *req, enum ims_actor_type actor, enum ims_target_type target,
                    const char *target_id, const char *actor_id, const char *role, const char *const actions[3])
{
    enum ims_iam_op op = req->method == IMS_PUT      ? IMS_IAM_ADD
                         : req->method == IMS_DELETE ? IMS_IAM_REMOVE
                                                     : IMS_IAM_CHECK;
    if (!api_iam_admit(req, actions[op]))
        return;
    struct ims_assignment a = {.actor_type = actor, .target_type = target, .actor_id = (char *)actor_id,
                               .target_id = (char *)target_id, .role = (char *)role};
    struct ims_err err = {0};
    api_iam_done(req, ims_iam_assignment(req->svc, req->principal, api_iam_domain(req), &a, op, &err), &err, 204);
}

/* /v3/projects/{project_id}/users/{user_id}/roles/{role_id} */
void api_iam_assign_user_project(struct ims_request *req)
{
    static const char *const actions[] = {"iam:permissions:grantRoleToUserOnProject",
                                          "iam:permissions:checkRoleForUserOnProject",
                                          "iam:permissions:revokeRoleFromUserOnProject"};
    api_iam_assign(req, IMS_ACTOR_USER, IMS_TARGET_PROJECT, ims_req_param(req, 0), ims_req_param(req, 1),
                   ims_req_param(req, 2), actions);
}

/* /v3/domains/{domain_id}/users/{user_id}/roles/{role_id} */
void api_iam_assign_user_domain(struct ims_request *req)
{
    static const char *const actions[] = {"iam:permissions:grantRoleToUserOnDomain",
                                          "iam:permissions:checkRoleForUserOnDomain",
                                          "iam:permissions:revokeRoleFromUserOnDomain"};
    api_iam_assign(req, IMS_ACTOR_USER, IMS_TARGET_DOMAIN, ims_req_param(req, 0), ims_req_param(req, 1),
                   ims_req_param(req, 2), actions);
}

enum ims_rc api_iam_assigned_roles(struct ims_request *req, enum ims_actor_type actor, enum ims_target_type target,
                                   const char *target_id, const char *actor_id, struct ims_strlist *ret,
                                   struct ims_err *err)
{
    struct ims_assignment_filter f = {.actor_type = (int)actor, .target_type = (int)target, .actor_id = actor_id,
                                      .target_id = target_id};
    struct ims_assignment *as = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_iam_assignment_list(req->svc, api_iam_domain(req), f, &as, &n, err);
    for (size_t i = 0; rc == IMS_OK && i < n; i++)
        ims_strlist_add(ret, as[i].role);
    ims_assignment_array_free(as, n);
    return rc;
}

/* GET /v3/{projects|domains}/{id}/users/{user_id}/roles */
static void user_roles(struct ims_request *req, enum ims_target_type target, const char *action)
{
    if (!api_iam_admit(req, action))
        return;
    struct ims_err err = {0};
    struct ims_user u;
    enum ims_rc rc = ims_iam_user_get(req->svc, api_iam_domain(req), ims_req_param(req, 1), &u, &err);
    if (rc == IMS_OK)
        ims_user_release(&u);
    struct ims_strlist roles = {0};
    if (rc == IMS_OK)
        rc = api_iam_assigned_roles(req, IMS_ACTOR_USER, target, ims_req_param(req, 0), ims_req_param(req, 1),
                                    &roles, &err);
    if (rc != IMS_OK) {
        api_keystone_fail(req, rc, &err);
        ims_strlist_release(&roles);
        return;
    }
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "roles");
    for (size_t i = 0; i < roles.n; i++)
        api_iam_keystone_role_json(&w, req, roles.items[i]);
    ims_jw_arr_end(&w);
    api_iam_list_links(&w, req);
    ims_jw_obj_end(&w);
    ims_strlist_release(&roles);
}

void api_iam_user_project_roles(struct ims_request *req)
{
    user_roles(req, IMS_TARGET_PROJECT, "iam:permissions:listRolesForUserOnProject");
}

void api_iam_user_domain_roles(struct ims_request *req)
{
    user_roles(req, IMS_TARGET_DOMAIN, "iam:permissions:listRolesForUserOnDomain");
}

/* ---- GET /v3/role_assignments ---- */

/* {"id", "name", "domain": {"id", "name"}} of a user, group or project;
 * the id alone when it cannot be read (removed meanwhile). */
static void named(struct ims_jw *w, struct ims_request *req, const char *key, const char *kind, const char *id,
                  bool names)
{
    ims_jw_key(w, key);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", id);
    if (names) {
        const char *dom = api_iam_domain(req);
        struct ims_err err;
        char *name = NULL;
        if (ims_streq(kind, "user")) {
            struct ims_user u;
            if (ims_iam_user_get(req->svc, dom, id, &u, &err) == IMS_OK) {
                name = IMS_TAKE_PTR(u.name);
                ims_user_release(&u);
            }
        } else if (ims_streq(kind, "group")) {
            struct ims_group g;
            if (ims_iam_group_get(req->svc, dom, id, &g, &err) == IMS_OK) {
                name = IMS_TAKE_PTR(g.name);
                ims_group_release(&g);
            }
        } else if (ims_streq(kind, "project")) {
            struct ims_project p;
            if (ims_iam_project_get(req->svc, dom, id, &p, &err) == IMS_OK) {
                name = IMS_TAKE_PTR(p.name);
                ims_project_release(&p);
            }
        }
        ims_jw_kstr(w, "name", name ? name : id);
        free(name);
        if (!ims_streq(kind, "domain")) {
            struct ims_domain d = {0};
            ims_jw_key(w, "domain");
            ims_jw_obj_begin(w);
            ims_jw_kstr(w, "id", dom);
            if (ims_iam_domain_get(req->svc, dom, &d, &err) == IMS_OK)
                ims_jw_kstr(w, "name", d.name);
            ims_domain_release(&d);
            ims_jw_obj_end(w);
        }
    }
    ims_jw_obj_end(w);
}

static void assignment_json(struct ims_jw *w, struct ims_request *req, const struct ims_assignment *a, bool names)
{
    const char *target = a->target_type == IMS_TARGET_PROJECT ? "projects" : "domains";
    const char *actor = a->actor_type == IMS_ACTOR_USER ? "users" : "groups";
    ims_jw_obj_begin(w);
    ims_jw_key(w, "scope");
    ims_jw_obj_begin(w);
    named(w, req, a->target_type == IMS_TARGET_PROJECT ? "project" : "domain",
          a->target_type == IMS_TARGET_PROJECT ? "project" : "domain", a->target_id, names);
    ims_jw_obj_end(w);
    named(w, req, a->actor_type == IMS_ACTOR_USER ? "user" : "group",
          a->actor_type == IMS_ACTOR_USER ? "user" : "group", a->actor_id, names);
    ims_jw_key(w, "role");
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", a->role);
    if (names)
        ims_jw_kstr(w, "name", a->role);
    ims_jw_obj_end(w);
    /* Keystone links an effective row to the group assignment it comes from. */
    char path[512];
    snprintf(path, sizeof(path), "/v3/%s/%s/%s/%s/roles/%s", target, a->target_id, a->via_group ? "groups" : actor,
             a->via_group ? a->via_group : a->actor_id, a->role);
    ims_jw_key(w, "links");
    ims_jw_obj_begin(w);
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", ims_req_base_url(req), path);
    ims_jw_kstr(w, "assignment", url);
    if (a->via_group) {
        snprintf(url, sizeof(url), "%s/v3/groups/%s/users/%s", ims_req_base_url(req), a->via_group, a->actor_id);
        ims_jw_kstr(w, "membership", url);
    }
    ims_jw_obj_end(w);
    ims_jw_obj_end(w);
}

/* Keystone's filters: user.id, group.id, role.id (or role.name),
 * scope.project.id, scope.domain.id, effective, include_names. */
void api_iam_role_assignments(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:permissions:listRoleAssignments"))
        return;
    const struct ims_kvlist *q = &req->query;
    struct ims_assignment_filter f = {.actor_type = -1, .target_type = -1};
    const char *user = ims_kvlist_get(q, "user.id"), *group = ims_kvlist_get(q, "group.id");
    const char *project = ims_kvlist_get(q, "scope.project.id"), *domain = ims_kvlist_get(q, "scope.domain.id");
    struct ims_err err = {0};
    if ((user && group) || (project && domain)) {
        ims_fail(&err, IMS_E_BADREQ, "Specify at most one of user.id and group.id, and of scope.project.id and "
                                     "scope.domain.id.");
        api_keystone_fail(req, IMS_E_BADREQ, &err);
        return;
    }
    int effective = -1, names = -1;
    if (!api_iam_query_bool(req, "include_names", &names))
        return;
    /* Keystone: "effective" counts when present, whatever its value. */
    effective = ims_kvlist_get(q, "effective") != NULL;
    if (user || group) {
        f.actor_type = user ? IMS_ACTOR_USER : IMS_ACTOR_GROUP;
        f.actor_id = user ? user : group;
    }
    if (project || domain) {
        f.target_type = project ? IMS_TARGET_PROJECT : IMS_TARGET_DOMAIN;
        f.target_id = project ? project : domain;
    }
    f.role = ims_kvlist_get(q, "role.id") ? ims_kvlist_get(q, "role.id") : ims_kvlist_get(q, "role.name");
    f.effective = effective > 0;
    if (f.effective && group) { /* effective rows are users': Keystone refuses the pair */
        ims_fail(&err, IMS_E_BADREQ, "Combining effective and group filter will always result in an empty list.");
        api_keystone_fail(req, IMS_E_BADREQ, &err);
        return;
    }
    struct ims_assignment *as = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_iam_assignment_list(req->svc, api_iam_domain(req), f, &as, &n, &err);
    if (rc != IMS_OK) {
        api_keystone_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "role_assignments");
    for (size_t i = 0; i < n; i++)
        assignment_json(&w, req, &as[i], names > 0);
    ims_jw_arr_end(&w);
    api_iam_list_links(&w, req);
    ims_jw_obj_end(&w);
    ims_assignment_array_free(as, n);
}
