/* SPDX-License-Identifier: Apache-2.0
 * Authorization of IMS routes beyond the actions the route table checks
 * before the handler: the action a request chooses ("a|b"), the enterprise
 * project of the target (the image's, or the one the body names), and the
 * deferred actions when the permission table's condition holds (a copy or a
 * move into an enterprise project). Shared by the IMS handlers. And the
 * object-storage permission of the calls that read or write a bucket's
 * file (the table's notes: OBS read to import or register a file, OBS
 * write to export one), evaluated by the same engine on the caller's
 * project-level grants. */
#include <string.h>

#include "api-int.h"
#include "ims/authz.h"
#include "ims/image.h"
#include "ims/images.h"

/* The enterprise project a request targets: the image's for image routes,
 * else the body's "enterprise_project_id" (default "0"). */
static enum ims_rc target_ep(struct ims_request *req, json_t *body, char *out, size_t cap, struct ims_err *err)
{
    const char *p = req->route->pattern;
    if (strstr(p, "{image_id}")) {
        size_t idx = strncmp(p, "/v2/{project_id}", 16) == 0 ? 1 : 0;
        struct ims_image img;
        enum ims_rc rc = ims_images_get(req->svc, req->principal, ims_req_param(req, idx), &img, err);
        if (rc != IMS_OK)
            return rc;
        snprintf(out, cap, "%s", img.enterprise_project_id ? img.enterprise_project_id : "0");
        ims_image_release(&img);
        return IMS_OK;
    }
    json_t *ep = json_object_get(body, "enterprise_project_id");
    snprintf(out, cap, "%s", json_is_string(ep) && *json_string_value(ep) ? json_string_value(ep) : "0");
    return IMS_OK;
}

/* When the table's condition for the deferred action holds, the enterprise
 * project it concerns (where the image goes); NULL otherwise. */
static const char *condition_target(struct ims_request *req, json_t *body, const char *current_ep)
{
    if (strstr(req->route->pattern, "/copy")) {
        json_t *ep = json_object_get(body, "enterprise_project_id");
        return json_is_string(ep) ? json_string_value(ep) : NULL;
    }
    /* PATCH: a replace of /enterprise_project_id with another value. */
    size_t i;
    json_t *op;
    json_array_foreach(body, i, op)
    {
        json_t *path = json_object_get(op, "path"), *value = json_object_get(op, "value");
        if (json_is_string(path) && !strcmp(json_string_value(path), "/enterprise_project_id") &&
            json_is_string(value) && strcmp(json_string_value(value), current_ep))
            return json_string_value(value);
    }
    return NULL;
}

enum ims_rc api_ims_authorize(struct ims_request *req, json_t *body, struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    const char *actions = req->route->actions;
    if (actions && strchr(actions, '|')) {
        /* Quick import: data-disk images need the second action. */
        json_t *type = json_object_get(body, "type");
        const char *bar = strchr(actions, '|');
        char chosen[96];
        if (json_is_string(type) && !strcmp(json_string_value(type), "DataImage"))
            snprintf(chosen, sizeof(chosen), "%s", bar + 1);
        else
            snprintf(chosen, sizeof(chosen), "%.*s", (int)(bar - actions), actions);
        struct ims_authz_result *acc = ims_xcalloc(1, sizeof(*acc));
        req->principal->authz = acc;
        rc = ims_authorize(req->svc, req->principal, chosen, req->route->iam_project, req->route->enterprise_project,
                           acc, err);
    }
    char ep[80] = "0";
    /* Reads without a target (the list, the quota) need no single enterprise
     * project: a list returns what the caller may list in. */
    bool targeted = strstr(req->route->pattern, "{image_id}") || req->method != IMS_GET;
    bool needs_ep = rc == IMS_OK && req->route->enterprise_project && targeted;
    if (needs_ep)
        rc = target_ep(req, body, ep, sizeof(ep), err);
    const char *moved_to = rc == IMS_OK && req->route->deferred ? condition_target(req, body, ep) : NULL;
    if (moved_to) {
        struct ims_authz_result extra;
        rc = ims_authorize(req->svc, req->principal, req->route->deferred, req->route->iam_project,
                           req->route->enterprise_project, &extra, err);
        if (rc == IMS_OK && !ims_authz_allows(&extra, moved_to))
            rc = ims_fail(err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed.", req->route->deferred);
        ims_authz_result_release(&extra);
    }
    if (rc == IMS_OK && needs_ep) {
        /* The route's decision (NULL when none was made: a Deny). */
        const struct ims_authz_result *acc = req->principal->authz;
        bool registration = strstr(req->route->pattern, "/upload") != NULL;
        /* Registration through enterprise-project grants: default one only. */
        if (!ims_authz_allows(acc, ep) || (registration && acc->scope != IMS_EP_SCOPE_ALL && strcmp(ep, "0")))
            rc = ims_fail(err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed.",
                          ims_authz_denied_action(acc));
    }
    return rc;
}

/* Which body field names the OBS object ("bucket:object") and what the
 * operation does with it. */
static const struct obs_dependency {
    const char *pattern, *field, *action;
} obs_dependencies[] = {
    {"/v2/cloudimages/action", "image_url", "obs:object:GetObject"},
    {"/v2/cloudimages/quickimport/action", "image_url", "obs:object:GetObject"},
    {"/v1/cloudimages/dataimages/action", "image_url", "obs:object:GetObject"},
    {"/v1/cloudimages/{image_id}/upload", "image_url", "obs:object:GetObject"},
    {"/v1/cloudimages/{image_id}/file", "bucket_url", "obs:object:PutObject"},
};

enum ims_rc api_ims_authorize_obs(struct ims_request *req, json_t *body, struct ims_err *err)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(obs_dependencies); i++) {
        const struct obs_dependency *d = &obs_dependencies[i];
        if (strcmp(d->pattern, req->route->pattern) != 0)
            continue;
        json_t *url = json_object_get(body, d->field);
        if (!url)
            return IMS_OK; /* no object-storage file involved (e.g. an image from a server) */
        const char *s = json_string_value(url);
        const char *colon = s ? strchr(s, ':') : NULL;
        if (!colon || colon == s || !colon[1])
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "%s must be \"bucket:object\".", d->field);
        struct ims_authz_result acc;
        enum ims_rc rc = ims_authorize(req->svc, req->principal, d->action, true, false, &acc, err);
        ims_authz_result_release(&acc);
        if (rc == IMS_E_FORBIDDEN)
            ims_fail(err, rc, "Policy doesn't allow %s to be performed on bucket %.*s.", d->action,
                     (int)(colon - s), s);
        return rc;
    }
    return IMS_OK;
}

bool api_ims_admitted(struct ims_request *req, bool obs)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    if (req->body.len) {
        json_error_t je;
        body = json_loadb(req->body.data, req->body.len, 0, &je);
    }
    enum ims_rc rc = api_ims_authorize(req, body, &err);
    if (rc == IMS_OK && obs)
        rc = api_ims_authorize_obs(req, body, &err);
    json_decref(body);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return rc == IMS_OK;
}
