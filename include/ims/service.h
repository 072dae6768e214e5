/* SPDX-License-Identifier: Apache-2.0
 * core: the image service's operations, independent of HTTP. Reaches the
 * metadata repository and the blob store only through their interfaces. */
#ifndef IMS_SERVICE_H
#define IMS_SERVICE_H

#include "ims/auth.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/patch.h"
#include "ims/query.h"
#include "ims/store.h"
#include "ims/tags.h"

/* Image quotas: bounds of a project's quota (the reference's min/max). */
#define IMS_QUOTA_MIN 1
#define IMS_QUOTA_MAX 100000

struct ims_service {
    const struct ims_config *cfg;
    const struct ims_backends *backends;
    struct ims_db *db;
    struct ims_store *store; /* every configured store (ims_store_router_open) */
    unsigned char token_key[IMS_TOKEN_KEY_LEN];
    struct ims_login_guard *login_guard; /* login rate limits (lib/core/login_guard.c) */
    struct ims_lease_keeper *upload_leases; /* renews this process's upload leases (upload_leases.c) */
};

/* Opens the data dir (token key) and the repository and stores named by be
 * (cfg and be must outlive the service), runs migrations and crash
 * recovery. */
enum ims_rc ims_service_open(const struct ims_config *cfg, const struct ims_backends *be, struct ims_service **ret,
                             struct ims_err *err);
void ims_service_close(struct ims_service *svc);

#define IMS_DEFAULT_DOMAIN_ID "default"
#define IMS_DEFAULT_DOMAIN_NAME "Default"
#define IMS_ADMIN_PROJECT "admin"
#define IMS_ADMIN_USER "admin"

/* Creates domain Default, project admin and user admin (role admin) if
 * missing. With password NULL one is generated; *ret_password (owned) is
 * set only when the admin was created now. */
enum ims_rc ims_service_bootstrap(struct ims_service *svc, const char *password, char **ret_password,
                                  struct ims_err *err);

/* Creates an account's root user "admin" (with the "admin" role on
 * admin_project_id if given) and its "admin" group holding Tenant
 * Administrator on all projects and on the domain. */
enum ims_rc ims_account_admin_create(struct ims_service *svc, const char *domain_id, const char *password,
                                     const char *admin_project_id, char **ret_user_id, struct ims_err *err);

/* ---- identity (lib/core/identity.c) ----
 * Logins: IMS_E_TOOMANY (with err->retry_after) past the rate limits;
 * lockout_failures wrong passwords in a row from one source address lock
 * the user for that address only, for lockout_seconds. */
struct ims_auth_request {
    const char *user_id, *user_name, *user_domain_id, *user_domain_name, *password;
    /* scope: project by id or by name + domain; or domain; or none */
    const char *project_id, *project_name, *project_domain_id, *project_domain_name;
    const char *domain_id, *domain_name;
    const char *source; /* the client's address: rate limits and lockout are per address */
};
enum ims_rc ims_identity_authenticate(struct ims_service *svc, const struct ims_auth_request *ar,
                                      struct ims_principal *ret, struct ims_err *err);
enum ims_rc ims_identity_issue(struct ims_service *svc, const struct ims_principal *p, char *out, size_t outcap,
                               struct ims_err *err);
/* Verifies signature, expiry and revocation. */
enum ims_rc ims_identity_validate(struct ims_service *svc, const char *token, struct ims_principal *ret,
                                  struct ims_err *err);
/* Names and roles behind a principal, for the token body. */
struct ims_token_info {
    struct ims_user user;
    struct ims_domain user_domain;
    struct ims_project project;        /* zeroed when not project-scoped */
    struct ims_domain project_domain;  /* likewise */
    struct ims_domain scope_domain;    /* zeroed when not domain-scoped */
    struct ims_strlist roles;
};
enum ims_rc ims_identity_describe(struct ims_service *svc, const struct ims_principal *p, struct ims_token_info *ret,
                                  struct ims_err *err);
void ims_token_info_release(struct ims_token_info *ti);
/* Ends every lock of the user (all addresses): `imsctl user unlock`. */
enum ims_rc ims_identity_unlock(struct ims_service *svc, const char *user_id, struct ims_err *err);
enum ims_rc ims_identity_revoke(struct ims_service *svc, const struct ims_principal *p, struct ims_err *err);
enum ims_rc ims_identity_create_project(struct ims_service *svc, const char *domain_id, const char *name,
                                        char **ret_id, struct ims_err *err);
enum ims_rc ims_identity_create_domain(struct ims_service *svc, const char *name, char **ret_id, struct ims_err *err);
enum ims_rc ims_identity_create_user(struct ims_service *svc, const char *domain_id, const char *name,
                                     const char *password, const char *project_id, const char *role, bool is_root,
                                     char **ret_id, struct ims_err *err);

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

/* ---- authorization (lib/core/authz.c) ---- */
/* The outcome of checking a route's actions for a caller. */
struct ims_access {
    bool unrestricted;        /* allowed by grants on the project, all projects or the domain (or root) */
    struct ims_strlist eps;   /* otherwise: enterprise projects where every action is allowed */
    char denied_action[96];   /* the first action that was not allowed, for the 403 */
    char deciding[256];       /* which policy/statement decided, for the log */
};
void ims_access_release(struct ims_access *a);
/* Checks that the caller may perform all of `actions` ("a+b" or "a,b").
 * Grants on the token's project, on all projects and on the domain count
 * if iam_project; grants on enterprise projects count if enterprise_project
 * (then only for resources in those enterprise projects). IMS_E_FORBIDDEN
 * when nothing allows; err names the denied action. */
enum ims_rc ims_authorize(struct ims_service *svc, const struct ims_principal *p, const char *actions,
                          bool iam_project, bool enterprise_project, struct ims_access *ret, struct ims_err *err);
