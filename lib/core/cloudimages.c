/* SPDX-License-Identifier: Apache-2.0
 * IMS image update (PATCH /v2/cloudimages/{image_id}): the IMS rules around
 * the shared patch application: owner only, active images only, and moving
 * an image to another enterprise project. */
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/patch.h"
#include "ims/service.h"

enum ims_rc ims_cloudimages_update(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   const struct ims_patch *patch, const char *move_to_ep, struct ims_image *ret,
                                   struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, id, &e, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image *img = &e.image;
    if (!ims_images_can_modify(p, img))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0047",
                           "This operation can be performed only by the image owner (image %s).", id);
    else if (!ims_streq(img->status, "active"))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0046",
                           "The image is unavailable: only active images can be updated (image %s is %s).", id,
                           img->status);
    if (rc == IMS_OK && move_to_ep && !ims_streq(move_to_ep, img->enterprise_project_id)) {
        rc = ims_ep_check_usable(svc, p, move_to_ep, err);
        if (rc == IMS_OK)
            ims_set_str(&img->enterprise_project_id, move_to_ep);
    }
    if (rc == IMS_OK) {
        rc = ims_patch_apply(patch, img, false, err);
        if (rc != IMS_OK && err) { /* the IMS dialect reports every refused change as a bad request */
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "%s", msg);
        }
    }
    if (rc != IMS_OK)
        return ims_image_edit_end(&e, rc, err);
    return ims_image_edit_commit(&e, ret, err);
}
