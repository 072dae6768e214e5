/* SPDX-License-Identifier: Apache-2.0
 * IAM projects (reference iam/project_management: /v3/projects) and
 * enterprise projects (the EPS API: /v1.0/enterprise-projects, with the
 * enable/disable action). Both belong to the caller's account; the default
 * enterprise project "0" is every account's and cannot be changed. */
#include <string.h>

#include "api-int.h"
#include "ims/iam_admin.h"

static void project_json(struct ims_jw *w, struct ims_request *req, const void *item)
{
    const struct ims_project *p = item;
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", p->id);
    ims_jw_kstr(w, "name", p->name);
    ims_jw_kstr(w, "domain_id", p->domain_id);
    /* Projects hang off the account directly: no project hierarchy. */
    ims_jw_kstr(w, "parent_id", p->domain_id);
    ims_jw_kbool(w, "is_domain", false);
    ims_jw_kbool(w, "enabled", p->enabled);
    ims_jw_kstr(w, "description", p->description ? p->description : "");
    api_iam_links(w, req, "/v3/projects", p->id);
    ims_jw_obj_end(w);
}

static void reply_project(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, struct ims_project *p,
                          int status)
{
    api_iam_reply_one(req, rc, err, status, "project", project_json, p);
    if (rc == IMS_OK)
        ims_project_release(p);
}

void api_iam_projects_create(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:projects:createProject"))
        return;
    json_t *body;
    json_t *p = api_iam_body(req, "project", &body);
    if (!p)
        return;
    struct api_iam_project_input in;
    struct ims_err err = {0};
    struct ims_project out;
    enum ims_rc rc = api_iam_project_parse(p, api_iam_domain(req), true, &in, &err)
                         ? ims_iam_project_add(req->svc, api_iam_domain(req), in.name, in.description, &out, &err)
                         : IMS_E_BADREQ;
    reply_project(req, rc, &err, &out, 201);
    json_decref(body);
}

void api_iam_projects_list(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:projects:listProjects"))
        return;
    int enabled;
    if (!api_iam_query_bool(req, "enabled", &enabled))
        return;
    struct ims_project *ps = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    const char *parent = ims_kvlist_get(&req->query, "parent_id");
    bool none = api_iam_other_domain_filter(req) || (parent && !ims_streq(parent, api_iam_domain(req)));
    enum ims_rc rc = none ? IMS_OK
                          : ims_iam_project_list(req->svc, api_iam_domain(req), ims_kvlist_get(&req->query, "name"),
                                                 enabled, &ps, &n, &err);
    api_iam_reply_list(req, rc, &err, "projects", project_json, ps, n, sizeof(*ps));
    if (rc == IMS_OK)
        ims_project_array_free(ps, n);
}

void api_iam_projects_show(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:projects:getProject"))
        return;
    struct ims_project p;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_project_get(req->svc, api_iam_domain(req), ims_req_param(req, 0), &p, &err);
    reply_project(req, rc, &err, &p, 200);
}

void api_iam_projects_update(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:projects:updateProject") ||
        !api_iam_guarded(req, IMS_HOLDER_PROJECT, ims_req_param(req, 0)))
        return;
    json_t *body;
    json_t *p = api_iam_body(req, "project", &body);
    if (!p)
        return;
    struct api_iam_project_input in;
    struct ims_err err = {0};
    struct ims_project out;
    enum ims_rc rc = api_iam_project_parse(p, api_iam_domain(req), false, &in, &err)
                         ? ims_iam_project_update(req->svc, api_iam_domain(req), ims_req_param(req, 0), in.name,
                                                  in.description, in.enabled, &out, &err)
                         : IMS_E_BADREQ;
    reply_project(req, rc, &err, &out, 200);
    json_decref(body);
}

void api_iam_projects_delete(struct ims_request *req)
{
    if (!api_iam_admit(req, "iam:projects:deleteProject") ||
        !api_iam_guarded(req, IMS_HOLDER_PROJECT, ims_req_param(req, 0)))
        return;
    struct ims_err err = {0};
    api_iam_done(req, ims_iam_project_delete(req->svc, api_iam_domain(req), ims_req_param(req, 0), &err), &err, 204);
}

/* ---- enterprise projects ---- */

static void ep_json(struct ims_jw *w, struct ims_request *req, const void *item)
{
    (void)req;
    const struct ims_enterprise_project *ep = item;
    char created[21], updated[21];
    ims_time_iso(ep->created_at, created);
    ims_time_iso(ep->updated_at, updated);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", ep->id);
    ims_jw_kstr(w, "name", ep->name);
    ims_jw_kstr(w, "description", ep->description ? ep->description : "");
    ims_jw_kint(w, "status", ep->status);
    ims_jw_kstr(w, "type", ep->type ? ep->type : "prod");
    ims_jw_kstr(w, "created_at", created);
    ims_jw_kstr(w, "updated_at", updated);
    ims_jw_obj_end(w);
}