/* May the caller's account put resources in enterprise project ep_id (it
 * exists, is enabled, and is the account's or every account's, like "0")?
 * IMG.0155 (IMS_E_BADREQ) if not. From the thread's IAM cache. */
enum ims_rc ims_ep_check_usable(struct ims_service *svc, const struct ims_principal *p, const char *ep_id,
                                struct ims_err *err);
/* May the caller act on a resource in enterprise project ep? */
bool ims_access_allows(const struct ims_access *a, const char *ep);

/* ---- images (lib/core/images.c) ---- */
/* Creates from a client-supplied draft: owner, status, timestamps, defaults
 * are set here. */
enum ims_rc ims_images_create(struct ims_service *svc, const struct ims_principal *p, struct ims_image *draft,
                              struct ims_err *err);
/* NOT_FOUND unless visible to p. */
enum ims_rc ims_images_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                           struct ims_image *ret, struct ims_err *err);
enum ims_rc ims_images_list(struct ims_service *svc, const struct ims_principal *p, const struct ims_image_query *q,
                            struct ims_image **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_images_patch(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             const struct ims_patch *patch, struct ims_image *ret, struct ims_err *err);
enum ims_rc ims_images_delete(struct ims_service *svc, const struct ims_principal *p, const char *id,
                              struct ims_err *err);
enum ims_rc ims_images_deactivate(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                  bool deactivate, struct ims_err *err);
enum ims_rc ims_images_tag(struct ims_service *svc, const struct ims_principal *p, const char *id, const char *tag,
                           bool add, struct ims_err *err);
bool ims_images_can_modify(const struct ims_principal *p, const struct ims_image *img);

/* ---- image data (lib/core/upload.c) ---- */
struct ims_upload;
/* Moves the image queued → saving and opens a temporary blob.
 * expected_size < 0: unknown. */
enum ims_rc ims_upload_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             int64_t expected_size, struct ims_upload **ret, struct ims_err *err);
enum ims_rc ims_upload_write(struct ims_upload *u, const void *data, size_t n, struct ims_err *err);
/* Commits data and metadata together; the upload is freed. */
enum ims_rc ims_upload_finish(struct ims_upload *u, struct ims_image *ret, struct ims_err *err);
/* Discards the data and returns the image to queued; the upload is freed. */
void ims_upload_abort(struct ims_upload *u);

enum ims_rc ims_images_open_data(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                 struct ims_image *ret_img, struct ims_blob_reader *ret, struct ims_err *err);

/* ---- members (lib/core/members.c) ---- */
enum ims_rc ims_members_add(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                            const char *member_id, struct ims_member *ret, struct ims_err *err);
enum ims_rc ims_members_list(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                             struct ims_member **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_members_get(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                            const char *member_id, struct ims_member *ret, struct ims_err *err);
enum ims_rc ims_members_update(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               const char *member_id, const char *status, struct ims_member *ret,
                               struct ims_err *err);
enum ims_rc ims_members_delete(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               const char *member_id, struct ims_err *err);
/* IMS batch sharing: the native rules plus the IMS limits (256 members, 10
 * for full-ECS images; no public images, not with oneself); a private
 * image becomes shared. Sharing again is not an error. *ret_code: the IMS
 * error code (IMG.xxxx) of a refusal. */
enum ims_rc ims_members_share(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                              const char *member_id, const char **ret_code, struct ims_err *err);

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

/* ---- IMS image update (lib/core/cloudimages.c) ----
 * PATCH /v2/cloudimages/{id}: the image must be visible (else NOTFOUND),
 * the caller's (IMG.0047) and active (IMG.0046); patch comes from
 * ims_cloudimage_patch_parse. move_to_ep (NULL: no move) must name an
 * enabled enterprise project of the caller's account (IMG.0155); the
 * caller's right to create there is the API's check (the route's deferred
 * action). */
enum ims_rc ims_cloudimages_update(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   const struct ims_patch *patch, const char *move_to_ep, struct ims_image *ret,
                                   struct ims_err *err);

/* ---- IMS key/value tags (lib/core/image_tags.c) ----
 * Over the native tag list (include/ims/tags.h says how). A missing or
 * invisible image is IMS_E_NOTFOUND; an image the caller sees but does not
 * own is IMS_E_BADREQ IMG.0047. */
/* The tags of an image the caller can see, as (key, value) pairs. */
enum ims_rc ims_image_tags_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               struct ims_kvlist *ret, struct ims_err *err);
/* Adds or replaces (by key) every pair, all or none, in one transaction. An
 * image carries at most IMS_TAGS_PER_IMAGE_MAX keys (IMG.0116). */
enum ims_rc ims_image_tags_set(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               const struct ims_kvlist *pairs, struct ims_err *err);
/* Removes every pair (value NULL: whatever the key's value). must_exist:
 * IMS_E_NOTFOUND with err->code IMG.0115 when a key is not on the image
 * (nothing removed); otherwise a missing tag counts as removed. */
enum ims_rc ims_image_tags_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                  const struct ims_kvlist *pairs, bool must_exist, struct ims_err *err);
/* The distinct (key, value) tags of project_id's images, sorted by key and
 * value. */
enum ims_rc ims_project_tags(struct ims_service *svc, const char *project_id, struct ims_kvlist *ret,
                             struct ims_err *err);
/* project_id's images meeting q, newest first: *ret_total of them, and the
 * page [offset, offset + limit) in *ret (nothing for a count). */
enum ims_rc ims_images_by_tag(struct ims_service *svc, const char *project_id, const struct ims_tag_query *q,
                              struct ims_tagged_image **ret, size_t *ret_n, int64_t *ret_total,
                              struct ims_err *err);

#endif
