/* SPDX-License-Identifier: Apache-2.0
 * Migrations 21 and 22 on a database written before them: custom policies
 * that share an internal name with an older one of their account (the
 * count-based numbering before 3e8882e gave custom_<account>_<n> twice) get
 * the account's next names, the oldest keeps its own, and the unique index
 * then refuses a second policy of an account with a name it holds. */
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

extern const size_t ims_nmigrations;

static char path[64];

/* The migration that renames the duplicates (the one before the index). */
static size_t rename_migration(void)
{
    for (size_t v = 0; v < ims_nmigrations; v++)
        if (strstr(ims_migrations[v], "policies_internal_name"))
            return v - 1;
    fail_msg("no migration makes policies' internal names unique");
    return 0;
}

static void name_of(const char *id, char *out, size_t cap)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM policies WHERE id = ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void assert_name(const char *id, const char *want)
{
    char got[128];
    name_of(id, got, sizeof(got));
    assert_string_equal(got, want);
}

static void test_duplicates_renamed_then_unique(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_migration_policy_names.%d.db", (int)getpid());
    sqlite3 *old = old_schema_create(path, rename_migration());
    old_schema_exec(old, "INSERT INTO policies (id, domain_id, name, display_name, description, type, document, "
                         "created_at, updated_at) VALUES "
                         "('a', 'd1', 'custom_d1_0', 'A', '', 'AX', '{}', 1, 1), "
                         "('b', 'd1', 'custom_d1_2', 'B', '', 'AX', '{}', 2, 2), "
                         "('d', 'd1', 'custom_d1_2', 'D', '', 'AX', '{}', 3, 3), "
                         "('c', 'd1', 'custom_d1_2', 'C', '', 'AX', '{}', 3, 3), "
                         "('e', 'd2', 'custom_d2_0', 'E', '', 'AX', '{}', 1, 1), "
                         "('f', 'd2', 'custom_d2_0', 'F', '', 'AX', '{}', 1, 1), "
                         "('s', NULL, 'System', 'System', '', 'system', '{}', 0, 0)");
    sqlite3_close(old);

    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    /* the oldest of each name keeps it (ties by id); the others, oldest
     * first, take the account's next numbers; other accounts are apart */
    assert_name("a", "custom_d1_0");
    assert_name("b", "custom_d1_2");
    assert_name("c", "custom_d1_3");
    assert_name("d", "custom_d1_4");
    assert_name("e", "custom_d2_0");
    assert_name("f", "custom_d2_1");
    assert_name("s", "System");
    assert_int_equal(old_schema_scalar(path, "SELECT COUNT(*) FROM policies WHERE revision > 0"), 3);

    char *next = NULL;
    assert_int_equal(ims_repo_policy_next_name(c, "d1", &next, &err), IMS_OK);
    assert_string_equal(next, "custom_d1_5");
    free(next);
    assert_int_equal(ims_repo_policy_next_name(c, "d3", &next, &err), IMS_OK);
    assert_string_equal(next, "custom_d3_0");
    free(next);

    /* an account's name is its own: a second row with it is refused, the
     * same name in another account is not */
    struct ims_policy_row row = {.id = "g", .domain_id = "d1", .name = "custom_d1_3", .display_name = "G",
                                 .type = "AX", .document = "{}"};
    assert_int_equal(ims_repo_policy_insert(c, &row, &err), IMS_E_CONFLICT);
    row.domain_id = "d2";
    assert_int_equal(ims_repo_policy_insert(c, &row, &err), IMS_OK);

    ims_db_close(db);
    old_schema_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_renamed_then_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
