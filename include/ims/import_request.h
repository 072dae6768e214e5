/* SPDX-License-Identifier: Apache-2.0
 * The request bodies of the IMS calls that move image files between imsd
 * and object storage (reference ims_apis/image/: creating_an_image with
 * image_url, importing_an_image_file_quickly, creating_a_data_disk_image_
 * from_an_external_image_file, registering_an_image, exporting_an_image):
 * parsed and checked field by field, each refusal with the reference's IMS
 * error code in err->code (IMS_E_BADREQ). Part of the `query` module: pure,
 * no I/O; the rules that need the repository or object storage (quota,
 * enterprise project, the image's state, whether the object exists) are the
 * core's. Results own their strings. */
#ifndef IMS_IMPORT_REQUEST_H
#define IMS_IMPORT_REQUEST_H

#include "ims/base.h"
#include "ims/kv.h"

#define IMS_IMPORT_DATA_IMAGES_MAX 3 /* data disks one system-disk import may add */

/* Which call the body came with. */
enum ims_import_route {
    IMS_IMPORT_FILE,      /* POST /v2/cloudimages/action with image_url */
    IMS_IMPORT_QUICK,     /* POST /v2/cloudimages/quickimport/action */
    IMS_IMPORT_DATA_FILE, /* POST /v1/cloudimages/dataimages/action */
};

/* An object-storage file as IMS names it: "bucket:object", split at the
 * first ':'. Only the shape is checked here (both parts present, valid
 * text); the object-storage layer validates the names themselves. */
struct ims_obs_url {
    char *bucket, *object;
};
void ims_obs_url_release(struct ims_obs_url *u);

/* One image an import makes. */
struct ims_import_image {
    char *name, *description;    /* description NULL: none */
    struct ims_obs_url file;
    int64_t min_disk;            /* GB */
    struct ims_strlist tags;     /* native form ("key=value", include/ims/tags.h) */
    bool data;                   /* a data-disk image */
};

struct ims_import_request {
    enum ims_import_route route;
    bool quick;                  /* is_quick_import, or the quick-import route */
    struct ims_import_image image; /* the system disk, or the data disk of a data-image import */
    struct ims_import_image data_images[IMS_IMPORT_DATA_IMAGES_MAX];
    size_t n_data;
    char *os_version;            /* a value of the supported-OS table; NULL: not given */
    char *os_type;               /* Linux | Windows | Other; NULL: not given */
    char *type;                  /* ECS BMS FusionCompute IsoImage Ironic | DataImage */
    char *enterprise_project_id; /* "0" when absent or empty */
    char *hw_firmware_type;      /* bios | uefi; NULL: not given */
    char *architecture;          /* x86 | arm (quick import); NULL: not given */
    char *cmk_id;                /* NULL: not given */
    bool is_config;
    int64_t min_ram, max_ram;    /* MB; -1: not given */
};

/* Parses and checks the body of one of the three import calls. */
enum ims_rc ims_import_request_parse(enum ims_import_route route, const char *body, size_t len,
                                     struct ims_import_request *ret, struct ims_err *err);
void ims_import_request_release(struct ims_import_request *r);

/* PUT /v1/cloudimages/{image_id}/upload: {"image_url": "bucket:object"}. */
enum ims_rc ims_register_request_parse(const char *body, size_t len, struct ims_obs_url *ret, struct ims_err *err);

/* POST /v1/cloudimages/{image_id}/file. */
struct ims_export_request {
    struct ims_obs_url target;   /* bucket_url */
    char *file_format;           /* qcow2 vhd vmdk zvhd zvhd2 raw (lower case); NULL with quick */
    bool quick;                  /* is_quick_export: the stored file as it is */
};
enum ims_rc ims_export_request_parse(const char *body, size_t len, struct ims_export_request *ret,
                                     struct ims_err *err);
void ims_export_request_release(struct ims_export_request *r);

/* ---- Glance's interoperable import (lib/query/glance_import_body.c) ----
 * POST /v2/images/{image_id}/import: {"method": {"name", "uri"?}, "stores"?,
 * "all_stores"?, "all_stores_must_succeed"?}, checked as Glance 25's
 * deserializer does (a missing method or name, non-boolean flags: 400 with
 * Glance's messages), plus what Glance leaves to chance: every member of
 * the right type, text valid UTF-8 without control characters, bounded
 * lengths. Whether the method is enabled and the stores exist is the
 * core's question. Refusals are IMS_E_BADREQ. */
#define IMS_GLANCE_STORES_MAX 16
#define IMS_GLANCE_STORE_ID_MAX 255
#define IMS_GLANCE_URI_MAX 2048
struct ims_glance_import_body {
    char *method;                      /* as sent: glance-direct, web-download, copy-image, ... */
    char *uri;                         /* method.uri; NULL: not given */
    struct ims_strlist stores;         /* "stores"; empty: not given */
    bool stores_given;
    bool all_stores;                   /* default false */
    bool all_stores_must_succeed;      /* default true */
};
enum ims_rc ims_glance_import_parse(const char *body, size_t len, struct ims_glance_import_body *ret,
                                    struct ims_err *err);
void ims_glance_import_body_release(struct ims_glance_import_body *b);

#endif
