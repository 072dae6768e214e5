/* SPDX-License-Identifier: Apache-2.0
 * The ISO 8601 formatters (their own date arithmetic) print what
 * gmtime_r + strftime print: every day of 1900-2100 at varied times of day,
 * leap days, the epoch, negative times, and the ends of the 4-digit years
 * (where ISO 8601 and %Y part ways, year 0, the ISO form is checked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ims/base.h"

static void expect_same(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    assert_non_null(gmtime_r(&tt, &tm));
    char want[40], want_us[40], got[21], got_us[28];
    strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(want_us, sizeof(want_us), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
    ims_time_iso(t, got);
    ims_time_iso_us(t, got_us);
    if (strcmp(got, want) != 0 || strcmp(got_us, want_us) != 0)
        fail_msg("t=%lld: got %s / %s, want %s / %s", (long long)t, got, got_us, want, want_us);
}

static void test_every_day(void **state)
{
    for (int64_t t = -2208988800LL; t < 4102444800LL; t += 86400 + 3607) /* drifts through the day */
        expect_same(t);
}

static void test_edges(void **state)
{
    static const int64_t ts[] = {
        0, 1, -1, 59, 60, 86399, 86400, -86400, -86401,
        951782400,             /* 2000-02-29 */
        951868799,             /* 2000-02-29T23:59:59 */
        1709164800,            /* 2024-02-29 */
        4107542400,            /* 2100-03-01 (2100 is not a leap year) */
        253402300799LL,        /* 9999-12-31T23:59:59 */
        1795737600,            /* 2026-11-27 */
    };
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        expect_same(ts[i]);
}

static void test_outside_four_digit_years(void **state)
{
    char out[21];
    ims_time_iso(-62167219200LL, out); /* ISO 8601 pads year 0; strftime's %Y does not */
    assert_string_equal(out, "0000-01-01T00:00:00Z");
    ims_time_iso(253402300800LL, out); /* 10000-01-01: no room, still a terminated string */
    assert_true(strlen(out) < sizeof(out));
    /* Times gmtime cannot convert end at the range's ends, terminated. */
    char us[28];
    memset(out, 'x', sizeof(out));
    ims_time_iso(INT64_MAX, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
    memset(us, 'x', sizeof(us));
    ims_time_iso_us(INT64_MIN, us);
    assert_string_equal(us, "0000-01-01T00:00:00.000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_day),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_outside_four_digit_years),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
