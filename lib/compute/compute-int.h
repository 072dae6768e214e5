/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the compute sources: reading a local disk's format
 * and size, copying a disk file, and the backups they keep. */
#ifndef IMS_COMPUTE_INT_H
#define IMS_COMPUTE_INT_H

#include <string.h>

#include "ims/compute.h"

/* s as messages echo it: whole when short, else a placeholder (a cut
 * could split a UTF-8 sequence; messages reach API clients). */
static inline const char *ims_compute_shown(const char *s)
{
    return s && strlen(s) <= 256 ? s : "(too long to show)";
}

/* A local disk file: its format (ims_format_name; owned) and virtual size,
 * through the format inspector, as the format declared (the hypervisor's:
 * "raw" is raw, unprobed; NULL: the inspector's) says
 * (ims_image_inspect_disk). IMS_E_BADREQ with IMG.0057 (naming the
 * path: the caller is an administrator) when the file is missing, not a
 * regular file, unreadable, or refused by the inspector. */
enum ims_rc ims_compute_disk_inspect(const char *path, const char *declared, char **ret_format, uint64_t *ret_size,
                                     struct ims_err *err);

struct ims_obs;
/* The same for an object in object storage ("bucket:object"), read in
 * ranges through obs: IMG.0057 when it does not exist or is refused. */
enum ims_rc ims_compute_obs_disk_inspect(struct ims_obs *obs, const char *ref, char **ret_format, uint64_t *ret_size,
                                         struct ims_err *err);
/* Copies the object "bucket:object" to dst (created; must not exist),
 * fsynced. */
enum ims_rc ims_compute_copy_obs(struct ims_obs *obs, const char *ref, const char *dst, struct ims_err *err);

/* ---- backups (backups.c): copies of a server's disks under
 * <dir>/backups/<id>/, recorded in the repository ---- */
struct ims_db;
struct ims_backup_copies {
    char *dir;             /* <data dir>/compute (owned by the source) */
    struct ims_db *db;     /* set by ims_backup_copies_attach */
    int64_t grace_seconds; /* an unrecorded backup directory this old is an interrupted backup's */
    struct ims_obs *obs;   /* where bucket:object disks are (NULL: none) */
};
/* Whether the server still has the disks that were copied, asked after the
 * copies and before the backup is recorded (IMS_E_CONFLICT if not), for
 * sources whose servers the repository does not hold. */
struct ims_backup_recheck {
    enum ims_rc (*fn)(void *ctx, const struct ims_server *copied, struct ims_err *err);
    void *ctx;
};
/* Writes every disk of srv at once to paths[i] (absolute; none exists),
 * instead of a copy of each disk file: a source whose hypervisor copies a
 * running server's disks as of one instant. The copies are in format
 * ("raw"). */
struct ims_backup_copier {
    enum ims_rc (*fn)(void *ctx, const struct ims_server *srv, char *const *paths, struct ims_err *err);
    void *ctx;
    const char *format;
};
/* Makes the directories and removes the copies of backups interrupted
 * before their row was written, once they are grace_seconds old. */
enum ims_rc ims_backup_copies_attach(struct ims_backup_copies *bc, struct ims_db *db, struct ims_err *err);
enum ims_rc ims_backup_copies_list(const struct ims_backup_copies *bc, const char *project_id,
                                   struct ims_backup **ret, size_t *ret_n, struct ims_err *err);
/* IMS_E_FORBIDDEN (IMG.0133) when project_id is not NULL and not the
 * backup's. */
enum ims_rc ims_backup_copies_get(const struct ims_backup_copies *bc, const char *project_id, const char *id,
                                  struct ims_backup *ret, struct ims_err *err);
/* Copies srv's disks as backup `id` (NULL: a new id; else a UUID no backup
 * has: IMS_E_CONFLICT if one has) and records it on condition that the
 * repository's row of srv is still at server_revision (negative: the
 * repository holds no row of it; recheck asks the source instead). copier
 * NULL: each disk file is copied (ims_compute_copy_file, objects fetched). */
enum ims_rc ims_backup_copies_create(const struct ims_backup_copies *bc, const struct ims_server *srv,
                                     int64_t server_revision, const struct ims_backup_recheck *recheck,
                                     const struct ims_backup_copier *copier, const char *id,
                                     struct ims_backup *ret, struct ims_err *err);
enum ims_rc ims_backup_copies_remove(const struct ims_backup_copies *bc, const char *id, struct ims_err *err);

#endif
