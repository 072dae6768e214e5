/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/copy.c): replication of an image within the region. */
#ifndef IMS_COPY_H
#define IMS_COPY_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/service.h"

/* ---- replication within a region (lib/core/copy.c) ----
 * A copy is a new image row referencing the same store blob (no byte copy;
 * the blob goes when its last image does). Three steps, each repeatable
 * after a crash: check, stage (a queued row without data), finish (data and
 * active, in one transaction that re-checks the source). */
struct ims_copy_spec {
    const char *name, *description, *enterprise_project_id; /* description NULL: none */
};
/* May p replicate image src_id into spec->enterprise_project_id? Fills ret
 * (the source) on success; *ret_code: the IMS error code of a refusal. */
enum ims_rc ims_images_copy_check(struct ims_service *svc, const struct ims_principal *p, const char *src_id,
                                  const struct ims_copy_spec *spec, struct ims_image *ret, const char **ret_code,
                                  struct ims_err *err);
/* Creates the copy's row (status queued, no data) with id new_id, unless it
 * exists already. */
enum ims_rc ims_images_copy_stage(struct ims_service *svc, const struct ims_principal *p, const struct ims_image *src,
                                  const char *new_id, const struct ims_copy_spec *spec, struct ims_err *err);
/* Gives the staged copy the source's data and makes it active. NOTFOUND
 * when the source is gone or no longer active (the staged row is removed). */
enum ims_rc ims_images_copy_finish(struct ims_service *svc, const char *src_id, const char *new_id,
                                   struct ims_err *err);
/* Removes a staged copy that never got its data. */
void ims_images_copy_abandon(struct ims_service *svc, const char *new_id);

#endif
