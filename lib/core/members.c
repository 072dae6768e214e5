/* SPDX-License-Identifier: Apache-2.0
 * Image sharing with Glance's rules: only the owner adds and removes
 * members, only the member answers (pending/accepted/rejected), and only
 * images with visibility "shared" have members. */
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/members.h"
#include "ims/service.h"

#define MEMBERS_MAX 128

static bool status_valid(const char *s)
{
    return ims_streq(s, "pending") || ims_streq(s, "accepted") || ims_streq(s, "rejected");
}

struct ims_image_edit;
static enum ims_rc insert_member(struct ims_image_edit *e, const char *member_id, size_t max, struct ims_member *ret,
                                 struct ims_err *err);

enum ims_rc ims_members_add(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                            const char *member_id, struct ims_member *ret, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_images_can_modify(p, &e.image))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "You are not permitted to add members to image %s.", image_id);
    else if (!ims_streq(e.image.visibility, "shared"))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Only shared images have members.");
    else
        rc = insert_member(&e, member_id, MEMBERS_MAX, ret, err);
    return ims_image_edit_end(&e, rc, err);
}

/* IMS sharing (reference common_parameters/restrictions_on_image_sharing.md):
 * the owner shares a private or shared image with up to 256 projects (a
 * full-ECS image: 10); a private image becomes "shared" on its first
 * member, since Glance gives members only to shared images. */
#define IMS_SHARE_MAX 256
#define IMS_SHARE_WHOLE_MAX 10

enum ims_rc ims_members_share(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                              const char *member_id, const char **ret_code, struct ims_err *err)
{
    *ret_code = "IMG.0001";
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, image_id, &e, err);
    if (rc != IMS_OK) {
        *ret_code = rc == IMS_E_NOTFOUND ? "IMG.0027" : "IMG.0026";
        return rc;
    }
    struct ims_image *img = &e.image; /* the rules and the change in one transaction */
    bool whole = ims_streq(ims_kvlist_get(&img->props, "__whole_image"), "true");
    const char *backup = ims_kvlist_get(&img->props, "__backup_id"); /* "" on images made otherwise */
    bool from_backup = backup && *backup;
    if (!ims_images_can_modify(p, img)) {
        *ret_code = "IMG.0047";
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Only the owner of image %s may share it.", image_id);
    } else if (ims_streq(img->visibility, "public") || ims_streq(img->visibility, "community")) {
        *ret_code = "IMG.0089";
        rc = ims_fail(err, IMS_E_BADREQ, "The public image %s cannot be shared.", image_id);
    } else if (whole && !from_backup) {
        *ret_code = "IMG.0135";
        rc = ims_fail(err, IMS_E_BADREQ, "Only full-ECS images created from CBR backups can be shared.");
    } else if (ims_image_job_owned(img)) {
        *ret_code = "IMG.0046";
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s is being written by a job and cannot be shared now.", image_id);
    } else if (ims_streq(member_id, img->owner)) {
        *ret_code = "IMG.0076";
        rc = ims_fail(err, IMS_E_BADREQ, "You cannot share image %s with yourself.", image_id);
    } else if (ims_streq(img->visibility, "private")) {
        snprintf(img->visibility, sizeof(img->visibility), "shared");
        rc = ims_image_edit_write(&e, err);
    }
    struct ims_member m;
    if (rc == IMS_OK)
        rc = insert_member(&e, member_id, whole ? IMS_SHARE_WHOLE_MAX : IMS_SHARE_MAX, &m, err);
    if (rc == IMS_OK)
        ims_member_release(&m);
    else if (rc == IMS_E_CONFLICT && ims_streq(*ret_code, "IMG.0001")) /* already a member: sharing again changes
                                                                       * nothing (the image may have become shared) */
        rc = IMS_OK;
    else if (rc == IMS_E_TOOLARGE)
        *ret_code = "IMG.0088";
    else if (rc == IMS_E_BADREQ && ims_streq(*ret_code, "IMG.0001"))
        *ret_code = "IMG.0067";
    return ims_image_edit_end(&e, rc, err);
}

/* Inside e's transaction, where the image's rules were checked: the cap is
 * counted and the membership looked for in it, so concurrent adds cannot
 * pass the cap together. IMS_E_CONFLICT if already a member (looked up,
 * not left to a failing insert, which would fail the whole transaction). */
