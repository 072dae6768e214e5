/* SPDX-License-Identifier: Apache-2.0
 * Images from servers and their disks: the rules that read the compute
 * source and the repository when the request arrives (and again when the
 * job runs), which disk each image is made from, and the images'
 * attributes. Their data goes through lib/core/import_disk.c. */
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/authz.h"
#include "ims/compute_admin.h"
#include "ims/db.h"
#include "ims/images.h"
#include "ims/os_version.h"
#include "ims/quotas.h"
#include "ims/server_images.h"

#define GB (1LL << 30)

static struct ims_compute_source *source(struct ims_service *svc)
{
    return ims_compute_of(svc);
}

static enum ims_rc get_server(struct ims_service *svc, const struct ims_principal *p, const char *id,
                              struct ims_server *ret, struct ims_err *err)
{
    struct ims_compute_source *s = source(svc);
    enum ims_rc rc = s->ops->get_server(s, p->project_id, id, ret, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0005", "The ECS %.64s does not exist.", id);
    if (rc == IMS_E_FORBIDDEN)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0137", "Failed to obtain the VM information of %.64s.", id);
    return rc;
}

static enum ims_rc get_volume(struct ims_service *svc, const struct ims_principal *p, const char *id,
                              struct ims_volume *ret, struct ims_err *err)
{
    struct ims_compute_source *s = source(svc);
    enum ims_rc rc = s->ops->get_volume(s, p->project_id, id, ret, err);
    if (rc == IMS_E_NOTFOUND || rc == IMS_E_FORBIDDEN)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0120", "The data disk %.64s is unavailable.", id);
    return rc;
}

/* The data disks named must be data disks of server s (or, with s NULL, of
 * one server, whose id goes to server_id). */
static enum ims_rc check_data_disks(struct ims_service *svc, const struct ims_principal *p,
                                    const struct ims_server_image_request *r, const struct ims_server *s,
                                    char server_id[IMS_COMPUTE_ID_CAP], struct ims_err *err)
{
    for (size_t i = 0; i < r->n_data; i++) {
        const char *vid = r->data_images[i].volume_id;
        struct ims_volume v;
        enum ims_rc rc = get_volume(svc, p, vid, &v, err);
        if (rc != IMS_OK)
            return rc;
        const char *on = s ? s->id : server_id[0] ? server_id : NULL;
        if (!v.server_id || (on && !ims_streq(v.server_id, on)))
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0140",
                               "The data disk %s is not attached to the ECS the request names.", vid);
        else if (v.position == 0)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0022",
                               "The disk %s is the ECS's system disk, not a data disk.", vid);
        else if (!on)
            snprintf(server_id, IMS_COMPUTE_ID_CAP, "%s", v.server_id);
        ims_volume_release(&v);
        if (rc != IMS_OK)
            return rc;
    }
    return IMS_OK;
}

size_t ims_server_image_alone(const struct ims_server_image_request *r, const char *server_id,
                              struct ims_job_alone ret[2])
{
    size_t n = 0;
    if (server_id && server_id[0]) {
        struct ims_job_alone *a = &ret[n++];
        snprintf(a->needle, sizeof(a->needle), "\"%s\":\"%.64s\"", IMS_SERVER_JOB_KEY, server_id);
        snprintf(a->code, sizeof(a->code), "IMG.0010");
        snprintf(a->msg, sizeof(a->msg), "The ECS %.64s cannot be used to create an image: another image job reads it.",
                 server_id);
    }
    if (r->backup_id) {
        struct ims_job_alone *a = &ret[n++];
        snprintf(a->needle, sizeof(a->needle), "\"%s\":\"%.64s\"", IMS_BACKUP_JOB_KEY, r->backup_id);
        snprintf(a->code, sizeof(a->code), "%s", ims_streq(r->whole_image_type, "CBR") ? "IMG.0029" : "IMG.0134");
        snprintf(a->msg, sizeof(a->msg), "The backup %.64s has already been used to create an image.", r->backup_id);
    }
    return n;
}

