/* SPDX-License-Identifier: Apache-2.0
 * Range header parsing against RFC 9110's examples and edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ims/http.h"

static void expect(const char *h, uint64_t size, enum ims_rc rc, uint64_t first, uint64_t last)
{
    uint64_t f = 99, l = 99;
    assert_int_equal(ims_range_parse(h, size, &f, &l), rc);
    if (rc == IMS_OK) {
        assert_int_equal(f, first);
        assert_int_equal(l, last);
    }
}

static void test_ranges(void **state)
{
    expect("bytes=0-499", 10000, IMS_OK, 0, 499);
    expect("bytes=500-999", 10000, IMS_OK, 500, 999);
    expect("bytes=9500-", 10000, IMS_OK, 9500, 9999);
    expect("bytes=-500", 10000, IMS_OK, 9500, 9999);
    expect("bytes=-20000", 10000, IMS_OK, 0, 9999);
    expect("bytes=0-0", 1, IMS_OK, 0, 0);
    expect("bytes=5-100", 10, IMS_OK, 5, 9);
}

static void test_unsatisfiable(void **state)
{
    expect("bytes=10000-", 10000, IMS_E_RANGE, 0, 0);
    expect("bytes=10-20", 10, IMS_E_RANGE, 0, 0);
    expect("bytes=-0", 10, IMS_E_RANGE, 0, 0);
    expect("bytes=0-", 0, IMS_E_RANGE, 0, 0);
}

static void test_ignored(void **state)
{
    expect(NULL, 10, IMS_E_NOTFOUND, 0, 0);
    expect("items=0-1", 10, IMS_E_NOTFOUND, 0, 0);
    expect("bytes=5-1", 10, IMS_E_NOTFOUND, 0, 0);
    expect("bytes=0-1,3-4", 10, IMS_E_NOTFOUND, 0, 0);
    expect("bytes=a-b", 10, IMS_E_NOTFOUND, 0, 0);
    expect("bytes=-", 10, IMS_E_NOTFOUND, 0, 0);
    expect("bytes=99999999999999999999-", 10, IMS_E_NOTFOUND, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_ignored),
    };
    return cmocka_run_group_tests_name("range", tests, NULL, NULL);
}
