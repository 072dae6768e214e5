/* SPDX-License-Identifier: Apache-2.0
 * The inventory compute source: servers, volumes and backups an
 * administrator registered, kept in the repository (lib/db/repo_compute.c).
 * Registration checks every disk: a local file or an object in object
 * storage must exist and pass the format inspector (which gives its format
 * and virtual size). A backup copies its server's disks into
 * <dir>/compute/backups/<backup id>/ (local files reflinked where the
 * file system shares blocks, objects fetched), so later writes to the
 * server's disks do not reach it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute-int.h"
#include "ims/db.h"
#include "ims/obs.h"
#include "ims/os_version.h"

struct inventory {
    struct ims_compute_source base;
    char *dir; /* <data dir>/compute */
    struct ims_db *db;
    int64_t grace_seconds; /* an unrecorded backup directory this old is an interrupted backup's */
    struct ims_obs *obs;   /* where bucket:object disks are (NULL: none) */
};

static struct inventory *inv_of(struct ims_compute_source *s) { return (struct inventory *)s; }

static enum ims_rc conn(struct ims_compute_source *s, struct ims_dbc **ret, struct ims_err *err)
{
    struct inventory *inv = inv_of(s);
    if (!inv->db)
        return ims_fail(err, IMS_E_INTERNAL, "the inventory is not attached to a repository");
    *ret = ims_db_conn(inv->db);
    return IMS_OK;
}

static enum ims_rc make_dir(const char *path, struct ims_err *err)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", path, strerror(errno));
    return IMS_OK;
}

static void remove_backup_files(const struct inventory *inv, const char *id, size_t n);

/* A backup copies its files before its row is written: a process killed
 * in between leaves a directory no backup names. Such directories older
 * than the grace period are removed (younger ones may be another
 * process's backup in progress). */
static void recover_orphans(struct inventory *inv, const char *backups)
{
    DIR *d = opendir(backups);
    if (!d)
        return;
    struct ims_dbc *c = ims_db_conn(inv->db);
    int64_t now = ims_now();
    size_t removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!ims_uuid_valid(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) || now - (int64_t)st.st_mtime < inv->grace_seconds)
            continue;
        struct ims_backup b;
        struct ims_err err;
        enum ims_rc rc = ims_repo_backup_get(c, e->d_name, &b, &err);
        if (rc == IMS_OK) {
            ims_backup_release(&b);
            continue;
        }
        if (rc != IMS_E_NOTFOUND)
            break;
        remove_backup_files(inv, e->d_name, IMS_SERVER_DISKS_MAX);
        removed++;
    }
    closedir(d);
    if (removed)
        ims_info("compute: recovery removed %zu interrupted backup(s)' copies", removed);
}

static enum ims_rc inv_attach(struct ims_compute_source *s, struct ims_db *db, struct ims_err *err)
{
    struct inventory *inv = inv_of(s);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/backups", inv->dir);
    enum ims_rc rc = make_dir(inv->dir, err);
    if (rc == IMS_OK)
        rc = make_dir(path, err);
    if (rc == IMS_OK) {
        inv->db = db;
        recover_orphans(inv, path);
    }
    return rc;
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
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(s, &c, err);
    return rc == IMS_OK ? ims_repo_backup_list(c, project_id, ret, ret_n, err) : rc;
}

static enum ims_rc inv_get_backup(struct ims_compute_source *s, const char *project_id, const char *id,
                                  struct ims_backup *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_backup b;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK)
        rc = ims_repo_backup_get(c, id, &b, err);
    if (rc != IMS_OK)
        return rc;
    if (project_id && !ims_streq(project_id, b.project_id)) {
        ims_backup_release(&b);
        return other_project(err, "IMG.0133", "Backup", id);
    }
    *ret = b;
    return IMS_OK;
}

/* A volume record for a disk reference: its format and virtual size from
 * the inspector, over the local file or the object in object storage. */
static enum ims_rc volume_for(struct inventory *inv, const char *disk, const char *project_id, int64_t now,
                              struct ims_volume *v, struct ims_err *err)
{
    *v = (struct ims_volume){.position = -1, .created_at = now};
    enum ims_rc rc = ims_disk_ref_check(disk, err);
    if (rc == IMS_OK)
        rc = ims_disk_ref_is_obs(disk) ? ims_compute_obs_disk_inspect(inv->obs, disk, &v->format, &v->size, err)
                                       : ims_compute_disk_inspect(disk, &v->format, &v->size, err);
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

/* A backup's files: <dir>/backups/<id>/disk<i>, named from ids alone. */
static void backup_path(const struct inventory *inv, const char *id, int i, char *out, size_t cap)
{
    if (i < 0)
        snprintf(out, cap, "%s/backups/%s", inv->dir, id);
    else
        snprintf(out, cap, "%s/backups/%s/disk%d", inv->dir, id, i);
}

static void remove_backup_files(const struct inventory *inv, const char *id, size_t n)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < n; i++) {
        backup_path(inv, id, (int)i, path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT)
            ims_warn("compute: cannot remove %s: %s", path, strerror(errno));
    }
    backup_path(inv, id, -1, path, sizeof(path));
    if (rmdir(path) != 0 && errno != ENOENT)
        ims_warn("compute: cannot remove %s: %s", path, strerror(errno));
}

