/* SPDX-License-Identifier: Apache-2.0
 * Keystone role assignments (admin, member, reader) of the account's users
 * and groups on its projects and its domain (and service, Glance's
 * service_api role): the rules, then one repository
 * write (lib/db/repo_assignments.c). The admin role makes a cloud
 * administrator, so only a cloud administrator gives or takes it: an
 * account's IAM administrator could otherwise make itself one. */
#include <string.h>

#include "core-int.h"
#include "ims/db.h"
#include "ims/iam_admin.h"
#include "ims/service.h"

const char *const ims_keystone_roles[] = {"admin", "member", "reader", "service", NULL};

bool ims_keystone_role_valid(const char *role)
{
    for (size_t i = 0; ims_keystone_roles[i]; i++)
        if (ims_streq(role, ims_keystone_roles[i]))
            return true;
    return false;
}

/* The actor and the target exist in the account. */
static enum ims_rc check_parties(struct ims_service *svc, const char *domain_id, const struct ims_assignment *a,
                                 struct ims_err *err)
{
    enum ims_rc rc;
    if (a->actor_type == IMS_ACTOR_USER) {
        struct ims_user u;
        if ((rc = ims_iam_user_get(svc, domain_id, a->actor_id, &u, err)) != IMS_OK)
            return rc;
        ims_user_release(&u);
    } else {
        struct ims_group g;
        if ((rc = ims_iam_group_get(svc, domain_id, a->actor_id, &g, err)) != IMS_OK)
            return rc;
        ims_group_release(&g);
    }
    if (a->target_type == IMS_TARGET_DOMAIN)
        return ims_streq(a->target_id, domain_id) ? IMS_OK
                                                  : ims_fail(err, IMS_E_NOTFOUND, "Could not find domain: %s",
                                                             a->target_id);
    struct ims_project p;
    if ((rc = ims_iam_project_get(svc, domain_id, a->target_id, &p, err)) != IMS_OK)
        return rc;
    ims_project_release(&p);
    return IMS_OK;
}

/* The roles only a cloud administrator gives or takes. */
static const char *const cloud_roles[] = {"admin", "service"};

enum ims_rc ims_iam_cloud_roles_guard(struct ims_service *svc, const struct ims_principal *caller,
                                      const char *domain_id, enum ims_iam_holder holder, const char *id,
                                      struct ims_err *err)
{
    if (caller->is_admin)
        return IMS_OK;
    static const char *const names[] = {"user", "group", "project"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cloud_roles); i++) {
        /* a user's own rows and its groups' (effective); a group's; any held on a project */
        struct ims_assignment_filter f = {
            .domain_id = domain_id,
            .actor_type = holder == IMS_HOLDER_USER ? IMS_ACTOR_USER : holder == IMS_HOLDER_GROUP ? IMS_ACTOR_GROUP : -1,
            .actor_id = holder == IMS_HOLDER_PROJECT ? NULL : id,
            .target_type = holder == IMS_HOLDER_PROJECT ? IMS_TARGET_PROJECT : -1,
            .target_id = holder == IMS_HOLDER_PROJECT ? id : NULL,
            .role = cloud_roles[i],
            .effective = holder == IMS_HOLDER_USER};
        struct ims_assignment *rows = NULL;
        size_t n = 0;
        enum ims_rc rc = ims_repo_assignment_list(ims_db_conn(svc->db), &f, &rows, &n, err);
        ims_assignment_array_free(rows, n);
        if (rc != IMS_OK)
            return rc;
        if (n)
            return ims_fail(err, IMS_E_FORBIDDEN,
                            "Only a cloud administrator may change this %s: the %s role is held %s, and only a "
                            "cloud administrator may give or take it.",
                            names[holder], cloud_roles[i], holder == IMS_HOLDER_PROJECT ? "on it" : "through it");
    }
    return IMS_OK;
}

enum ims_rc ims_iam_assignment(struct ims_service *svc, const struct ims_principal *caller, const char *domain_id,
                               const struct ims_assignment *a, enum ims_iam_op op, struct ims_err *err)
{
    if (!ims_keystone_role_valid(a->role))
        return ims_fail(err, IMS_E_NOTFOUND, "Could not find role: %s", a->role);
    if (op != IMS_IAM_CHECK && ims_streq(a->role, "admin") && !caller->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN,
                        "Only a cloud administrator may give or take the admin role: it is every project's admin.");
    if (op != IMS_IAM_CHECK && ims_streq(a->role, "service") && !caller->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN,
                        "Only a cloud administrator may give or take the service role: it reads where images' data "
                        "is stored.");
    struct ims_dbc *c = ims_db_conn(svc->db);
    if (op != IMS_IAM_CHECK) {
        /* The parties are read in the transaction that writes: the table
         * has no foreign keys, so a user, group or project deleted between
         * a check outside it and the insert would leave a row naming it
         * (another node's delete as much as this one's). */
        enum ims_rc rc = ims_db_begin(c, err);
        if (rc != IMS_OK)
            return rc;
        if ((rc = check_parties(svc, domain_id, a, err)) == IMS_OK)
            rc = op == IMS_IAM_ADD ? ims_repo_assignment_add(c, a, NULL, err) : ims_repo_assignment_remove(c, a, err);
        return ims_db_end(c, rc, err);
    }
    enum ims_rc rc = check_parties(svc, domain_id, a, err);
    if (rc != IMS_OK)
        return rc;
    bool there = false;
    if ((rc = ims_repo_assignment_exists(c, a, &there, err)) != IMS_OK)
        return rc;
    return there ? IMS_OK : ims_fail(err, IMS_E_NOTFOUND, "Could not find role assignment.");
}

enum ims_rc ims_iam_assignment_list(struct ims_service *svc, const char *domain_id, struct ims_assignment_filter f,
                                    struct ims_assignment **ret, size_t *ret_n, struct ims_err *err)
{
    f.domain_id = domain_id;
    return ims_repo_assignment_list(ims_db_conn(svc->db), &f, ret, ret_n, err);
}

enum ims_rc ims_iam_domain_get(struct ims_service *svc, const char *domain_id, struct ims_domain *ret,
                               struct ims_err *err)
{
    return ims_repo_domain_get(ims_db_conn(svc->db), domain_id, NULL, ret, err);
}
