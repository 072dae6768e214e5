/* SPDX-License-Identifier: Apache-2.0
 * Token codec: round trip, tampering, wrong key, expiry, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "ims/auth.h"

static const unsigned char key[IMS_TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static struct ims_principal sample(void)
{
    struct ims_principal p = {.issued_at = 1000, .expires_at = 2000, .is_admin = true};
    strcpy(p.token_id, "0123456789abcdef0123456789abcdef");
    strcpy(p.user_id, "u1");
    strcpy(p.domain_id, "default");
    strcpy(p.project_id, "p1");
    return p;
}

static void test_round_trip(void **state)
{
    struct ims_principal p = sample(), q;
    char tok[IMS_TOKEN_MAX + 1];
    assert_true(ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok)) > 0);
    struct ims_err err;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_OK);
    assert_string_equal(q.user_id, "u1");
    assert_string_equal(q.project_id, "p1");
    assert_string_equal(q.scope_domain_id, "");
    assert_true(q.is_admin);
    assert_int_equal(q.expires_at, 2000);
}

static void test_tampered_and_wrong_key(void **state)
{
    struct ims_principal p = sample(), q;
    char tok[IMS_TOKEN_MAX + 1];
    ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok));
    struct ims_err err;
    for (size_t i = 3; i < strlen(tok); i += 7) {
        char bad[IMS_TOKEN_MAX + 1];
        strcpy(bad, tok);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(ims_token_decode(key, sizeof(key), bad, 1500, &q, &err), IMS_E_UNAUTH);
    }
    unsigned char other[IMS_TOKEN_KEY_LEN] = {1};
    assert_int_equal(ims_token_decode(other, sizeof(other), tok, 1500, &q, &err), IMS_E_UNAUTH);
}

static void test_expired(void **state)
{
    struct ims_principal p = sample(), q;
    char tok[IMS_TOKEN_MAX + 1];
    ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok));
    struct ims_err err;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 2000, &q, &err), IMS_E_UNAUTH);
    assert_non_null(strstr(err.msg, "expired"));
}

static void test_malformed(void **state)
{
    struct ims_principal q;
    struct ims_err err;
    const char *bad[] = {"", "v1.", "v1..", "v2.abc.def", "v1.!!!.abc", "garbage", "v1.YQ.YQ"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++)
        assert_int_equal(ims_token_decode(key, sizeof(key), bad[i], 1500, &q, &err), IMS_E_UNAUTH);
    assert_int_equal(ims_token_decode(key, sizeof(key), NULL, 1500, &q, &err), IMS_E_UNAUTH);
}

/* The signature is HMAC-SHA256 over "v1.<claims>", as OpenSSL computes it. */
static void test_signature_is_standard_hmac(void **state)
{
    struct ims_principal p = sample();
    char tok[IMS_TOKEN_MAX + 1];
    assert_true(ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok)) > 0);
    const char *dot = strrchr(tok, '.');
    unsigned char want[32], got[32];
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)tok, (size_t)(dot - tok), want, &len);
    assert_int_equal(ims_b64url_decode(dot + 1, strlen(dot + 1), got, sizeof(got)), 32);
    assert_memory_equal(got, want, 32);
    /* a second key in the same thread is not confused with the first */
    unsigned char other[IMS_TOKEN_KEY_LEN] = {7};
    char tok2[IMS_TOKEN_MAX + 1];
    ims_token_encode(other, sizeof(other), &p, tok2, sizeof(tok2));
    assert_string_not_equal(tok, tok2);
    struct ims_principal q;
    struct ims_err err;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_OK);
}

/* A signature or claims longer than their buffers is refused before a byte
 * is decoded (a 504-character signature overflowed a 48-byte stack buffer). */
