/* SPDX-License-Identifier: Apache-2.0
 * IAM users, user groups and group membership (reference iam/
 * user_management, user_group_management): /v3/users, /v3/groups and
 * /v3/groups/{group_id}/users/{user_id}. Passwords go in, never out. */
#include "api-int.h"
#include "ims/iam_admin.h"

static void user_json(struct ims_jw *w, struct ims_request *req, const void *item)
{
    const struct ims_user *u = item;
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", u->id);
    ims_jw_kstr(w, "name", u->name);
    ims_jw_kstr(w, "domain_id", u->domain_id);
    ims_jw_kbool(w, "enabled", u->enabled);
    ims_jw_kstr(w, "description", u->description ? u->description : "");
    if (u->default_project_id)
        ims_jw_kstr(w, "default_project_id", u->default_project_id);
    ims_jw_knull(w, "password_expires_at");
    ims_jw_kbool(w, "pwd_status", false);
    api_iam_links(w, req, "/v3/users", u->id);
    ims_jw_obj_end(w);
}

static void reply_user(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_user *u,
                       int status)
{
    api_iam_reply_one(req, rc, err, status, "user", user_json, u);
    if (rc == IMS_OK)
        ims_user_release(u);
}

static void reply_users(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_user *us,
                        size_t n)
{
    api_iam_reply_list(req, rc, err, "users", user_json, us, n, sizeof(*us));
    if (rc == IMS_OK)
        ims_user_array_free(us, n);
}

