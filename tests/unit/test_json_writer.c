/* SPDX-License-Identifier: Apache-2.0
 * The JSON writer escapes exactly '"', '\\' and control characters, writes
 * U+FFFD for each byte that starts no well-formed UTF-8 sequence, and changes
 * nothing else, wherever they sit in a string: the scan looks at four, eight
 * or sixteen bytes at a time, so every byte value is tried at every offset
 * of a word and of a vector, in values and in keys, in strings shorter and
 * longer than either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ims/json_writer.h"

/* The length of the well-formed sequence at s, by decoding the code point
 * and checking it (a different method from the writer's byte ranges). */
static size_t reference_utf8(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (!len || len > n || s[0] >= 0xF8)
        return 0;
    uint32_t cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* The reference: one byte at a time, as RFC 8259 asks. */
static void reference(struct ims_buf *b, const unsigned char *s, size_t n)
{
    ims_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t len = reference_utf8(s + i, n - i);
            if (len) {
                ims_buf_add(b, s + i, len);
                i += len - 1;
            } else {
                ims_buf_adds(b, "\\ufffd");
            }
        } else if (c == '"' || c == '\\') {
            ims_buf_addc(b, '\\');
            ims_buf_addc(b, (char)c);
        } else if (c == '\n') {
            ims_buf_adds(b, "\\n");
        } else if (c == '\r') {
            ims_buf_adds(b, "\\r");
        } else if (c == '\t') {
            ims_buf_adds(b, "\\t");
        } else if (c == '\b') {
            ims_buf_adds(b, "\\b");
        } else if (c == '\f') {
            ims_buf_adds(b, "\\f");
        } else if (c < 0x20) {
            ims_buf_printf(b, "\\u%04x", c);
        } else {
            ims_buf_addc(b, (char)c);
        }
    }
    ims_buf_addc(b, '"');
}

static void check(const unsigned char *s, size_t n)
{
    struct ims_buf got, want;
    ims_buf_init(&got, 1 << 16);
    ims_buf_init(&want, 1 << 16);
    struct ims_jw w;
    ims_jw_init(&w, &got);
    ims_jw_strn(&w, (const char *)s, n);
    reference(&want, s, n);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);

    if (!memchr(s, 0, n)) { /* a key: same escaping, then ':' */
        char *key = ims_xstrndup((const char *)s, n);
        ims_buf_reset(&got);
        ims_jw_init(&w, &got);
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, key);
        ims_jw_int(&w, 1);
        ims_jw_obj_end(&w);
        ims_buf_reset(&want);
        ims_buf_addc(&want, '{');
        reference(&want, s, n);
        ims_buf_adds(&want, ":1}");
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);

        /* as a member's key, its value, and both, written in one call */
        const char *keys[] = {key, "k", key}, *values[] = {"v", key, key};
        for (size_t i = 0; i < 3; i++) {
            ims_buf_reset(&got);
            ims_jw_init(&w, &got);
            ims_jw_obj_begin(&w);
            ims_jw_kstr(&w, keys[i], values[i]); /* first: no comma */
            ims_jw_kint(&w, "a", 1);
            ims_jw_kstr(&w, keys[i], values[i]); /* after another member */
            ims_jw_kstr(&w, "b", NULL);
            ims_jw_obj_end(&w);
            ims_buf_reset(&want);
            ims_buf_addc(&want, '{');
            for (int twice = 0; twice < 2; twice++) {
                reference(&want, (const unsigned char *)keys[i], strlen(keys[i]));
                ims_buf_addc(&want, ':');
                reference(&want, (const unsigned char *)values[i], strlen(values[i]));
                ims_buf_adds(&want, twice ? "" : ",\"a\":1,");
            }
            ims_buf_adds(&want, ",\"b\":null}");
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, want.len);
        }
        free(key);
    }
    ims_buf_release(&got);
    ims_buf_release(&want);
}

static void test_every_byte_at_every_offset(void **state)
{
    (void)state;
    /* words, their halves and SSE2's sixteen-byte steps, each with a tail */
    const size_t lengths[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47};
    unsigned char s[48];
    for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
        size_t n = lengths[l];
        for (size_t at = 0; at < n; at++) {
            for (int c = 0; c < 256; c++) {
                memset(s, 'a', n);
                s[at] = (unsigned char)c;
                check(s, n);
                memset(s, 0xe9, n); /* high bytes around it: UTF-8 continuation-like values */
                s[at] = (unsigned char)c;
                check(s, n);
            }
        }
    }
}