static void test_oversized_parts_refused(void **state)
{
    struct ims_principal q;
    struct ims_err err;
    char tok[IMS_TOKEN_MAX + 1];
    strcpy(tok, "v1.x.");
    memset(tok + 5, '_', 504);
    tok[509] = 0;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_E_UNAUTH);
    memset(tok + 3, 'A', 506);
    tok[509] = '.';
    tok[510] = 'A';
    tok[511] = 0;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_E_UNAUTH);

    unsigned char out[4] = {0};
    assert_int_equal(ims_b64url_decode("AAAAAA", 6, out, 4), 4);
    assert_int_equal(ims_b64url_decode("AAAAAAA", 7, out, 4), -1); /* would be 5 bytes */
    assert_int_equal(ims_b64url_decode("AAAA", 4, out, 2), -1);
    assert_int_equal(ims_b64url_decode("", 0, out, 0), 0);
}

/* A token of an earlier version: claims as it wrote them, signed with key. */
static void sign_claims(const char *claims, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "v1.");
    n += (size_t)ims_b64url_encode((const unsigned char *)claims, strlen(claims), out + n, cap - n);
    unsigned char sig[32];
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)out, n, sig, &len);
    out[n++] = '.';
    ims_b64url_encode(sig, sizeof(sig), out + n, cap - n);
}

/* Tokens carry their issue time in microseconds (a password change ends
 * those issued before it, even within the same second); a token made before
 * that claim existed counts from the start of its issue second. */
static void test_issue_time_in_microseconds(void **state)
{
    struct ims_principal p = sample(), q;
    p.issued_us = 1000123456;
    char tok[IMS_TOKEN_MAX + 1];
    assert_true(ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok)) > 0);
    struct ims_err err;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_OK);
    assert_int_equal(q.issued_us, 1000123456);
    assert_int_equal(q.issued_at, 1000);

    static const char old_claims[] = "0123456789abcdef0123456789abcdef\nu1\ndefault\np1\n\n1000\n2000\n1";
    char legacy[IMS_TOKEN_MAX + 1];
    sign_claims(old_claims, legacy, sizeof(legacy));
    assert_int_equal(ims_token_decode(key, sizeof(key), legacy, 1500, &q, &err), IMS_OK);
    assert_int_equal(q.issued_us, 1000000000);
    assert_true(q.is_admin);
}

/* The service role travels in the token; tokens from before it (ten
 * fields) decode without it. */
static void test_service_role(void **state)
{
    struct ims_principal p = sample(), q;
    p.is_service = true;
    p.read_only = true;
    char tok[IMS_TOKEN_MAX + 1];
    assert_true(ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok)) > 0);
    struct ims_err err;
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_OK);
    assert_true(q.is_service && q.read_only && q.is_admin);
    p.is_service = false;
    assert_true(ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok)) > 0);
    assert_int_equal(ims_token_decode(key, sizeof(key), tok, 1500, &q, &err), IMS_OK);
    assert_false(q.is_service);

    static const char old_claims[] = "0123456789abcdef0123456789abcdef\nu1\ndefault\np1\n\n1000\n2000\n0\n1000000000\n1";
    char legacy[IMS_TOKEN_MAX + 1];
    sign_claims(old_claims, legacy, sizeof(legacy));
    assert_int_equal(ims_token_decode(key, sizeof(key), legacy, 1500, &q, &err), IMS_OK);
    assert_true(q.read_only);
    assert_false(q.is_service || q.is_admin);
}

static void test_newline_in_id_refused(void **state)
{
    struct ims_principal p = sample();
    strcpy(p.user_id, "u1\nadmin");
    char tok[IMS_TOKEN_MAX + 1];
    assert_int_equal(ims_token_encode(key, sizeof(key), &p, tok, sizeof(tok)), 0);
}

static void test_password_hash(void **state)
{
    char h[IMS_PASSWORD_HASH_MAX];
    struct ims_err err;
    assert_int_equal(ims_password_hash("correct horse", h, &err), IMS_OK);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_true(ims_password_verify(h, "correct horse"));
    assert_false(ims_password_verify(h, "correct horse "));
    assert_false(ims_password_verify("not a hash", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_tampered_and_wrong_key),
        cmocka_unit_test(test_expired),          cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_newline_in_id_refused), cmocka_unit_test(test_password_hash),
        cmocka_unit_test(test_signature_is_standard_hmac), cmocka_unit_test(test_oversized_parts_refused),
        cmocka_unit_test(test_issue_time_in_microseconds), cmocka_unit_test(test_service_role),
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
