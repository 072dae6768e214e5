/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/quotas.c): how many images a project may own. */
#ifndef IMS_QUOTAS_H
#define IMS_QUOTAS_H

#include "ims/base.h"
#include "ims/service.h"

/* Image quotas: bounds of a project's quota (the reference's min/max). */
#define IMS_QUOTA_MIN 1
#define IMS_QUOTA_MAX 100000

/* ---- image quotas (lib/core/quotas.c) ---- */
struct ims_quota_usage {
    int64_t used, quota, min, max;
};
/* The project's image quota: its own, else [images] quota_default. Creates
 * pass it to ims_repo_image_insert, which checks it in its transaction. */
enum ims_rc ims_quota_of(struct ims_service *svc, const char *project_id, int64_t *ret, struct ims_err *err);
/* The project's image quota and use. */
enum ims_rc ims_quota_get(struct ims_service *svc, const char *project_id, struct ims_quota_usage *ret,
                          struct ims_err *err);
/* Every path that creates images calls this first: IMS_E_BADREQ (IMG.0015)
 * when `adding` more images would pass the project's quota. */
enum ims_rc ims_quota_check(struct ims_service *svc, const char *project_id, int64_t adding, struct ims_err *err);
/* quota within IMS_QUOTA_MIN..IMS_QUOTA_MAX (else IMS_E_BADREQ). */
enum ims_rc ims_quota_set(struct ims_service *svc, const char *project_id, int64_t quota, struct ims_err *err);

#endif
