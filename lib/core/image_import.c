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
    if (rc == IMS_E_BADREQ)
        return ims_err_default_code(err, rc, "IMG.0155");
    if (rc != IMS_OK)
        return rc;
    rc = ims_quota_check(svc, p->project_id, 1 + (int64_t)r->n_data, err);
    return rc == IMS_E_BADREQ ? ims_err_default_code(err, rc, "IMG.0015") : rc;
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

void ims_register_alone(const char *id, struct ims_job_alone *ret)
{
    snprintf(ret->needle, sizeof(ret->needle), "\"%s\":\"%.64s\"", IMS_REGISTER_JOB_MARK, id);
    snprintf(ret->code, sizeof(ret->code), "IMG.0046");
    snprintf(ret->msg, sizeof(ret->msg), "A file is being registered into image %.64s: it takes one.", id);
}

/* virtual_env_type for the request's type (the reference's image types). */
static const char *env_type(const struct ims_import_request *r, const struct ims_import_image *im)
{
    if (im->data)
        return "DataImage";
    if (ims_streq(r->type, "BMS") || ims_streq(r->type, "Ironic"))
        return "Ironic";
    if (ims_streq(r->type, "IsoImage"))
        return "IsoImage";
    return "FusionCompute";
}

static void draft_of(const struct ims_import_request *r, const struct ims_import_image *im, const char *id,
                     struct ims_image *d)
{
    snprintf(d->id, sizeof(d->id), "%s", id);
    ims_set_str(&d->name, im->name);
    snprintf(d->visibility, sizeof(d->visibility), "private");
    ims_set_str(&d->container_format, "bare");
    ims_set_str(&d->enterprise_project_id, r->enterprise_project_id);
    d->min_disk = im->min_disk;
    if (r->min_ram >= 0)
        d->min_ram = r->min_ram;
    ims_strlist_copy(&d->tags, &im->tags);
    struct ims_kvlist *props = &d->props;
    char buf[2100];
    if (im->description)
        ims_kvlist_set(props, "__description", im->description);
    if (r->max_ram >= 0) {
        snprintf(buf, sizeof(buf), "%lld", (long long)r->max_ram);
        ims_kvlist_set(props, "max_ram", buf);
    }
    ims_kvlist_set(props, "virtual_env_type", env_type(r, im));
    ims_kvlist_set(props, "__imagetype", "private");
    ims_kvlist_set(props, "__isregistered", "true");
    ims_kvlist_set(props, "__image_source_type", "uds");
    /* Where the data came from; no parent image (the reference leaves
     * __originalimagename empty for images made from files). */
    snprintf(buf, sizeof(buf), "file,%s:%s", im->file.bucket, im->file.object);
    ims_kvlist_set(props, "__data_origin", buf);
    ims_kvlist_set(props, "__root_origin", "file"); /* the reference's value for images from external files */
    ims_kvlist_set(props, "__originalimagename", "");
    /* the reference's one value: "the image is created from an external
     * image file" (images from servers, disks and backups have none) */
    ims_kvlist_set(props, "__root_origin", "file");
    /* imsd reads the whole file at import: nothing is loaded lazily. */
    ims_kvlist_set(props, "__lazyloading", "false");
    /* Recorded as asked; imsd does not change what is inside a guest. */
    ims_kvlist_set(props, "__is_auto_config", r->is_config && !im->data ? "true" : "false");
    if (r->cmk_id)
        ims_kvlist_set(props, "__system__cmkid", r->cmk_id);
    if (im->data) {
        ims_kvlist_set(props, "__os_type", r->os_type ? r->os_type : "Linux");
        return;
    }
    if (r->os_version)
        ims_kvlist_set(props, "__os_version", r->os_version); /* __platform, __os_type, __os_bit from the table */
    else if (r->os_type)
        ims_kvlist_set(props, "__os_type", r->os_type);
    if (r->hw_firmware_type)
        ims_kvlist_set(props, "hw_firmware_type", r->hw_firmware_type);
    if (r->architecture) {
        ims_kvlist_set(props, "architecture", r->architecture);
        if (ims_streq(r->architecture, "arm"))
            ims_kvlist_set(props, "__support_arm", "true");
    }
}

enum ims_rc ims_import_create(struct ims_service *svc, const struct ims_principal *p,
                              const struct ims_import_request *r, size_t which, const char *id, struct ims_err *err)
{
    const struct ims_import_image *im = which == 0 ? &r->image : &r->data_images[which - 1];
    struct ims_image have;
    /* made before a restart: the job goes on with it */
    if (ims_repo_image_get(ims_db_conn(svc->db), id, &have, NULL) == IMS_OK) {
        bool mine = ims_streq(have.owner, p->project_id);
        ims_image_release(&have);
        return mine ? IMS_OK : ims_fail(err, IMS_E_CONFLICT, "Image %s belongs to another project.", id);
    }
    struct ims_image d;
    ims_image_init(&d);
    draft_of(r, im, id, &d);
    enum ims_rc rc = ims_images_create(svc, p, &d, err);
    ims_image_release(&d);
    return rc == IMS_E_BADREQ ? ims_err_default_code(err, rc, "IMG.0061") : rc;
}

void ims_import_discard(struct ims_service *svc, const char *id)
{
    struct ims_image_edit e;
    struct ims_err err;
    if (ims_image_edit_begin_internal(svc, id, &e, &err) != IMS_OK)
        return; /* gone already */
    enum ims_rc rc = IMS_OK;
    /* an import's claim is given back before this runs; saving is a live
     * upload of someone else's and stays */
    if (!ims_streq(e.image.status, "saving"))
        rc = ims_repo_image_delete(e.c, id, &err);
    char *blob = IMS_TAKE_PTR(e.image.blob);
    rc = ims_image_edit_end(&e, rc, &err);
    if (rc == IMS_OK)
        ims_blob_release(svc, blob);
    else
        ims_warn("could not remove image %s of a failed import: %s", id, err.msg);
    free(blob);
}