static void test_neighbours_of_special_values(void **state)
{
    (void)state;
    /* bytes next to the ones that need escaping, which a wrong mask would catch */
    const unsigned char near[] = {0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff};
    unsigned char s[8];
    for (size_t i = 0; i < sizeof(near); i++)
        for (size_t j = 0; j < sizeof(near); j++) {
            for (size_t k = 0; k < 8; k++)
                s[k] = k % 2 ? near[i] : near[j];
            check(s, 8);
        }
    check((const unsigned char *)"", 0);
}

/* Every two- to four-byte sequence shape, valid and not, at every offset of
 * a word: overlong forms, surrogates, code points above U+10FFFF, truncated
 * sequences, stray continuation bytes. */
static void test_utf8_sequences(void **state)
{
    (void)state;
    const unsigned char leads[] = {0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF,
                                   0xF0, 0xF1, 0xF4, 0xF5, 0xF8, 0xFF, 0x80, 0xBF};
    const unsigned char conts[] = {0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0};
    unsigned char s[24];
    for (size_t l = 0; l < sizeof(leads); l++)
        for (size_t a = 0; a < sizeof(conts); a++)
            for (size_t c = 0; c < sizeof(conts); c++)
                for (size_t at = 0; at < 12; at++) {
                    memset(s, 'x', sizeof(s));
                    s[at] = leads[l];
                    s[at + 1] = conts[a];
                    s[at + 2] = conts[c];
                    s[at + 3] = 0x80;
                    check(s, at + 1 + (a + c) % 4); /* truncated at every length too */
                    check(s, sizeof(s));
                }
}

/* Integers as printf writes them, the ends of int64_t included. */
static void test_integers(void **state)
{
    (void)state;
    const int64_t values[] = {0, 1, -1, 9, 10, -10, 99, 100, 1234567890123LL, -987654321,
                              INT64_MAX, INT64_MIN, INT64_MIN + 1, 1073741824};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct ims_buf b;
        struct ims_jw w;
        char want[64];
        ims_buf_init(&b, 1024);
        ims_jw_init(&w, &b);
        ims_jw_arr_begin(&w);
        ims_jw_int(&w, values[i]);
        ims_jw_int(&w, values[i]);
        ims_jw_arr_end(&w);
        snprintf(want, sizeof(want), "[%" PRId64 ",%" PRId64 "]", values[i], values[i]);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
        ims_buf_release(&b);
    }
}

/* A key the code spells as a literal (ims_jw_*_lit: no scan of the key)
 * writes the very bytes the general calls write, whatever the value, in
 * every place of an object; into a buffer too small for it, both report
 * the overflow. */
static void literal_members(struct ims_buf *b, const char *v, bool lit)
{
    struct ims_jw w;
    ims_jw_init(&w, b);
    ims_jw_obj_begin(&w);
    for (int twice = 0; twice < 2; twice++) { /* first: no comma; then after another member */
        if (lit) {
            ims_jw_kstr_lit(&w, "key", v);
            ims_jw_kint_lit(&w, "int", -12);
            ims_jw_kbool_lit(&w, "bool", true);
            ims_jw_key_lit(&w, "nested");
            ims_jw_obj_begin(&w);
            ims_jw_kstrn_lit(&w, IMS_JW_LIT("n"), v ? v : "x", v ? strlen(v) : 1);
            ims_jw_obj_end(&w);
        } else {
            ims_jw_kstr(&w, "key", v);
            ims_jw_kint(&w, "int", -12);
            ims_jw_kbool(&w, "bool", true);
            ims_jw_key(&w, "nested");
            ims_jw_obj_begin(&w);
            ims_jw_kstrn(&w, "n", 1, v ? v : "x", v ? strlen(v) : 1);
            ims_jw_obj_end(&w);
        }
    }
    ims_jw_obj_end(&w);
}

static void test_literal_keys(void **state)
{
    (void)state;
    const char *values[] = {NULL, "", "v", "a \"quoted\" \\ value\n", "\xff\xfe", "caf\xc3\xa9",
                            "0123456789abcdef0123456789abcdef0123456789"};
    const size_t caps[] = {1 << 16, 40, 9, 1};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
            struct ims_buf got, want;
            ims_buf_init(&got, caps[c]);
            ims_buf_init(&want, caps[c]);
            literal_members(&got, values[i], true);
            literal_members(&want, values[i], false);
            assert_int_equal(got.overflow, want.overflow);
            if (want.overflow) /* reported, its truncated bytes never sent */
                assert_true(got.len <= caps[c]);
            else
                assert_memory_equal(got.data, want.data, want.len);
            assert_true(want.overflow || got.len == want.len);
            ims_buf_release(&got);
            ims_buf_release(&want);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_at_every_offset),
        cmocka_unit_test(test_neighbours_of_special_values),
        cmocka_unit_test(test_utf8_sequences),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_literal_keys),
    };
    return cmocka_run_group_tests_name("json writer", tests, NULL, NULL);
}
