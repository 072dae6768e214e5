/* SPDX-License-Identifier: Apache-2.0
 * compute: where the disks of servers, data disks and backups come from
 * (the stand-ins for ECS, EVS and CBR, which imsd runs without). An
 * interface (struct ims_compute_ops) with one file per implementation:
 *  - inventory (lib/compute/inventory.c, the default): servers, volumes and
 *    backups an administrator registered (imsctl, the admin API), kept in
 *    the repository; a backup holds copies of its server's disks;
 *  - libvirt (lib/compute/libvirt.c): domains and their disks, read through
 *    libvirt; read-only (domains are made with libvirt's own tools) but
 *    for backups, which are imsd's own copies of a domain's disks (of a
 *    running domain, written by the hypervisor through libvirt's backup
 *    API: lib/compute/libvirt_backup.c).
 * Both keep backups the same way (lib/compute/backups.c).
 * src/ chooses one ([compute] backend) and hands it to the service in
 * struct ims_backends.
 *
 * Results: IMS_E_NOTFOUND when there is no such server (IMG.0005), volume
 * (IMG.0120) or backup (IMG.0020); IMS_E_FORBIDDEN when it belongs to
 * another project than the one asked for (IMG.0137, IMG.0133); IMS_E_IO or
 * IMS_E_DB when the backend failed; IMS_E_NOTIMPL for an administration
 * call the source does not offer. Records returned are the caller's
 * (release them). */
#ifndef IMS_COMPUTE_H
#define IMS_COMPUTE_H

#include "ims/base.h"
#include "ims/server.h"

struct ims_db;

/* Disk references: an absolute path, or "bucket:object" named as object
 * storage names it (ims_obs_url_parse). IMS_E_BADREQ (IMG.0057) names
 * what is wrong. */
enum ims_rc ims_disk_ref_check(const char *ref, struct ims_err *err);
bool ims_disk_ref_is_obs(const char *ref);

/* What an administrator registers (the inventory). Strings are borrowed. */
struct ims_server_spec {
    const char *name, *project_id, *os_version;
    enum ims_server_state state;
    enum ims_firmware firmware;
    int64_t ram_mb; /* 0: not said */
    const char *const *disks; /* disk references; disks[0] is the system disk */
    size_t ndisks;
};
struct ims_volume_spec {
    const char *disk, *project_id;
    const char *server_id; /* NULL: a detached data disk; else appended to that server's disks */
};

/* What sees every byte a copy reads (digests taken in the copy's pass):
 * fn gets them in order; false stops the copy. */
struct ims_copy_tap {
    bool (*fn)(void *ctx, const void *p, size_t n);
    void *ctx;
};
/* Copies local file src to dst (created; must not exist), sharing the
 * source's blocks when the file system can (FICLONE), else copying them;
 * dst is fsynced. *ret_reflinked tells which. With a tap (may be NULL) a
 * copy reads the bytes here (not copy_file_range) and hands each block to
 * it; a reflink reads nothing and calls it never. Backups copy disks with
 * it, and images made from raw disks take their data (and digests) with it. */
enum ims_rc ims_compute_copy_file(const char *src, const char *dst, const struct ims_copy_tap *tap,
                                  bool *ret_reflinked, struct ims_err *err);

struct ims_compute_source;

struct ims_compute_ops {
    const char *name; /* "inventory", "libvirt" */
    /* Whether create_backup can back srv (as just read) up now: IMS_E_BADREQ
     * with IMG.0008 when it runs and the source cannot back a running
     * server up. Requests that would back one up ask on arrival. NULL:
     * every server can be backed up. */
    enum ims_rc (*backup_possible)(struct ims_compute_source *s, const struct ims_server *srv, struct ims_err *err);
    /* Given the service's repository once, when the service opens (NULL for
     * sources that keep nothing there). */
    enum ims_rc (*attach)(struct ims_compute_source *s, struct ims_db *db, struct ims_err *err);

