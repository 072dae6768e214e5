/* SPDX-License-Identifier: Apache-2.0
 * Bucket and object names: S3's bucket rules, keys that cannot leave or
 * alias inside a bucket directory, and "bucket:object" parsing with output
 * capacities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/obs.h"

static void test_bucket_names(void **state)
{
    (void)state;
    const char *good[] = {"abc", "my-bucket", "my.bucket.01", "0abc", "a-b.c-d", "123",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 63 */,
                          "1.2.3", "1.2.3.4.5", "192.168.1.1a"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(ims_obs_bucket_check(good[i]), IMS_OBS_NAME_OK);
    assert_int_equal(ims_obs_bucket_check(""), IMS_OBS_NAME_BUCKET_EMPTY);
    const char *bad[] = {"ab", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */,
                         "My-Bucket", "my_bucket", "-abc", "abc-", ".abc", "abc.", "a..b", "a.-b", "a-.b",
                         "192.168.1.1", "10.0.0.255", "a b", "abc/def", "..", "../etc", "abc:d", "xn--abc",
                         "foo-s3alias", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ims_obs_bucket_check(bad[i]), IMS_OBS_NAME_BUCKET_INVALID);
}

static void test_key_names(void **state)
{
    (void)state;
    const char *good[] = {"a", "image.qcow2", "dir/sub/file.img", "a..b", "..a", "a..", ".hidden", "a/.b/c",
                          "spaces are fine", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.img", "a\\b", "~/x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(ims_obs_key_check(good[i]), IMS_OBS_NAME_OK);
    assert_int_equal(ims_obs_key_check(""), IMS_OBS_NAME_KEY_EMPTY);
    const char *bad[] = {"/etc/passwd", "../x", "..", ".", "a/../../x", "a/..", "a/./b", "./a", "a//b", "a/",
                         "/", "a\nb", "a\tb", "a\x7f", "\xc2\x85", "bad\xff", "\xc0\xaf", "\xed\xa0\x80",
                         "x/../y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ims_obs_key_check(bad[i]), IMS_OBS_NAME_KEY_INVALID);
    char key[IMS_OBS_KEY_MAX + 2];
    memset(key, 'k', IMS_OBS_KEY_MAX);
    key[IMS_OBS_KEY_MAX] = 0;
    assert_int_equal(ims_obs_key_check(key), IMS_OBS_NAME_OK);
    key[IMS_OBS_KEY_MAX] = 'k';
    key[IMS_OBS_KEY_MAX + 1] = 0;
    assert_int_equal(ims_obs_key_check(key), IMS_OBS_NAME_KEY_TOO_LONG);
}

static enum ims_obs_name_rc parse(const char *url, char *b, size_t bcap, char *k, size_t kcap)
{
    return ims_obs_url_parse(url, strlen(url), b, bcap, k, kcap);
}

static void test_url_parse(void **state)
{
    (void)state;
    char b[IMS_OBS_BUCKET_MAX + 1], k[IMS_OBS_KEY_MAX + 1];
    assert_int_equal(parse("ims-image:centos70.qcow2", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_OK);
    assert_string_equal(b, "ims-image");
    assert_string_equal(k, "centos70.qcow2");
    /* only the first ':' separates: keys may hold more */
    assert_int_equal(parse("bkt:dir/a:b.img", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_OK);
    assert_string_equal(b, "bkt");
    assert_string_equal(k, "dir/a:b.img");

    memcpy(b, "untouched", 10);
    memcpy(k, "untouched", 10);
    assert_int_equal(parse("no-separator", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_NO_SEPARATOR);
    assert_int_equal(parse(":obj", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_BUCKET_EMPTY);
    assert_int_equal(parse("bkt:", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_KEY_EMPTY);
    assert_int_equal(parse("Bkt:x", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_BUCKET_INVALID);
    assert_int_equal(parse("bkt:../../etc/passwd", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_KEY_INVALID);
    assert_int_equal(parse("bkt:/abs", b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_KEY_INVALID);
    /* a NUL inside is refused, not cut at */
    assert_int_equal(ims_obs_url_parse("bkt:a\0../x", 10, b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_KEY_INVALID);
    /* a bucket longer than any valid one is refused before it is copied */
    char longb[200];
    memset(longb, 'b', 150);
    memcpy(longb + 150, ":x", 3);
    assert_int_equal(parse(longb, b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_BUCKET_INVALID);
    char longk[IMS_OBS_KEY_MAX + 10] = "bkt:";
    memset(longk + 4, 'k', IMS_OBS_KEY_MAX + 1);
    longk[4 + IMS_OBS_KEY_MAX + 1] = 0;
    assert_int_equal(parse(longk, b, sizeof(b), k, sizeof(k)), IMS_OBS_NAME_KEY_TOO_LONG);
    assert_string_equal(b, "untouched");
    assert_string_equal(k, "untouched");

    /* outputs too small for a valid name: refused, never cut */
    char small[4];
    assert_int_equal(parse("abcd:x", small, sizeof(small), k, sizeof(k)), IMS_OBS_NAME_BUCKET_INVALID);
    assert_int_equal(parse("abc:xyzw", b, sizeof(b), small, sizeof(small)), IMS_OBS_NAME_KEY_TOO_LONG);
    char small2[4];
    assert_int_equal(parse("abc:xyz", small, sizeof(small), small2, sizeof(small2)), IMS_OBS_NAME_OK);
    assert_string_equal(small, "abc");
    assert_string_equal(small2, "xyz");
}

static void test_result_mapping(void **state)
{
    (void)state;
    assert_int_equal(ims_obs_rc_to_ims(IMS_OBS_NO_BUCKET), IMS_E_NOTFOUND);
    assert_int_equal(ims_obs_rc_to_ims(IMS_OBS_NO_OBJECT), IMS_E_NOTFOUND);
    assert_int_equal(ims_obs_rc_to_ims(IMS_OBS_DENIED), IMS_E_FORBIDDEN);
    assert_int_equal(ims_obs_rc_to_ims(IMS_OBS_BAD_NAME), IMS_E_BADREQ);
    assert_int_equal(ims_obs_rc_to_ims(IMS_OBS_IO), IMS_E_IO);
    assert_string_not_equal(ims_obs_rc_name(IMS_OBS_NO_BUCKET), ims_obs_rc_name(IMS_OBS_NO_OBJECT));
}

static void test_endpoints_same(void **state)
{
    (void)state;
    assert_true(ims_obs_endpoints_same("http://127.0.0.1:8080", "http://127.0.0.1:8080/"));
    assert_true(ims_obs_endpoints_same("HTTP://S3.Example.com", "http://s3.example.com:80//"));
    assert_true(ims_obs_endpoints_same("https://s3.example.com/", "https://s3.example.com:443"));
    assert_true(ims_obs_endpoints_same("http://[::1]:9000/s3", "http://[::1]:9000/s3/"));
    assert_false(ims_obs_endpoints_same("http://127.0.0.1:8080", "http://127.0.0.1:8081"));
    assert_false(ims_obs_endpoints_same("http://s3.example.com", "https://s3.example.com"));
    assert_false(ims_obs_endpoints_same("http://s3.example.com/a", "http://s3.example.com/b"));
    assert_false(ims_obs_endpoints_same("http://s3.example.com/A", "http://s3.example.com/a"));
    assert_false(ims_obs_endpoints_same("http://[::1]:9000", "http://[::1]:9001"));
    assert_false(ims_obs_endpoints_same(NULL, "http://s3.example.com"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_names),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_result_mapping),
        cmocka_unit_test(test_endpoints_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