enum ims_rc ims_server_image_check(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_server_image_request *r, char ret_server_id[IMS_COMPUTE_ID_CAP],
                                   struct ims_err *err)
{
    ret_server_id[0] = 0;
    if (!p->project_id[0])
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0030", "A project-scoped token is required to create images.");
    enum ims_rc rc = ims_ep_check_usable(svc, p, r->enterprise_project_id, err);
    if (rc == IMS_E_BADREQ)
        return ims_err_default_code(err, rc, "IMG.0155");
    if (rc != IMS_OK)
        return rc;
    int64_t n_images = (int64_t)ims_server_image_request_count(r);
    if (r->kind == IMS_SI_SERVER || r->kind == IMS_SI_WHOLE_SERVER) {
        struct ims_server s;
        if ((rc = get_server(svc, p, r->instance_id, &s, err)) != IMS_OK)
            return rc;
        snprintf(ret_server_id, IMS_COMPUTE_ID_CAP, "%s", s.id);
        if (s.nvolumes == 0)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0119", "The ECS %s has no system disk.", s.id);
        else if (r->kind == IMS_SI_SERVER)
            rc = check_data_disks(svc, p, r, &s, ret_server_id, err);
        else if (!source(svc)->ops->create_backup)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0180",
                               "The %s compute source makes no backups: full-ECS images come from its backups.",
                               source(svc)->ops->name);
        else if (source(svc)->ops->backup_possible)
            rc = source(svc)->ops->backup_possible(source(svc), &s, err);
        if (r->kind == IMS_SI_WHOLE_SERVER)
            n_images = (int64_t)s.nvolumes; /* the full-ECS image and one per data disk */
        ims_server_release(&s);
    } else if (r->kind == IMS_SI_DATA) {
        rc = check_data_disks(svc, p, r, NULL, ret_server_id, err);
    } else if (r->kind == IMS_SI_VOLUME) {
        struct ims_volume v;
        if ((rc = get_volume(svc, p, r->volume_id, &v, err)) != IMS_OK)
            return rc;
        if (v.position == 0)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0022",
                               "The disk %s is a system disk: make an image of its ECS instead.", v.id);
        else if (v.server_id)
            snprintf(ret_server_id, IMS_COMPUTE_ID_CAP, "%s", v.server_id);
        ims_volume_release(&v);
    } else {
        struct ims_backup b;
        if ((rc = ims_whole_backup_get(svc, p, r, r->backup_id, &b, err)) != IMS_OK)
            return rc;
        n_images = (int64_t)b.nvolumes;
        ims_backup_release(&b);
        rc = ims_whole_backup_unused(svc, p, r, err);
    }
    if (rc != IMS_OK)
        return rc;
    /* checked now for an early answer, and again where the job is recorded */
    struct ims_job_alone alone[2];
    size_t n_alone = ims_server_image_alone(r, ret_server_id, alone);
    if ((rc = ims_repo_jobs_alone_check(ims_db_conn(svc->db), p->project_id, alone, n_alone, err)) != IMS_OK)
        return rc;
    rc = ims_quota_check(svc, p->project_id, n_images, err);
    return rc == IMS_E_BADREQ ? ims_err_default_code(err, rc, "IMG.0015") : rc;
}

enum ims_rc ims_server_image_disk(struct ims_service *svc, const struct ims_principal *p,
                                  const struct ims_server_image_request *r, size_t which, struct ims_volume *ret,
                                  struct ims_err *err)
{
    if (r->kind == IMS_SI_VOLUME && which == 0)
        return get_volume(svc, p, r->volume_id, ret, err);
    if (which > r->n_data || (which == 0 && r->kind == IMS_SI_DATA))
        return ims_fail(err, IMS_E_INTERNAL, "no disk %zu in the request", which);
    if (which > 0) {
        /* the disk as it is now, still a data disk of one server */
        enum ims_rc rc = get_volume(svc, p, r->data_images[which - 1].volume_id, ret, err);
        if (rc == IMS_OK && (!ret->server_id || ret->position == 0 ||
                             (r->instance_id && !ims_streq(ret->server_id, r->instance_id)))) {
            ims_volume_release(ret);
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0140", "The data disk %s is no longer attached to the ECS.",
                                 r->data_images[which - 1].volume_id);
        }
        return rc;
    }
    struct ims_server s;
    enum ims_rc rc = get_server(svc, p, r->instance_id, &s, err);
    if (rc != IMS_OK)
        return rc;
    if (s.nvolumes == 0) {
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0119", "The ECS %s has no system disk.", s.id);
    } else {
        *ret = s.volumes[0];
        s.volumes[0] = (struct ims_volume){0};
    }
    ims_server_release(&s);
    return rc;
}

/* The server a request reads, for the OS and firmware of its images;
 * NULL-safe release. */
static bool server_of(struct ims_service *svc, const struct ims_principal *p, const char *id, struct ims_server *s)
{
    struct ims_err ignored;
    return id && get_server(svc, p, id, s, &ignored) == IMS_OK;
}

