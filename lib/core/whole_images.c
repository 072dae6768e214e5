/* SPDX-License-Identifier: Apache-2.0
 * Full-ECS images (reference creating_a_full-ecs_image): one image of a
 * whole server made from a backup of it. From a server, the job first
 * backs the server up through the compute source (as the reference does:
 * "create a backup from the ECS and then use the backup"); from a backup
 * it takes that backup. The full-ECS image (__whole_image=true,
 * __backup_id) holds the system disk's data and references, in
 * __whole_image_disks, one hidden data-disk image per data disk; deleting
 * it deletes them. A backup's raw disk copies never change, so their data
 * is hard-linked into the store instead of copied: the file system counts
 * the names, and the data stays while the backup or the image has it. */
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/compute_admin.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/server_images.h"

static bool cbr(const struct ims_server_image_request *r)
{
    return ims_streq(r->whole_image_type, "CBR");
}

const char *ims_whole_backup_action(const struct ims_server_image_request *r)
{
    if (r->kind == IMS_SI_WHOLE_SERVER)
        return r->vault_id ? "cbr:vaults:backup" : "csbs:backup:create";
    return cbr(r) ? "cbr:backups:get" : "csbs:backup:get";
}

enum ims_rc ims_whole_backup_get(struct ims_service *svc, const struct ims_principal *p,
                                 const struct ims_server_image_request *r, const char *backup_id,
                                 struct ims_backup *ret, struct ims_err *err)
{
    struct ims_compute_source *s = ims_compute_of(svc);
    enum ims_rc rc = s->ops->get_backup(s, p->project_id, backup_id, ret, err);
    if (rc == IMS_E_NOTFOUND)
        return r->kind == IMS_SI_WHOLE_BACKUP && !cbr(r)
                   ? ims_fail_code(err, IMS_E_BADREQ, "IMG.0127", "The CSBS backup %.64s does not exist.", backup_id)
                   : ims_fail_code(err, IMS_E_BADREQ, "IMG.0020", "The backup %.64s does not exist.", backup_id);
    if (rc == IMS_E_FORBIDDEN)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0133", "You are not allowed to access the backup %.64s.",
                             backup_id);
    if (rc == IMS_OK && ret->nvolumes == 0) {
        ims_backup_release(ret);
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0033", "The backup %s holds no system disk.", backup_id);
    }
    return rc;
}

enum ims_rc ims_whole_backup_unused(struct ims_service *svc, const struct ims_principal *p,
                                    const struct ims_server_image_request *r, struct ims_err *err)
{
    bool used = false;
    (void)p;
    enum ims_rc rc = ims_repo_image_prop_exists(ims_db_conn(svc->db), "__backup_id", r->backup_id, &used, err);
    if (rc == IMS_OK && used)
        rc = ims_fail_code(err, IMS_E_BADREQ, cbr(r) ? "IMG.0029" : "IMG.0134",
                           "The backup %s has already been used to create an image.", r->backup_id);
    return rc;
}

enum ims_rc ims_whole_backup_make(struct ims_service *svc, const struct ims_principal *p, const char *server_id,
                                  const char *id, struct ims_backup *ret, struct ims_err *err)
{
    struct ims_compute_source *s = ims_compute_of(svc);
    if (s->ops->get_backup(s, p->project_id, id, ret, err) == IMS_OK)
        return IMS_OK; /* made before a restart */
    struct ims_server srv;
    /* the server must still be the caller's */
    enum ims_rc rc = s->ops->get_server(s, p->project_id, server_id, &srv, err);
    if (rc == IMS_E_NOTFOUND || rc == IMS_E_FORBIDDEN)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0005", "The ECS %.64s does not exist.", server_id);
    if (rc != IMS_OK)
        return rc;
    ims_server_release(&srv);
    if (!s->ops->create_backup)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0180", "The compute source makes no backups.");
    rc = s->ops->create_backup(s, server_id, id, ret, err);
    if (rc == IMS_E_CONFLICT) /* the server changed while it was copied */
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0136", "The ECS %s changed while it was backed up.", server_id);
    return rc;
}

void ims_whole_backup_remove(struct ims_service *svc, const char *backup_id)
{
    struct ims_compute_source *s = ims_compute_of(svc);
    struct ims_err err;
    if (s->ops->remove_backup && s->ops->remove_backup(s, backup_id, &err) != IMS_OK && err.code[0] != 0)
        ims_warn("could not remove backup %s of a failed full-ECS image: %s", backup_id, err.msg);
}

enum ims_rc ims_whole_image_create(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_server_image_request *r, const struct ims_backup *b, size_t which,
                                   const char *id, const char *name, const char *disk_ids, struct ims_err *err)
{
    struct ims_image have;
    if (ims_repo_image_get(ims_db_conn(svc->db), id, &have, NULL) == IMS_OK) {
        bool mine = ims_streq(have.owner, p->project_id);
        ims_image_release(&have);
        return mine ? IMS_OK : ims_fail(err, IMS_E_CONFLICT, "Image %s belongs to another project.", id);
    }
    if (which >= b->nvolumes)
        return ims_fail(err, IMS_E_INTERNAL, "backup %s has no disk %zu", b->id, which);
    char origin[128];
    snprintf(origin, sizeof(origin), "server_backup,%s", b->id);
    bool data = which > 0;
    struct ims_server_draft base = {
        .r = r, .id = id, .name = data ? name : r->name, .description = data ? NULL : r->description,
        .tags = data ? NULL : &r->tags, .disk_size = b->volumes[which].size, .data = data, .origin = origin,
        .os_version = b->os_version, .firmware = ims_firmware_name(b->firmware),
    };
    struct ims_image d;
    ims_image_init(&d);
    ims_server_draft_base(&d, &base);
    ims_kvlist_set(&d.props, "__backup_id", b->id);
    if (!data) {
        ims_kvlist_set(&d.props, "__whole_image", "true");
        ims_kvlist_set(&d.props, "__whole_image_disks", disk_ids ? disk_ids : "");
    } else {
        d.os_hidden = true; /* a part of the full-ECS image, not an image of its own */
    }
    enum ims_rc rc = ims_images_create(svc, p, &d, err);
    ims_image_release(&d);
    return rc == IMS_E_BADREQ ? ims_err_default_code(err, rc, "IMG.0061") : rc;
}

bool ims_whole_image_part(const struct ims_image *img)
{
    const struct ims_kvlist *props = &img->props;
    const char *backup = ims_kvlist_get(props, "__backup_id"); /* every image has it, empty if not from a backup */
    return backup && *backup && !ims_streq(ims_kvlist_get(props, "__whole_image"), "true");
}

void ims_whole_image_deleted(struct ims_service *svc, const struct ims_kvlist *props)
{
    const char *ids = ims_kvlist_get(props, "__whole_image_disks");
    if (!ids || !ims_streq(ims_kvlist_get(props, "__whole_image"), "true"))
        return;
    char *list = ims_xstrdup(ids), *save = NULL;
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save))
        ims_import_discard(svc, id);
    free(list);
}
