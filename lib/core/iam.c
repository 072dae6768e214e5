/* SPDX-License-Identifier: Apache-2.0
 * IAM management operations shared by imsctl and the IAM API: groups and
 * membership, custom policies (validated by the policy engine before they
 * are stored), grants on a scope, enterprise projects, and the system
 * policies every data dir carries. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "ims/db.h"
#include "ims/iam_admin.h"
#include "ims/policy.h"
#include "ims/service.h"

static void system_policy_id(const char *name, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(name, strlen(name), md, &n, EVP_md5(), NULL);
    ims_hex_encode(md, 16, out, 33);
}

/* One write transaction: the policies are looked for where they are
 * written, so processes starting together on one database (nodes on a
 * server engine) make each once. */
enum ims_rc ims_iam_ensure_system_policies(struct ims_service *svc, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    for (const char *const *name = ims_policy_system_names; rc == IMS_OK && *name; name++) {
        char id[33];
        system_policy_id(*name, id);
        struct ims_policy_row have;
        rc = ims_repo_policy_get(c, id, NULL, NULL, &have, err);
        if (rc == IMS_OK) {
            ims_policy_row_release(&have);
            continue;
        }
        if (rc != IMS_E_NOTFOUND)
            break;
        const char *doc = ims_policy_system_document(*name);
        struct ims_policy_row row = {.id = id, .name = (char *)*name, .display_name = (char *)*name,
                                     .description = "System-defined policy", .type = "system",
                                     .document = (char *)doc};
        rc = ims_repo_policy_insert(c, &row, err);
    }
    return ims_db_end(c, rc, err);
}

static enum ims_rc resolve_group(struct ims_dbc *c, const char *domain_id, const char *ref, struct ims_group *ret,
                                 struct ims_err *err)
{
    enum ims_rc rc = ims_repo_group_get(c, NULL, domain_id, ref, ret, err);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_group_get(c, ref, NULL, NULL, ret, err);
    return rc;
}

static enum ims_rc resolve_policy(struct ims_dbc *c, const char *domain_id, const char *ref,
                                  struct ims_policy_row *ret, struct ims_err *err)
{
    enum ims_rc rc = ims_repo_policy_get(c, NULL, domain_id, ref, ret, err);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_policy_get(c, ref, NULL, NULL, ret, err);
    return rc;
}

static enum ims_rc check_name(const char *what, const char *name, size_t max, struct ims_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > max)
        return ims_fail(err, IMS_E_BADREQ, "%s name must have 1 to %zu characters", what, max);
    for (const char *s = name; *s; s++)
        if ((unsigned char)*s < 0x20)
            return ims_fail(err, IMS_E_BADREQ, "%s name must not contain control characters", what);
    return IMS_OK;
}

enum ims_rc ims_iam_create_group(struct ims_service *svc, const char *domain_id, const char *name,
                                 const char *description, char **ret_id, struct ims_err *err)
{
    enum ims_rc rc = check_name("group", name, 128, err);
    if (rc != IMS_OK)
        return rc;
    char id[33];
    ims_hexid_new(id, 16);
    struct ims_group g = {.id = id, .domain_id = (char *)domain_id, .name = (char *)name,
                          .description = (char *)description};
    if ((rc = ims_repo_group_insert(ims_db_conn(svc->db), &g, err)) != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(id);
    return IMS_OK;
}

enum ims_rc ims_iam_add_user_to_group(struct ims_service *svc, const char *domain_id, const char *group,
                                      const char *user_id, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_group g;
    /* The group is resolved in the transaction that adds the member. */
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    if ((rc = resolve_group(c, domain_id, group, &g, err)) == IMS_OK) {
        rc = ims_repo_group_add_user(c, g.id, user_id, err);
        ims_group_release(&g);
    }
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_iam_create_policy(struct ims_service *svc, const char *domain_id, const char *name,
                                  const char *description, const char *document, char **ret_id, struct ims_err *err)
{
    enum ims_rc rc = check_name("policy", name, 128, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_policy *parsed;
    if ((rc = ims_policy_parse(document, strlen(document), &parsed, err)) != IMS_OK)
        return rc;
    ims_policy_free(parsed);
    char id[33];
    ims_hexid_new(id, 16);
    struct ims_policy_row row = {.id = id, .domain_id = (char *)domain_id, .name = (char *)name,
                                 .display_name = (char *)name, .description = (char *)description,
                                 .type = "AX", .document = (char *)document};
    if ((rc = ims_repo_policy_insert(ims_db_conn(svc->db), &row, err)) != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(id);
    return IMS_OK;
}

enum ims_rc ims_iam_grant(struct ims_service *svc, const char *domain_id, const char *group, const char *policy,
                          enum ims_scope_type scope, const char *scope_ref, bool revoke, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_group g = {0};
    struct ims_policy_row pol = {0};
    char *scope_id = NULL;
    /* Group, policy and scope are resolved in the transaction that grants. */
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = resolve_group(c, domain_id, group, &g, err);
    if (rc == IMS_OK)
        rc = resolve_policy(c, domain_id, policy, &pol, err);
    if (rc == IMS_OK) {
        switch (scope) {
        case IMS_SCOPE_PROJECT: {
            struct ims_project p;
            rc = ims_repo_project_get(c, NULL, domain_id, scope_ref, &p, err);
            if (rc == IMS_E_NOTFOUND)
                rc = ims_repo_project_get(c, scope_ref, NULL, NULL, &p, err);
            if (rc == IMS_OK) {
                scope_id = ims_xstrdup(p.id);
                ims_project_release(&p);
            }
            break;
        }
        case IMS_SCOPE_ENTERPRISE_PROJECT: {
            struct ims_enterprise_project ep;
            rc = ims_repo_ep_get(c, scope_ref ? scope_ref : "", &ep, err);
            if (rc == IMS_OK) {
                scope_id = ims_xstrdup(ep.id);
                ims_ep_release(&ep);
            }
            break;
        }
        case IMS_SCOPE_ALL_PROJECTS:
        case IMS_SCOPE_DOMAIN:
            scope_id = ims_xstrdup(domain_id);
            break;
        }
    }
    if (rc == IMS_OK)
        rc = revoke ? ims_repo_grant_delete(c, g.id, pol.id, scope, scope_id, err)
                    : ims_repo_grant_insert(c, g.id, pol.id, scope, scope_id, err);
    free(scope_id);
    ims_group_release(&g);
    ims_policy_row_release(&pol);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_iam_create_enterprise_project(struct ims_service *svc, const char *domain_id, const char *name,
                                              const char *description, char **ret_id, struct ims_err *err)
{
    enum ims_rc rc = check_name("enterprise project", name, 64, err);
    if (rc != IMS_OK)
        return rc;
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    struct ims_enterprise_project ep = {.id = id, .domain_id = (char *)domain_id, .name = (char *)name,
                                        .description = (char *)description, .status = 1, .type = "prod"};
    if ((rc = ims_repo_ep_insert(ims_db_conn(svc->db), &ep, err)) != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(id);
    return IMS_OK;
}
