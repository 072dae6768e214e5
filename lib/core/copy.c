/* SPDX-License-Identifier: Apache-2.0
 * Replicating an image within a region (reference ims_apis/
 * image_replication): the copy is a new image of the caller's project with
 * the source's data, format and attributes, a new name, description and
 * enterprise project. The data is not copied: both rows reference the same
 * store blob, which is removed only with its last image. */
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/copy.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/image_stores.h"
#include "ims/images.h"
#include "ims/quotas.h"
#include "ims/service.h"

/* Attributes a copy does not inherit: they describe the source's origin or
 * its sharing, not its data. */
static const char *const not_inherited[] = {"__description", "__imagetype", "__originalimagename",
                                            "__root_origin", "__productcode", "__backup_id", "active_at"};

enum ims_rc ims_images_copy_check(struct ims_service *svc, const struct ims_principal *p, const char *src_id,
                                  const struct ims_copy_spec *spec, struct ims_image *ret, const char **ret_code,
                                  struct ims_err *err)
{
    *ret_code = "IMG.0001";
    if (!p->project_id[0]) {
        *ret_code = "IMG.0030";
        return ims_fail(err, IMS_E_BADREQ, "A project-scoped token is required to replicate images.");
    }
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, src_id, &img, err);
    if (rc != IMS_OK) {
        *ret_code = rc == IMS_E_NOTFOUND ? "IMG.0027" : rc == IMS_E_FORBIDDEN ? "IMG.0026" : "IMG.0001";
        return rc;
    }
    bool owner = ims_streq(img.owner, p->project_id);
    if (ims_streq(ims_kvlist_get(&img.props, "__whole_image"), "true")) {
        *ret_code = "IMG.0130";
        rc = ims_fail(err, IMS_E_BADREQ, "Full-ECS image %s cannot be replicated.", src_id);
    } else if (ims_streq(img.disk_format, "iso")) {
        *ret_code = "IMG.0167";
        rc = ims_fail(err, IMS_E_BADREQ, "Image %s was created from an ISO file and cannot be replicated.", src_id);
    } else if (!ims_streq(img.status, "active") || !img.blob) {
        *ret_code = "IMG.0046";
        rc = ims_fail(err, IMS_E_BADREQ, "Image %s is unavailable (status %s).", src_id, img.status);
    } else if (!owner && (ims_streq(img.visibility, "public") || ims_streq(img.visibility, "community"))) {
        *ret_code = "IMG.0083";
        rc = ims_fail(err, IMS_E_BADREQ, "Image %s is a public image and cannot be replicated.", src_id);
    } else if (!owner) {
        /* A shared image: only a recipient that accepted it. */
        struct ims_member m;
        bool accepted = false;
        if (ims_repo_member_get(ims_db_conn(svc->db), src_id, p->project_id, &m, NULL) == IMS_OK) {
            accepted = ims_streq(m.status, "accepted");
            ims_member_release(&m);
        }
        if (!accepted) {
            *ret_code = "IMG.0196";
            rc = ims_fail(err, IMS_E_BADREQ, "Image %s cannot be replicated because you have not accepted it.",
                          src_id);
        }
    }
    if (rc == IMS_OK) {
        rc = ims_ep_check_usable(svc, p, spec->enterprise_project_id ? spec->enterprise_project_id : "0", err);
        if (rc == IMS_E_BADREQ)
            *ret_code = "IMG.0155";
    }
    /* A copy is a new image: it counts against the quota like any other. */
    if (rc == IMS_OK && (rc = ims_quota_check(svc, p->project_id, 1, err)) != IMS_OK)
        *ret_code = err && err->code[0] ? err->code : "IMG.0015";
    if (rc != IMS_OK) {
        ims_image_release(&img);
        return rc;
    }
    *ret = img;
    return IMS_OK;
}

enum ims_rc ims_images_copy_stage(struct ims_service *svc, const struct ims_principal *p, const struct ims_image *src,
                                  const char *new_id, const struct ims_copy_spec *spec, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_image have;
    if (ims_repo_image_get(c, new_id, &have, NULL) == IMS_OK) { /* staged before a restart */
        ims_image_release(&have);
        return IMS_OK;
    }
    struct ims_image img;
    ims_image_copy(&img, src);
    snprintf(img.id, sizeof(img.id), "%s", new_id);
    ims_set_str(&img.owner, p->project_id);
    ims_set_str(&img.name, spec->name);
    ims_set_str(&img.enterprise_project_id, spec->enterprise_project_id ? spec->enterprise_project_id : "0");
    /* The job owns the staged row until it finishes: nobody may upload
     * into it, change or delete it through the API meanwhile. */
    snprintf(img.status, sizeof(img.status), "importing");
    snprintf(img.visibility, sizeof(img.visibility), "private");
    img.protected_ = false;
    img.os_hidden = false;
    ims_set_str(&img.blob, NULL);
    ims_set_str(&img.checksum, NULL);
    ims_set_str(&img.os_hash_algo, NULL);
    ims_set_str(&img.os_hash_value, NULL);
    img.size = -1;
    img.virtual_size = -1;
    img.created_at = img.updated_at = ims_now();
    for (size_t i = 0; i < IMS_ARRAY_SIZE(not_inherited); i++)
        ims_kvlist_remove(&img.props, not_inherited[i]);
    ims_image_copies_drop(&img.props); /* the copy shares the source's own location only */
    ims_kvlist_set(&img.props, "__imagetype", "private");
    ims_kvlist_set(&img.props, "__originalimagename", src->id);
    if (spec->description && *spec->description)
        ims_kvlist_set(&img.props, "__description", spec->description);
    ims_image_props_defaults(&img.props); /* what was not inherited, and what an older source lacks */
    ims_strlist_release(&img.tags);
    /* Checked again, in the insert: the quota may have filled while the job waited. */
    int64_t quota = 0;
    enum ims_rc rc = ims_quota_of(svc, p->project_id, &quota, err);
    if (rc == IMS_OK)
        rc = ims_repo_image_insert(c, &img, quota, err);
    ims_image_release(&img);
    return rc;
}

