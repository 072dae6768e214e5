/* SPDX-License-Identifier: Apache-2.0
 * SQLite's page cache is bounded per connection by [database] cache_kib:
 * every connection the engine opens (the repository opens one per thread and
 * one writer, all through ims_sqlite_ops.open) reports the configured size,
 * and SQLite's own default until one is configured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>

#include "ims/db.h"

static char path[64];

static int64_t cache_size_of(void *h)
{
    struct ims_err err;
    void *st = ims_sqlite_ops.prepare(h, "PRAGMA cache_size", &err);
    assert_non_null(st);
    assert_int_equal(ims_sqlite_ops.step(st), IMS_STEP_ROW);
    int64_t v = ims_sqlite_ops.col_int(st, 0);
    ims_sqlite_ops.reset(st);
    return v;
}

static void *open_one(void)
{
    void *h = NULL;
    struct ims_err err;
    assert_int_equal(ims_sqlite_ops.open(path, &h, &err), IMS_OK);
    return h;
}

static void test_default_then_configured_on_every_connection(void **state)
{
    (void)state;
    void *h = open_one();
    assert_int_equal(cache_size_of(h), -IMS_SQLITE_CACHE_KIB_DEFAULT); /* negative: KiB */
    ims_sqlite_ops.close(h);

    ims_sqlite_set_cache_kib(256);
    void *a = open_one(), *b = open_one();
    assert_int_equal(cache_size_of(a), -256);
    assert_int_equal(cache_size_of(b), -256);
    ims_sqlite_ops.close(a);
    ims_sqlite_ops.close(b);
    ims_sqlite_set_cache_kib(IMS_SQLITE_CACHE_KIB_DEFAULT);
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/test_sqlite_cache_size.%d.db", (int)getpid());
    unlink(path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_then_configured_on_every_connection),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        char p[80];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    return rc;
}
