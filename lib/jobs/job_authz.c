/* SPDX-License-Identifier: Apache-2.0
 * A job acts with its submitter's rights as they are when a worker takes
 * it (first run, resumption after a restart or a lost lease), not as they
 * were when it was queued: the user and the project must still be enabled,
 * and the job type's IAM actions still allowed by the user's grants. */
#include "jobs-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/db.h"

/* The user still exists and is enabled, the project too, and is_admin still
 * holds (the admin role on the project). On the way the principal loses an
 * admin role it no longer has. */
static enum ims_rc identity_current(struct ims_dbc *c, struct ims_principal *p, struct ims_err *err)
{
    struct ims_user u;
    enum ims_rc rc = ims_repo_user_get(c, p->user_id, NULL, NULL, &u, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail(err, IMS_E_FORBIDDEN, "The user who submitted the job no longer exists.");
    if (rc != IMS_OK)
        return rc;
    bool enabled = u.enabled;
    ims_user_release(&u);
    if (!enabled)
        return ims_fail(err, IMS_E_FORBIDDEN, "The user who submitted the job is disabled.");
    struct ims_project proj;
    rc = ims_repo_project_get(c, p->project_id, NULL, NULL, &proj, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail(err, IMS_E_FORBIDDEN, "The job's project no longer exists.");
    if (rc != IMS_OK)
        return rc;
    enabled = proj.enabled;
    ims_project_release(&proj);
    if (!enabled)
        return ims_fail(err, IMS_E_FORBIDDEN, "The job's project is disabled.");
    if (p->is_admin) {
        struct ims_strlist roles = {0};
        rc = ims_repo_roles_on_project(c, p->user_id, p->project_id, &roles, err);
        p->is_admin = rc == IMS_OK && ims_strlist_contains(&roles, "admin");
        ims_strlist_release(&roles);
    }
    return rc;
}

enum ims_rc ims_job_authorize_take(struct ims_job_ctx *ctx, const struct ims_job_handler *h,
                                   struct ims_authz_result *ret_access)
{
    struct ims_err err = {0};
    struct ims_principal *p = &ctx->principal;
    enum ims_rc rc = identity_current(ims_db_conn(ctx->svc->db), p, &err);
    if (rc == IMS_OK)
        rc = ims_authorize(ctx->svc, p, h->actions, true, h->enterprise_project, ret_access, &err);
    if (rc == IMS_OK) {
        p->authz = ret_access;
        return IMS_OK;
    }
    if (rc == IMS_E_FORBIDDEN)
        return ims_job_failf(ctx, "IMG.0161", "You do not have permission: %s", err.msg);
    return ims_job_failf(ctx, "IMG.0061", "%s", ims_job_err_msg(ctx, rc, &err));
}

enum ims_rc ims_job_action_allowed(struct ims_job_ctx *ctx, const char *action, const char *code)
{
    struct ims_authz_result acc;
    struct ims_err err = {0};
    enum ims_rc rc = ims_authorize(ctx->svc, &ctx->principal, action, true, false, &acc, &err);
    ims_authz_result_release(&acc);
    if (rc == IMS_E_FORBIDDEN)
        return ims_job_failf(ctx, code, "You do not have permission: %s", err.msg);
    return rc == IMS_OK ? IMS_OK : ims_job_fail_with(ctx, rc, &err);
}
