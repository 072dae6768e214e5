/* SPDX-License-Identifier: Apache-2.0
 * The inventory compute source: servers, volumes and backups an
 * administrator registered, kept in the repository (lib/db/repo_compute.c).
 * Registration checks every disk: a local file or an object in object
 * storage must exist and pass the format inspector (which gives its format
 * and virtual size). Backups are the compute sources' shared ones
 * (backups.c), recorded only while the server's row is unchanged. */
#include <stdio.h>
#include <string.h>

#include "compute-int.h"
#include "ims/db.h"
#include "ims/obs.h"
#include "ims/os_version.h"

struct inventory {
    struct ims_compute_source base;
    struct ims_backup_copies backups; /* dir: <data dir>/compute; db: the repository; obs */
};

static struct inventory *inv_of(struct ims_compute_source *s) { return (struct inventory *)s; }

static enum ims_rc conn(struct ims_compute_source *s, struct ims_dbc **ret, struct ims_err *err)
{
    struct inventory *inv = inv_of(s);
    if (!inv->backups.db)
        return ims_fail(err, IMS_E_INTERNAL, "the inventory is not attached to a repository");
    *ret = ims_db_conn(inv->backups.db);
    return IMS_OK;
}

static enum ims_rc inv_attach(struct ims_compute_source *s, struct ims_db *db, struct ims_err *err)
{
    return ims_backup_copies_attach(&inv_of(s)->backups, db, err);
}

static enum ims_rc other_project(struct ims_err *err, const char *code, const char *what, const char *id)
{
    return ims_fail_code(err, IMS_E_FORBIDDEN, code, "%s %s belongs to another project.", what, id);
}

static enum ims_rc inv_list_servers(struct ims_compute_source *s, const char *project_id, struct ims_server **ret,
                                    size_t *ret_n, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    return rc == IMS_OK ? ims_repo_server_list(c, project_id, ret, ret_n, err) : rc;
}

static enum ims_rc inv_get_server(struct ims_compute_source *s, const char *project_id, const char *id,
                                  struct ims_server *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_server srv;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK)
        rc = ims_repo_server_get(c, id, &srv, err);
    if (rc != IMS_OK)
        return rc;
    if (project_id && !ims_streq(project_id, srv.project_id)) {
        ims_server_release(&srv);
        return other_project(err, "IMG.0137", "Server", id);
    }
    *ret = srv;
    return IMS_OK;
}

static enum ims_rc inv_list_volumes(struct ims_compute_source *s, const char *project_id, struct ims_volume **ret,
                                    size_t *ret_n, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    return rc == IMS_OK ? ims_repo_volume_list(c, project_id, ret, ret_n, err) : rc;
}

static enum ims_rc inv_get_volume(struct ims_compute_source *s, const char *project_id, const char *id,
                                  struct ims_volume *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_volume v;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK)
        rc = ims_repo_volume_get(c, id, &v, err);
    if (rc != IMS_OK)
        return rc;
    if (project_id && !ims_streq(project_id, v.project_id)) {
        ims_volume_release(&v);
        return other_project(err, "IMG.0120", "Volume", id);
    }
    *ret = v;
    return IMS_OK;
}

static enum ims_rc inv_list_backups(struct ims_compute_source *s, const char *project_id, struct ims_backup **ret,
                                    size_t *ret_n, struct ims_err *err)
{
    return ims_backup_copies_list(&inv_of(s)->backups, project_id, ret, ret_n, err);
}

static enum ims_rc inv_get_backup(struct ims_compute_source *s, const char *project_id, const char *id,
                                  struct ims_backup *ret, struct ims_err *err)
{
    return ims_backup_copies_get(&inv_of(s)->backups, project_id, id, ret, err);
}

/* A volume record for a disk reference: its format and virtual size from
 * the inspector, over the local file or the object in object storage. */
static enum ims_rc volume_for(struct inventory *inv, const char *disk, const char *project_id, int64_t now,
                              struct ims_volume *v, struct ims_err *err)
{
    *v = (struct ims_volume){.position = -1, .created_at = now};
    enum ims_rc rc = ims_disk_ref_check(disk, err);
    if (rc == IMS_OK)
        rc = ims_disk_ref_is_obs(disk) ? ims_compute_obs_disk_inspect(inv->backups.obs, disk, &v->format, &v->size, err)
                                       : ims_compute_disk_inspect(disk, NULL, &v->format, &v->size, err);
    if (rc != IMS_OK)
        return rc;
    ims_uuid_new(v->id);
    v->project_id = ims_xstrdup(project_id);
    v->disk = ims_xstrdup(disk);
    return IMS_OK;
}

static enum ims_rc check_project(const char *project_id, struct ims_err *err)
{
    if (!project_id || !*project_id || strlen(project_id) > 64 || !ims_text_valid(project_id))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "A project id is required.");
    return IMS_OK;
}

