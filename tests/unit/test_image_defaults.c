/* SPDX-License-Identifier: Apache-2.0
 * The shown defaults an image's answers add (ims_image_shown_defaults):
 * ims_image_defaults_held says exactly which of them the properties hold,
 * by whole key (never a prefix, never a longer key), and agrees with
 * ims_image_shown_default; members written raw (how an answer adds all of
 * them at once) read as the same key + value calls would write them,
 * first in an object or after other members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/image.h"
#include "ims/json_writer.h"

static void test_held_by_whole_key(void **state)
{
    (void)state;
    struct ims_kvlist props = {0};
    assert_int_equal(ims_image_defaults_held(&props), 0);
    ims_kvlist_add(&props, "__os_type", "Linux"); /* stored, not a shown default */
    ims_kvlist_add(&props, "__desc", "a prefix of __description");
    ims_kvlist_add(&props, "max_ram_", "longer than max_ram");
    ims_kvlist_add(&props, "", "");
    /* each default's key with one byte changed: its last (the first one
     * compared), its first, its middle */
    for (size_t i = 0; i < ims_image_nshown_defaults; i++) {
        size_t n = strlen(ims_image_shown_defaults[i].key);
        size_t at[] = {n - 1, 0, n / 2};
        for (size_t k = 0; k < 3; k++) {
            char key[64];
            memcpy(key, ims_image_shown_defaults[i].key, n + 1);
            key[at[k]] = key[at[k]] == 'Z' ? 'Y' : 'Z';
            ims_kvlist_add(&props, key, "near");
        }
    }
    assert_int_equal(ims_image_defaults_held(&props), 0);
    uint64_t want = 0;
    for (size_t i = 0; i < ims_image_nshown_defaults; i += 3) {
        ims_kvlist_add(&props, ims_image_shown_defaults[i].key, "mine");
        want |= UINT64_C(1) << i;
    }
    assert_int_equal(ims_image_defaults_held(&props), want);
    ims_kvlist_release(&props);
}

static void test_lookup_agrees(void **state)
{
    (void)state;
    for (size_t i = 0; i < ims_image_nshown_defaults; i++) {
        const struct ims_prop_default *d = &ims_image_shown_defaults[i];
        assert_int_equal(d->key_len, strlen(d->key));
        assert_string_equal(ims_image_shown_default(d->key), d->value);
        struct ims_kvlist one = {0};
        ims_kvlist_add(&one, d->key, "x");
        assert_int_equal(ims_image_defaults_held(&one), UINT64_C(1) << i);
        ims_kvlist_release(&one);
    }
    assert_null(ims_image_shown_default("__os_type"));
    assert_null(ims_image_shown_default("__description_"));
    assert_null(ims_image_shown_default("__descriptio"));
}

static void test_members_raw(void **state)
{
    (void)state;
    struct ims_buf a, b;
    struct ims_jw wa, wb;
    for (int before = 0; before < 2; before++) {
        ims_buf_init(&a, 4096);
        ims_buf_init(&b, 4096);
        ims_jw_init(&wa, &a);
        ims_jw_init(&wb, &b);
        ims_jw_obj_begin(&wa);
        ims_jw_obj_begin(&wb);
        if (before) {
            ims_jw_kstr(&wa, "id", "1");
            ims_jw_kstr(&wb, "id", "1");
        }
        ims_jw_kstr(&wa, "k", "v");
        ims_jw_kstr(&wa, "l", "");
        ims_jw_members_raw(&wb, "\"k\":\"v\",\"l\":\"\"", strlen("\"k\":\"v\",\"l\":\"\""));
        ims_jw_kint(&wa, "after", 1);
        ims_jw_kint(&wb, "after", 1);
        ims_jw_obj_end(&wa);
        ims_jw_obj_end(&wb);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        ims_buf_release(&a);
        ims_buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_by_whole_key),
        cmocka_unit_test(test_lookup_agrees),
        cmocka_unit_test(test_members_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
