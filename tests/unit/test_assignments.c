/* SPDX-License-Identifier: Apache-2.0
 * Keystone role assignments in the repository: migration 15 moves the
 * users' project roles of a schema-14 database over; a user's roles on a
 * project or domain are its own and its groups'; adding twice adds once;
 * every change raises the actor's revision; a removal ends the tokens of
 * the users it reached (tokens_valid_after) and is 404 the second time;
 * effective lists expand groups to their members; deletes take the
 * assignments of the user, group or project with them. */
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

static void make_schema_14(void)
{
    snprintf(path, sizeof(path), "/tmp/test_assignments.%d.db", (int)getpid());
    sqlite3 *db = old_schema_create(path, 14);
    exec(db, "INSERT INTO domains (id, name, enabled, created_at) VALUES ('d1', 'D1', 1, 0), ('d2', 'D2', 1, 0)");
    exec(db, "INSERT INTO projects (id, domain_id, name, region, enabled, created_at) VALUES "
             "('p1', 'd1', 'P1', 'r', 1, 0), ('p2', 'd1', 'P2', 'r', 1, 0), ('px', 'd2', 'PX', 'r', 1, 0)");
    exec(db, "INSERT INTO users (id, domain_id, name, enabled, failed_logins, created_at) VALUES "
             "('u1', 'd1', 'U1', 1, 0, 0), ('u2', 'd1', 'U2', 1, 0, 0), ('ux', 'd2', 'UX', 1, 0, 0)");
    exec(db, "INSERT INTO role_assignments (user_id, project_id, role) VALUES ('u1', 'p1', 'admin'), "
             "('u1', 'p1', 'member'), ('u2', 'p2', 'member'), ('ux', 'px', 'member')");
    exec(db, "INSERT INTO groups (id, domain_id, name, description, created_at) VALUES ('g1', 'd1', 'G1', '', 0)");
    exec(db, "INSERT INTO group_members (group_id, user_id) VALUES ('g1', 'u2')");
    sqlite3_close(db);
}

static struct ims_assignment as(enum ims_actor_type at, const char *actor, enum ims_target_type tt,
                                const char *target, const char *role)
{
    return (struct ims_assignment){.actor_type = at, .target_type = tt, .actor_id = (char *)actor,
                                   .target_id = (char *)target, .role = (char *)role};
}

static void roles_are(struct ims_dbc *c, const char *user, enum ims_target_type t, const char *target,
                      const char *want)
{
    struct ims_strlist roles = {0};
    struct ims_err err;
    assert_int_equal(t == IMS_TARGET_PROJECT ? ims_repo_roles_on_project(c, user, target, &roles, &err)
                                             : ims_repo_roles_on_domain(c, user, target, &roles, &err),
                     IMS_OK);
    char got[128] = "";
    for (size_t i = 0; i < roles.n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "", roles.items[i]);
    ims_strlist_release(&roles);
    assert_string_equal(got, want);
}

