/* SPDX-License-Identifier: Apache-2.0
 * Image operations and Glance's visibility and ownership rules: who may see
 * an image, who may change it, which status changes are allowed. */
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/image_stores.h"
#include "ims/images.h"
#include "ims/os_version.h"
#include "ims/patch.h"
#include "ims/query.h"
#include "ims/quotas.h"
#include "ims/server_images.h"
#include "ims/service.h"
#include "ims/store.h"
#include "ims/upload.h"

/* The IMS attributes every image is made with (reference common_parameters/
 * image_attributes.md) unless the client or the path making it gives its
 * own: the ones lists filter on, kept in columns of images (repo_images.c's
 * promoted columns), so they cost no property rows. The other documented
 * attributes are shown by default without being stored (image.c's
 * ims_image_shown_default). */
static const char *const ims_defaults[][2] = {
    {"__imagetype", "private"},
    {"__isregistered", "true"},
    {"__os_type", "Other"},
    {"__platform", "Other"},
    {"__os_bit", "64"},
    {"virtual_env_type", "FusionCompute"},
    {"__image_source_type", "uds"},
    {"__image_size", "0"},
    {"__is_config_init", "false"},
};

void ims_image_props_defaults(struct ims_kvlist *props)
{
    /* __os_version: "Other(64 bit)" matches the other defaults; an image
     * whose OS type or platform the client chose without a version has none. */
    if (!ims_kvlist_get(props, "__os_version"))
        ims_kvlist_add(props, "__os_version",
                       ims_kvlist_get(props, "__os_type") || ims_kvlist_get(props, "__platform") ? ""
                                                                                               : "Other(64 bit)");
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ims_defaults); i++)
        if (!ims_kvlist_get(props, ims_defaults[i][0]))
            ims_kvlist_add(props, ims_defaults[i][0], ims_defaults[i][1]);
}

static bool is_member(struct ims_dbc *c, const char *image_id, const char *project_id)
{
    struct ims_member m;
    if (!project_id || !*project_id || ims_repo_member_get(c, image_id, project_id, &m, NULL) != IMS_OK)
        return false;
    ims_member_release(&m);
    return true;
}

static bool can_see(struct ims_dbc *c, const struct ims_principal *p, const struct ims_image *img)
{
    if (p->is_admin || ims_streq(img->owner, p->project_id))
        return true;
    if (ims_streq(img->visibility, "public") || ims_streq(img->visibility, "community"))
        return true;
    return ims_streq(img->visibility, "shared") && is_member(c, img->id, p->project_id);
}

bool ims_images_can_modify(const struct ims_principal *p, const struct ims_image *img)
{
    return p->is_admin || (p->project_id[0] && ims_streq(img->owner, p->project_id));
}

enum ims_rc ims_images_create(struct ims_service *svc, const struct ims_principal *p, struct ims_image *draft,
                              struct ims_err *err)
{
    if (!p->project_id[0] && !draft->owner)
        return ims_fail(err, IMS_E_FORBIDDEN, "A project-scoped token is required to create images.");
    if (draft->owner && !ims_streq(draft->owner, p->project_id) && !p->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN, "You are not permitted to create images owned by '%s'.", draft->owner);
    if (!draft->owner)
        ims_set_str(&draft->owner, p->project_id);
    if (ims_streq(draft->visibility, "public") && !p->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN, "You are not authorized to complete publicize_image action.");
    enum ims_rc rc = ims_ep_check_usable(svc, p, draft->enterprise_project_id, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_authz_allows(p->authz, draft->enterprise_project_id))
        return ims_fail(err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed in enterprise project %s.",
                        ims_authz_denied_action(p->authz), draft->enterprise_project_id);
    rc = ims_os_version_fill(&draft->props, err);
    if (rc != IMS_OK)
        return rc;
    int64_t quota = 0;
    if ((rc = ims_quota_of(svc, draft->owner, &quota, err)) != IMS_OK)
        return rc;
    if (!draft->id[0])
        ims_uuid_new(draft->id);
    snprintf(draft->status, sizeof(draft->status), "queued");
    draft->created_at = draft->updated_at = ims_now();
    ims_image_props_defaults(&draft->props);
    return ims_repo_image_insert(ims_db_conn(svc->db), draft, quota, err);
}

/* The image as the caller may see it; with_extras false leaves out its
 * custom properties. */
static enum ims_rc image_get(struct ims_service *svc, const struct ims_principal *p, const char *id, bool with_extras,
                             struct ims_image *ret, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_image img;
    enum ims_rc rc = with_extras ? ims_repo_image_get(c, id, &img, err) : ims_repo_image_get_row(c, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    if (!can_see(c, p, &img)) {
        ims_image_release(&img);
        return ims_fail(err, IMS_E_NOTFOUND, "No image found with ID %s", id);
    }
    /* Allowed only through enterprise-project grants: the image must be in one. */
    if (!ims_authz_allows(p->authz, img.enterprise_project_id)) {
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Policy doesn't allow %s to be performed.",
                      ims_authz_denied_action(p->authz));
        ims_image_release(&img);
        return rc;
    }
    *ret = img;
    return IMS_OK;
}

