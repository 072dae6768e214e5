/* SPDX-License-Identifier: Apache-2.0
 * Backups as the compute sources keep them (the stand-in for CBR): a
 * backup copies its server's disks into <dir>/backups/<backup id>/disk<i>
 * (local files reflinked where the file system shares blocks, objects
 * fetched), so later writes to the server's disks do not reach it, and is
 * recorded in the repository (lib/db/repo_compute.c) once its copies are
 * complete. The inventory and libvirt sources share this; a running libvirt
 * domain's disks are written there by the hypervisor (a copier) instead of
 * copied file by file. */
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

static enum ims_rc conn(const struct ims_backup_copies *bc, struct ims_dbc **ret, struct ims_err *err)
{
    if (!bc->db)
        return ims_fail(err, IMS_E_INTERNAL, "the compute source is not attached to a repository");
    *ret = ims_db_conn(bc->db);
    return IMS_OK;
}

static enum ims_rc make_dir(const char *path, struct ims_err *err)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", path, strerror(errno));
    return IMS_OK;
}

/* A backup's files: <dir>/backups/<id>/disk<i>, named from ids alone. */
static void backup_path(const struct ims_backup_copies *bc, const char *id, int i, char *out, size_t cap)
{
    if (i < 0)
        snprintf(out, cap, "%s/backups/%s", bc->dir, id);
    else
        snprintf(out, cap, "%s/backups/%s/disk%d", bc->dir, id, i);
}

static void remove_files(const struct ims_backup_copies *bc, const char *id, size_t n)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < n; i++) {
        backup_path(bc, id, (int)i, path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT)
            ims_warn("compute: cannot remove %s: %s", path, strerror(errno));
    }
    backup_path(bc, id, -1, path, sizeof(path));
    if (rmdir(path) != 0 && errno != ENOENT)
        ims_warn("compute: cannot remove %s: %s", path, strerror(errno));
}

/* A backup copies its files before its row is written: a process killed
 * in between leaves a directory no backup names. Such directories older
 * than the grace period are removed (younger ones may be another
 * process's backup in progress). */
static void recover_orphans(struct ims_backup_copies *bc, const char *backups)
{
    DIR *d = opendir(backups);
    if (!d)
        return;
    struct ims_dbc *c = ims_db_conn(bc->db);
    int64_t now = ims_now();
    size_t removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!ims_uuid_valid(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            now - (int64_t)st.st_mtime < bc->grace_seconds)
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
        remove_files(bc, e->d_name, IMS_SERVER_DISKS_MAX);
        removed++;
    }
    closedir(d);
    if (removed)
        ims_info("compute: recovery removed %zu interrupted backup(s)' copies", removed);
}

enum ims_rc ims_backup_copies_attach(struct ims_backup_copies *bc, struct ims_db *db, struct ims_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/backups", bc->dir);
    enum ims_rc rc = make_dir(bc->dir, err);
    if (rc == IMS_OK)
        rc = make_dir(path, err);
    if (rc == IMS_OK) {
        bc->db = db;
        recover_orphans(bc, path);
    }
    return rc;
}

enum ims_rc ims_backup_copies_list(const struct ims_backup_copies *bc, const char *project_id,
                                   struct ims_backup **ret, size_t *ret_n, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(bc, &c, err);
    return rc == IMS_OK ? ims_repo_backup_list(c, project_id, ret, ret_n, err) : rc;
}

/* Backup id's row, and the connection it was read on. */
static enum ims_rc read_backup(const struct ims_backup_copies *bc, const char *id, struct ims_dbc **ret_c,
                               struct ims_backup *ret, struct ims_err *err)
{
    enum ims_rc rc = conn(bc, ret_c, err);
    return rc == IMS_OK ? ims_repo_backup_get(*ret_c, id, ret, err) : rc;
}

enum ims_rc ims_backup_copies_get(const struct ims_backup_copies *bc, const char *project_id, const char *id,
                                  struct ims_backup *ret, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_backup b;
    enum ims_rc rc = read_backup(bc, id, &c, &b, err);
    if (rc != IMS_OK)
        return rc;
    if (project_id && !ims_streq(project_id, b.project_id)) {
        ims_backup_release(&b);
        return ims_fail_code(err, IMS_E_FORBIDDEN, "IMG.0133", "Backup %s belongs to another project.", id);
    }
    *ret = b;
    return IMS_OK;
}

/* Every disk of srv written by the copier at once, into the backup's
 * directory under its absolute path (the hypervisor may not share our
 * working directory). */