void api_iam_users_create(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:users:createUser"))
        return;
    json_t *body;
    json_t *u = api_iam_body(req, "user", &body);
    if (!u)
        return;
    struct ims_iam_user_input in;
    struct ims_err err = {0};
    struct ims_user out;
    if (!api_iam_user_parse(u, api_iam_domain(req), &in, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        enum ims_rc rc = in.name ? ims_iam_user_add(req->svc, api_iam_domain(req), &in, &out, &err)
                                 : ims_fail(&err, IMS_E_BADREQ, "Invalid input for field 'user.name': it is required.");
        reply_user(req, rc, &err, &out, 201);
    }
    json_decref(body);
}

void api_iam_users_list(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:users:listUsers"))
        return;
    int enabled;
    if (!api_iam_query_bool(req, "enabled", &enabled))
        return;
    struct ims_user *us = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = api_iam_other_domain_filter(req)
                         ? IMS_OK
                         : ims_iam_user_list(req->svc, api_iam_domain(req), ims_kvlist_get(&req->query, "name"),
                                             enabled, NULL, &us, &n, &err);
    reply_users(req, rc, &err, us, n);
}

void api_iam_users_show(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:users:getUser"))
        return;
    struct ims_user u;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_user_get(req->svc, api_iam_domain(req), ims_req_param(req, 0), &u, &err);
    reply_user(req, rc, &err, &u, 200);
}

void api_iam_users_update(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:users:updateUser") || !api_iam_guarded(req, IMS_HOLDER_USER, ims_req_param(req, 0)))
        return;
    json_t *body;
    json_t *u = api_iam_body(req, "user", &body);
    if (!u)
        return;
    struct ims_iam_user_input in;
    struct ims_err err = {0};
    struct ims_user out;
    if (!api_iam_user_parse(u, api_iam_domain(req), &in, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        enum ims_rc rc = ims_iam_user_update(req->svc, api_iam_domain(req), ims_req_param(req, 0), &in, &out, &err);
        reply_user(req, rc, &err, &out, 200);
    }
    json_decref(body);
}

void api_iam_users_delete(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:users:deleteUser") || !api_iam_guarded(req, IMS_HOLDER_USER, ims_req_param(req, 0)))
        return;
    struct ims_err err = {0};
    api_iam_done(req, ims_iam_user_delete(req->svc, api_iam_domain(req), ims_req_param(req, 0), &err), &err, 204);
}

/* ---- groups ---- */

static void group_json(struct ims_jw *w, struct ims_request *req, const void *item)
{
    const struct ims_group *g = item;
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", g->id);
    ims_jw_kstr(w, "name", g->name);
    ims_jw_kstr(w, "domain_id", g->domain_id);
    ims_jw_kstr(w, "description", g->description ? g->description : "");
    ims_jw_kint(w, "create_time", g->created_at * 1000); /* milliseconds, as the reference */
    api_iam_links(w, req, "/v3/groups", g->id);
    ims_jw_obj_end(w);
}

static void reply_group(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_group *g,
                        int status)
{
    api_iam_reply_one(req, rc, err, status, "group", group_json, g);
    if (rc == IMS_OK)
        ims_group_release(g);
}

static void reply_groups(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_group *gs,
                         size_t n)
{
    api_iam_reply_list(req, rc, err, "groups", group_json, gs, n, sizeof(*gs));
    if (rc == IMS_OK)
        ims_group_array_free(gs, n);
}

void api_iam_groups_create(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:groups:createGroup"))
        return;
    json_t *body;
    json_t *g = api_iam_body(req, "group", &body);
    if (!g)
        return;
    const char *name, *description;
    struct ims_err err = {0};
    if (!api_iam_group_parse(g, api_iam_domain(req), &name, &description, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        struct ims_group out;
        enum ims_rc rc = name ? ims_iam_group_add(req->svc, api_iam_domain(req), name, description, &out, &err)
                              : ims_fail(&err, IMS_E_BADREQ, "Invalid input for field 'group.name': it is required.");
        reply_group(req, rc, &err, &out, 201);
    }
    json_decref(body);
}

void api_iam_groups_list(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:groups:listGroups"))
        return;
    struct ims_group *gs = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = api_iam_other_domain_filter(req)
                         ? IMS_OK
                         : ims_iam_group_list(req->svc, api_iam_domain(req), ims_kvlist_get(&req->query, "name"),
                                              NULL, &gs, &n, &err);
    reply_groups(req, rc, &err, gs, n);
}

void api_iam_groups_show(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:groups:getGroup"))
        return;
    struct ims_group g;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_group_get(req->svc, api_iam_domain(req), ims_req_param(req, 0), &g, &err);
    reply_group(req, rc, &err, &g, 200);
}

void api_iam_groups_update(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:groups:updateGroup"))
        return;
    json_t *body;
    json_t *g = api_iam_body(req, "group", &body);
    if (!g)
        return;
    const char *name, *description;
    struct ims_err err = {0};
    if (!api_iam_group_parse(g, api_iam_domain(req), &name, &description, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        struct ims_group out;
        enum ims_rc rc = ims_iam_group_update(req->svc, api_iam_domain(req), ims_req_param(req, 0), name,
                                              description, &out, &err);
        reply_group(req, rc, &err, &out, 200);
    }
    json_decref(body);
}

void api_iam_groups_delete(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:groups:deleteGroup") || !api_iam_guarded(req, IMS_HOLDER_GROUP, ims_req_param(req, 0)))
        return;
    struct ims_err err = {0};
    api_iam_done(req, ims_iam_group_delete(req->svc, api_iam_domain(req), ims_req_param(req, 0), &err), &err, 204);
}

/* GET /v3/groups/{group_id}/users */
void api_iam_group_users(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:users:listUsersForGroup"))
        return;
    int enabled;
    if (!api_iam_query_bool(req, "enabled", &enabled))
        return;
    struct ims_user *us = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_user_list(req->svc, api_iam_domain(req), ims_kvlist_get(&req->query, "name"), enabled,
                                       ims_req_param(req, 0), &us, &n, &err);
    reply_users(req, rc, &err, us, n);
}

/* GET /v3/users/{user_id}/groups */
void api_iam_user_groups(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:groups:listGroupsForUser"))
        return;
    struct ims_group *gs = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_group_list(req->svc, api_iam_domain(req), NULL, ims_req_param(req, 0), &gs, &n, &err);
    reply_groups(req, rc, &err, gs, n);
}

/* PUT (add), HEAD/GET (check), DELETE (remove)
 * /v3/groups/{group_id}/users/{user_id}: 204 each. */
void api_iam_group_member(struct ims_request *req)
{
    enum ims_iam_op op = req->method == IMS_PUT      ? IMS_IAM_ADD
                         : req->method == IMS_DELETE ? IMS_IAM_REMOVE
                                                     : IMS_IAM_CHECK;
    static const char *const actions[] = {"iam:groups:addUserToGroup", "iam:groups:checkUserInGroup",
                                          "iam:groups:removeUserFromGroup"};
    if (!api_iam_admit(req, actions[op]) ||
        (op != IMS_IAM_CHECK && !api_iam_guarded(req, IMS_HOLDER_GROUP, ims_req_param(req, 0))))
        return;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_group_member(req->svc, api_iam_domain(req), ims_req_param(req, 0),
                                          ims_req_param(req, 1), op, &err);
    api_iam_done(req, rc, &err, 204);
}
