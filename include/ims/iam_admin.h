/* SPDX-License-Identifier: Apache-2.0
 * core: IAM administration: the operations imsctl and the API share
 * (lib/core/iam.c) and the IAM management API's (lib/core/iam_admin.c). */
#ifndef IMS_IAM_ADMIN_H
#define IMS_IAM_ADMIN_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/service.h"

/* ---- IAM management (lib/core/iam.c) ---- */
/* Inserts the system-defined policies that are missing (ids derived from
 * their names, so every data dir agrees). Run at every open. */
enum ims_rc ims_iam_ensure_system_policies(struct ims_service *svc, struct ims_err *err);
enum ims_rc ims_iam_create_group(struct ims_service *svc, const char *domain_id, const char *name,
                                 const char *description, char **ret_id, struct ims_err *err);
/* Group/policy/project/enterprise project referenced by name or id. */
enum ims_rc ims_iam_add_user_to_group(struct ims_service *svc, const char *domain_id, const char *group,
                                      const char *user_id, struct ims_err *err);
enum ims_rc ims_iam_create_policy(struct ims_service *svc, const char *domain_id, const char *name,
                                  const char *description, const char *document, char **ret_id, struct ims_err *err);
/* scope_ref: project name/id for IMS_SCOPE_PROJECT, enterprise project id for
 * IMS_SCOPE_ENTERPRISE_PROJECT, ignored otherwise. */
enum ims_rc ims_iam_grant(struct ims_service *svc, const char *domain_id, const char *group, const char *policy,
                          enum ims_scope_type scope, const char *scope_ref, bool revoke, struct ims_err *err);
enum ims_rc ims_iam_create_enterprise_project(struct ims_service *svc, const char *domain_id, const char *name,
                                              const char *description, char **ret_id, struct ims_err *err);

/* ---- IAM management API (lib/core/iam_admin.c) ----
 * Every call acts inside one account, domain_id (the caller's): objects of
 * another account are IMS_E_NOTFOUND, as if they did not exist. Every write
 * bumps the IAM generation (through the repository). */

/* May p administer its account's IAM objects with `action`
 * ("iam:users:createUser", "eps:enterpriseProjects:create")? The account's
 * root user and the cloud admin may; anyone else needs a grant on the domain
 * allowing it: IAM and EPS are global services, so grants on projects do not
 * count. IMS_E_FORBIDDEN (naming the action) otherwise. */
enum ims_rc ims_iam_admin_check(struct ims_service *svc, const struct ims_principal *p, const char *action,
                                struct ims_err *err);

/* Fields of a user to create or change; NULL (enabled < 0) = default on
 * create, unchanged on update. */
struct ims_iam_user_input {
    const char *name, *password, *description, *default_project_id;
    int enabled;
};
enum ims_rc ims_iam_user_add(struct ims_service *svc, const char *domain_id, const struct ims_iam_user_input *in,
                             struct ims_user *ret, struct ims_err *err);
enum ims_rc ims_iam_user_get(struct ims_service *svc, const char *domain_id, const char *id, struct ims_user *ret,
                             struct ims_err *err);
