/* SPDX-License-Identifier: Apache-2.0
 * Password hashing with argon2id (RFC 9106's second recommended setting,
 * scaled to a login costing a few tens of milliseconds here). */
#include <argon2.h>
#include <string.h>

#include "ims/auth.h"

#define T_COST 2
#define M_COST_KIB (19 * 1024)
#define PARALLELISM 1
#define SALT_LEN 16
#define HASH_LEN 32

enum ims_rc ims_password_hash(const char *password, char out[IMS_PASSWORD_HASH_MAX], struct ims_err *err)
{
    unsigned char salt[SALT_LEN];
    ims_random_bytes(salt, sizeof(salt));
    int rc = argon2id_hash_encoded(T_COST, M_COST_KIB, PARALLELISM, password, strlen(password), salt, sizeof(salt),
                                   HASH_LEN, out, IMS_PASSWORD_HASH_MAX);
    if (rc != ARGON2_OK)
        return ims_fail(err, IMS_E_INTERNAL, "password hashing failed: %s", argon2_error_message(rc));
    return IMS_OK;
}

bool ims_password_verify(const char *encoded, const char *password)
{
    if (!encoded || !password)
        return false;
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}