/* Whether dst holds src's data: what a finished copy must show, checked
 * again when a resumed job finds its copy already active. */
static bool same_data(const struct ims_image *dst, const struct ims_image *src)
{
    return dst->blob && dst->size == src->size && ims_streq(dst->checksum, src->checksum) &&
           ims_streq(dst->os_hash_algo, src->os_hash_algo) && ims_streq(dst->os_hash_value, src->os_hash_value);
}

/* A staged copy the job may finish: its own "importing" row, or a queued
 * row without data staged before staging used that status. */
static bool finishable(const struct ims_image *dst)
{
    return ims_image_job_owned(dst) || (ims_streq(dst->status, "queued") && !dst->blob);
}

enum ims_rc ims_images_copy_finish(struct ims_service *svc, const char *src_id, const char *new_id,
                                   struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    /* One write transaction: the source cannot be deleted between reading
     * its blob and the copy referencing it, so the blob is never released
     * under the copy (a delete that committed first is seen here). */
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image src, dst;
    bool have_src = false, have_dst = false;
    rc = ims_repo_image_get(c, new_id, &dst, err);
    have_dst = rc == IMS_OK;
    if (rc == IMS_OK && ims_streq(dst.status, "active")) { /* finished before a restart, if it has src's data */
        if (ims_repo_image_get(c, src_id, &src, NULL) == IMS_OK) {
            bool same = same_data(&dst, &src);
            ims_image_release(&src);
            if (!same) {
                ims_image_release(&dst);
                ims_db_rollback(c);
                return ims_fail(err, IMS_E_CONFLICT, "Image %s does not hold the data of source image %s.", new_id,
                                src_id);
            }
        }
        ims_image_release(&dst);
        return ims_db_commit(c, err);
    }
    if (rc == IMS_OK && !finishable(&dst)) {
        ims_fail(err, IMS_E_CONFLICT, "Image %s is no longer the staged copy (status %s).", new_id, dst.status);
        ims_image_release(&dst);
        ims_db_rollback(c);
        return IMS_E_CONFLICT;
    }
    if (rc == IMS_OK) {
        rc = ims_repo_image_get(c, src_id, &src, err);
        have_src = rc == IMS_OK;
        if (rc == IMS_OK && (!ims_streq(src.status, "active") || !src.blob))
            rc = ims_fail(err, IMS_E_NOTFOUND, "Source image %s is no longer available (status %s).", src_id,
                          src.status);
        else if (rc == IMS_E_NOTFOUND)
            ims_fail(err, IMS_E_NOTFOUND, "Source image %s was deleted during the replication.", src_id);
    }
    if (rc == IMS_OK) {
        struct ims_image before;
        ims_image_copy(&before, &dst);
        ims_set_str(&dst.blob, src.blob);
        ims_set_str(&dst.checksum, src.checksum);
        ims_set_str(&dst.os_hash_algo, src.os_hash_algo);
        ims_set_str(&dst.os_hash_value, src.os_hash_value);
        dst.size = src.size;
        dst.virtual_size = src.virtual_size;
        ims_image_mark_active(&dst, ims_now());
        dst.updated_at = ims_now();
        rc = ims_repo_image_write_changes(c, &before, &dst, err);
        ims_image_release(&before);
    } else if (rc == IMS_E_NOTFOUND && have_dst) {
        struct ims_err e2;
        ims_repo_image_delete(c, new_id, &e2); /* no data: nothing else to release */
    }
    if (have_src)
        ims_image_release(&src);
    if (have_dst)
        ims_image_release(&dst);
    if (rc != IMS_OK && rc != IMS_E_NOTFOUND) {
        ims_db_rollback(c);
        return rc;
    }
    enum ims_rc crc = ims_db_commit(c, rc == IMS_OK ? err : NULL);
    return rc != IMS_OK ? rc : crc;
}

void ims_images_copy_abandon(struct ims_service *svc, const char *new_id)
{
    struct ims_image_edit e;
    struct ims_err err;
    if (ims_image_edit_begin_internal(svc, new_id, &e, &err) != IMS_OK)
        return;
    enum ims_rc rc = IMS_OK;
    if (!ims_streq(e.image.status, "active") && !e.image.blob)
        rc = ims_repo_image_delete(e.c, new_id, &err);
    if (ims_image_edit_end(&e, rc, &err) != IMS_OK)
        ims_warn("could not remove the unfinished copy %s: %s", new_id, err.msg);
}
