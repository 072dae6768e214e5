/* SPDX-License-Identifier: Apache-2.0
 * auth: token codec and password hashing. Pure apart from the CSPRNG.
 * A token is "v1." base64url(claims) "." base64url(HMAC-SHA256(key, "v1." claims)),
 * so it is verified without a database round trip (revocation aside). */
#ifndef IMS_AUTH_H
#define IMS_AUTH_H

#include "ims/base.h"

#define IMS_ID_MAX 64
#define IMS_TOKEN_MAX 512
#define IMS_TOKEN_KEY_LEN 32

/* Who is calling, as carried by the token. */
struct ims_principal {
    char token_id[33];
    char user_id[IMS_ID_MAX + 1];
    char domain_id[IMS_ID_MAX + 1];        /* the user's domain */
    char project_id[IMS_ID_MAX + 1];       /* empty for domain-scoped tokens */
    char scope_domain_id[IMS_ID_MAX + 1];  /* set for domain-scoped tokens */
    int64_t issued_at, expires_at;
    int64_t issued_us; /* issue time in microseconds: tokens_valid_after compares with it */
    bool is_admin;
    /* Keystone's reader role without member or admin on the token's scope:
     * every write route refuses the token (Glance 25's and Keystone's
     * default policies give writes to member and admin only). */
    bool read_only;
    /* Keystone's service role on the token's scope: Glance's service_api
     * rule (the Get Locations call, lib/core/image_locations.c). Only a
     * cloud administrator gives it (lib/core/role_assignments.c). */
    bool is_service;
    /* Set per request by authorization (not part of the token): the
     * decision on the route's actions (include/ims/authz.h). NULL: none was
     * made, and every check that reads it denies. */
    const struct ims_authz_result *authz;
};

/* Writes the token (NUL-terminated) into out; returns its length, 0 if out
 * is too small or a field is too long. */
size_t ims_token_encode(const unsigned char *key, size_t keylen, const struct ims_principal *p, char *out,
                        size_t outcap);
/* IMS_E_UNAUTH (with a reason) for malformed, tampered or expired tokens. */
enum ims_rc ims_token_decode(const unsigned char *key, size_t keylen, const char *token, int64_t now,
                             struct ims_principal *ret, struct ims_err *err);

#define IMS_PASSWORD_HASH_MAX 128
/* argon2id; out holds the encoded form ($argon2id$v=19$...). */
enum ims_rc ims_password_hash(const char *password, char out[IMS_PASSWORD_HASH_MAX], struct ims_err *err);
bool ims_password_verify(const char *encoded, const char *password);

#endif
