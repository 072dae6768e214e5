/* SPDX-License-Identifier: Apache-2.0
 * IMS calls whose behaviour lands in a later issue. They are in the route
 * table with their actions and scopes, and authorize exactly as they will:
 * the route's required actions (checked before this runs), the conditional
 * ones the permission table names, and the enterprise project of the image
 * or of the request (api_ims_authorize), and the object-storage permission
 * where a file is involved (api_ims_authorize_obs). Then they answer 501
 * with an IMS error body. */

#include "api-int.h"
#include "ims/authz.h"

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
        rc = api_ims_authorize_obs(req, body, &err);
    json_decref(body);
    if (rc == IMS_OK)
        rc = ims_fail(&err, IMS_E_NOTIMPL, "%s %s is not available yet in this version of imsd.", req->method_name,
                      req->route->pattern);
    api_fail(req, rc, &err);
}
