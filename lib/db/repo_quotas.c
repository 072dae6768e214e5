/* SPDX-License-Identifier: Apache-2.0
 * Per-project image quotas (projects without a row use the configured
 * default). */
#include "db-int.h"

enum ims_rc ims_repo_quota_get(struct ims_dbc *c, const char *project_id, int64_t *ret, bool *ret_found,
                               struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT quota FROM image_quotas WHERE project_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, project_id);
    enum ims_rc rc = IMS_OK;
    enum ims_step s = ims_q_step(&q);
    if (s == IMS_STEP_ROW) {
        *ret = ims_q_col_int(&q, 0);
        *ret_found = true;
    } else if (s == IMS_STEP_DONE) {
        *ret_found = false;
    } else {
        rc = ims_q_dberr(&q, err);
    }
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_quota_set(struct ims_dbc *c, const char *project_id, int64_t quota, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO image_quotas (project_id, quota) VALUES (?, ?) "
                       "ON CONFLICT (project_id) DO UPDATE SET quota = excluded.quota",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, project_id);
    ims_q_int(&q, quota);
    return ims_q_exec(&q, err);
}
