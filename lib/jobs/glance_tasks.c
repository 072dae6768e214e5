/* SPDX-License-Identifier: Apache-2.0
 * Glance's tasks are the import jobs (api_image_import): what Glance's task
 * API may show of them, with Glance's visibility (the owner's project;
 * every task for an admin). */
#include <stdio.h>
#include <string.h>

#include "jobs-int.h"
#include "ims/db.h"

static bool visible(const struct ims_principal *p, const struct ims_job *j)
{
    return ims_streq(j->type, IMS_JOB_GLANCE_IMPORT) &&
           (p->is_admin || (p->project_id[0] && ims_streq(j->project_id, p->project_id)));
}

enum ims_rc ims_task_get(struct ims_service *svc, const struct ims_principal *p, const char *id, struct ims_job *ret,
                         struct ims_err *err)
{
    struct ims_job j;
    if (!id || !ims_uuid_valid(id))
        return ims_fail(err, IMS_E_NOTFOUND, "Task %s could not be found.", id ? id : "");
    enum ims_rc rc = ims_repo_job_get(ims_db_conn(svc->db), id, &j, err);
    if (rc != IMS_OK)
        return rc;
    if (!visible(p, &j)) {
        ims_job_release(&j);
        return ims_fail(err, IMS_E_NOTFOUND, "Task %s could not be found.", id);
    }
    *ret = j;
    return IMS_OK;
}

enum ims_rc ims_tasks_list(struct ims_service *svc, const struct ims_principal *p, struct ims_job_list_query *lq,
                           struct ims_job **ret, size_t *ret_n, struct ims_err *err)
{
    if (!p->is_admin && !p->project_id[0]) {
        *ret = NULL;
        *ret_n = 0;
        return IMS_OK;
    }
    if (!lq->type)
        lq->type = IMS_JOB_GLANCE_IMPORT;
    lq->project_id = p->is_admin ? NULL : p->project_id;
    if (lq->marker) { /* a marker p cannot see is no marker */
        struct ims_job m;
        enum ims_rc rc = ims_task_get(svc, p, lq->marker, &m, err);
        if (rc != IMS_OK)
            return rc;
        ims_job_release(&m);
    }
    return ims_repo_jobs_list(ims_db_conn(svc->db), lq, ret, ret_n, err);
}

enum ims_rc ims_tasks_of_image(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               struct ims_job **ret, size_t *ret_n, struct ims_err *err)
{
    if (!ims_uuid_valid(image_id))
        return ims_fail(err, IMS_E_NOTFOUND, "Image %s could not be found.", image_id);
    char needle[64];
    snprintf(needle, sizeof(needle), "\"image_id\":\"%s\"", image_id);
    struct ims_job_list_query lq = {.type = IMS_JOB_GLANCE_IMPORT, .needle = needle, .ascending = true,
                                    .limit = 1000};
    lq.project_id = p->is_admin ? NULL : p->project_id;
    if (!p->is_admin && !p->project_id[0]) {
        *ret = NULL;
        *ret_n = 0;
        return IMS_OK;
    }
    return ims_repo_jobs_list(ims_db_conn(svc->db), &lq, ret, ret_n, err);
}

bool ims_task_stale(struct ims_service *svc, const char *id)
{
    struct ims_job j;
    struct ims_err err = {0};
    enum ims_rc rc = ims_repo_job_get(ims_db_conn(svc->db), id, &j, &err);
    if (rc == IMS_E_NOTFOUND)
        return true;
    if (rc != IMS_OK)
        return false;
    bool finished = ims_streq(j.status, "SUCCESS") || ims_streq(j.status, "FAIL");
    ims_job_release(&j);
    return finished;
}
