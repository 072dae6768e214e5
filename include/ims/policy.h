/* SPDX-License-Identifier: Apache-2.0
 * policy: IAM fine-grained policy documents (reference/iam/permissions/
 * policy_syntax.md): parsing with precise errors, and evaluation of actions
 * against a set of policies with Deny-beats-Allow. Pure: no I/O (the caller
 * supplies the time and the request's condition keys). Depends on base and
 * jansson only. */
#ifndef IMS_POLICY_H
#define IMS_POLICY_H

#include "ims/base.h"

struct ims_policy; /* opaque, immutable once parsed; safe to share between threads */

/* Limits from the IAM reference (document bytes, statements, actions...). */
#define IMS_POLICY_MAX_BYTES 6144
#define IMS_POLICY_MAX_STATEMENTS 64
#define IMS_POLICY_MAX_ACTIONS 256 /* per statement */
/* The reference states no limits for conditions and resources; these only
 * bound what a document within IMS_POLICY_MAX_BYTES could hold anyway. */
#define IMS_POLICY_MAX_CONDITION_KEYS 64   /* operator/key pairs per statement */
#define IMS_POLICY_MAX_CONDITION_VALUES 64 /* values per condition key */
#define IMS_POLICY_MAX_RESOURCES 64        /* per statement */

/* Parses and validates a policy document (Version "1.1" fine-grained, or
 * "1.0" role documents). On error: IMS_E_BADREQ, err->msg names the offending
 * field with a JSON path, e.g. "Statement[1].Condition.StringEquals: operator
 * value must be an object". */
enum ims_rc ims_policy_parse(const char *json, size_t len, struct ims_policy **ret, struct ims_err *err);
void ims_policy_free(struct ims_policy *p);
const char *ims_policy_version(const struct ims_policy *p);
/* The display name of the i-th role a "1.0" document lists in "Depends"
 * (e.g. IMS Administrator depends on Tenant Administrator), NULL past the
 * end. Granting a role does not grant its dependencies: callers decide. */
const char *ims_policy_depend(const struct ims_policy *p, size_t i);

/* Condition keys of one request ("g:UserName", "g:CurrentTime", "obs:bucket",
 * ...). A key may have several values (for ForAnyValue/ForAllValues). Keys
 * are compared case-insensitively. */
struct ims_policy_ctx {
    /* Returns the number of values of key (0 = the key is absent) and sets
     * *ret_values to them; values stay valid during the evaluation. */
    size_t (*lookup)(void *self, const char *key, const char *const **ret_values);
    void *self;
    int64_t now; /* epoch seconds, for g:CurrentTime and Date* operators */
};

enum ims_effect { IMS_EFFECT_NONE = 0, IMS_EFFECT_ALLOW, IMS_EFFECT_DENY };

/* Which statement of which policy decided. */
struct ims_policy_match {
    enum ims_effect effect;
    size_t policy;    /* index in the array given to ims_policy_decide */
    size_t statement; /* index in that policy's Statement array */
};

/* Evaluates one action ("ims:images:get", matched case-insensitively with
 * '*' wildcards in the policy's patterns) against one policy. */
enum ims_effect ims_policy_eval(const struct ims_policy *p, const char *action, const struct ims_policy_ctx *ctx,
                                size_t *ret_statement);

/* Decision for a set of actions that are all required, over a set of
 * policies: allowed iff no statement denies any action and every action is
 * allowed by some statement. *ret_denied_action (if non-NULL) names the first
 * action that was denied or not allowed; *ret_match the deciding statement
 * (the Deny, or for "allowed" the Allow of the last action checked). */
bool ims_policy_decide(const struct ims_policy *const *policies, size_t npolicies, const char *const *actions,
                       size_t nactions, const struct ims_policy_ctx *ctx, const char **ret_denied_action,
                       struct ims_policy_match *ret_match);

/* System-defined policies present in every account (reference
 * ims-user-guide/overview/permissions.md): "Tenant Administrator",
 * "Tenant Guest", "IMS FullAccess", "IMS ReadOnlyAccess", "IMS Administrator".
 * Returns the document text (static) or NULL. */
const char *ims_policy_system_document(const char *name);
/* The names, NULL-terminated. */
extern const char *const ims_policy_system_names[];

#endif
