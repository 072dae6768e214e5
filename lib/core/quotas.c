/* SPDX-License-Identifier: Apache-2.0
 * Image quotas: how many images a project may own (reference ims_apis/
 * image_quota/querying_the_image_quota.md), checked by every path that
 * creates an image. */
#include "ims/config.h"
#include "ims/db.h"
#include "ims/quotas.h"
#include "ims/service.h"

enum ims_rc ims_quota_of(struct ims_service *svc, const char *project_id, int64_t *ret, struct ims_err *err)
{
    bool found = false;
    enum ims_rc rc = ims_repo_quota_get(ims_db_conn(svc->db), project_id, ret, &found, err);
    if (rc == IMS_OK && !found)
        *ret = svc->cfg->quota_default;
    return rc;
}

enum ims_rc ims_quota_get(struct ims_service *svc, const char *project_id, struct ims_quota_usage *ret,
                          struct ims_err *err)
{
    int64_t quota = 0, used = 0;
    enum ims_rc rc = ims_quota_of(svc, project_id, &quota, err);
    if (rc == IMS_OK)
        rc = ims_repo_image_count(ims_db_conn(svc->db), project_id, &used, err);
    if (rc != IMS_OK)
        return rc;
    *ret = (struct ims_quota_usage){.used = used, .quota = quota, .min = IMS_QUOTA_MIN, .max = IMS_QUOTA_MAX};
    return IMS_OK;
}

enum ims_rc ims_quota_check(struct ims_service *svc, const char *project_id, int64_t adding, struct ims_err *err)
{
    struct ims_quota_usage u;
    enum ims_rc rc = ims_quota_get(svc, project_id, &u, err);
    if (rc != IMS_OK)
        return rc;
    if (u.used + adding > u.quota)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0015", IMS_QUOTA_FULL_FMT, project_id, (long long)u.used,
                             (long long)u.quota);
    return IMS_OK;
}

enum ims_rc ims_quota_set(struct ims_service *svc, const char *project_id, int64_t quota, struct ims_err *err)
{
    if (quota < IMS_QUOTA_MIN || quota > IMS_QUOTA_MAX)
        return ims_fail(err, IMS_E_BADREQ, "quota must be between %d and %d", IMS_QUOTA_MIN, IMS_QUOTA_MAX);
    return ims_repo_quota_set(ims_db_conn(svc->db), project_id, quota, err);
}
