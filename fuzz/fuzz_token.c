/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: token decoding, in every form a client can send one.
 * X-Auth-Token (every authenticated route) and X-Subject-Token (GET, HEAD,
 * DELETE /v3/auth/tokens) both reach ims_token_decode with the header's
 * value as it arrived. The first byte chooses the form:
 *   0 the header value as sent (a forgery: the signature must fail);
 *   1 the rest as the claims of a token signed with the server's key, so
 *     the claims parser behind the signature check is searched too (only a
 *     key holder can reach it, but a bug there would turn a leaked token
 *     format into a crash);
 *   2 the rest as a user id in a principal that is encoded and decoded.
 * Invariants: a token that decodes re-encodes and decodes to the same
 * principal; decoded ids never contain a newline or control character. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/auth.h"

static const unsigned char key[IMS_TOKEN_KEY_LEN] = "fuzzing-key-fuzzing-key-fuzzing";

static void check_id(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            abort();
}

static bool same(const struct ims_principal *a, const struct ims_principal *b)
{
    return strcmp(a->token_id, b->token_id) == 0 && strcmp(a->user_id, b->user_id) == 0 &&
           strcmp(a->domain_id, b->domain_id) == 0 && strcmp(a->project_id, b->project_id) == 0 &&
           strcmp(a->scope_domain_id, b->scope_domain_id) == 0 && a->issued_at == b->issued_at &&
           a->expires_at == b->expires_at && a->is_admin == b->is_admin && a->issued_us == b->issued_us;
}

/* Decodes tok; if it decodes, the principal must survive a round trip. */
static void decode_and_check(const char *tok, int64_t now)
{
    struct ims_principal p;
    struct ims_err err;
    if (ims_token_decode(key, sizeof(key), tok, now, &p, &err) != IMS_OK)
        return;
    check_id(p.token_id);
    check_id(p.user_id);
    check_id(p.domain_id);
    check_id(p.project_id);
    check_id(p.scope_domain_id);
    if (p.expires_at <= now)
        abort();
    char again[IMS_TOKEN_MAX + 1];
    if (ims_token_encode(key, sizeof(key), &p, again, sizeof(again)) == 0)
        return; /* claims that decode may still be too long to issue */
    struct ims_principal q;
    if (ims_token_decode(key, sizeof(key), again, now, &q, &err) != IMS_OK || !same(&p, &q))
        abort();
}

/* "v1." base64url(claims) "." base64url(HMAC(key, "v1." base64url(claims))) */
static void signed_claims(const uint8_t *claims, size_t n)
{
    char tok[2 * IMS_TOKEN_MAX];
    memcpy(tok, "v1.", 3);
    long clen = ims_b64url_encode(claims, n, tok + 3, sizeof(tok) - 3);
    if (clen < 0)
        return;
    size_t blen = 3 + (size_t)clen;
    unsigned char sig[32];
    unsigned int slen = sizeof(sig);
    HMAC(EVP_sha256(), key, (int)sizeof(key), (const unsigned char *)tok, blen, sig, &slen);
    tok[blen] = '.';
    if (ims_b64url_encode(sig, sizeof(sig), tok + blen + 1, sizeof(tok) - blen - 1) < 0)
        return;
    decode_and_check(tok, 0);
}

static void principal_round_trip(const uint8_t *data, size_t size)
{
    struct ims_principal q = {.issued_at = 1, .expires_at = 2};
    size_t n = size < IMS_ID_MAX ? size : IMS_ID_MAX;
    memcpy(q.user_id, data, n);
    q.user_id[n] = 0;
    char tok[IMS_TOKEN_MAX + 1];
    if (ims_token_encode(key, sizeof(key), &q, tok, sizeof(tok))) {
        struct ims_principal back;
        struct ims_err err;
        if (ims_token_decode(key, sizeof(key), tok, 1, &back, &err) != IMS_OK ||
            strcmp(back.user_id, q.user_id) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t form = data[0] % 3;
    data++;
    size--;
    if (form == 0) {
        char *tok = ims_xstrndup((const char *)data, size);
        decode_and_check(tok, 0);
        free(tok);
    } else if (form == 1) {
        signed_claims(data, size);
    } else {
        principal_round_trip(data, size);
    }
    return 0;
}
