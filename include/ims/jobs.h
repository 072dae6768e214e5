/* SPDX-License-Identifier: Apache-2.0
 * jobs: the asynchronous job engine. Everything slow in IMS is a job: a row
 * in the metadata repository (ims_job) that a pool of worker threads takes
 * under a lease, runs step by step through a handler (lib/jobs/handlers.c:
 * job_type -> function) and finishes as SUCCESS or FAIL. A job whose worker
 * died (lease run out) is taken again and resumed from its last saved step,
 * or failed cleanly after too many attempts. Knows nothing of HTTP. */
#ifndef IMS_JOBS_H
#define IMS_JOBS_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/service.h"

/* Job types (the reference's names). */
#define IMS_JOB_ADD_MEMBERS "imsAddImageMembersJob"
#define IMS_JOB_UPDATE_MEMBERS "imsUpdateImageMembersJob"
#define IMS_JOB_DEL_MEMBERS "imsDelImageMembersJob"
#define IMS_JOB_COPY_IN_REGION "imsCopyImageInRegionJob"
#define IMS_JOB_IMPORT_IMAGE "imsImportImageJob"          /* system disk (and data disks) from files */
#define IMS_JOB_IMPORT_DATA_IMAGE "imsImportDataImageJob" /* a data disk from a file */
#define IMS_JOB_NATIVE_IMPORT "imsNativeImportImageJob"   /* registration */
#define IMS_JOB_NATIVE_EXPORT "imsNativeExportImageJob"
#define IMS_JOB_BY_INSTANCE "imsCreateImageByInstance"          /* a server's system disk (and data disks) */
#define IMS_JOB_VOLUMES_TO_DATA "imsVolumesToSysDataImagesJob" /* data disks of a server, alone */
#define IMS_JOB_VOLUME_TO_SYSTEM "imsVolumeCreateImageJob"     /* a system-disk image from a data disk */
#define IMS_JOB_WHOLE_BY_INSTANCE "imsCreateWholeImageByInstanceJob"
#define IMS_JOB_WHOLE_BY_BACKUP "imsCreateWholeImageByBackupJob"
/* imsd's own: the checksums of an imported image, read after it became
 * active (no route submits it; the import jobs do) */
#define IMS_JOB_IMAGE_CHECKSUM "imsImageChecksumJob"
#define IMS_JOB_GLANCE_IMPORT "api_image_import" /* Glance's import task (its task type) */

struct ims_jobs_config {
    unsigned workers;          /* worker threads (0: the engine is not started) */
    int64_t lease_ms;          /* how long a claim lasts without renewal */
    int64_t retention_seconds; /* finished jobs are purged this long after they end */
    int64_t step_delay_ms;     /* test hook (IMSD_TEST_JOB_DELAY_MS): pause after every step */
    int64_t submit_delay_ms;   /* test hook (IMSD_TEST_SUBMIT_DELAY_MS): pause between a request's checks and
                                * the recording of its job, where concurrent requests race */
    int64_t max_attempts;      /* claims of one job before it is failed cleanly */
};

struct ims_jobs;
/* Starts the workers and the lease keeper (renewal + purge). */
enum ims_rc ims_jobs_start(struct ims_service *svc, const struct ims_jobs_config *cfg, struct ims_jobs **ret,
                           struct ims_err *err);
/* Stops taking jobs; a running job ends its current step and is handed back
 * (its lease released) to be resumed by the next start or another node. */
void ims_jobs_stop(struct ims_jobs *jobs);

/* Records a job of `type` for p's project with its input (a JSON object,
 * copied) and wakes a worker. Does not wait for it. */
enum ims_rc ims_job_submit(struct ims_service *svc, const struct ims_principal *p, const char *type,
                           const char *input_json, char ret_id[65], struct ims_err *err);
/* The same with the job's id chosen by the caller (Glance's tasks are
 * UUIDs, named in the image's os_glance_import_task before the job exists). */
enum ims_rc ims_job_submit_as(struct ims_service *svc, const struct ims_principal *p, const char *type,
                              const char *input_json, const char *id, struct ims_err *err);
/* The same, on conditions checked in the transaction that records the job
 * (no other job waiting or running with the same server or backup): of
 * concurrent submissions that clash, one is recorded and the others are
 * refused with the condition's IMS error. */
enum ims_rc ims_job_submit_alone(struct ims_service *svc, const struct ims_principal *p, const char *type,
                                 const char *input_json, const struct ims_job_alone *alone, size_t n_alone,
                                 char ret_id[65], struct ims_err *err);
/* Whether the conditions hold now, for a request's early answer (before
 * checks that come after them); ims_job_submit_alone checks them again
 * where it records the job. */
enum ims_rc ims_job_alone_check(struct ims_service *svc, const struct ims_principal *p,
                                const struct ims_job_alone *alone, size_t n_alone, struct ims_err *err);
/* A job of p's project; IMS_E_NOTFOUND otherwise (another project's jobs do
 * not exist for p). */
enum ims_rc ims_job_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                        struct ims_job *ret, struct ims_err *err);
bool ims_job_type_known(const char *type);

/* ---- Glance's tasks: the import jobs (lib/jobs/glance_tasks.c) ---- */
/* A task p may see (its project's, any for an admin); NOTFOUND otherwise. */
enum ims_rc ims_task_get(struct ims_service *svc, const struct ims_principal *p, const char *id, struct ims_job *ret,
                         struct ims_err *err);
/* A page of the tasks p may see (lq's type defaults to Glance's import
 * task; its project is set here). A marker p cannot see is NOTFOUND. */
enum ims_rc ims_tasks_list(struct ims_service *svc, const struct ims_principal *p, struct ims_job_list_query *lq,
                           struct ims_job **ret, size_t *ret_n, struct ims_err *err);
/* The tasks of image_id p may see, oldest first (the caller checked that
 * p sees the image). */
enum ims_rc ims_tasks_of_image(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               struct ims_job **ret, size_t *ret_n, struct ims_err *err);
/* Whether task id has finished or no longer exists: its lock on an image
 * is stale. */
bool ims_task_stale(struct ims_service *svc, const char *id);

#endif