static void test_assignments(void **state)
{
    make_schema_14();
    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    assert_true(ims_db_schema_version(c) >= 15);
    /* the users' project roles moved over */
    assert_int_equal(scalar("SELECT COUNT(*) FROM assignments"), 4);
    roles_are(c, "u1", IMS_TARGET_PROJECT, "p1", "admin,member");
    roles_are(c, "u2", IMS_TARGET_PROJECT, "p2", "member");
    roles_are(c, "u2", IMS_TARGET_PROJECT, "p1", "");

    /* a group's role reaches its members, once */
    struct ims_assignment g = as(IMS_ACTOR_GROUP, "g1", IMS_TARGET_PROJECT, "p1", "reader");
    bool added = false;
    int64_t rev = scalar("SELECT revision FROM groups WHERE id = 'g1'");
    assert_int_equal(ims_repo_assignment_add(c, &g, &added, &err), IMS_OK);
    assert_true(added);
    assert_int_equal(scalar("SELECT revision FROM groups WHERE id = 'g1'"), rev + 1);
    assert_int_equal(ims_repo_assignment_add(c, &g, &added, &err), IMS_OK);
    assert_false(added);
    assert_int_equal(scalar("SELECT revision FROM groups WHERE id = 'g1'"), rev + 1);
    roles_are(c, "u2", IMS_TARGET_PROJECT, "p1", "reader");
    struct ims_assignment ud = as(IMS_ACTOR_USER, "u2", IMS_TARGET_DOMAIN, "d1", "admin");
    assert_int_equal(ims_repo_assignment_add(c, &ud, NULL, &err), IMS_OK);
    struct ims_assignment gd = as(IMS_ACTOR_GROUP, "g1", IMS_TARGET_DOMAIN, "d1", "admin");
    assert_int_equal(ims_repo_assignment_add(c, &gd, NULL, &err), IMS_OK);
    roles_are(c, "u2", IMS_TARGET_DOMAIN, "d1", "admin");
    bool there = false;
    assert_int_equal(ims_repo_assignment_exists(c, &gd, &there, &err), IMS_OK);
    assert_true(there);

    /* lists: the account's only; effective expands the group */
    struct ims_assignment *rows = NULL;
    size_t n = 0;
    struct ims_assignment_filter f = {.domain_id = "d1", .actor_type = -1, .target_type = -1};
    assert_int_equal(ims_repo_assignment_list(c, &f, &rows, &n, &err), IMS_OK);
    assert_int_equal(n, 6); /* u1 admin+member p1, u2 member p2, g1 reader p1, u2 and g1 admin d1 */
    ims_assignment_array_free(rows, n);
    f.effective = true;
    f.target_type = IMS_TARGET_PROJECT;
    f.target_id = "p1";
    assert_int_equal(ims_repo_assignment_list(c, &f, &rows, &n, &err), IMS_OK);
    assert_int_equal(n, 3);
    size_t via = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].actor_type, IMS_ACTOR_USER);
        if (rows[i].via_group) {
            via++;
            assert_string_equal(rows[i].actor_id, "u2");
            assert_string_equal(rows[i].via_group, "g1");
            assert_string_equal(rows[i].role, "reader");
        }
    }
    assert_int_equal(via, 1);
    ims_assignment_array_free(rows, n);
    f = (struct ims_assignment_filter){.domain_id = "d2", .actor_type = -1, .target_type = -1};
    assert_int_equal(ims_repo_assignment_list(c, &f, &rows, &n, &err), IMS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].actor_id, "ux");
    ims_assignment_array_free(rows, n);

    /* removal: the members' tokens end, the second one is 404 */
    assert_int_equal(scalar("SELECT tokens_valid_after FROM users WHERE id = 'u2'"), 0);
    assert_int_equal(ims_repo_assignment_remove(c, &g, &err), IMS_OK);
    assert_true(scalar("SELECT tokens_valid_after FROM users WHERE id = 'u2'") > 0);
    assert_int_equal(scalar("SELECT tokens_valid_after FROM users WHERE id = 'u1'"), 0);
    assert_int_equal(ims_repo_assignment_remove(c, &g, &err), IMS_E_NOTFOUND);
    roles_are(c, "u2", IMS_TARGET_PROJECT, "p1", "");
    struct ims_assignment u1 = as(IMS_ACTOR_USER, "u1", IMS_TARGET_PROJECT, "p1", "admin");
    assert_int_equal(ims_repo_assignment_remove(c, &u1, &err), IMS_OK);
    assert_true(scalar("SELECT tokens_valid_after FROM users WHERE id = 'u1'") > 0);
    roles_are(c, "u1", IMS_TARGET_PROJECT, "p1", "member");

    /* deletes take the assignments with them */
    assert_int_equal(ims_repo_group_delete(c, "g1", &err), IMS_OK);
    assert_int_equal(scalar("SELECT COUNT(*) FROM assignments WHERE actor_id = 'g1'"), 0);
    assert_int_equal(ims_repo_project_delete(c, "p1", &err), IMS_OK);
    assert_int_equal(scalar("SELECT COUNT(*) FROM assignments WHERE target_id = 'p1'"), 0);
    assert_int_equal(ims_repo_user_delete(c, "u2", &err), IMS_OK);
    assert_int_equal(scalar("SELECT COUNT(*) FROM assignments WHERE actor_id = 'u2'"), 0);
    ims_db_close(db);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assignments),
    };
    return cmocka_run_group_tests_name("role assignments", tests, NULL, NULL);
}