static enum ims_rc inv_add_server(struct ims_compute_source *s, const struct ims_server_spec *spec,
                                  struct ims_server *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    if (rc != IMS_OK)
        return rc;
    size_t name_len = spec->name ? strlen(spec->name) : 0;
    if (name_len == 0 || name_len > IMS_SERVER_NAME_MAX || !ims_text_valid(spec->name))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "A server name has 1 to %d characters of valid text.",
                             IMS_SERVER_NAME_MAX);
    if ((rc = check_project(spec->project_id, err)) != IMS_OK)
        return rc;
    if (!spec->os_version || !ims_os_table_find(ims_os_table_builtin(), spec->os_version))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0056",
                             "Unknown os_version '%s': see GET /v1/cloudimages/os_version.",
                             ims_compute_shown(spec->os_version ? spec->os_version : ""));
    if (spec->ram_mb < 0 || spec->ram_mb > IMS_SERVER_RAM_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0055", "ram must be between 0 and %lld MB.",
                             (long long)IMS_SERVER_RAM_MAX);
    if (spec->ndisks == 0 || spec->ndisks > IMS_SERVER_DISKS_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0119", "A server has 1 to %d disks (the first is its system disk).",
                             IMS_SERVER_DISKS_MAX);
    int64_t now = ims_now();
    struct ims_server srv = {
        .name = ims_xstrdup(spec->name),
        .project_id = ims_xstrdup(spec->project_id),
        .os_version = ims_xstrdup(spec->os_version),
        .state = spec->state,
        .firmware = spec->firmware,
        .ram_mb = spec->ram_mb,
        .created_at = now,
        .updated_at = now,
        .volumes = ims_xcalloc(spec->ndisks, sizeof(struct ims_volume)),
    };
    ims_uuid_new(srv.id);
    for (size_t i = 0; rc == IMS_OK && i < spec->ndisks; i++) {
        rc = volume_for(inv_of(s), spec->disks[i], spec->project_id, now, &srv.volumes[i], err);
        if (rc == IMS_OK) {
            srv.nvolumes++;
            srv.volumes[i].server_id = ims_xstrdup(srv.id);
            srv.volumes[i].position = (int)i;
        }
    }
    if (rc == IMS_OK)
        rc = ims_repo_server_insert(c, &srv, err);
    if (rc != IMS_OK) {
        ims_server_release(&srv);
        return rc;
    }
    *ret = srv;
    return IMS_OK;
}

static enum ims_rc inv_remove_server(struct ims_compute_source *s, const char *id, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    return rc == IMS_OK ? ims_repo_server_delete(c, id, err) : rc;
}

static enum ims_rc inv_set_server_state(struct ims_compute_source *s, const char *id, enum ims_server_state state,
                                        struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    return rc == IMS_OK ? ims_repo_server_set_state(c, id, state, ims_now(), err) : rc;
}

static enum ims_rc inv_add_volume(struct ims_compute_source *s, const struct ims_volume_spec *spec,
                                  struct ims_volume *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK)
        rc = check_project(spec->project_id, err);
    struct ims_volume v = {0};
    if (rc == IMS_OK)
        rc = volume_for(inv_of(s), spec->disk, spec->project_id, ims_now(), &v, err);
    if (rc == IMS_OK && spec->server_id)
        v.server_id = ims_xstrdup(spec->server_id);
    int position = -1;
    if (rc == IMS_OK)
        rc = ims_repo_volume_insert(c, &v, &position, err);
    if (rc != IMS_OK) {
        ims_volume_release(&v);
        return rc;
    }
    v.position = position;
    *ret = v;
    return IMS_OK;
}

static enum ims_rc inv_remove_volume(struct ims_compute_source *s, const char *id, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    return rc == IMS_OK ? ims_repo_volume_delete(c, id, err) : rc;
}

static enum ims_rc inv_create_backup(struct ims_compute_source *s, const char *server_id, const char *id,
                                     struct ims_backup *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_server srv;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK)
        rc = ims_repo_server_get(c, server_id, &srv, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_backup_copies_create(&inv_of(s)->backups, &srv, srv.revision, NULL, NULL, id, ret, err);
    ims_server_release(&srv);
    return rc;
}

static enum ims_rc inv_remove_backup(struct ims_compute_source *s, const char *id, struct ims_err *err)
{
    return ims_backup_copies_remove(&inv_of(s)->backups, id, err);
}

static void inv_close(struct ims_compute_source *s)
{
    if (!s)
        return;
    struct inventory *inv = inv_of(s);
    free(inv->backups.dir);
    free(inv);
}

static const struct ims_compute_ops inventory_ops = {
    .name = "inventory",
    .attach = inv_attach,
    .list_servers = inv_list_servers,
    .get_server = inv_get_server,
    .list_volumes = inv_list_volumes,
    .get_volume = inv_get_volume,
    .list_backups = inv_list_backups,
    .get_backup = inv_get_backup,
    .add_server = inv_add_server,
    .remove_server = inv_remove_server,
    .set_server_state = inv_set_server_state,
    .add_volume = inv_add_volume,
    .remove_volume = inv_remove_volume,
    .create_backup = inv_create_backup,
    .remove_backup = inv_remove_backup,
    .close = inv_close,
};

enum ims_rc ims_compute_inventory_open(const char *dir, int64_t grace_seconds, struct ims_obs *obs,
                                       struct ims_compute_source **ret, struct ims_err *err)
{
    if (!dir || !*dir)
        return ims_fail(err, IMS_E_INTERNAL, "the inventory needs a directory");
    struct inventory *inv = ims_xcalloc(1, sizeof(*inv));
    inv->base.ops = &inventory_ops;
    inv->backups = (struct ims_backup_copies){
        .dir = ims_xasprintf("%s/compute", dir), .grace_seconds = grace_seconds, .obs = obs};
    *ret = &inv->base;
    return IMS_OK;
}