enum ims_rc ims_images_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                           struct ims_image *ret, struct ims_err *err)
{
    return image_get(svc, p, id, true, ret, err);
}

bool ims_images_data_version(struct ims_service *svc, uint64_t *ret)
{
    return ims_db_signal_read(svc->db, IMS_SIGNAL_DATA, ret);
}

enum ims_rc ims_images_list(struct ims_service *svc, const struct ims_principal *p, const struct ims_image_query *q,
                            struct ims_image **ret, size_t *ret_n, struct ims_err *err)
{
    /* The marker is loaded once, here, where its visibility is checked; the
     * repository builds the keyset condition from its row (sort keys are
     * columns: its custom properties are not read). */
    struct ims_dbc *c = ims_db_conn(svc->db);
    ims_db_read_begin(c); /* the marker and the page from one snapshot */
    struct ims_image m;
    if (q->marker) {
        enum ims_rc rc = image_get(svc, p, q->marker, false, &m, err);
        if (rc != IMS_OK)
            ims_db_read_end(c);
        if (rc == IMS_E_NOTFOUND)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0027", "marker %s could not be found.", q->marker);
        if (rc != IMS_OK)
            return rc;
    }
    /* The decision's scope: all enterprise projects, those its grants list,
     * or (a Deny, or no decision) none. */
    struct ims_viewer v = {.project_id = p->project_id, .is_admin = p->is_admin, .ep_scope = IMS_EP_SCOPE_NONE};
    if (p->authz && p->authz->effect == IMS_AUTHZ_ALLOW) {
        v.ep_scope = p->authz->scope;
        v.eps = &p->authz->eps;
    }
    enum ims_rc rc = ims_repo_image_list(c, q, q->marker ? &m : NULL, &v, ret, ret_n, err);
    ims_db_read_end(c);
    if (q->marker)
        ims_image_release(&m);
    return rc;
}

/* The rules for changing an image the caller sees: 403 if not theirs,
 * 409 while a job writes it. */
static enum ims_rc check_modifiable(const struct ims_principal *p, const struct ims_image *img, struct ims_err *err)
{
    if (!ims_images_can_modify(p, img))
        return ims_fail(err, IMS_E_FORBIDDEN, "You are not permitted to modify image %s.", img->id);
    if (ims_image_job_owned(img))
        return ims_fail(err, IMS_E_CONFLICT, "Image %s is being written by a job and cannot be changed now.",
                        img->id);
    return IMS_OK;
}

/* Opens an edit of an image the caller may change. */
static enum ims_rc edit_modifiable(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_image_edit *edit, struct ims_err *err)
{
    enum ims_rc rc = ims_image_edit_begin(svc, p, id, edit, err);
    if (rc == IMS_OK && (rc = check_modifiable(p, &edit->image, err)) != IMS_OK)
        ims_image_edit_abort(edit);
    return rc;
}

enum ims_rc ims_images_patch(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             const struct ims_patch *patch, struct ims_image *ret, struct ims_err *err)
{
    struct ims_kvlist sizes = {0}; /* of the data locations name: asked of the stores before the edit */
    enum ims_rc rc = ims_image_locations_prepare(svc, p, id, patch, &sizes, err);
    struct ims_image_edit e;
    if (rc == IMS_OK)
        rc = edit_modifiable(svc, p, id, &e, err);
    if (rc != IMS_OK) {
        ims_kvlist_release(&sizes);
        return rc;
    }
    struct ims_patch rest;
    rc = ims_image_locations_apply(svc, p, &e.image, patch, &sizes, &rest, err);
    ims_kvlist_release(&sizes);
    if (rc == IMS_OK) {
        rc = ims_patch_apply(&rest, &e.image, p->is_admin, err);
        free(rest.ops);
    }
    if (rc == IMS_OK && ims_streq(e.image.visibility, "public") && !ims_streq(e.before.visibility, "public") &&
        !p->is_admin)
        rc = ims_fail(err, IMS_E_FORBIDDEN, "You are not authorized to complete publicize_image action.");
    if (rc != IMS_OK)
        return ims_image_edit_end(&e, rc, err);
    return ims_image_edit_commit(&e, ret, err);
}