enum ims_rc ims_iam_user_list(struct ims_service *svc, const char *domain_id, const char *name, int enabled,
                              const char *group_id, struct ims_user **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_iam_user_update(struct ims_service *svc, const char *domain_id, const char *id,
                                const struct ims_iam_user_input *in, struct ims_user *ret, struct ims_err *err);
/* The account's root user cannot be deleted (IMS_E_FORBIDDEN). */
enum ims_rc ims_iam_user_delete(struct ims_service *svc, const char *domain_id, const char *id, struct ims_err *err);

enum ims_rc ims_iam_group_add(struct ims_service *svc, const char *domain_id, const char *name,
                              const char *description, struct ims_group *ret, struct ims_err *err);
enum ims_rc ims_iam_group_get(struct ims_service *svc, const char *domain_id, const char *id, struct ims_group *ret,
                              struct ims_err *err);
enum ims_rc ims_iam_group_list(struct ims_service *svc, const char *domain_id, const char *name, const char *user_id,
                               struct ims_group **ret, size_t *ret_n, struct ims_err *err);
/* name/description NULL = unchanged. */
enum ims_rc ims_iam_group_update(struct ims_service *svc, const char *domain_id, const char *id, const char *name,
                                 const char *description, struct ims_group *ret, struct ims_err *err);
enum ims_rc ims_iam_group_delete(struct ims_service *svc, const char *domain_id, const char *id, struct ims_err *err);
enum ims_iam_op { IMS_IAM_ADD, IMS_IAM_CHECK, IMS_IAM_REMOVE };
/* CHECK and REMOVE: IMS_E_NOTFOUND when the user is not a member. */
enum ims_rc ims_iam_group_member(struct ims_service *svc, const char *domain_id, const char *group_id,
                                 const char *user_id, enum ims_iam_op op, struct ims_err *err);

enum ims_rc ims_iam_project_add(struct ims_service *svc, const char *domain_id, const char *name,
                                const char *description, struct ims_project *ret, struct ims_err *err);
enum ims_rc ims_iam_project_get(struct ims_service *svc, const char *domain_id, const char *id,
                                struct ims_project *ret, struct ims_err *err);
enum ims_rc ims_iam_project_list(struct ims_service *svc, const char *domain_id, const char *name, int enabled,
                                 struct ims_project **ret, size_t *ret_n, struct ims_err *err);
/* name/description NULL, enabled < 0 = unchanged. */
enum ims_rc ims_iam_project_update(struct ims_service *svc, const char *domain_id, const char *id, const char *name,
                                   const char *description, int enabled, struct ims_project *ret,
                                   struct ims_err *err);
/* IMS_E_CONFLICT while the project still owns images. */
enum ims_rc ims_iam_project_delete(struct ims_service *svc, const char *domain_id, const char *id,
                                   struct ims_err *err);

/* A custom policy: type "AX" (account level, global services) or "XA"
 * (project level); document is the policy JSON, checked by the engine. NULL
 * = unchanged on update. */
struct ims_iam_policy_input {
    const char *display_name, *type, *description, *document;
};
enum ims_rc ims_iam_policy_add(struct ims_service *svc, const char *domain_id, const struct ims_iam_policy_input *in,
                               struct ims_policy_row *ret, struct ims_err *err);
/* custom_only: the account's own policies; otherwise system ones too. */
enum ims_rc ims_iam_policy_get(struct ims_service *svc, const char *domain_id, const char *id, bool custom_only,
                               struct ims_policy_row *ret, struct ims_err *err);
enum ims_rc ims_iam_policy_list(struct ims_service *svc, const char *domain_id, bool custom_only,
                                struct ims_policy_row **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_iam_policy_update(struct ims_service *svc, const char *domain_id, const char *id,
                                  const struct ims_iam_policy_input *in, struct ims_policy_row *ret,
                                  struct ims_err *err);
/* How many grants use the policy (the reference's "references"). */
enum ims_rc ims_iam_policy_references(struct ims_service *svc, const char *id, int64_t *ret, struct ims_err *err);
/* Removes the policy and its grants. */
enum ims_rc ims_iam_policy_delete(struct ims_service *svc, const char *domain_id, const char *id,
                                  struct ims_err *err);

/* Grants by ids: the group and scope must be the account's, the policy the
 * account's or a system one. scope_ref: project id, enterprise project id,
 * or the domain id (ALL_PROJECTS, DOMAIN). CHECK/REMOVE: IMS_E_NOTFOUND when
 * there is no such grant. */
enum ims_rc ims_iam_grant_apply(struct ims_service *svc, const char *domain_id, const char *group_id,
                                const char *policy_id, enum ims_scope_type scope, const char *scope_ref,
                                enum ims_iam_op op, struct ims_err *err);
enum ims_rc ims_iam_grant_list(struct ims_service *svc, const char *domain_id, const char *group_id,
                               enum ims_scope_type scope, const char *scope_ref, struct ims_policy_row **ret,
                               size_t *ret_n, struct ims_err *err);

/* ---- Keystone role assignments (lib/core/role_assignments.c) ----
 * The Keystone roles admin, member and reader of users and groups on the
 * account's projects and on the account's domain, beside the IAM policy
 * grants. "admin" makes a cloud administrator (Glance's admin: every image,
 * any owner): only a cloud administrator may give or take it. */
extern const char *const ims_keystone_roles[]; /* NULL-terminated */
bool ims_keystone_role_valid(const char *role);
/* a's actor and target must be the account's (IMS_E_NOTFOUND naming which),
 * its role a Keystone role (IMS_E_NOTFOUND). CHECK and REMOVE:
 * IMS_E_NOTFOUND when there is no such assignment. */
enum ims_rc ims_iam_assignment(struct ims_service *svc, const struct ims_principal *caller, const char *domain_id,
                               const struct ims_assignment *a, enum ims_iam_op op, struct ims_err *err);
/* An account's IAM administrator (not a cloud administrator) may not
 * reach the roles only a cloud administrator gives (admin, service)
 * around that rule: by joining a group that holds one, by changing,
 * disabling or deleting a user who holds one (a new password is a login
 * as that user), or by taking one away with the group, a member of it, or
 * the project it is held on (deleted or changed: a disabled project ends
 * every login to it). IMS_E_FORBIDDEN when the user (its own
 * roles or its groups'), the group, or any holder on the project, holds
 * one and caller is not a cloud administrator. */
enum ims_iam_holder { IMS_HOLDER_USER, IMS_HOLDER_GROUP, IMS_HOLDER_PROJECT };
enum ims_rc ims_iam_cloud_roles_guard(struct ims_service *svc, const struct ims_principal *caller,
                                      const char *domain_id, enum ims_iam_holder holder, const char *id,
                                      struct ims_err *err);
/* The account's domain row (its name, for include_names). */
enum ims_rc ims_iam_domain_get(struct ims_service *svc, const char *domain_id, struct ims_domain *ret,
                               struct ims_err *err);
/* The account's assignments matching f (f->domain_id is set to domain_id). */
enum ims_rc ims_iam_assignment_list(struct ims_service *svc, const char *domain_id, struct ims_assignment_filter f,
                                    struct ims_assignment **ret, size_t *ret_n, struct ims_err *err);

/* Enterprise projects of the account, and the shared default one "0"
 * (read-only). type: "prod" or "poc". */
enum ims_rc ims_iam_ep_add(struct ims_service *svc, const char *domain_id, const char *name,
                           const char *description, const char *type, struct ims_enterprise_project *ret,
                           struct ims_err *err);
enum ims_rc ims_iam_ep_get(struct ims_service *svc, const char *domain_id, const char *id,
                           struct ims_enterprise_project *ret, struct ims_err *err);
/* status 0 = any, 1 enabled, 2 disabled. */
enum ims_rc ims_iam_ep_list(struct ims_service *svc, const char *domain_id, const char *name, int status,
                            struct ims_enterprise_project **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_iam_ep_update(struct ims_service *svc, const char *domain_id, const char *id, const char *name,
                              const char *description, const char *type, struct ims_enterprise_project *ret,
                              struct ims_err *err);
enum ims_rc ims_iam_ep_set_enabled(struct ims_service *svc, const char *domain_id, const char *id, bool enabled,
                                   struct ims_err *err);

#endif
