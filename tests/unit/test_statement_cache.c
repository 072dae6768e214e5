/* SPDX-License-Identifier: Apache-2.0
 * The SQLite engine's prepared statements, cached by their SQL text
 * (ims_hash_bytes of it, then the text compared): the same text from
 * another buffer finds the same statement; texts that differ anywhere
 * (in a word, in the tail past the last whole word, or one a prefix of
 * the other) find their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ims/db.h"

static char path[64];

static void *prepare(void *h, const char *sql)
{
    struct ims_err err;
    void *st = ims_sqlite_ops.prepare(h, sql, &err);
    assert_non_null(st);
    return st;
}

static void test_same_text_same_statement(void **state)
{
    (void)state;
    void *h = NULL;
    struct ims_err err;
    assert_int_equal(ims_sqlite_ops.open(path, &h, &err), IMS_OK);
    const char *texts[] = {
        "SELECT 1",            /* one whole word */
        "SELECT 2",            /* differs in that word */
        "SELECT 1 ",           /* a tail of one byte */
        "SELECT 12",           /* another tail */
        "SELECT 1 AS a, 2 AS b", /* differs past the first word */
        "SELECT 1 AS a, 2 AS c",
    };
    void *st[IMS_ARRAY_SIZE(texts)];
    for (size_t i = 0; i < IMS_ARRAY_SIZE(texts); i++)
        st[i] = prepare(h, texts[i]);
    for (size_t i = 0; i < IMS_ARRAY_SIZE(texts); i++) {
        char copy[64];
        snprintf(copy, sizeof(copy), "%s", texts[i]);
        assert_ptr_equal(prepare(h, copy), st[i]);
        for (size_t j = 0; j < i; j++)
            assert_ptr_not_equal(st[i], st[j]);
    }
    ims_sqlite_ops.close(h);
}

static void test_hash_bytes(void **state)
{
    (void)state;
    static const char s[] = "SELECT id FROM images WHERE id = ?";
    uint64_t whole = ims_hash_bytes(IMS_HASH_SEED, s, sizeof(s) - 1);
    assert_true(whole == ims_hash_bytes(IMS_HASH_SEED, s, sizeof(s) - 1));
    /* every length a hash of its own, and every byte counted */
    for (size_t n = 0; n < sizeof(s) - 1; n++)
        assert_true(ims_hash_bytes(IMS_HASH_SEED, s, n) != whole);
    assert_true(ims_hash_bytes(IMS_HASH_SEED, s, sizeof(s)) != whole); /* with its NUL */
    char other[sizeof(s)];
    for (size_t i = 0; i < sizeof(s) - 1; i++) {
        memcpy(other, s, sizeof(s));
        other[i] ^= 1;
        assert_true(ims_hash_bytes(IMS_HASH_SEED, other, sizeof(s) - 1) != whole);
    }
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/test_statement_cache.%d.db", (int)getpid());
    unlink(path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_text_same_statement),
        cmocka_unit_test(test_hash_bytes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    char side[80];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return rc;
}
