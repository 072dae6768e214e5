/* SPDX-License-Identifier: Apache-2.0
 * The multipart ETag a put compares with the object it finds after its
 * Complete answer was lost: the md5 of the parts' md5s, "-N"; quoted or
 * bare part ETags alike; none for a part's ETag that is no md5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/obs.h"

static void test_multipart_etag(void **state)
{
    (void)state;
    /* md5("a"), md5("b"): python3 -c 'import hashlib; ...md5(bytes.fromhex(a) + bytes.fromhex(b))' */
    const char etags[2][IMS_OBS_ETAG_MAX] = {"\"0cc175b9c0f1b6a831c399e269772661\"",
                                              "92EB5FFEE6AE2FEC3AD71C777531578F"};
    char out[IMS_OBS_ETAG_MAX];
    assert_true(ims_obs_s3_multipart_etag(etags, 2, out));
    assert_string_equal(out, "96e024ba2074fe77e8e965ba43a704be-2");
    /* one part: the md5 of its md5, not the part's own ETag */
    assert_true(ims_obs_s3_multipart_etag(etags, 1, out));
    assert_string_equal(out, "b6ff9a06b7e20bcb2858c5b8ff744aea-1");
}

static void test_not_md5_parts(void **state)
{
    (void)state;
    char out[IMS_OBS_ETAG_MAX] = "untouched";
    const char odd[2][IMS_OBS_ETAG_MAX] = {"0cc175b9c0f1b6a831c399e269772661", "\"92eb5ffee6ae2fec3ad71c777531578\""};
    assert_false(ims_obs_s3_multipart_etag(odd, 2, out));
    const char multi[1][IMS_OBS_ETAG_MAX] = {"\"96e024ba2074fe77e8e965ba43a704be-2\""};
    assert_false(ims_obs_s3_multipart_etag(multi, 1, out));
    const char nonhex[1][IMS_OBS_ETAG_MAX] = {"zcc175b9c0f1b6a831c399e269772661"};
    assert_false(ims_obs_s3_multipart_etag(nonhex, 1, out));
    assert_false(ims_obs_s3_multipart_etag(nonhex, 0, out));
    assert_string_equal(out, "untouched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_etag),
        cmocka_unit_test(test_not_md5_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
