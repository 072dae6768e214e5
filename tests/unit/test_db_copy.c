/* SPDX-License-Identifier: Apache-2.0
 * ims_db_copy (imsctl db copy): the table list names every table the
 * migrations make, a copy holds every row of every table as it was (NULLs
 * and text as they were), and a target that already holds data is refused.
 * SQLite to SQLite here; SQLite to PostgreSQL in tests/api/test_pg.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ims/db.h"
#include "db_files.h"

extern const char *const ims_tables[];
extern const size_t ims_ntables;

static char src_path[64], dst_path[64];

static void exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* Every row of table as one text: values by column, NULL shown as such. */
static char *dump(const char *path, const char *table)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2", table);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    struct ims_buf b;
    ims_buf_init(&b, 1 << 20);
    ims_buf_adds(&b, table);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ims_buf_adds(&b, "\n");
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            ims_buf_printf(&b, "%s=%s|", sqlite3_column_name(st, i), v ? v : "<NULL>");
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ims_buf_detach(&b, NULL);
}

static int setup(void **state)
{
    snprintf(src_path, sizeof(src_path), "/tmp/test_db_copy.%d.src.db", (int)getpid());
    snprintf(dst_path, sizeof(dst_path), "/tmp/test_db_copy.%d.dst.db", (int)getpid());
    unlink(src_path);
    unlink(dst_path);
    return 0;
}

static int teardown(void **state)
{
    db_files_remove(src_path);
    db_files_remove(dst_path);
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_table_list_is_the_schema(void **state)
{
    struct ims_db *db;
    struct ims_err err;
    assert_int_equal(ims_db_open(&ims_sqlite_ops, src_path, &db, &err), IMS_OK);
    ims_db_close(db);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(src_path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s,
                                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name <> 'schema_version' ORDER BY name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    const char **listed = calloc(ims_ntables, sizeof(*listed));
    memcpy(listed, ims_tables, ims_ntables * sizeof(*listed));
    qsort(listed, ims_ntables, sizeof(*listed), by_name);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        assert_true(n < ims_ntables);
        assert_string_equal(listed[n], name);
        n++;
    }
    assert_int_equal(n, ims_ntables);
    free(listed);
    sqlite3_finalize(st);
    sqlite3_close(s);
}

static void test_copy_holds_every_row(void **state)
{
    struct ims_db *from, *to;
    struct ims_err err;
    assert_int_equal(ims_db_open(&ims_sqlite_ops, src_path, &from, &err), IMS_OK);
    exec(src_path,
         "INSERT INTO domains (id, name, enabled, created_at) VALUES ('default', 'Default', 1, 1);"
         "INSERT INTO projects (id, domain_id, name, region, enabled, created_at, description) "
         "  VALUES ('p1', 'default', 'demo', 'r1', 1, 2, 'it''s a demo');"
         "INSERT INTO users (id, domain_id, name, password_hash, enabled, failed_logins, created_at) "
         "  VALUES ('u1', 'default', 'alice', NULL, 1, 0, 3);"
         "INSERT INTO assignments VALUES ('user', 'u1', 'project', 'p1', 'member');"
         "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, size, min_disk, min_ram, "
         "  enterprise_project_id, created_at, updated_at, tags_text, p_os_version) VALUES "
         "  ('11111111-1111-1111-1111-111111111111', 'p1', 'caf\xc3\xa9', 'queued', 'private', 0, 0, NULL, 0, 0, "
         "   '0', 1, 1, '3:one', 'Ubuntu 22.04 server 64bit');"
         "INSERT INTO image_properties VALUES ('11111111-1111-1111-1111-111111111111', 'k', 'v', 1);"
         "INSERT INTO image_tags VALUES ('11111111-1111-1111-1111-111111111111', 'one', 1);"
         "INSERT INTO project_image_counts VALUES ('p1', 0, 1);"
         "INSERT INTO jobs (id, project_id, job_type, status, entities, request, progress, attempts, "
         "  lease_expires, created_at, begin_time, end_time) VALUES "
         "  ('j1', 'p1', 'copy', 'INIT', '{}', '{\"a\": 1}', 0, 0, 0, 5, 0, 0);"
         "UPDATE iam_generation SET value = 42;");
    assert_int_equal(ims_db_open(&ims_sqlite_ops, dst_path, &to, &err), IMS_OK);
    struct ims_buf report;
    ims_buf_init(&report, 1 << 20);
    assert_int_equal(ims_db_copy(from, to, &report, &err), IMS_OK);
    assert_non_null(strstr(report.data, "images: 1\n"));
    assert_non_null(strstr(report.data, "enterprise_projects: 1\n"));
    for (size_t i = 0; i < ims_ntables; i++) {
        char *a = dump(src_path, ims_tables[i]), *b = dump(dst_path, ims_tables[i]);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    /* a second copy would mix two installations: refused, nothing changed */
    char *before = dump(dst_path, "images");
    assert_int_equal(ims_db_copy(from, to, &report, &err), IMS_E_CONFLICT);
    assert_non_null(strstr(err.msg, "not empty"));
    char *after = dump(dst_path, "images");
    assert_string_equal(before, after);
    free(before);
    free(after);
    ims_buf_release(&report);
    ims_db_close(from);
    ims_db_close(to);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_list_is_the_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_holds_every_row, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
