/* SPDX-License-Identifier: Apache-2.0
 * Migration 26 on a database written at schema 25: images.props_text holds
 * each image's custom properties (data step), in name order, whatever
 * bytes they hold; an image reads as before; later writes keep props_text
 * with the image_properties rows, which the property filters still use;
 * a row without props_text (written by SQL) is read from its rows. */
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

#define A "11111111-1111-4111-8111-111111111111"
#define B "22222222-2222-4222-8222-222222222222"
#define C "33333333-3333-4333-8333-333333333333"

static char path[64];

static int64_t scalar(const char *sql) { return old_schema_scalar(path, sql); }

static void make_schema_25(void)
{
    snprintf(path, sizeof(path), "/tmp/test_migration_26.%d.db", (int)getpid());
    sqlite3 *db = old_schema_create(path, 25);
    static const char *const rows[] = {
        "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, min_disk, min_ram, "
        "enterprise_project_id, created_at, updated_at, p_os_type, extras, tags_text) VALUES "
        "('" A "', 'p1', 'a', 'queued', 'private', 0, 0, 0, 0, '0', 1, 1, 'Linux', 3, '1:t'), "
        "('" B "', 'p1', 'b', 'queued', 'private', 0, 0, 0, 0, '0', 2, 2, NULL, 0, ''), "
        "('" C "', 'p1', 'c', 'queued', 'private', 0, 0, 0, 0, '0', 3, 3, NULL, 1, '')",
        /* out of name order, with the encoding's own bytes and UTF-8 in them */
        "INSERT INTO image_properties (image_id, name, value, created_at) VALUES "
        "('" A "', 'zeta', '3:x:', 1), ('" A "', 'hw_disk_bus', 'scsi', 1), ('" A "', 'caf\xc3\xa9', '', 1), "
        "('" C "', 'only', 'one', 3), ('" C "', 'long', replace(hex(zeroblob(150)), '0', 'v'), 3)",
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        old_schema_exec(db, rows[i]);
    sqlite3_close(db);
}

static void assert_props(struct ims_dbc *c, const char *id, const char *const *want, size_t n)
{
    struct ims_image img;
    struct ims_err err;
    assert_int_equal(ims_repo_image_get(c, id, &img, &err), IMS_OK);
    assert_int_equal(img.props.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(img.props.items[i].key, want[2 * i]);
        assert_string_equal(img.props.items[i].value, want[2 * i + 1]);
    }
    ims_image_release(&img);
}

static void test_props_text_filled_and_kept(void **state)
{
    (void)state;
    make_schema_25();
    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    assert_true(ims_db_schema_version(c) >= 26);

    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE id = '" A "' AND props_text = "
                            "'5:caf\xc3\xa9" "0:11:hw_disk_bus4:scsi4:zeta4:3:x:'"),
                     1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE id = '" B "' AND props_text = ''"), 1);
    /* a value of 300 bytes */
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE id = '" C "' AND props_text = "
                            "'4:long300:' || replace(hex(zeroblob(150)), '0', 'v') || '4:only3:one'"),
                     1);
    /* the promoted attribute and the custom ones in name order, as before */
    static const char *const a[] = {"__os_type", "Linux", "caf\xc3\xa9", "", "hw_disk_bus", "scsi", "zeta", "3:x:"};
    assert_props(c, A, a, 4);
    assert_props(c, B, NULL, 0);

    /* a change writes props_text with the rows */
    struct ims_image before, img;
    assert_int_equal(ims_repo_image_get(c, A, &before, &err), IMS_OK);
    ims_image_copy(&img, &before);
    ims_kvlist_remove(&img.props, "zeta");
    ims_kvlist_set(&img.props, "hw_disk_bus", "virtio");
    ims_kvlist_add(&img.props, "added", "1");
    assert_int_equal(ims_repo_image_write_changes(c, &before, &img, &err), IMS_OK);
    ims_image_release(&before);
    ims_image_release(&img);
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE id = '" A "' AND props_text = "
                            "'5:added1:15:caf\xc3\xa9" "0:11:hw_disk_bus6:virtio'"),
                     1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM image_properties WHERE image_id = '" A "'"), 3);
    static const char *const a2[] = {"__os_type", "Linux", "added", "1", "caf\xc3\xa9", "", "hw_disk_bus", "virtio"};
    assert_props(c, A, a2, 4);

    /* a new image's row holds them from its insert */
    assert_int_equal(ims_repo_image_get(c, C, &img, &err), IMS_OK);
    snprintf(img.id, sizeof(img.id), "44444444-4444-4444-8444-444444444444");
    assert_int_equal(ims_repo_image_insert(c, &img, 100, &err), IMS_OK);
    ims_image_release(&img);
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE id = '44444444-4444-4444-8444-444444444444' AND "
                            "props_text = '4:long300:' || replace(hex(zeroblob(150)), '0', 'v') || '4:only3:one'"),
                     1);
    struct ims_image copy;
    assert_int_equal(ims_repo_image_get(c, "44444444-4444-4444-8444-444444444444", &copy, &err), IMS_OK);
    assert_int_equal(strlen(ims_kvlist_get(&copy.props, "long")), 300);
    assert_string_equal(ims_kvlist_get(&copy.props, "only"), "one");
    ims_image_release(&copy);

    /* a row whose props_text is not written reads its rows */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    old_schema_exec(h, "UPDATE images SET props_text = NULL WHERE id = '" C "'");
    sqlite3_close(h);
    struct ims_image rows;
    assert_int_equal(ims_repo_image_get(c, C, &rows, &err), IMS_OK);
    assert_int_equal(rows.props.n, 2);
    assert_string_equal(rows.props.items[0].key, "long");
    assert_string_equal(rows.props.items[1].key, "only");
    ims_image_release(&rows);

    ims_db_close(db);
    old_schema_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_props_text_filled_and_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
