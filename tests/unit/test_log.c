/* SPDX-License-Identifier: Apache-2.0
 * A log message quoting network input keeps to its one line: control
 * characters (CR, LF, the rest of C0 and DEL) are written as \xNN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ims/base.h"

/* The line ims_log writes to stderr for one message. */
static void logged(const char *user, char *out, size_t cap)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
    ims_warn("authentication failed for %s from %s", user, "127.0.0.1");
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    fclose(f);
}

static void test_control_characters_stay_on_one_line(void **state)
{
    char line[512];
    logged("evil\n2026-01-01 00:00:00.000 ERROR forged\r\x1b[2J\x7f", line, sizeof(line));
    const char *nl = strchr(line, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, ""); /* one line, ended by its own newline */
    assert_non_null(strstr(line, " WARNING authentication failed for evil\\x0a2026-01-01 00:00:00.000 ERROR "
                                 "forged\\x0d\\x1b[2J\\x7f from 127.0.0.1\n"));
}

static void test_text_is_unchanged(void **state)
{
    char line[512];
    logged("\xc3\xa9t\xc3\xa9 \"quoted\" \\x41", line, sizeof(line));
    assert_non_null(strstr(line, " WARNING authentication failed for \xc3\xa9t\xc3\xa9 \"quoted\" \\x41 from "
                                 "127.0.0.1\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_characters_stay_on_one_line),
        cmocka_unit_test(test_text_is_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
