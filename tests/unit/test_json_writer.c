/* SPDX-License-Identifier: Apache-2.0
 * The JSON writer escapes exactly '"', '\\' and control characters, and
 * nothing else, wherever they sit in a string: the scan looks at eight bytes
 * at a time, so every byte value is tried at every offset of a word, in
 * values and in keys, in strings shorter and longer than a word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ims/json_writer.h"

/* The reference: one byte at a time, as RFC 8259 asks. */
static void reference(struct ims_buf *b, const unsigned char *s, size_t n)
{
    ims_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
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
        free(key);
    }
    ims_buf_release(&got);
    ims_buf_release(&want);
}

static void test_every_byte_at_every_offset(void **state)
{
    (void)state;
    const size_t lengths[] = {1, 7, 8, 9, 16, 23};
    unsigned char s[32];
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_at_every_offset),
        cmocka_unit_test(test_neighbours_of_special_values),
    };
    return cmocka_run_group_tests_name("json writer", tests, NULL, NULL);
}
