/* SPDX-License-Identifier: Apache-2.0
 * A list page's records (each in one allocation: struct ims_image.packed)
 * hold what a get of the same image holds, field by field: NULL columns,
 * promoted and custom properties in name order, tags with any bytes, a
 * malformed tags_text or props_text read as far as it goes, and a row
 * without props_text (written by SQL), whose properties are rows and whose
 * record is not packed. A copy of a packed record is its own; a property
 * an answer shows (ims_image_prop_show) is set on one without a free. */
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
#include "ims/query.h"
#include "db_files.h"

static char path[64];

static void exec(sqlite3 *h, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%.60s: %s", sql, msg);
}

static void assert_str_same(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same(const struct ims_image *a, const struct ims_image *b)
{
    assert_string_equal(a->id, b->id);
    assert_str_same(a->owner, b->owner);
    assert_str_same(a->name, b->name);
    assert_string_equal(a->status, b->status);
    assert_string_equal(a->visibility, b->visibility);
    assert_int_equal(a->protected_, b->protected_);
    assert_int_equal(a->os_hidden, b->os_hidden);
    assert_str_same(a->container_format, b->container_format);
    assert_str_same(a->disk_format, b->disk_format);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->virtual_size, b->virtual_size);
    assert_str_same(a->checksum, b->checksum);
    assert_str_same(a->os_hash_algo, b->os_hash_algo);
    assert_str_same(a->os_hash_value, b->os_hash_value);
    assert_int_equal(a->min_disk, b->min_disk);
    assert_int_equal(a->min_ram, b->min_ram);
    assert_str_same(a->enterprise_project_id, b->enterprise_project_id);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->updated_at, b->updated_at);
    assert_str_same(a->blob, b->blob);
    assert_int_equal(a->revision, b->revision);
    assert_int_equal(a->as_read, b->as_read);
    assert_int_equal(a->props.n, b->props.n);
    for (size_t i = 0; i < a->props.n; i++) {
        assert_string_equal(a->props.items[i].key, b->props.items[i].key);
        assert_str_same(a->props.items[i].value, b->props.items[i].value);
    }
    assert_int_equal(a->tags.n, b->tags.n);
    for (size_t i = 0; i < a->tags.n; i++)
        assert_string_equal(a->tags.items[i], b->tags.items[i]);
}

static void test_page_rows_read_as_a_get(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_list_rows.%d.db", (int)getpid());
    db_files_remove(path);
    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    /* 1: every column set, promoted and custom properties, tags with the
     * encoding's own bytes; 2: every nullable column NULL, nothing else;
     * 3: props_text NULL, its properties in rows; 4: a malformed tags_text
     * and props_text after a good entry */
    exec(h, "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, container_format, "
            "disk_format, size, virtual_size, checksum, os_hash_algo, os_hash_value, min_disk, min_ram, "
            "enterprise_project_id, created_at, updated_at, location, p_os_type, p_platform, extras, tags_text, "
            "props_text) VALUES "
            "('00000001-0000-4000-8000-000000000001', 'p1', 'full', 'active', 'public', 1, 0, 'bare', 'raw', 10, "
            "20, 'c', 'sha512', 'h', 1, 2, 'e1', 4, 5, 'file:b', 'Linux', 'Ubuntu', 2, '3:a:b0:5:caf\xc3\xa9', "
            "'5:alpha0:4:zeta4:3:x:'), "
            "('00000002-0000-4000-8000-000000000002', 'p2', NULL, 'queued', 'private', 0, 0, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, 0, 0, '0', 3, 3, NULL, NULL, NULL, 0, '', ''), "
            "('00000003-0000-4000-8000-000000000003', 'p1', 'rows', 'queued', 'private', 0, 0, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, 0, 0, '0', 2, 2, NULL, 'Windows', NULL, 2, '1:t', NULL), "
            "('00000004-0000-4000-8000-000000000004', 'p1', 'bad', 'queued', 'private', 0, 0, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, 0, 0, '0', 1, 1, NULL, NULL, NULL, 1, '1:t9:short', '1:k1:v7:dangling')");
    exec(h, "INSERT INTO image_properties (image_id, name, value, created_at) VALUES "
            "('00000003-0000-4000-8000-000000000003', 'zz', 'last', 2), "
            "('00000003-0000-4000-8000-000000000003', 'aa', 'first', 2)");
    sqlite3_close(h);

    struct ims_image_query q = {.limit = 25};
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    struct ims_image *imgs = NULL;
    size_t n = 0;
    assert_int_equal(ims_repo_image_list(c, &q, NULL, &admin, &imgs, &n, &err), IMS_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        struct ims_image got;
        assert_int_equal(ims_repo_image_get(c, imgs[i].id, &got, &err), IMS_OK);
        assert_same(&imgs[i], &got);
        ims_image_release(&got);
        /* all but the row whose properties are rows: one allocation */
        assert_int_equal(imgs[i].packed != NULL, strcmp(imgs[i].id, "00000003-0000-4000-8000-000000000003") != 0);
        struct ims_image copy;
        ims_image_copy(&copy, &imgs[i]);
        assert_null(copy.packed);
        assert_same(&copy, &imgs[i]);
        ims_image_release(&copy);
    }
    /* newest first */
    assert_string_equal(imgs[0].name, "full");
    assert_int_equal(imgs[0].props.n, 4); /* __os_type, __platform, alpha, zeta */
    assert_string_equal(imgs[0].props.items[2].key, "alpha");
    assert_string_equal(imgs[0].props.items[2].value, "");
    assert_int_equal(imgs[0].tags.n, 3);
    assert_string_equal(imgs[0].tags.items[0], "a:b");
    assert_string_equal(imgs[0].tags.items[1], "");
    assert_string_equal(imgs[0].tags.items[2], "caf\xc3\xa9");
    assert_null(imgs[1].name);
    assert_null(imgs[1].checksum);
    assert_int_equal(imgs[1].size, -1);
    assert_int_equal(imgs[2].props.n, 3); /* __os_type, aa, zz */
    assert_int_equal(imgs[3].tags.n, 1);  /* the good one before the malformed */
    assert_int_equal(imgs[3].props.n, 1);
    /* what the IMS list shows as __imagetype, set on packed records: one
     * replaced, one added; released with them (ASan: nothing freed twice,
     * nothing leaked) */
    ims_image_prop_show(&imgs[0], "__platform", "shown");
    ims_image_prop_show(&imgs[0], "__imagetype", "gold");
    ims_image_prop_show(&imgs[2], "__imagetype", "private");
    assert_string_equal(ims_kvlist_get(&imgs[0].props, "__platform"), "shown");
    assert_string_equal(ims_kvlist_get(&imgs[0].props, "__imagetype"), "gold");
    assert_int_equal(imgs[0].props.n, 5);
    assert_string_equal(ims_kvlist_get(&imgs[2].props, "__imagetype"), "private");
    ims_image_array_free(imgs, n);
    ims_db_close(db);
    db_files_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_rows_read_as_a_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
