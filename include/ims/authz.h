/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/authz.c): authorization of a caller's actions against its
 * grants and policies. */
#ifndef IMS_AUTHZ_H
#define IMS_AUTHZ_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/kv.h"
#include "ims/service.h"

/* An authorization decision, always explicit: its effect, where an Allow
 * holds, and what decided. A zeroed result is a Deny that allows nothing
 * anywhere, and so is a missing one (NULL): nothing that was not decided
 * lets anything through. */
enum ims_authz_effect { IMS_AUTHZ_DENY = 0, IMS_AUTHZ_ALLOW };
struct ims_authz_result {
    enum ims_authz_effect effect;
    /* Where an Allow holds, over enterprise projects: IMS_EP_SCOPE_ALL
     * (grants on the project, all projects or the domain; the account's root
     * user; the cloud admin) or IMS_EP_SCOPE_LISTED (only resources in
     * `eps`, through enterprise-project grants). A Deny: IMS_EP_SCOPE_NONE. */
    enum ims_ep_scope scope;
    struct ims_strlist eps;  /* LISTED: the enterprise projects where every action is allowed */
    char denied_action[96];  /* a Deny: the first action not allowed, for the 403 */
    /* What decided, always set by ims_authorize: "Allow by policy <id>
     * statement <n> (<scope> <id>)", "Deny by policy ...", "role admin",
     * "account root user" or "implicit deny: no statement allows <action>". */
    char deciding[256];
};
void ims_authz_result_release(struct ims_authz_result *r);
/* Decides whether the caller may perform all of `actions` ("a+b" or "a,b").
 * Grants on the token's project, on all projects and on the domain count
 * if iam_project; grants on enterprise projects count if enterprise_project
 * (then only for resources in those enterprise projects). *ret is the
 * decision, Allow or Deny (logged with what decided: a Deny at info, an
 * Allow at debug). IMS_E_FORBIDDEN on a Deny (err names the denied action);
 * another failure (the repository) leaves a Deny too. */
enum ims_rc ims_authorize(struct ims_service *svc, const struct ims_principal *p, const char *actions,
                          bool iam_project, bool enterprise_project, struct ims_authz_result *ret,
                          struct ims_err *err);
/* May the caller's account put resources in enterprise project ep_id (it
 * exists, is enabled, and is the account's or every account's, like "0")?
 * IMG.0155 (IMS_E_BADREQ) if not. From the thread's IAM cache. */
enum ims_rc ims_ep_check_usable(struct ims_service *svc, const struct ims_principal *p, const char *ep_id,
                                struct ims_err *err);
/* Does decision r allow acting on a resource in enterprise project ep
 * (NULL or "": the default "0")? False for a Deny and for r NULL. */
bool ims_authz_allows(const struct ims_authz_result *r, const char *ep);
/* The action to name in a 403 for r (r may be NULL). */
const char *ims_authz_denied_action(const struct ims_authz_result *r);

#endif
