/* SPDX-License-Identifier: Apache-2.0
 * The multipart ETag a put compares with the object it finds after its
 * Complete answer was lost: the md5 of the parts' md5s, "-N"; quoted or
 * bare part ETags alike; none for a part's ETag that is no md5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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

/* A single PUT's ETag proves the md5 only when it is 32 hex digits and the
 * answer's encryption headers are the probe's, never SSE-KMS or SSE-C. */
static void test_single_put_etag(void **state)
{
    (void)state;
    char md5[33] = "";
    struct ims_obs_put_answer a = {.etag = "0CC175B9C0F1B6A831C399E269772661", .sse = ""};
    assert_true(ims_obs_s3_etag_md5(&a, "", md5));
    assert_string_equal(md5, "0cc175b9c0f1b6a831c399e269772661");
    /* SSE-S3 on both: trusted (AWS's ETags stay md5s); on one only: not */
    snprintf(a.sse, sizeof(a.sse), "x-amz-server-side-encryption=AES256;");
    assert_true(ims_obs_s3_etag_md5(&a, "x-amz-server-side-encryption=AES256;", md5));
    assert_false(ims_obs_s3_etag_md5(&a, "", md5));
    /* SSE-KMS or SSE-C: never, even if the probe had them */
    const char *never[] = {"x-amz-server-side-encryption=aws:kms;",
                           "x-amz-server-side-encryption-customer-algorithm=AES256;", "(unreadable);"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(a.sse, sizeof(a.sse), "%s", never[i]);
        assert_false(ims_obs_s3_etag_md5(&a, never[i], md5));
    }
    snprintf(a.sse, sizeof(a.sse), "%s", never[2]);
    assert_false(ims_obs_s3_etag_md5(&a, "", md5));
    /* no md5: multipart, short, long, not hex, none */
    a.sse[0] = 0;
    const char *etags[] = {"0cc175b9c0f1b6a831c399e269772661-1", "0cc175b9c0f1b6a831c399e26977266",
                           "0cc175b9c0f1b6a831c399e2697726610", "0cc175b9c0f1b6a831c399e26977266z", ""};
    for (size_t i = 0; i < sizeof(etags) / sizeof(etags[0]); i++) {
        snprintf(a.etag, sizeof(a.etag), "%s", etags[i]);
        assert_false(ims_obs_s3_etag_md5(&a, "", md5));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_put_etag),
        cmocka_unit_test(test_multipart_etag),
        cmocka_unit_test(test_not_md5_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
