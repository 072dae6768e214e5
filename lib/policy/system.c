/* SPDX-License-Identifier: Apache-2.0
 * The system-defined policies and roles every account has (reference
 * ims-user-guide/overview/permissions.md and iam/permissions/
 * basic_concepts.md), as the documents IAM publishes for them. They go
 * through ims_policy_parse like any custom policy, so the engine has one
 * code path and the unit tests check these texts parse. */
#include "ims/policy.h"

#include <string.h>

struct system_policy {
    const char *name;
    const char *document;
};

/* Tenant Administrator and Tenant Guest cover every service except IAM:
 * IAM's own actions are "iam:..." and, in the older role documents,
 * "identity:...", so both are denied. */
static const struct system_policy policies[] = {
    {"Tenant Administrator",
     "{\"Version\":\"1.0\",\"Statement\":["
     "{\"Action\":[\"*:*:*\"],\"Effect\":\"Allow\"},"
     "{\"Action\":[\"iam:*:*\",\"identity:*:*\"],\"Effect\":\"Deny\"}]}"},
    {"Tenant Guest",
     "{\"Version\":\"1.0\",\"Statement\":["
     "{\"Action\":[\"*:*:get*\",\"*:*:list*\",\"*:*:head*\"],\"Effect\":\"Allow\"},"
     "{\"Action\":[\"iam:*:*\",\"identity:*:*\"],\"Effect\":\"Deny\"}]}"},
    {"IMS FullAccess",
     "{\"Version\":\"1.1\",\"Statement\":["
     "{\"Action\":[\"ims:*:*\"],\"Effect\":\"Allow\"}]}"},
    {"IMS ReadOnlyAccess",
     "{\"Version\":\"1.1\",\"Statement\":["
     "{\"Action\":[\"ims:*:get*\",\"ims:*:list*\"],\"Effect\":\"Allow\"}]}"},
    {"IMS Administrator",
     "{\"Version\":\"1.0\",\"Statement\":["
     "{\"Action\":[\"ims:*:*\"],\"Effect\":\"Allow\"}],"
     "\"Depends\":[{\"catalog\":\"BASE\",\"display_name\":\"Tenant Administrator\"}]}"},
};

const char *const ims_policy_system_names[] = {
    "Tenant Administrator", "Tenant Guest", "IMS FullAccess", "IMS ReadOnlyAccess", "IMS Administrator", NULL,
};

const char *ims_policy_system_document(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(policies); i++)
        if (strcmp(policies[i].name, name) == 0)
            return policies[i].document;
    return NULL;
}
