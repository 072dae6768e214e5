/* SPDX-License-Identifier: Apache-2.0
 * core: images from object-storage files and exports to object storage
 * (reference ims_apis/image/: creating an image from a file, quick import,
 * data-disk images from files, registration, export). The requests come
 * parsed and shape-checked (include/ims/import_request.h); here are the
 * rules that read the repository: enterprise project, quota, the image's
 * owner, status and origin. A refusal is IMS_E_BADREQ with the IMS error
 * code in err->code, or IMS_E_NOTFOUND / IMS_E_FORBIDDEN for an image the
 * caller cannot see or act on. */
#ifndef IMS_IMPORTS_H
#define IMS_IMPORTS_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/import_request.h"
#include "ims/service.h"

/* Images larger than this export only quickly (IMG.0160); nothing at or
 * above IMS_EXPORT_MAX exports at all (IMG.0059). */
#define IMS_EXPORT_CONVERT_MAX (128LL << 30)
#define IMS_EXPORT_MAX (1LL << 40)

/* May p make the images r asks for: the enterprise project usable by p's
 * account (IMG.0155), room in the project's quota for all of them
 * (IMG.0015)? */
enum ims_rc ims_import_check(struct ims_service *svc, const struct ims_principal *p,
                             const struct ims_import_request *r, struct ims_err *err);

/* May p register a file into image id: p's own (IMG.0047), queued and not
 * written by a job (IMG.0046)? */
enum ims_rc ims_register_check(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               struct ims_err *err);

/* May p export image id as r says: p's own (IMG.0047), active with data
 * (IMG.0046), not public (IMG.0077), not made from a charged public image
 * (IMG.0079), not a full-ECS image (IMG.0128), not from a backup
 * (IMG.0080), not an ISO image (IMG.0167), within the sizes (IMG.0160,
 * IMG.0059)? */
enum ims_rc ims_export_check(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             const struct ims_export_request *r, struct ims_err *err);

/* An export job's input names its image under this key too, a key no
 * other job's input has, so unfinished exports of an image can be found;
 * a registration's under the other. */
#define IMS_EXPORT_JOB_MARK "export_of"
#define IMS_REGISTER_JOB_MARK "register_of"
struct ims_job_alone;
/* The condition an export job of image id (an existing image's id) is
 * recorded on (ims_job_submit_alone): no export of it unfinished in the
 * project, else IMG.0148. One export of an image at a time. */
void ims_export_alone(const char *id, struct ims_job_alone *ret);
/* The same for a registration: no registration into it unfinished, else
 * IMG.0046 (the image takes one file; the first job takes it out of
 * queued). */
void ims_register_alone(const char *id, struct ims_job_alone *ret);

/* ---- the images an import makes (lib/core/image_import.c) ---- */
/* Creates image `which` of r (0: the system disk or the data disk of a
 * data-image import; 1..n_data: r's data_images) as a queued image of p's
 * project with id `id` and every attribute the reference documents for
 * images made from files, unless it exists already (a job resumed after a
 * restart). The enterprise project, p's right to create there and the
 * quota are checked again. */
enum ims_rc ims_import_create(struct ims_service *svc, const struct ims_principal *p,
                              const struct ims_import_request *r, size_t which, const char *id, struct ims_err *err);

/* ---- an image's data from a file (lib/core/import_data.c) ---- */
/* Claims queued image id for an import (queued -> saving, leased to this
 * process like an upload): IMG.0046 when it is not queued. */
enum ims_rc ims_import_claim(struct ims_service *svc, const char *id, char upload_id[IMS_UUID_LEN + 1],
                             struct ims_err *err);
/* Gives a claimed image back to queued (no-op if the claim is gone). */
void ims_import_giveback(struct ims_service *svc, const char *id, const char *upload_id);
/* A fresh path in the image store's temporary area (owned; the file does
 * not exist yet): where a fetch, a conversion or a link puts the file the
 * store will adopt. Recovery removes it if this process dies. */
enum ims_rc ims_import_temp_path(struct ims_service *svc, char **ret_path, struct ims_err *err);
/* One read of the file: its size and md5 (unless md5_hex is NULL) and
 * sha512 (hex). */
enum ims_rc ims_file_digests(const char *path, int64_t *ret_size, char md5_hex[33], char sha_hex[129],
                             struct ims_err *err);