    /* ---- reading: project_id NULL = any project ---- */
    enum ims_rc (*list_servers)(struct ims_compute_source *s, const char *project_id, struct ims_server **ret,
                                size_t *ret_n, struct ims_err *err);
    enum ims_rc (*get_server)(struct ims_compute_source *s, const char *project_id, const char *id,
                              struct ims_server *ret, struct ims_err *err);
    enum ims_rc (*list_volumes)(struct ims_compute_source *s, const char *project_id, struct ims_volume **ret,
                                size_t *ret_n, struct ims_err *err);
    enum ims_rc (*get_volume)(struct ims_compute_source *s, const char *project_id, const char *id,
                              struct ims_volume *ret, struct ims_err *err);
    enum ims_rc (*list_backups)(struct ims_compute_source *s, const char *project_id, struct ims_backup **ret,
                                size_t *ret_n, struct ims_err *err);
    enum ims_rc (*get_backup)(struct ims_compute_source *s, const char *project_id, const char *id,
                              struct ims_backup *ret, struct ims_err *err);

    /* ---- administration: NULL when the source has none (IMS_E_NOTIMPL) ----
     * Registration checks what it is given (IMS_E_BADREQ with the IMS
     * code: os_version IMG.0056, a disk that is missing, unreadable or
     * refused by the format inspector IMG.0057); the caller checks that
     * the project exists. */
    enum ims_rc (*add_server)(struct ims_compute_source *s, const struct ims_server_spec *spec,
                              struct ims_server *ret, struct ims_err *err);
    /* Removes the server and its volumes' records (the disk files stay
     * where they are; backups stay). */
    enum ims_rc (*remove_server)(struct ims_compute_source *s, const char *id, struct ims_err *err);
    enum ims_rc (*set_server_state)(struct ims_compute_source *s, const char *id, enum ims_server_state state,
                                    struct ims_err *err);
    enum ims_rc (*add_volume)(struct ims_compute_source *s, const struct ims_volume_spec *spec,
                              struct ims_volume *ret, struct ims_err *err);
    /* A detached volume only (IMS_E_CONFLICT when a server has it). */
    enum ims_rc (*remove_volume)(struct ims_compute_source *s, const char *id, struct ims_err *err);
    /* Copies (reflinks where the file system can) the server's local disks
     * into the source's own files, as a backup with id `id` (a UUID no
     * backup has; NULL: a new one): a caller that records the id before
     * the backup exists never loses track of it. */
    enum ims_rc (*create_backup)(struct ims_compute_source *s, const char *server_id, const char *id,
                                 struct ims_backup *ret, struct ims_err *err);
    enum ims_rc (*remove_backup)(struct ims_compute_source *s, const char *id, struct ims_err *err);

    void (*close)(struct ims_compute_source *s);
};

struct ims_compute_source {
    const struct ims_compute_ops *ops;
};

/* The inventory: records in the repository given by attach, backup copies
 * under dir/compute/backups; disks written "bucket:object" are read through
 * obs (which must outlive the source; NULL: such disks are refused).
 * attach also removes the copies of backups interrupted before their row
 * was written, once they are grace_seconds old. */
struct ims_obs;
enum ims_rc ims_compute_inventory_open(const char *dir, int64_t grace_seconds, struct ims_obs *obs,
                                       struct ims_compute_source **ret, struct ims_err *err);

/* libvirt (read-only but for backups, kept as the inventory keeps them
 * under dir/compute/backups): uri is a libvirt connection URI
 * ("qemu:///system", "test:///path/node.xml"). A domain's project and OS version come from
 * its metadata element
 *   <ims:server xmlns:ims="https://imsd.invalid/compute/1">
 *     <ims:project>PROJECT_ID</ims:project><ims:os_version>...</ims:os_version>
 *   </ims:server>
 * domains without a project belong to default_project (NULL or "": to no
 * project; only project-less reads see them). A running domain's backup
 * fails when its hypervisor answers nothing, or writes nothing, for
 * backup_stall_seconds. */
#define IMS_LIBVIRT_METADATA_NS "https://imsd.invalid/compute/1"
enum ims_rc ims_compute_libvirt_open(const char *uri, const char *default_project, const char *dir,
                                     int64_t grace_seconds, int64_t backup_stall_seconds,
                                     struct ims_compute_source **ret, struct ims_err *err);

#endif
