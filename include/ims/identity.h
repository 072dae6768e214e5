/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/identity.c): password authentication, tokens, domains,
 * projects and users. */
#ifndef IMS_IDENTITY_H
#define IMS_IDENTITY_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/kv.h"
#include "ims/service.h"

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
/* Creates a user (and its role on project_id when given); `more` (NULL:
 * nothing), with its id ignored, is applied in the same transaction, so no
 * node ever sees the user without it (a user created disabled is never
 * enabled for a moment). */
enum ims_rc ims_identity_create_user(struct ims_service *svc, const char *domain_id, const char *name,
                                     const char *password, const char *project_id, const char *role, bool is_root,
                                     const struct ims_user_change *more, char **ret_id, struct ims_err *err);

#endif
