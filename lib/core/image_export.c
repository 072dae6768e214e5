/* SPDX-License-Identifier: Apache-2.0
 * Exports to object storage: which images may leave (reference
 * exporting_an_image: not public images, not private images made from the
 * charged public ones, not full-ECS or ISO images; below 1 TB, above
 * 128 GB only quickly). Checked when the request arrives and again by the
 * job. */
#include <string.h>

#include "core-int.h"
#include "ims/authz.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/quotas.h"

/* Public images whose OS is licensed (charged): neither they nor the
 * private images made from them may be exported. */
static const char *const charged_platforms[] = {"Windows", "SUSE", "Red Hat", "Ubuntu", "Oracle Linux"};

static bool is_public(const struct ims_image *img)
{
    return ims_streq(img->visibility, "public") || ims_streq(ims_kvlist_get(&img->props, "__imagetype"), "gold");
}

/* Made from a charged public image: its parent (__originalimagename) is
 * public and runs one of the charged platforms, or it carries a market
 * product code. */
static bool from_charged(struct ims_service *svc, const struct ims_image *img)
{
    const char *pc = ims_kvlist_get(&img->props, "__productcode");
    if (pc && *pc)
        return true;
    const char *parent_id = ims_kvlist_get(&img->props, "__originalimagename");
    struct ims_image parent;
    if (!parent_id || !*parent_id || ims_repo_image_get(ims_db_conn(svc->db), parent_id, &parent, NULL) != IMS_OK)
        return false;
    bool charged = false;
    if (is_public(&parent))
        for (size_t i = 0; i < IMS_ARRAY_SIZE(charged_platforms); i++)
            charged = charged || ims_streq(ims_kvlist_get(&parent.props, "__platform"), charged_platforms[i]);
    ims_image_release(&parent);
    return charged;
}

static enum ims_rc refusal(const struct ims_image *img, struct ims_service *svc, const struct ims_principal *p,
                           const struct ims_export_request *r, struct ims_err *err)
{
    const char *backup = ims_kvlist_get(&img->props, "__backup_id");
    if (is_public(img))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0077", "Image %s is a public image and cannot be exported.",
                             img->id);
    if (!ims_images_can_modify(p, img))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0047", "Only the owner of image %s may export it.", img->id);
    if (ims_streq(ims_kvlist_get(&img->props, "__whole_image"), "true"))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0128", "Full-ECS image %s cannot be exported.", img->id);
    if (ims_streq(img->disk_format, "iso") || ims_streq(ims_kvlist_get(&img->props, "virtual_env_type"), "IsoImage"))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0167", "Image %s is an ISO image and cannot be exported.",
                             img->id);
    if (backup && *backup)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0080", "Image %s was made from a backup and cannot be exported.",
                             img->id);
    if (from_charged(svc, img))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0079",
                             "Image %s was made from a charged public image and cannot be exported.", img->id);
    if (!ims_streq(img->status, "active") || !img->blob)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0046", "Image %s is unavailable (status %s).", img->id,
                             img->status);
    if (img->size >= IMS_EXPORT_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0059", "Image %s is 1 TB or larger and cannot be exported.",
                             img->id);
    if (img->size > IMS_EXPORT_CONVERT_MAX && !r->quick)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0160",
                             "Image %s is larger than 128 GB: it can only be exported quickly (is_quick_export).",
                             img->id);
    return IMS_OK;
}

enum ims_rc ims_export_check(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             const struct ims_export_request *r, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    rc = refusal(&img, svc, p, r, err);
    ims_image_release(&img);
    return rc;
}

void ims_export_alone(const char *id, struct ims_job_alone *ret)
{
    snprintf(ret->needle, sizeof(ret->needle), "\"%s\":\"%.64s\"", IMS_EXPORT_JOB_MARK, id);
    snprintf(ret->code, sizeof(ret->code), "IMG.0148");
    snprintf(ret->msg, sizeof(ret->msg), "Image %.64s is being exported: wait until it is exported.", id);
}
