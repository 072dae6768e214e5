/* SPDX-License-Identifier: Apache-2.0
 * The request bodies of the IMS calls that make images from servers, their
 * disks and their backups (reference ims_apis/image/creating_an_image
 * without image_url, creating_a_full-ecs_image): parsed and checked field by
 * field, each refusal IMS_E_BADREQ with the reference's IMS error code in
 * err->code. Part of the `query` module: pure, no I/O; whether the server,
 * disk or backup exists and whose it is are the core's rules
 * (include/ims/server_images.h). Results own their strings. */
#ifndef IMS_SERVER_REQUEST_H
#define IMS_SERVER_REQUEST_H

#include "ims/base.h"
#include "ims/kv.h"

#define IMS_SERVER_DATA_IMAGES_MAX 23 /* a server's disks (IMS_SERVER_DISKS_MAX) but its system disk */
#define IMS_SERVER_REF_MAX 64         /* instance, volume, backup and vault ids */

enum ims_server_image_kind {
    IMS_SI_SERVER,       /* instance_id: its system disk, plus data_images */
    IMS_SI_DATA,         /* data_images alone: data-disk images of a server's data disks */
    IMS_SI_VOLUME,       /* volume_id: a system-disk image from a data disk (os_version given) */
    IMS_SI_WHOLE_SERVER, /* full-ECS image of a server (instance_id, vault_id) */
    IMS_SI_WHOLE_BACKUP, /* full-ECS image of a backup (backup_id, whole_image_type) */
};

struct ims_server_data_image {
    char *name, *description; /* description NULL: none */
    char *volume_id;
    struct ims_strlist tags;  /* native form ("key=value") */
};

struct ims_server_image_request {
    enum ims_server_image_kind kind;
    char *name, *description;   /* the system-disk or full-ECS image (NULL for IMS_SI_DATA) */
    struct ims_strlist tags;
    char *instance_id, *volume_id, *backup_id, *vault_id; /* NULL: not given */
    char *whole_image_type;     /* CSBS | CBR (backups) */
    char *os_version;           /* IMS_SI_VOLUME: a value of the supported-OS table */
    char *type;                 /* ECS BMS FusionCompute Ironic */
    char *enterprise_project_id; /* "0" when absent or empty */
    int64_t min_ram, max_ram;   /* MB; -1: not given */
    struct ims_server_data_image data_images[IMS_SERVER_DATA_IMAGES_MAX];
    size_t n_data;
};

/* POST /v2/cloudimages/action without image_url (whole = false), or POST
 * /v1/cloudimages/wholeimages/action (whole = true). */
enum ims_rc ims_server_image_request_parse(bool whole, const char *body, size_t len,
                                           struct ims_server_image_request *ret, struct ims_err *err);
void ims_server_image_request_release(struct ims_server_image_request *r);
/* How many images the request makes (the quota counts them). */
size_t ims_server_image_request_count(const struct ims_server_image_request *r);

#endif