static void reply_ep(struct ims_request *req, enum ims_rc rc, const struct ims_err *err,
                     struct ims_enterprise_project *ep)
{
    api_iam_reply_one(req, rc, err, 200, "enterprise_project", ep_json, ep);
    if (rc == IMS_OK)
        ims_ep_release(ep);
}

/* The EPS body is the enterprise project itself, not wrapped. */
static json_t *ep_body(struct ims_request *req)
{
    json_t *body;
    return api_iam_body(req, NULL, &body);
}

void api_iam_eps_create(struct ims_request *req)
{
    if (!api_iam_admit(req, "eps:enterpriseProjects:create"))
        return;
    json_t *b = ep_body(req);
    if (!b)
        return;
    const char *name, *description, *type;
    struct ims_err err = {0};
    if (!api_iam_ep_parse(b, &name, &description, &type, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        struct ims_enterprise_project out;
        enum ims_rc rc = ims_iam_ep_add(req->svc, api_iam_domain(req), name, description, type, &out, &err);
        reply_ep(req, rc, &err, &out);
    }
    json_decref(b);
}

void api_iam_eps_list(struct ims_request *req)
{
    if (!api_iam_admit(req, "eps:enterpriseProjects:list"))
        return;
    const char *st = ims_kvlist_get(&req->query, "status");
    const char *id = ims_kvlist_get(&req->query, "id");
    int64_t status = 0;
    struct ims_err err = {0};
    if (st && !ims_parse_i64(st, 1, 2, &status)) {
        ims_fail(&err, IMS_E_BADREQ, "Invalid value for query parameter 'status': 1 (enabled) or 2 (disabled).");
        api_keystone_fail(req, IMS_E_BADREQ, &err);
        return;
    }
    struct ims_enterprise_project *eps = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_iam_ep_list(req->svc, api_iam_domain(req), ims_kvlist_get(&req->query, "name"), (int)status,
                                     &eps, &n, &err);
    if (rc != IMS_OK) {
        api_keystone_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    api_json_list_begin(req, &w, 200, "enterprise_projects");
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (id && !ims_streq(id, eps[i].id))
            continue;
        ep_json(&w, req, &eps[i]);
        shown++;
    }
    ims_jw_arr_end(&w);
    ims_jw_kint(&w, "total_count", (int64_t)shown);
    ims_jw_obj_end(&w);
    ims_ep_array_free(eps, n);
}

void api_iam_eps_show(struct ims_request *req)
{
    if (!api_iam_admit(req, "eps:enterpriseProjects:get"))
        return;
    struct ims_enterprise_project ep;
    struct ims_err err = {0};
    enum ims_rc rc = ims_iam_ep_get(req->svc, api_iam_domain(req), ims_req_param(req, 0), &ep, &err);
    reply_ep(req, rc, &err, &ep);
}

void api_iam_eps_update(struct ims_request *req)
{
    if (!api_iam_admit(req, "eps:enterpriseProjects:update"))
        return;
    json_t *b = ep_body(req);
    if (!b)
        return;
    const char *name, *description, *type;
    struct ims_err err = {0};
    if (!api_iam_ep_parse(b, &name, &description, &type, &err)) {
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        struct ims_enterprise_project out;
        enum ims_rc rc = name ? ims_iam_ep_update(req->svc, api_iam_domain(req), ims_req_param(req, 0), name,
                                                  description, type, &out, &err)
                              : ims_fail(&err, IMS_E_BADREQ, "Invalid input for field 'name': it is required.");
        reply_ep(req, rc, &err, &out);
    }
    json_decref(b);
}

/* POST /v1.0/enterprise-projects/{id}/action {"action": "enable"|"disable"}.
 * The caller is admitted before the body is judged, so a caller without
 * rights learns nothing from a bad body. */
void api_iam_eps_action(struct ims_request *req)
{
    int action = api_iam_ep_action_parse(req->body.data, req->body.len);
    bool enable = action == 1, disable = action == 0;
    const char *need = enable    ? "eps:enterpriseProjects:enable"
                       : disable ? "eps:enterpriseProjects:disable"
                                 : "eps:enterpriseProjects:update";
    struct ims_err err = {0};
    if (!api_iam_admit(req, need)) {
    } else if (!enable && !disable) {
        ims_fail(&err, IMS_E_BADREQ, "Invalid input for field 'action': \"enable\" or \"disable\" is required.");
        api_keystone_fail(req, IMS_E_BADREQ, &err);
    } else {
        enum ims_rc rc = ims_iam_ep_set_enabled(req->svc, api_iam_domain(req), ims_req_param(req, 0), enable, &err);
        api_iam_done(req, rc, &err, 204);
    }
}
