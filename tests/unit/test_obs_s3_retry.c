/* SPDX-License-Identifier: Apache-2.0
 * The S3 client's retry rules: which answers are transient, the backoff
 * schedule (doubling, capped, half of each wait random) and the caps on
 * attempts and total time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/obs.h"

static void test_transient_answers(void **state)
{
    (void)state;
    const long retried[] = {408, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof(retried) / sizeof(retried[0]); i++)
        assert_true(ims_obs_s3_retry_status(retried[i], NULL));
    const long answers[] = {200, 206, 301, 304, 400, 401, 403, 404, 409, 411, 412, 416, 501, 505, 507};
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
        assert_false(ims_obs_s3_retry_status(answers[i], NULL));
    /* S3's codes for a busy or slow service, whatever the status says */
    assert_true(ims_obs_s3_retry_status(400, "RequestTimeout"));
    assert_true(ims_obs_s3_retry_status(503, "SlowDown"));
    assert_true(ims_obs_s3_retry_status(200, "InternalError")); /* a Complete that failed after its 200 */
    assert_false(ims_obs_s3_retry_status(403, "AccessDenied"));
    assert_false(ims_obs_s3_retry_status(400, "EntityTooSmall"));
    assert_false(ims_obs_s3_retry_status(404, "NoSuchUpload"));
}

static void test_schedule_doubles_up_to_the_cap(void **state)
{
    (void)state;
    const struct ims_obs_s3_retry p = {.attempts = 10, .base_ms = 100, .max_delay_ms = 1000, .total_ms = 60000};
    /* random 0: the sure half of each step; random UINT64_MAX-ish: within the step */
    const int64_t steps[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (unsigned failed = 1; failed <= 7; failed++) {
        int64_t step = steps[failed - 1];
        assert_int_equal(ims_obs_s3_retry_delay_ms(&p, failed, 0), step / 2);
        /* the random half: every value of [step/2, step] is reachable, nothing beyond */
        assert_int_equal(ims_obs_s3_retry_delay_ms(&p, failed, (uint64_t)(step - step / 2)), step);
        assert_int_equal(ims_obs_s3_retry_delay_ms(&p, failed, (uint64_t)(step - step / 2 + 1)), step / 2);
        for (uint64_t rnd = 0; rnd < 5000; rnd += 37) {
            int64_t d = ims_obs_s3_retry_delay_ms(&p, failed, rnd * 2654435761u);
            assert_true(d >= step / 2 && d <= step);
        }
    }
    /* a huge count neither overflows nor passes the cap */
    assert_int_equal(ims_obs_s3_retry_delay_ms(&p, 4000000000u, 0), 500);
    /* a cap below the base wins; a zero base still waits a little */
    const struct ims_obs_s3_retry q = {.attempts = 3, .base_ms = 500, .max_delay_ms = 40, .total_ms = 1000};
    assert_int_equal(ims_obs_s3_retry_delay_ms(&q, 1, 0), 20);
    const struct ims_obs_s3_retry z = {.attempts = 3, .base_ms = 0, .max_delay_ms = 40, .total_ms = 1000};
    assert_true(ims_obs_s3_retry_delay_ms(&z, 1, 1) >= 0 && ims_obs_s3_retry_delay_ms(&z, 1, 1) <= 1);
}

static void test_attempts_and_time_are_capped(void **state)
{
    (void)state;
    const struct ims_obs_s3_retry p = {.attempts = 3, .base_ms = 100, .max_delay_ms = 1000, .total_ms = 2000};
    assert_true(ims_obs_s3_retry_allowed(&p, 1, 0, 100));
    assert_true(ims_obs_s3_retry_allowed(&p, 2, 300, 200));
    assert_false(ims_obs_s3_retry_allowed(&p, 3, 600, 400)); /* three tries made: no fourth */
    assert_true(ims_obs_s3_retry_allowed(&p, 1, 1900, 100));  /* starts at 2000: still in time */
    assert_false(ims_obs_s3_retry_allowed(&p, 1, 1901, 100)); /* would start after the total */
    const struct ims_obs_s3_retry once = {.attempts = 1, .base_ms = 100, .max_delay_ms = 1000, .total_ms = 2000};
    assert_false(ims_obs_s3_retry_allowed(&once, 1, 0, 0));
    /* the defaults: 5 tries, 200 ms doubling to 5 s, within a minute */
    const struct ims_obs_s3_retry d = IMS_OBS_S3_RETRY_DEFAULT;
    assert_int_equal(d.attempts, 5);
    int64_t most = 0; /* the four waits at their longest: 0.2 + 0.4 + 0.8 + 1.6 s */
    for (unsigned failed = 1; failed < d.attempts; failed++)
        most += ims_obs_s3_retry_delay_ms(&d, failed, (uint64_t)((100LL << (failed - 1)))); /* step - step/2 */
    assert_int_equal(most, 3000);
    assert_int_equal(ims_obs_s3_retry_delay_ms(&d, 9, 0), 2500); /* capped at 5 s, half of it sure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transient_answers),
        cmocka_unit_test(test_schedule_doubles_up_to_the_cap),
        cmocka_unit_test(test_attempts_and_time_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
