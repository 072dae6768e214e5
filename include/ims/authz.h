/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/authz.c): authorization of a caller's actions against its
 * grants and policies. */
#ifndef IMS_AUTHZ_H
#define IMS_AUTHZ_H

#include "ims/auth.h"
#include "ims/kv.h"
#include "ims/service.h"

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

#endif