struct ims_import_data {
    const char *temp_path;   /* from ims_import_temp_path; adopted or removed by the commit */
    int64_t size, virtual_size;
    /* "" when not computed (a quick import reads nothing); md5 alone "" with
     * sha512 computed: left to the store (ims_blob_adopt), which the
     * commit fills in */
    char md5[33], sha512[129];
    const char *md5_from; /* set by the commit: how md5 was had, for the log; "" when it was not */
    const char *disk_format;
    const char *data_origin; /* __data_origin to record ("file,bucket:object"); NULL: leave it */
};
/* The md5 (checksum) and sha512 (os_hash_value) of image id's data, read
 * from its blob after the image became active (an import from object
 * storage leaves them to a job of their own, imsImageChecksumJob, so the
 * image is usable as soon as its data is in the store). Recorded on
 * condition that the image still has that blob and no checksum; otherwise
 * nothing is written and the result is IMS_OK. */
enum ims_rc ims_image_checksums_fill(struct ims_service *svc, const char *id, const char *blob,
                                     struct ims_err *err);
/* The store adopts d's file and the image becomes active with it, on
 * condition that upload_id's claim still holds (else nothing is kept);
 * d->md5 and d->md5_from filled in. */
enum ims_rc ims_import_commit(struct ims_service *svc, const char *id, const char *upload_id,
                              struct ims_import_data *d, struct ims_err *err);

/* ---- the file itself (lib/core/import_file.c, export_file.c) ---- */
/* The url's names as object storage takes them: IMG.0068 (no bucket),
 * IMG.0109 (a bucket name it refuses), IMG.0017 (an object name it
 * refuses); IMG.0069 for the image store's own bucket
 * (ims_obs_bucket_usable). */
enum ims_rc ims_obs_url_check(struct ims_service *svc, const struct ims_obs_url *url, struct ims_err *err);
/* IMG.0069 when bucket is the S3 image store's, reachable through [obs]
 * (backends->obs_store_bucket): no import reads it, no export writes to
 * it. */
enum ims_rc ims_obs_bucket_usable(struct ims_service *svc, const char *bucket, struct ims_err *err);
/* What can be known of an import's file when the request arrives: valid
 * names, the bucket there (IMG.0069), the object there and not empty
 * (IMG.0057), not too large (IMG.0059: 128 GB, 1 TB for a quick import). */
enum ims_rc ims_import_source_check(struct ims_service *svc, const struct ims_obs_url *url, bool quick,
                                    struct ims_err *err);
/* And of an export's target: valid names (IMG.0109, IMG.0075), the bucket
 * there (IMG.0069), no such object yet (IMG.0070). */
enum ims_rc ims_export_target_check(struct ims_service *svc, const struct ims_obs_url *target, struct ims_err *err);
/* How far the work on one file is: percent 0..100. report returns false
 * when the work must stop now (the job engine is stopping: the job resumes
 * later); the call then fails with IMS_E_BUSY and leaves nothing behind. */
struct ims_import_progress {
    bool (*report)(void *ctx, int percent);
    void *ctx;
};
struct ims_import_opts {
    bool quick;           /* no conversion and no byte copy where the store can link the file */
    bool iso;             /* an ISO file (type IsoImage): kept as it is */
    int64_t min_disk;     /* GB the disk must fit in (IMG.0055); 0: no limit */
    const char *declared; /* registration: the image's disk_format, which the file must be; NULL: any */
};
/* Makes queued image id's data from the object-storage file url: claims
 * the image, fetches the file (streamed) into the store's temporary area,
 * inspects it (refusing unsafe files and mismatches before anything else
 * reads them), converts it to raw with qemu-img unless it is raw or an
 * ISO, and commits it (ims_import_commit). A quick import takes raw files
 * only and links them instead of copying. The checksums are computed in the
 * same pass when the file is fetched; a file linked or converted in the
 * store is active without them, and ims_image_checksums_fill records them
 * later. On failure the image is queued
 * again and no data is left; err->code says why (IMG.0057 missing, empty
 * or unsafe file, IMG.0069 missing bucket, IMG.0059 too large, ...). */
enum ims_rc ims_import_file(struct ims_service *svc, const char *id, const struct ims_obs_url *url,
                            const struct ims_import_opts *o, const struct ims_import_progress *prog,
                            struct ims_err *err);
/* Removes an image an import made and did not finish: its row, and its data
 * once no other image uses it. */
void ims_import_discard(struct ims_service *svc, const char *id);

/* Writes image id's data to r->target: converted to r->file_format with
 * qemu-img into the store's temporary area, or as it is stored (quick),
 * then put to the bucket (in parts on S3), the object marked with tag (the
 * job's id; ims_obs_tag_valid). The target must not exist yet (IMG.0070),
 * unless it carries tag: then this export put it before a crash and is
 * done. A resumed export first removes what a put killed midway left (S3's
 * unfinished multipart uploads to the target). A failure leaves no object
 * behind. */
enum ims_rc ims_export_file(struct ims_service *svc, const char *id, const struct ims_export_request *r,
                            const char *tag, bool resumed, const struct ims_import_progress *prog,
                            struct ims_err *err);

#endif