enum ims_rc ims_images_delete(struct ims_service *svc, const struct ims_principal *p, const char *id,
                              struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = edit_modifiable(svc, p, id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (e.image.protected_)
        rc = ims_fail(err, IMS_E_FORBIDDEN, "Image %s is protected and cannot be deleted.", id);
    else if (ims_streq(e.image.status, "saving"))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s is being uploaded and cannot be deleted now.", id);
    else if (ims_whole_image_part(&e.image))
        rc = ims_fail(err, IMS_E_FORBIDDEN,
                      "Image %s is a data disk of a full-ECS image and cannot be deleted alone: delete the full-ECS "
                      "image.",
                      id);
    if (rc == IMS_OK)
        rc = ims_repo_image_delete(e.c, id, err);
    char *blob = IMS_TAKE_PTR(e.image.blob);
    struct ims_kvlist props = e.image.props;
    e.image.props = (struct ims_kvlist){0};
    rc = ims_image_edit_end(&e, rc, err);
    if (rc == IMS_OK) { /* after the commit: the row no longer references it */
        ims_blob_release(svc, blob);
        for (size_t i = 0; i < props.n; i++) /* nor its data in further stores */
            if (ims_str_startswith(props.items[i].key, IMS_PROP_COPY_PREFIX))
                ims_blob_release(svc, props.items[i].value);
        if (svc->cache) /* other nodes' caches drop it at their next sweep */
            ims_image_cache_drop_image(svc->cache, id);
        ims_whole_image_deleted(svc, &props); /* a full-ECS image's data-disk images go with it */
    }
    ims_kvlist_release(&props);
    free(blob);
    return rc;
}

enum ims_rc ims_images_deactivate(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                  bool deactivate, struct ims_err *err)
{
    const char *action = deactivate ? "deactivate" : "reactivate";
    /* Glance 25's default policy (ADMIN_OR_PROJECT_MEMBER): an admin, or the
     * image's own project; the image is looked up first, so one the caller
     * cannot see is 404 whatever its id. */
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_images_can_modify(p, &e.image))
        return ims_image_edit_end(&e, ims_fail(err, IMS_E_FORBIDDEN, "You are not authorized to complete %s action.",
                                               action),
                                  err);
    if ((rc = check_modifiable(p, &e.image, err)) != IMS_OK)
        return ims_image_edit_end(&e, rc, err);
    const char *from = deactivate ? "active" : "deactivated";
    const char *to = deactivate ? "deactivated" : "active";
    if (ims_streq(e.image.status, to))
        return ims_image_edit_end(&e, IMS_OK, err); /* Glance: idempotent */
    if (!ims_streq(e.image.status, from))
        return ims_image_edit_end(
            &e, ims_fail(err, IMS_E_FORBIDDEN, "Not allowed to %s image in status '%s'.", action, e.image.status), err);
    /* The write is conditional on the revision read in this transaction, so
     * the status moves from `from` only if nobody changed the image since. */
    snprintf(e.image.status, sizeof(e.image.status), "%s", to);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_images_tag(struct ims_service *svc, const struct ims_principal *p, const char *id, const char *tag,
                           bool add, struct ims_err *err)
{
    size_t len = strlen(tag);
    if (add && (len == 0 || len > IMS_IMAGE_TAG_MAX))
        return ims_fail(err, IMS_E_BADREQ, "Tag must have 1 to %d characters.", IMS_IMAGE_TAG_MAX);
    if (add && !ims_text_valid(tag))
        return ims_fail(err, IMS_E_BADREQ, "Tags must be valid UTF-8 without control characters.");
    struct ims_image_edit e;
    enum ims_rc rc = edit_modifiable(svc, p, id, &e, err);
    if (rc != IMS_OK)
        return rc;
    bool have = ims_strlist_contains(&e.image.tags, tag);
    if (add && !have) {
        if (e.image.tags.n >= IMS_IMAGE_TAGS_MAX)
            rc = ims_fail(err, IMS_E_TOOLARGE, "Maximum number of tags (%d) exceeded.", IMS_IMAGE_TAGS_MAX);
        else
            ims_strlist_add(&e.image.tags, tag);
    } else if (!add) {
        if (!have)
            rc = ims_fail(err, IMS_E_NOTFOUND, "Tag %s not found.", tag);
        else
            ims_strlist_remove(&e.image.tags, tag);
    }
    if (rc != IMS_OK || add == have) /* nothing to write */
        return ims_image_edit_end(&e, rc, err);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_images_open_data(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                 struct ims_image *ret_img, struct ims_blob_reader *ret, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    if (ims_streq(img.status, "deactivated") && !p->is_admin)
        rc = ims_fail(err, IMS_E_FORBIDDEN, "The requested image has been deactivated. Image data download is "
                                            "forbidden.");
    else if (img.blob && ims_image_cache_wanted(svc, &img))
        rc = ims_image_cache_open_read(svc, &img, ret, err); /* a remote store's data, through this node's cache */
    else if (img.blob && !ims_streq(img.status, "uploading"))
        rc = ims_image_open_any(svc, &img, ret, err); /* its own location, else a copy in another store */
    else { /* no data yet (staged data is not the image's until imported): ret_img->blob is NULL */
        free(IMS_TAKE_PTR(img.blob));
        *ret = (struct ims_blob_reader){.fd = -1};
    }
    if (rc != IMS_OK) {
        ims_image_release(&img);
        return rc;
    }
    *ret_img = img;
    return IMS_OK;
}