void ims_server_draft_base(struct ims_image *d, const struct ims_server_draft *b)
{
    snprintf(d->id, sizeof(d->id), "%s", b->id);
    ims_set_str(&d->name, b->name);
    snprintf(d->visibility, sizeof(d->visibility), "private");
    ims_set_str(&d->container_format, "bare");
    ims_set_str(&d->enterprise_project_id, b->r->enterprise_project_id);
    /* the disk's size, in whole GB: an instance needs at least that */
    d->min_disk = b->disk_size ? (int64_t)((b->disk_size + GB - 1) / GB) : 1;
    if (b->r->min_ram >= 0)
        d->min_ram = b->r->min_ram;
    if (b->tags)
        ims_strlist_copy(&d->tags, b->tags);
    struct ims_kvlist *props = &d->props;
    char buf[128];
    if (b->description)
        ims_kvlist_set(props, "__description", b->description);
    if (b->r->max_ram >= 0) {
        snprintf(buf, sizeof(buf), "%lld", (long long)b->r->max_ram);
        ims_kvlist_set(props, "max_ram", buf);
    }
    bool bms = ims_streq(b->r->type, "BMS") || ims_streq(b->r->type, "Ironic");
    ims_kvlist_set(props, "virtual_env_type", b->data ? "DataImage" : bms ? "Ironic" : "FusionCompute");
    ims_kvlist_set(props, "__imagetype", "private");
    ims_kvlist_set(props, "__isregistered", "true");
    ims_kvlist_set(props, "__image_source_type", "uds");
    /* made from a disk, not from another image; and not from an external
     * file, the only origin __root_origin names ("file"): none here */
    ims_kvlist_set(props, "__originalimagename", "");
    ims_kvlist_set(props, "__lazyloading", "false");
    ims_kvlist_set(props, "__is_auto_config", "false");
    ims_kvlist_set(props, "__data_origin", b->origin);
    const struct ims_os_version *os = b->os_version ? ims_os_table_find(ims_os_table_builtin(), b->os_version) : NULL;
    if (b->data) {
        ims_kvlist_set(props, "__os_type", os && ims_streq(os->os_type, "Windows") ? "Windows" : "Linux");
        return;
    }
    if (os)
        ims_kvlist_set(props, "__os_version", os->os_version); /* __platform, __os_type, __os_bit from the table */
    if (b->firmware)
        ims_kvlist_set(props, "hw_firmware_type", b->firmware);
}

static void draft_of(const struct ims_server_image_request *r, size_t which, const struct ims_volume *disk,
                     const struct ims_server *server, const char *id, struct ims_image *d)
{
    bool data = which > 0;
    const struct ims_server_data_image *di = data ? &r->data_images[which - 1] : NULL;
    char origin[128];
    /* where the data came from: the server for its system disk, else the disk */
    if (!data && r->kind == IMS_SI_SERVER)
        snprintf(origin, sizeof(origin), "instance,%s", r->instance_id);
    else
        snprintf(origin, sizeof(origin), "volume,%s", disk->id);
    struct ims_server_draft b = {
        .r = r, .id = id, .name = data ? di->name : r->name, .description = data ? di->description : r->description,
        .tags = data ? &di->tags : &r->tags, .disk_size = disk->size, .data = data, .origin = origin,
        .os_version = r->kind == IMS_SI_VOLUME ? r->os_version : server ? server->os_version : NULL,
        .firmware = server && r->kind == IMS_SI_SERVER ? ims_firmware_name(server->firmware) : NULL,
    };
    ims_server_draft_base(d, &b);
}

enum ims_rc ims_server_image_create(struct ims_service *svc, const struct ims_principal *p,
                                    const struct ims_server_image_request *r, size_t which,
                                    const struct ims_volume *disk, const char *id, struct ims_err *err)
{
    struct ims_image have;
    if (ims_repo_image_get(ims_db_conn(svc->db), id, &have, NULL) == IMS_OK) {
        bool mine = ims_streq(have.owner, p->project_id);
        ims_image_release(&have);
        return mine ? IMS_OK : ims_fail(err, IMS_E_CONFLICT, "Image %s belongs to another project.", id);
    }
    struct ims_server s;
    const char *sid = r->instance_id ? r->instance_id : disk->server_id;
    bool have_server = server_of(svc, p, sid, &s);
    struct ims_image d;
    ims_image_init(&d);
    draft_of(r, which, disk, have_server ? &s : NULL, id, &d);
    enum ims_rc rc = ims_images_create(svc, p, &d, err);
    ims_image_release(&d);
    if (have_server)
        ims_server_release(&s);
    return rc == IMS_E_BADREQ ? ims_err_default_code(err, rc, "IMG.0061") : rc;
}