static enum ims_rc copy_at_once(const struct ims_backup_copies *bc, const struct ims_server *srv, const char *id,
                                const struct ims_backup_copier *copier, struct ims_err *err)
{
    char path[PATH_MAX], dir[PATH_MAX];
    backup_path(bc, id, -1, path, sizeof(path));
    if (!realpath(path, dir))
        return ims_fail(err, IMS_E_IO, "cannot resolve %s: %s", path, strerror(errno));
    /* the hypervisor's user (libvirt-qemu under qemu:///system) opens the
     * files by path: it passes through, lists nothing; the files are 0600 */
    if (chmod(dir, 0711) != 0)
        return ims_fail(err, IMS_E_IO, "cannot open %s to the hypervisor: %s", dir, strerror(errno));
    char **paths = ims_xcalloc(srv->nvolumes + 1, sizeof(*paths));
    for (size_t i = 0; i < srv->nvolumes; i++)
        paths[i] = ims_xasprintf("%s/disk%zu", dir, i);
    enum ims_rc rc = copier->fn(copier->ctx, srv, paths, err);
    for (size_t i = 0; i < srv->nvolumes; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

enum ims_rc ims_backup_copies_create(const struct ims_backup_copies *bc, const struct ims_server *srv,
                                     int64_t server_revision, const struct ims_backup_recheck *recheck,
                                     const struct ims_backup_copier *copier, const char *id,
                                     struct ims_backup *ret, struct ims_err *err)
{
    if (id && !ims_uuid_valid(id))
        return ims_fail(err, IMS_E_INTERNAL, "a backup id must be a UUID");
    struct ims_dbc *c = NULL;
    enum ims_rc rc = conn(bc, &c, err);
    if (rc == IMS_OK && id) {
        struct ims_backup have;
        rc = ims_repo_backup_get(c, id, &have, err);
        if (rc == IMS_OK) {
            ims_backup_release(&have);
            return ims_fail(err, IMS_E_CONFLICT, "backup %s exists already", id);
        }
        rc = rc == IMS_E_NOTFOUND ? IMS_OK : rc;
    }
    if (rc != IMS_OK)
        return rc;
    struct ims_backup b = {
        .project_id = srv->project_id ? ims_xstrdup(srv->project_id) : NULL,
        .server_name = ims_xstrdup(srv->name),
        .os_version = srv->os_version ? ims_xstrdup(srv->os_version) : NULL,
        .firmware = srv->firmware,
        .created_at = ims_now(),
        .volumes = ims_xcalloc(srv->nvolumes ? srv->nvolumes : 1, sizeof(struct ims_volume)),
    };
    if (id) {
        /* copies an interrupted attempt of this backup left (it has no row:
         * none was found) */
        snprintf(b.id, sizeof(b.id), "%s", id);
        remove_files(bc, b.id, IMS_SERVER_DISKS_MAX);
    } else {
        ims_uuid_new(b.id);
    }
    snprintf(b.server_id, sizeof(b.server_id), "%s", srv->id);
    char path[PATH_MAX];
    backup_path(bc, b.id, -1, path, sizeof(path));
    rc = make_dir(path, err);
    if (rc == IMS_OK && copier)
        rc = copy_at_once(bc, srv, b.id, copier, err);
    size_t reflinked = 0;
    for (size_t i = 0; rc == IMS_OK && i < srv->nvolumes; i++) {
        const struct ims_volume *from = &srv->volumes[i];
        backup_path(bc, b.id, (int)i, path, sizeof(path));
        bool shared = false;
        if (!copier)
            rc = ims_disk_ref_is_obs(from->disk) ? ims_compute_copy_obs(bc->obs, from->disk, path, err)
                                                 : ims_compute_copy_file(from->disk, path, NULL, &shared, err);
        if (rc != IMS_OK)
            break;
        reflinked += shared;
        struct ims_volume *to = &b.volumes[b.nvolumes++];
        snprintf(to->id, sizeof(to->id), "%s", from->id);
        to->project_id = from->project_id ? ims_xstrdup(from->project_id) : NULL;
        to->server_id = ims_xstrdup(srv->id);
        to->position = (int)i;
        to->size = from->size;
        to->disk = ims_xstrdup(path);
        const char *format = copier ? copier->format : from->format;
        to->format = format ? ims_xstrdup(format) : NULL;
        to->created_at = b.created_at;
    }
    /* Recorded only if the server still has the disks that were copied. */
    if (rc == IMS_OK && recheck)
        rc = recheck->fn(recheck->ctx, srv, err);
    if (rc == IMS_OK)
        rc = ims_repo_backup_insert(c, &b, server_revision, err);
    if (rc != IMS_OK) {
        /* a copier may have written some of the files before it failed */
        remove_files(bc, b.id, copier ? srv->nvolumes : b.nvolumes);
        ims_backup_release(&b);
        return rc;
    }
    if (copier)
        ims_info("compute: backup %s of server %s: %zu disk(s) written by the hypervisor", b.id, b.server_id,
                 b.nvolumes);
    else
        ims_info("compute: backup %s of server %s: %zu disk(s), %zu reflinked", b.id, b.server_id, b.nvolumes,
                 reflinked);
    *ret = b;
    return IMS_OK;
}

enum ims_rc ims_backup_copies_remove(const struct ims_backup_copies *bc, const char *id, struct ims_err *err)
{
    struct ims_dbc *c = NULL;
    struct ims_backup b;
    enum ims_rc rc = read_backup(bc, id, &c, &b, err);
    if (rc != IMS_OK)
        return rc;
    size_t n = b.nvolumes;
    ims_backup_release(&b);
    if ((rc = ims_repo_backup_delete(c, id, err)) == IMS_OK)
        remove_files(bc, id, n);
    return rc;
}
