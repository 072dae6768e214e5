/* SPDX-License-Identifier: Apache-2.0
 * core: Glance's interoperable image import (lib/core/staging.c,
 * lib/core/glance_import.c). Data staged with PUT /v2/images/{id}/stage
 * waits in the image store, as a blob the image references, while the
 * image is "uploading" (so every node can import it); POST
 * /v2/images/{id}/import takes the image's import lock
 * (os_glance_import_task = the task's id) and a job (the task) moves the
 * data into the store: the image goes "importing", then "active", or back
 * to "queued" with the store in os_glance_failed_import. The properties
 * Glance maintains (os_glance_*) are the core's alone: tenants can neither
 * set nor change them (ims_image_attr_kind: reserved). */
#ifndef IMS_GLANCE_IMPORT_H
#define IMS_GLANCE_IMPORT_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/import_request.h"
#include "ims/service.h"

#define IMS_GLANCE_TASK_TYPE "api_image_import"
#define IMS_PROP_IMPORT_TASK "os_glance_import_task"
#define IMS_PROP_FAILED_IMPORT "os_glance_failed_import"
#define IMS_PROP_IMPORTING_TO "os_glance_importing_to_stores"
#define IMS_PROP_STAGE_HOST "os_glance_stage_host"

/* ---- staging (lib/core/staging.c) ---- */
/* The staged data's size and digests, "<size> <md5> <sha512>", kept with
 * the image (hidden from every API, as os_glance_stage_host) while the
 * image references the staged blob. */
#define IMS_PROP_STAGED_DIGESTS "os_glance_staged_digests"
struct ims_stage;
/* The image must be visible (404), p's to change (403) and queued (409:
 * "Image status transition from X to uploading is not allowed"); it becomes
 * "uploading" and a blob writer of the image store is opened.
 * expected_size < 0: unknown. */
enum ims_rc ims_stage_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                            int64_t expected_size, struct ims_stage **ret, struct ims_err *err);
enum ims_rc ims_stage_write(struct ims_stage *s, const void *data, size_t n, struct ims_err *err);
/* As ims_upload_room, for the staging upload. */
size_t ims_stage_room(struct ims_stage *s, void (*wake)(void *arg), void *arg);
/* Makes the staged data a durable blob of the image store the image
 * references (still "uploading"), with its size, digests and
 * os_glance_stage_host. Frees s. */
enum ims_rc ims_stage_finish(struct ims_stage *s, struct ims_err *err);
/* Discards the data; the image goes back to queued. Frees s. NULL-safe. */
void ims_stage_abort(struct ims_stage *s);

/* What an image holds staged: its blob (img->blob) with these digests. */
struct ims_staged {
    int64_t size;
    char md5[33], sha512[129];
};
/* IMS_E_NOTFOUND when img has nothing (or nothing complete) staged. */
enum ims_rc ims_staged_get(const struct ims_image *img, struct ims_staged *ret, struct ims_err *err);
/* Removes what an earlier imsd left in <data_dir>/staging (staged data
 * was kept there, by node, before it moved into the image store);
 * returns how many files. Start-up only. */
int64_t ims_staging_sweep_local(struct ims_service *svc);

/* ---- the import (lib/core/glance_import.c) ---- */
/* The import methods this site offers, in Glance's order (copy-image only
 * where several stores are configured); NULL-terminated, static. */
const char *const *ims_glance_import_methods(const struct ims_service *svc);
bool ims_glance_import_method_enabled(const struct ims_service *svc, const char *method);
/* The stores this site has, by id; the first is the default. */
size_t ims_glance_stores(const struct ims_service *svc, const char **ret, size_t cap);

/* What the task carries (its input, saved with the job). */
struct ims_glance_import_task {
    char task_id[IMS_UUID_LEN + 1];
    char image_id[IMS_UUID_LEN + 1];
    const struct ims_glance_import_body *body;
    struct ims_strlist stores; /* the stores to import to (all, the body's, or the default) */
    /* copy-image with all_stores to an image every store holds: no lock
     * taken, no task (Glance answers 202 and starts none) */
    bool nothing_to_do;
};
/* POST /v2/images/{id}/import, as Glance 25: the image visible (404), in
 * the method's status (409: glance-direct "uploading", web-download
 * "queued"), container_format and disk_format set (409), p may change it
 * (403; copy-image: an administrator, as Glance's copy_image policy), the
 * stores known (409), copy-image's not holding the data already (400, or
 * skipped with all_stores), no other import holding its lock (409;
 * the lock of a finished or vanished task is taken over: stale_ok says
 * whether task id's task is finished or gone). On success the image
 * carries os_glance_import_task = t->task_id and t->stores is filled. */