static enum ims_rc insert_member(struct ims_image_edit *e, const char *member_id, size_t max, struct ims_member *ret,
                                 struct ims_err *err)
{
    /* Members are projects; anything else would be stored and echoed. */
    if (!ims_project_id_valid(member_id))
        return ims_fail(err, IMS_E_BADREQ, "Invalid member id: it must be a project id (32 lower-case hex digits).");
    const char *image_id = e->image.id;
    struct ims_member m;
    if (ims_repo_member_get(e->c, image_id, member_id, &m, NULL) == IMS_OK) {
        ims_member_release(&m);
        return ims_fail(err, IMS_E_CONFLICT, "Member %s already associated with image %s", member_id, image_id);
    }
    struct ims_member *all = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_repo_member_list(e->c, image_id, &all, &n, err);
    if (rc != IMS_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        ims_member_release(&all[i]);
    free(all);
    if (n >= max)
        return ims_fail(err, IMS_E_TOOLARGE, "Maximum number of members (%zu) for image %s exceeded.", max,
                        image_id);
    m = (struct ims_member){.member_id = ims_xstrdup(member_id), .created_at = ims_now()};
    snprintf(m.image_id, sizeof(m.image_id), "%s", image_id);
    snprintf(m.status, sizeof(m.status), "pending");
    m.updated_at = m.created_at;
    rc = ims_repo_member_insert(e->c, &m, err);
    if (rc != IMS_OK) {
        ims_member_release(&m);
        return rc;
    }
    *ret = m;
    return IMS_OK;
}

enum ims_rc ims_members_list(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                             struct ims_member **ret, size_t *ret_n, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, image_id, &img, err);
    if (rc != IMS_OK)
        return rc;
    bool owner = ims_images_can_modify(p, &img);
    bool shared = ims_streq(img.visibility, "shared");
    ims_image_release(&img);
    if (!shared)
        return ims_fail(err, IMS_E_FORBIDDEN, "Only shared images have members.");
    struct ims_member *all = NULL;
    size_t n = 0;
    if ((rc = ims_repo_member_list(ims_db_conn(svc->db), image_id, &all, &n, err)) != IMS_OK)
        return rc;
    /* A member sees only its own membership. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (owner || ims_streq(all[i].member_id, p->project_id))
            all[k++] = all[i];
        else
            ims_member_release(&all[i]);
    }
    *ret = all;
    *ret_n = k;
    return IMS_OK;
}

enum ims_rc ims_members_get(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                            const char *member_id, struct ims_member *ret, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, image_id, &img, err);
    if (rc != IMS_OK)
        return rc;
    bool owner = ims_images_can_modify(p, &img);
    bool shared = ims_streq(img.visibility, "shared");
    ims_image_release(&img);
    if (!shared)
        return ims_fail(err, IMS_E_FORBIDDEN, "Only shared images have members.");
    if (!owner && !ims_streq(member_id, p->project_id))
        return ims_fail(err, IMS_E_NOTFOUND, "%s is not a member of image %s", member_id, image_id);
    return ims_repo_member_get(ims_db_conn(svc->db), image_id, member_id, ret, err);
}

enum ims_rc ims_members_update(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               const char *member_id, const char *status, struct ims_member *ret,
                               struct ims_err *err)
{
    if (!status_valid(status))
        return ims_fail(err, IMS_E_BADREQ, "Invalid status: %s. Status must be pending, accepted or rejected.",
                        status ? status : "(none)");
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    bool owner = ims_images_can_modify(p, &e.image);
    struct ims_member m = {0};
    if (!ims_streq(e.image.visibility, "shared"))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Only shared images have members.");
    else if (!owner && !ims_streq(member_id, p->project_id))
        rc = ims_fail(err, IMS_E_NOTFOUND, "%s is not a member of image %s", member_id, image_id);
    else if ((rc = ims_repo_member_get(e.c, image_id, member_id, &m, err)) == IMS_OK &&
             !ims_streq(member_id, p->project_id))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Only the member may change its membership status.");
    if (rc == IMS_OK) {
        snprintf(m.status, sizeof(m.status), "%s", status);
        m.updated_at = ims_now();
        rc = ims_repo_member_update(e.c, &m, err);
    }
    rc = ims_image_edit_end(&e, rc, err);
    if (rc != IMS_OK) {
        ims_member_release(&m);
        return rc;
    }
    *ret = m;
    return IMS_OK;
}

enum ims_rc ims_members_delete(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               const char *member_id, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_streq(e.image.visibility, "shared"))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Only shared images have members.");
    else if (!ims_images_can_modify(p, &e.image) && ims_streq(member_id, p->project_id))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Only the image owner may remove members.");
    else if (!ims_images_can_modify(p, &e.image))
        rc = ims_fail(err, IMS_E_NOTFOUND, "%s is not a member of image %s", member_id, image_id);
    else
        rc = ims_repo_member_delete(e.c, image_id, member_id, err);
    return ims_image_edit_end(&e, rc, err);
}