static enum ims_rc inv_create_backup(struct ims_compute_source *s, const char *server_id, const char *id,
                                     struct ims_backup *ret, struct ims_err *err)
{
    if (id && !ims_uuid_valid(id))
        return ims_fail(err, IMS_E_INTERNAL, "a backup id must be a UUID");
    struct inventory *inv = inv_of(s);
    struct ims_dbc *c = NULL;
    struct ims_server srv;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK && id) {
        struct ims_backup have;
        rc = ims_repo_backup_get(c, id, &have, err);
        if (rc == IMS_OK) {
            ims_backup_release(&have);
            return ims_fail(err, IMS_E_CONFLICT, "backup %s exists already", id);
        }
        rc = rc == IMS_E_NOTFOUND ? IMS_OK : rc;
    }
    if (rc == IMS_OK)
        rc = ims_repo_server_get(c, server_id, &srv, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_backup b = {
        .project_id = ims_xstrdup(srv.project_id),
        .server_name = ims_xstrdup(srv.name),
        .os_version = srv.os_version ? ims_xstrdup(srv.os_version) : NULL,
        .firmware = srv.firmware,
        .created_at = ims_now(),
        .volumes = ims_xcalloc(srv.nvolumes ? srv.nvolumes : 1, sizeof(struct ims_volume)),
    };
    if (id) {
        /* copies an interrupted attempt of this backup left (it has no row:
         * the caller found none) */
        snprintf(b.id, sizeof(b.id), "%s", id);
        remove_backup_files(inv, b.id, IMS_SERVER_DISKS_MAX);
    } else {
        ims_uuid_new(b.id);
    }
    snprintf(b.server_id, sizeof(b.server_id), "%s", srv.id);
    char path[PATH_MAX];
    backup_path(inv, b.id, -1, path, sizeof(path));
    rc = make_dir(path, err);
    size_t reflinked = 0;
    for (size_t i = 0; rc == IMS_OK && i < srv.nvolumes; i++) {
        const struct ims_volume *from = &srv.volumes[i];
        backup_path(inv, b.id, (int)i, path, sizeof(path));
        bool shared = false;
        rc = ims_disk_ref_is_obs(from->disk) ? ims_compute_copy_obs(inv->obs, from->disk, path, err)
                                             : ims_compute_copy_file(from->disk, path, &shared, err);
        if (rc != IMS_OK)
            break;
        reflinked += shared;
        struct ims_volume *to = &b.volumes[b.nvolumes++];
        snprintf(to->id, sizeof(to->id), "%s", from->id);
        to->project_id = ims_xstrdup(from->project_id);
        to->server_id = ims_xstrdup(srv.id);
        to->position = (int)i;
        to->size = from->size;
        to->disk = ims_xstrdup(path);
        to->format = from->format ? ims_xstrdup(from->format) : NULL;
        to->created_at = b.created_at;
    }
    /* Recorded only if the server still has the disks that were copied. */
    if (rc == IMS_OK)
        rc = ims_repo_backup_insert(c, &b, srv.revision, err);
    size_t copied = b.nvolumes;
    ims_server_release(&srv);
    if (rc != IMS_OK) {
        remove_backup_files(inv, b.id, copied);
        ims_backup_release(&b);
        return rc;
    }
    ims_info("compute: backup %s of server %s: %zu disk(s), %zu reflinked", b.id, b.server_id, copied, reflinked);
    *ret = b;
    return IMS_OK;
}

static enum ims_rc inv_remove_backup(struct ims_compute_source *s, const char *id, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_backup b;
    enum ims_rc rc = conn(s, &c, err);
    if (rc == IMS_OK)
        rc = ims_repo_backup_get(c, id, &b, err);
    if (rc != IMS_OK)
        return rc;
    size_t n = b.nvolumes;
    ims_backup_release(&b);
    if ((rc = ims_repo_backup_delete(c, id, err)) == IMS_OK)
        remove_backup_files(inv_of(s), id, n);
    return rc;
}

static void inv_close(struct ims_compute_source *s)
{
    if (!s)
        return;
    struct inventory *inv = inv_of(s);
    free(inv->dir);
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
    inv->dir = ims_xasprintf("%s/compute", dir);
    inv->grace_seconds = grace_seconds;
    inv->obs = obs;
    *ret = &inv->base;
    return IMS_OK;
}