enum ims_rc ims_glance_import_lock(struct ims_service *svc, const struct ims_principal *p,
                                   struct ims_glance_import_task *t,
                                   bool (*stale_ok)(void *ctx, const char *task_id), void *ctx,
                                   struct ims_err *err);
/* Drops task_id's lock (a task that could not be recorded). */
void ims_glance_import_unlock(struct ims_service *svc, const char *image_id, const char *task_id);
void ims_glance_import_task_release(struct ims_glance_import_task *t);

/* The task's steps, for the job (lib/jobs/job_glance_import.c). */
/* Step 1: the lock is still the task's: the image goes "importing" (an
 * active one, copy-image's, stays active), the
 * stores into os_glance_importing_to_stores (and out of
 * os_glance_failed_import), os_glance_stage_host removed. */
enum ims_rc ims_glance_import_begin(struct ims_service *svc, const char *image_id, const char *task_id,
                                    const struct ims_strlist *stores, struct ims_err *err);
/* Step 2 for glance-direct: the staged blob, inspected where it is (a
 * format other than disk_format, or one the inspector refuses, fails),
 * then the image's data with size, checksums and virtual size, its store
 * out of the importing ones: the staged blob is the image's data (no
 * copy). The image becomes active and the lock is dropped unless other
 * stores wait for a copy (ims_image_copy_to_store, then
 * ims_glance_import_finish); with them, it becomes active now only if
 * set_active (all_stores_must_succeed false, as Glance's set_active). */
enum ims_rc ims_glance_import_staged(struct ims_service *svc, const char *image_id, const char *task_id,
                                     bool set_active, struct ims_err *err);
/* The image holds the import's data: active, or importing with its data
 * in (all_stores_must_succeed: active after the last store's copy). */
bool ims_glance_import_has_data(const struct ims_image *img);
/* web-download: the URI passes [import_filtering_opts] now (scheme, host,
 * port, and an address its host resolves to); IMS_E_BADREQ with Glance's
 * "URI for web-download does not pass filtering" otherwise. */
enum ims_rc ims_glance_web_uri_check(struct ims_service *svc, const char *uri, struct ims_err *err);
/* Step 2 for web-download: the file fetched (lib/obs/web.c: each redirect
 * filtered, the checked address pinned, [web_download] max_size and
 * timeout), streamed into a new blob of the store with its digests
 * computed on the way (as an upload's), then inspected and made the
 * image's data as staged data is. keep_going false stops it (IMS_E_BUSY,
 * nothing left). */
enum ims_rc ims_glance_import_web(struct ims_service *svc, const char *image_id, const char *task_id, const char *uri,
                                  bool set_active, bool (*keep_going)(void *ctx), void *ctx, struct ims_err *err);
/* The stores out of img's os_glance_importing_to_stores (an edit's). */
void ims_glance_import_stores_done(struct ims_image *img, const struct ims_strlist *stores);
/* With all_stores_must_succeed false, one store failed and the task goes
 * on: store_id out of os_glance_importing_to_stores, into
 * os_glance_failed_import, the lock still the task's. */
enum ims_rc ims_glance_import_store_failed(struct ims_service *svc, const char *image_id, const char *task_id,
                                           const char *store_id, struct ims_err *err);
/* The task's last step once the data is in every store it could reach:
 * the image active if it still is importing with its data in, the lock
 * dropped (if still the task's). */
enum ims_rc ims_glance_import_finish(struct ims_service *svc, const char *image_id, const char *task_id,
                                     struct ims_err *err);
/* The task failed: the image back to queued (if it is still this task's
 * and not active yet), the stores out of os_glance_importing_to_stores
 * and into os_glance_failed_import (those holding no data), the lock
 * dropped, the staged or imported blob dropped (and collected) with its
 * digests. drop_copies (all_stores_must_succeed, as Glance's revert): the
 * copies the task made in its stores go too, their data collected. */
void ims_glance_import_fail(struct ims_service *svc, const char *image_id, const char *task_id,
                            const struct ims_strlist *stores, bool drop_copies);

#endif
