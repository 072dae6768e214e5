/* SPDX-License-Identifier: Apache-2.0
 * The records of compute sources (servers, their volumes, backups): the
 * types the compute interface (compute.h) returns and the repository
 * (db.h) stores for the inventory. Implemented by lib/compute/records.c on
 * base alone, so the repository below compute can use them. */
#ifndef IMS_SERVER_H
#define IMS_SERVER_H

#include "ims/base.h"

enum ims_server_state { IMS_SERVER_STOPPED = 0, IMS_SERVER_RUNNING };
enum ims_firmware { IMS_FIRMWARE_BIOS = 0, IMS_FIRMWARE_UEFI };

/* "stopped"/"running", "bios"/"uefi"; the parsers return false on any
 * other word. */
const char *ims_server_state_name(enum ims_server_state s);
bool ims_server_state_parse(const char *s, enum ims_server_state *ret);
const char *ims_firmware_name(enum ims_firmware f);
bool ims_firmware_parse(const char *s, enum ims_firmware *ret);

/* Bounds of a server's record. */
#define IMS_SERVER_DISKS_MAX 24
#define IMS_SERVER_NAME_MAX 255
#define IMS_SERVER_RAM_MAX (64LL << 20) /* MB: 64 TiB */

/* Capacity of an id: UUIDs (servers, volumes, backups; libvirt's domain
 * UUIDs too). */
#define IMS_COMPUTE_ID_CAP (IMS_UUID_LEN + 1)

struct ims_volume {
    char id[IMS_COMPUTE_ID_CAP];
    char *project_id;
    char *server_id; /* NULL when attached to no server */
    int position;    /* its place on the server: 0 = system disk; -1 when detached */
    uint64_t size;   /* bytes of disk (virtual size); 0 when not known yet (object storage) */
    /* Where the data is: an absolute local path, or "bucket:object" in
     * object storage (ims_disk_ref_is_obs). */
    char *disk;
    char *format; /* "raw", "qcow2", ... (ims_format_name); NULL when not known */
    int64_t created_at;
};

struct ims_server {
    char id[IMS_COMPUTE_ID_CAP];
    char *name, *project_id;
    char *os_version; /* an __os_version of the supported-OS table; NULL when not known (libvirt) */
    enum ims_server_state state;
    enum ims_firmware firmware;
    int64_t ram_mb;
    /* Its disks in order: volumes[0] is the system disk. */
    struct ims_volume *volumes;
    size_t nvolumes;
    int64_t created_at, updated_at;
    int64_t revision; /* raised by every change of the server or of which volumes it has */
};

/* A backup: copies of its server's volumes made when it was created, so
 * later changes of the server's disks do not change it. volumes[i].id is
 * the volume copied, .disk the copy. */
struct ims_backup {
    char id[IMS_COMPUTE_ID_CAP];
    char server_id[IMS_COMPUTE_ID_CAP];
    char *project_id;
    char *server_name, *os_version; /* the server's when the backup was made */
    enum ims_firmware firmware;
    struct ims_volume *volumes;
    size_t nvolumes;
    int64_t created_at;
};

void ims_volume_release(struct ims_volume *v);
void ims_volume_array_free(struct ims_volume *v, size_t n);
void ims_server_release(struct ims_server *s);
void ims_server_array_free(struct ims_server *s, size_t n);
void ims_backup_release(struct ims_backup *b);
void ims_backup_array_free(struct ims_backup *b, size_t n);

#endif
