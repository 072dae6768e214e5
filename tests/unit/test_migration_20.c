/* SPDX-License-Identifier: Apache-2.0
 * Migration 20 on a database written at schema 19: a project's image count
 * moves to slot 0 of the split count (repo_counts.c) and reads the same.
 * Then the creates of one project add to several slots (so concurrent ones
 * lock different rows), the quota holds exactly, deletes and owner changes
 * move the sum, and imsctl db check agrees. */
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

static int64_t scalar(const char *sql) { return old_schema_scalar(path, sql); }

static void make_schema_19(void)
{
    snprintf(path, sizeof(path), "/tmp/test_migration_20.%d.db", (int)getpid());
    sqlite3 *db = old_schema_create(path, 19);
    old_schema_exec(db, "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, min_disk, "
                        "min_ram, enterprise_project_id, created_at, updated_at, tags_text) VALUES "
                        "('11111111-1111-1111-1111-111111111111', 'p1', 'a', 'queued', 'private', 0, 0, 0, 0, '0', 1, 1, ''), "
                        "('22222222-2222-2222-2222-222222222222', 'p1', 'b', 'queued', 'private', 0, 0, 0, 0, '0', 2, 2, ''), "
                        "('33333333-3333-3333-3333-333333333333', 'p2', 'c', 'queued', 'private', 0, 0, 0, 0, '0', 3, 3, '')");
    old_schema_exec(db, "INSERT INTO project_image_counts (project_id, n) VALUES ('p1', 2), ('p2', 1)");
    sqlite3_close(db);
}

static void make_image(struct ims_image *img, const char *owner, int k)
{
    ims_image_init(img);
    snprintf(img->id, sizeof(img->id), "%08x-0000-4000-8000-%012x", k, k);
    ims_set_str(&img->owner, owner);
    ims_set_str(&img->name, "n");
    snprintf(img->status, sizeof(img->status), "queued");
    snprintf(img->visibility, sizeof(img->visibility), "private");
    ims_set_str(&img->enterprise_project_id, "0");
    img->created_at = img->updated_at = 100 + k;
}

static int64_t count_of(struct ims_dbc *c, const char *owner)
{
    int64_t n = -1;
    struct ims_err err;
    assert_int_equal(ims_repo_image_count(c, owner, &n, &err), IMS_OK);
    return n;
}

static void test_counts_move_to_slots(void **state)
{
    (void)state;
    make_schema_19();
    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    assert_true(ims_db_schema_version(c) >= 20);
    assert_int_equal(count_of(c, "p1"), 2);
    assert_int_equal(count_of(c, "p2"), 1);
    assert_int_equal(scalar("SELECT n FROM project_image_counts WHERE project_id = 'p1' AND slot = 0"), 2);

    /* 30 creates of p1 under a quota of 32: they spread over slots */
    for (int k = 1; k <= 30; k++) {
        struct ims_image img;
        make_image(&img, "p1", k);
        assert_int_equal(ims_repo_image_insert(c, &img, 32, &err), IMS_OK);
        ims_image_release(&img);
    }
    assert_int_equal(count_of(c, "p1"), 32);
    int64_t slots = scalar("SELECT COUNT(*) FROM project_image_counts WHERE project_id = 'p1' AND n <> 0");
    if (slots < 4)
        fail_msg("30 creates of one project counted on %lld rows", (long long)slots);
    /* the quota: the 33rd is refused and leaves nothing behind */
    struct ims_image img;
    make_image(&img, "p1", 31);
    assert_int_equal(ims_repo_image_insert(c, &img, 32, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0015");
    assert_non_null(strstr(err.msg, "32 of 32"));
    assert_int_equal(count_of(c, "p1"), 32);
    assert_int_equal(scalar("SELECT COUNT(*) FROM images WHERE owner = 'p1'"), 32);
    /* a delete makes room, in whichever slot the image was counted */
    char first[IMS_UUID_LEN + 1];
    snprintf(first, sizeof(first), "%08x-0000-4000-8000-%012x", 1, 1);
    assert_int_equal(ims_repo_image_delete(c, first, &err), IMS_OK);
    assert_int_equal(ims_repo_image_delete(c, "11111111-1111-1111-1111-111111111111", &err), IMS_OK);
    assert_int_equal(count_of(c, "p1"), 30);
    assert_int_equal(ims_repo_image_insert(c, &img, 32, &err), IMS_OK);
    ims_image_release(&img);
    assert_int_equal(count_of(c, "p1"), 31);
    /* given to p2: p1's sum down, p2's up */
    struct ims_image before, after;
    assert_int_equal(ims_repo_image_get(c, "22222222-2222-2222-2222-222222222222", &before, &err), IMS_OK);
    ims_image_copy(&after, &before);
    ims_set_str(&after.owner, "p2");
    assert_int_equal(ims_repo_image_write_changes(c, &before, &after, &err), IMS_OK);
    ims_image_release(&before);
    ims_image_release(&after);
    assert_int_equal(count_of(c, "p1"), 30);
    assert_int_equal(count_of(c, "p2"), 2);
    assert_int_equal(count_of(c, "never-owned"), 0);

    struct ims_buf report;
    ims_buf_init(&report, 1 << 16);
    if (ims_db_check(c, &report, &err) != IMS_OK)
        fail_msg("db check: %s", report.data);
    assert_non_null(strstr(report.data, "projects whose image count is wrong: 0"));
    ims_buf_release(&report);
    ims_db_close(db);
    old_schema_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_move_to_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
