/* SPDX-License-Identifier: Apache-2.0
 * core: images made from servers, their data disks and their backups
 * (reference ims_apis/image/creating_an_image without image_url,
 * creating_a_full-ecs_image). The requests come parsed and shape-checked
 * (include/ims/server_request.h); here are the rules that read the compute
 * source and the repository, the images' attributes, and the disks' data,
 * which goes through the import pipeline (inspect, convert to raw when
 * needed, the store adopts the file: include/ims/imports.h). A refusal is
 * IMS_E_BADREQ with the IMS error code in err->code. */
#ifndef IMS_SERVER_IMAGES_H
#define IMS_SERVER_IMAGES_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/server.h"
#include "ims/server_request.h"
#include "ims/service.h"

struct ims_import_progress;

/* Key under which a job's input names the server it reads, so that a
 * second image job of the same server is refused while one runs (IMG.0010). */
#define IMS_SERVER_JOB_KEY "server_id"
/* And the backup a full-ECS image is made from (one image per backup). */
#define IMS_BACKUP_JOB_KEY "backup_id"

/* When the request arrives: a project-scoped token (IMG.0030), a usable
 * enterprise project (IMG.0155), quota for every image (IMG.0015); the
 * server (IMG.0005; another project's: IMG.0137), the data disks on it
 * (IMG.0120 unknown, IMG.0140 on another server, IMG.0022 the system disk
 * named as a data disk), the data disk of a volume request (IMG.0120,
 * IMG.0022 a system disk), the backup (IMG.0020 or IMG.0127; IMG.0133
 * another project's), no other image job of the same server (IMG.0010).
 * *ret_server_id (capacity IMS_COMPUTE_ID_CAP) gets the server the request
 * reads ("" for a detached data disk). */
enum ims_rc ims_server_image_check(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_server_image_request *r, char ret_server_id[IMS_COMPUTE_ID_CAP],
                                   struct ims_err *err);

/* ---- full-ECS images (lib/core/whole_images.c) ---- */
/* The backup service's action a full-ECS request also needs (the
 * permission table's note: CSBS or CBR administrator), evaluated by the
 * policy engine like the route's own: from a server, making a backup
 * (cbr:vaults:backup with a vault, else csbs:backup:create); from a
 * backup, reading it (cbr:backups:get, csbs:backup:get). */
const char *ims_whole_backup_action(const struct ims_server_image_request *r);
/* The backup backup_id of p's project: IMG.0020 (CBR) or IMG.0127 (CSBS)
 * when there is none, IMG.0133 when it is another project's. */
enum ims_rc ims_whole_backup_get(struct ims_service *svc, const struct ims_principal *p,
                                 const struct ims_server_image_request *r, const char *backup_id,
                                 struct ims_backup *ret, struct ims_err *err);
/* r's backup made no image yet (IMG.0029 for CBR, IMG.0134 for CSBS; that
 * no job is making one is a condition of the job: ims_server_image_alone). */
enum ims_rc ims_whole_backup_unused(struct ims_service *svc, const struct ims_principal *p,
                                    const struct ims_server_image_request *r, struct ims_err *err);
/* Backs up server_id through the compute source (its disks copied, or
 * reflinked where the file system can) for a full-ECS image of it, as
 * backup `id` (chosen and recorded by the job before: a job killed while
 * or after the backup is made finds it again, and a job that fails removes
 * it). The backup id exists already: that backup (made before a restart). */
enum ims_rc ims_whole_backup_make(struct ims_service *svc, const struct ims_principal *p, const char *server_id,
                                  const char *id, struct ims_backup *ret, struct ims_err *err);
void ims_whole_backup_remove(struct ims_service *svc, const char *backup_id);
/* Creates image `which` of the full-ECS image of backup b as a queued image
 * of p's project: 0 the full-ECS image itself (__whole_image, __backup_id;
 * its data is the system disk's; disk_ids, comma-separated, are the images
 * of the data disks it references), k > 0 the data-disk image of b's
 * volume k, hidden from lists (os_hidden), named `name`. Nothing when it
 * exists already (a resumed job). */
enum ims_rc ims_whole_image_create(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_server_image_request *r, const struct ims_backup *b, size_t which,
                                   const char *id, const char *name, const char *disk_ids, struct ims_err *err);
/* img is a data-disk image of a full-ECS image (__backup_id without
 * __whole_image): it goes only with its full-ECS image, never alone. */
bool ims_whole_image_part(const struct ims_image *img);
/* The data-disk images a deleted full-ECS image referenced go with it
 * (props: the deleted image's). */
void ims_whole_image_deleted(struct ims_service *svc, const struct ims_kvlist *props);

/* The conditions r's job is recorded on (ims_job_submit_alone), checked
 * again in the transaction that records it: no other job waiting or running
 * that reads server_id (IMG.0010; none for ""), none making an image of
 * r's backup (IMG.0029 CBR, IMG.0134 CSBS). Returns how many (at most 2). */
size_t ims_server_image_alone(const struct ims_server_image_request *r, const char *server_id,
                              struct ims_job_alone ret[2]);

/* The disk image `which` of r is made from, as the compute source has it
 * now: 0 the system disk (IMS_SI_SERVER) or the data disk (IMS_SI_VOLUME),
 * 1..n_data the data disks. ret is the caller's (ims_volume_release). */
enum ims_rc ims_server_image_disk(struct ims_service *svc, const struct ims_principal *p,
                                  const struct ims_server_image_request *r, size_t which, struct ims_volume *ret,
                                  struct ims_err *err);

/* Creates image `which` of r as a queued image of p's project with id `id`
 * and the attributes the reference gives images made from servers and
 * disks (the server's OS and firmware, min_disk from the disk's size,
 * __image_source_type, __originalimagename, __data_origin, ...), unless it
 * exists already (a job resumed after a restart). disk is what
 * ims_server_image_disk returned. */
enum ims_rc ims_server_image_create(struct ims_service *svc, const struct ims_principal *p,
                                    const struct ims_server_image_request *r, size_t which,
                                    const struct ims_volume *disk, const char *id, struct ims_err *err);

/* Makes queued image id's data from a disk: an object-storage disk goes
 * through ims_import_file; a local one is claimed like an upload, inspected
 * where it is (refused files are never read further), converted to raw by
 * qemu-img into the store's temporary area unless it is raw, else copied
 * there (reflinked where the file system can; hard-linked when `share`
 * says the disk never changes: a backup's copy), and adopted by the store.
 * data_origin is the __data_origin to record. On failure the image is queued
 * again and nothing is left. */
enum ims_rc ims_disk_import(struct ims_service *svc, const char *id, const struct ims_volume *disk, bool share,
                            const char *data_origin, const struct ims_import_progress *prog, struct ims_err *err);

#endif
