/* SPDX-License-Identifier: Apache-2.0
 * The data signal (IMS_SIGNAL_DATA): whole answers are reused only while it
 * stands still (lib/api/answer_cache.c), so it must move after every commit
 * that may change a row, by any path: a write transaction, a writing
 * statement outside one, one run inside a read snapshot; and be seen by a
 * second opening of the database (another process's view) at once. Reads
 * and rolled-back transactions leave it where it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/db/db-int.h"
#include "ims/db.h"
#include "db_files.h"

static char path[64];

static uint64_t count(struct ims_db *db)
{
    uint64_t v = 0;
    assert_true(ims_db_signal_read(db, IMS_SIGNAL_DATA, &v));
    return v;
}

static void run(struct ims_dbc *c, const char *sql)
{
    struct ims_err err;
    if (ims_q_run(c, sql, &err) != IMS_OK)
        fail_msg("%s: %s", sql, err.msg);
}

static void test_every_commit_moves_the_data_signal(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_data_signal.%d.db", (int)getpid());
    unlink(path);
    struct ims_db *db, *other;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    if (ims_db_open(&ims_sqlite_ops, path, &other, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    run(c, "CREATE TABLE IF NOT EXISTS t_signal (v INTEGER)");

    uint64_t v = count(db);
    run(c, "SELECT COUNT(*) FROM images"); /* a read */
    ims_db_read_begin(c);
    run(c, "SELECT COUNT(*) FROM images");
    ims_db_read_end(c);
    assert_int_equal(count(db), v);

    run(c, "INSERT INTO t_signal (v) VALUES (1)"); /* outside a transaction */
    assert_true(count(db) > v);
    assert_int_equal(count(other), count(db));

    v = count(db);
    assert_int_equal(ims_db_begin(c, &err), IMS_OK);
    run(c, "INSERT INTO t_signal (v) VALUES (2)");
    assert_int_equal(count(db), v); /* not before the commit */
    assert_int_equal(ims_db_commit(c, &err), IMS_OK);
    assert_true(count(db) > v);

    v = count(db);
    assert_int_equal(ims_db_begin(c, &err), IMS_OK);
    run(c, "INSERT INTO t_signal (v) VALUES (3)");
    ims_db_rollback(c);
    assert_int_equal(count(db), v);

    ims_db_read_begin(c); /* a write inside a read snapshot commits at its end */
    run(c, "INSERT INTO t_signal (v) VALUES (4)");
    assert_int_equal(count(db), v);
    ims_db_read_end(c);
    assert_true(count(db) > v);
    assert_int_equal(count(other), count(db));

    ims_db_close(other);
    ims_db_close(db);
    db_files_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_commit_moves_the_data_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
