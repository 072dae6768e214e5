/* SPDX-License-Identifier: Apache-2.0
 * IMS calls whose behaviour lands in a later issue. They are in the route
 * table with their actions and scopes, and authorize exactly as they will:
 * the route's required actions (checked before this runs), the conditional
 * ones the permission table names, and the enterprise project of the image
 * or of the request, and the object-storage permission the data path will
 * need (the table's notes: OBS read to import or register a file, OBS write
 * to export one), evaluated by the same engine on the caller's
 * project-level grants. Then they answer 501 with an IMS error body. */
#include <string.h>

#include "api-int.h"
#include "ims/authz.h"

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

static enum ims_rc authorize_obs(struct ims_request *req, json_t *body, struct ims_err *err)
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

void api_ims_unavailable(struct ims_request *req)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    if (req->body.len) {
        json_error_t je;
        body = json_loadb(req->body.data, req->body.len, 0, &je);
    }
    enum ims_rc rc = api_ims_authorize(req, body, &err);
    if (rc == IMS_OK)
        rc = authorize_obs(req, body, &err);
    json_decref(body);
    if (rc == IMS_OK)
        rc = ims_fail(&err, IMS_E_NOTIMPL, "%s %s is not available yet in this version of imsd.", req->method_name,
                      req->route->pattern);
    api_fail(req, rc, &err);
}
