/* SPDX-License-Identifier: Apache-2.0
 * Migration 8 on a database written at schema 7: the IMS attributes leave
 * image_properties for columns without changing what an image reads as,
 * custom properties and tags stay rows, images.extras counts the custom
 * properties, images.tags_text holds the tags (data step), and the
 * per-project image counts start right (imsctl db check agrees). Then the
 * repository keeps the counts through inserts, owner changes and deletes. */
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
#include "old_schema.h"

static char path[64];

static void exec(sqlite3 *db, const char *sql) { old_schema_exec(db, sql); }
static int64_t scalar(const char *sql) { return old_schema_scalar(path, sql); }

static void make_schema_7(void)
{
    snprintf(path, sizeof(path), "/tmp/test_migration_8.%d.db", (int)getpid());
    sqlite3 *db = old_schema_create(path, 7);
    static const char *const rows[] = {
        "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, min_disk, min_ram, "
        "enterprise_project_id, created_at, updated_at) VALUES "
        "('11111111-1111-1111-1111-111111111111', 'p1', 'a', 'queued', 'private', 0, 0, 0, 0, '0', 1, 1), "
        "('22222222-2222-2222-2222-222222222222', 'p1', 'b', 'queued', 'private', 0, 0, 0, 0, '0', 2, 2), "
        "('33333333-3333-3333-3333-333333333333', 'p2', 'c', 'queued', 'shared', 0, 0, 0, 0, '0', 3, 3)",
        "INSERT INTO image_properties (image_id, name, value) VALUES "
        "('11111111-1111-1111-1111-111111111111', '__platform', 'Ubuntu'), "
        "('11111111-1111-1111-1111-111111111111', '__os_bit', '64'), "
        "('11111111-1111-1111-1111-111111111111', 'hw_disk_bus', 'scsi'), "
        "('11111111-1111-1111-1111-111111111111', '__imagetype', 'private'), "
        "('22222222-2222-2222-2222-222222222222', '__platform', 'CentOS')",
        "INSERT INTO image_tags (image_id, value) VALUES ('11111111-1111-1111-1111-111111111111', 'k.v'), "
        "('11111111-1111-1111-1111-111111111111', 'a tag: with 9:colons'), "
        "('33333333-3333-3333-3333-333333333333', 'x')",
        /* shared with p2: its stored __imagetype private becomes shared */
        "INSERT INTO image_members (image_id, member, status, created_at, updated_at) VALUES "
        "('11111111-1111-1111-1111-111111111111', 'p2', 'pending', 1, 1)",
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        exec(db, rows[i]);
    sqlite3_close(db);
}

static void test_migrates_and_keeps_counts(void **state)
{
    make_schema_7();
    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    assert_true(ims_db_schema_version(c) >= 8); /* later migrations run too */

    struct ims_image img;
    assert_int_equal(ims_repo_image_get(c, "11111111-1111-1111-1111-111111111111", &img, &err), IMS_OK);
    assert_int_equal(img.props.n, 4);
    /* in name order, as before the move */
    assert_string_equal(img.props.items[0].key, "__imagetype");
    assert_string_equal(img.props.items[0].value, "shared");
    assert_string_equal(img.props.items[1].key, "__os_bit");
    assert_string_equal(img.props.items[2].key, "__platform");
    assert_string_equal(img.props.items[2].value, "Ubuntu");
    assert_string_equal(img.props.items[3].key, "hw_disk_bus");
    assert_string_equal(img.props.items[3].value, "scsi");
    assert_int_equal(img.tags.n, 2);
    assert_string_equal(img.tags.items[0], "a tag: with 9:colons");
    assert_string_equal(img.tags.items[1], "k.v");
    ims_image_release(&img);
    assert_int_equal(scalar("SELECT COUNT(*) FROM image_properties"), 1);
    assert_int_equal(scalar("SELECT extras FROM images WHERE name = 'a'"), 1);
    assert_int_equal(scalar("SELECT extras FROM images WHERE name = 'b'"), 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE tags_text = '20:a tag: with 9:colons3:k.v'"), 1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE tags_text = ''"), 1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM image_tags WHERE created_at IS NULL"), 0);

    int64_t n = -1;
    assert_int_equal(ims_repo_image_count(c, "p1", &n, &err), IMS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ims_repo_image_count(c, "never-owned", &n, &err), IMS_OK);
    assert_int_equal(n, 0);

    /* the counts follow inserts, the quota is checked in the insert, and
     * owner changes and deletes move the counts */
    assert_int_equal(ims_repo_image_get(c, "22222222-2222-2222-2222-222222222222", &img, &err), IMS_OK);
    snprintf(img.id, sizeof(img.id), "44444444-4444-4444-4444-444444444444");
    assert_int_equal(ims_repo_image_insert(c, &img, 3, &err), IMS_OK);
    snprintf(img.id, sizeof(img.id), "55555555-5555-5555-5555-555555555555");
    assert_int_equal(ims_repo_image_insert(c, &img, 3, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0015");
    assert_int_equal(ims_repo_image_count(c, "p1", &n, &err), IMS_OK);
    assert_int_equal(n, 3);
    ims_image_release(&img);
    struct ims_image before;
    assert_int_equal(ims_repo_image_get(c, "44444444-4444-4444-4444-444444444444", &before, &err), IMS_OK);
    ims_image_copy(&img, &before);
    ims_set_str(&img.owner, "p2");
    assert_int_equal(ims_repo_image_write_changes(c, &before, &img, &err), IMS_OK);
    /* written on condition of the revision read: a second write from the
     * same read would erase the first, and is refused */
    assert_int_equal(ims_repo_image_write_changes(c, &before, &img, &err), IMS_E_CONFLICT);
    ims_image_release(&before);
    ims_image_release(&img);
    assert_int_equal(ims_repo_image_count(c, "p1", &n, &err), IMS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ims_repo_image_count(c, "p2", &n, &err), IMS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ims_repo_image_delete(c, "33333333-3333-3333-3333-333333333333", &err), IMS_OK);
    assert_int_equal(ims_repo_image_count(c, "p2", &n, &err), IMS_OK);
    assert_int_equal(n, 1);

    struct ims_buf report;
    ims_buf_init(&report, 1 << 16);
    enum ims_rc rc = ims_db_check(c, &report, &err);
    if (rc != IMS_OK)
        fail_msg("db check: %s", report.data);
    assert_non_null(strstr(report.data, "projects whose image count is wrong: 0"));
    ims_buf_release(&report);
    ims_db_close(db);
    old_schema_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrates_and_keeps_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
