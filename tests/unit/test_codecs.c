/* SPDX-License-Identifier: Apache-2.0
 * The byte codecs of lib/base (hex, base64, base64url, URL decoding): each
 * takes its output capacity and writes nothing past it. Outputs sit in
 * buffers filled with a guard byte, so a write past the capacity shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/base.h"

#define GUARD 0x5a

static void assert_untouched(const char *buf, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        assert_int_equal((unsigned char)buf[i], GUARD);
}

static void test_hex_encode_capacity(void **state)
{
    const unsigned char in[3] = {0x00, 0xab, 0xff};
    char out[16];
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_hex_encode(in, 3, out, 7), 6);
    assert_string_equal(out, "00abff");
    assert_untouched(out, 7, sizeof(out));

    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_hex_encode(in, 3, out, 6), -1); /* no room for the NUL */
    assert_untouched(out, 0, sizeof(out));
    assert_int_equal(ims_hex_encode(in, 0, out, 0), -1);
    assert_untouched(out, 0, sizeof(out));
    assert_int_equal(ims_hex_encode(in, 0, out, 1), 0);
    assert_string_equal(out, "");
    /* A length whose doubling overflows size_t is refused, not wrapped. */
    assert_int_equal(ims_hex_encode(in, SIZE_MAX / 2 + 1, out, sizeof(out)), -1);
}

static void test_hex_decode(void **state)
{
    (void)state;
    unsigned char out[8];
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_hex_decode("00aBfF", 6, out, 3), 3);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0xab);
    assert_int_equal(out[2], 0xff);
    assert_untouched((char *)out, 3, sizeof(out));
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_hex_decode("00abff", 6, out, 2), -1); /* does not fit */
    assert_int_equal(ims_hex_decode("00abf", 5, out, 8), -1);  /* odd */
    assert_int_equal(ims_hex_decode("00agff", 6, out, 8), -1); /* not hex: nothing written */
    assert_untouched((char *)out, 0, sizeof(out));
    assert_int_equal(ims_hex_decode("", 0, out, 0), 0);
}

static void test_b64_encode_capacity(void **state)
{
    const unsigned char in[5] = "abcde";
    char out[16];
    /* Unpadded base64url: 5 bytes -> 7 chars; padded base64 -> 8 chars. */
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_b64url_encode(in, 5, out, 8), 7);
    assert_string_equal(out, "YWJjZGU");
    assert_untouched(out, 8, sizeof(out));
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_b64url_encode(in, 5, out, 7), -1);
    assert_untouched(out, 0, sizeof(out));

    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_b64_encode(in, 5, out, 9), 8);
    assert_string_equal(out, "YWJjZGU=");
    assert_untouched(out, 9, sizeof(out));
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_b64_encode(in, 5, out, 8), -1);
    assert_untouched(out, 0, sizeof(out));

    for (size_t n = 0; n <= 5; n++) {
        long want = (long)(n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0));
        memset(out, GUARD, sizeof(out));
        assert_int_equal(ims_b64url_encode(in, n, out, (size_t)want + 1), want);
        assert_untouched(out, (size_t)want + 1, sizeof(out));
        assert_int_equal(ims_b64url_encode(in, n, out, (size_t)want), -1);
    }
    assert_int_equal(ims_b64_encode(in, SIZE_MAX - 1, out, sizeof(out)), -1);
}

static void test_b64url_decode_capacity(void **state)
{
    unsigned char out[8];
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_b64url_decode("YWJjZGU", 7, out, 5), 5);
    assert_memory_equal(out, "abcde", 5);
    assert_untouched((char *)out, 5, sizeof(out));
    memset(out, GUARD, sizeof(out));
    assert_int_equal(ims_b64url_decode("YWJjZGU", 7, out, 4), -1);
    assert_untouched((char *)out, 0, sizeof(out));
    assert_int_equal(ims_b64url_decode("YWJ=", 4, out, sizeof(out)), -1); /* no padding in base64url */
    assert_int_equal(ims_b64url_decode("YWJjZ", 5, out, sizeof(out)), -1); /* 5 chars cannot be canonical */
}

static void test_url_decode_in_place(void **state)
{
    /* Decoding never lengthens: the input's own buffer is the capacity. */
    char s[] = "a%20b+c%2Fd";
    assert_true(ims_url_decode(s, true));
    assert_string_equal(s, "a b c/d");
    char plus[] = "a+b";
    assert_true(ims_url_decode(plus, false));
    assert_string_equal(plus, "a+b");
    char truncated[] = "ab%4";
    assert_false(ims_url_decode(truncated, false));
    char at_end[] = "ab%";
    assert_false(ims_url_decode(at_end, false));
    char nul[] = "a%00b";
    assert_false(ims_url_decode(nul, false));
    char bad_utf8[] = "%ff";
    assert_false(ims_url_decode(bad_utf8, false));
}

static void test_hexid_fills_its_array(void **state)
{
    char id[33];
    memset(id, GUARD, sizeof(id));
    ims_hexid_new(id, 16);
    assert_int_equal(strlen(id), 32);
    for (size_t i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", id[i]));
}

/* Error messages echo client input and reach clients and the log: always
 * valid text, one line (found by fuzz_compute_bodies: jansson's message for
 * a bad token quotes the raw byte). */
static void test_fail_message_is_text(void **state)
{
    struct ims_err err;
    ims_fail(&err, IMS_E_BADREQ, "bad '%s'", "a\nb\x01" "c\x7f\xff\xc3 \xc2\x85\xc3\xa9");
    assert_string_equal(err.msg, "bad 'a?b?c??? ?\xc3\xa9'");
    ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "invalid token near '%s'", "\x03");
    assert_string_equal(err.msg, "invalid token near '?'");
    assert_string_equal(err.code, "IMG.0001");
    /* A two-byte character cut by the message's cap is no half character. */
    char big[700];
    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof(big) - 2] = 0;
    ims_fail(&err, IMS_E_BADREQ, "x%s", big);
    assert_true(ims_text_valid(err.msg));
    assert_true(strlen(err.msg) >= sizeof(err.msg) - 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_encode_capacity),    cmocka_unit_test(test_hex_decode),    cmocka_unit_test(test_b64_encode_capacity),
        cmocka_unit_test(test_b64url_decode_capacity), cmocka_unit_test(test_url_decode_in_place),
        cmocka_unit_test(test_hexid_fills_its_array),  cmocka_unit_test(test_fail_message_is_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
