/* SPDX-License-Identifier: Apache-2.0
 * Images from object-storage files: the rules checked when the request
 * arrives (enterprise project, quota, the registered image's owner and
 * status). The job checks them again when it runs. */
#include <string.h>

#include "core-int.h"
#include "ims/authz.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/quotas.h"

enum ims_rc ims_import_check(struct ims_service *svc, const struct ims_principal *p,
                             const struct ims_import_request *r, struct ims_err *err)
{
    if (!p->project_id[0])
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0030", "A project-scoped token is required to import images.");
    enum ims_rc rc = ims_ep_check_usable(svc, p, r->enterprise_project_id, err);
    if (rc == IMS_E_BADREQ && !err->code[0])
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0155", "%s", err->msg);
    if (rc != IMS_OK)
        return rc;
    rc = ims_quota_check(svc, p->project_id, 1 + (int64_t)r->n_data, err);
    if (rc == IMS_E_BADREQ && !err->code[0])
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0015", "%s", err->msg);
    return rc;
}

enum ims_rc ims_register_check(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_images_can_modify(p, &img))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0047", "Only the owner of image %s may register a file into it.",
                           id);
    else if (!ims_streq(img.status, "queued"))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0046",
                           "Image %s is %s: a file is registered into a queued image without data.", id, img.status);
    ims_image_release(&img);
    return rc;
}
