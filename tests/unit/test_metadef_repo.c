/* SPDX-License-Identifier: Apache-2.0
 * The metadata definitions repository over a real SQLite database: a
 * namespace with what it holds in one insert, every write conditional on
 * the revision it read (a write based on a stale read changes nothing and
 * is IMS_E_CONFLICT), renames that keep what the namespace holds, and the
 * parsed document going in as the API and imsctl give it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/db.h"
#include "ims/metadef.h"
#include "shell.h"

static char dir[64], dbpath[96];
static struct ims_db *db;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_metadef_repo.%d", (int)getpid());
    sh_ok("rm -rf %s", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dbpath, sizeof(dbpath), "%s/imsd.db", dir);
    struct ims_err err = {0};
    assert_int_equal(ims_db_open(&ims_sqlite_ops, dbpath, &db, &err), IMS_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ims_db_close(db);
    return sh_status("rm -rf %s", dir);
}

static const char DOC[] =
    "{\"namespace\": \"OS::Unit\", \"visibility\": \"public\", \"protected\": true,"
    " \"resource_type_associations\": [{\"name\": \"OS::Unit::Type\", \"prefix\": \"u_\"}],"
    " \"properties\": {\"b\": {\"type\": \"string\", \"title\": \"B\", \"junk_free\": 1}}}";

static void insert_doc(struct ims_dbc *c, const char *text, struct ims_md_doc *d)
{
    struct ims_err err = {0};
    assert_int_equal(ims_md_doc_parse(text, strlen(text), d, &err), IMS_OK);
    ims_uuid_new(d->ns.id);
    d->ns.owner = ims_xstrdup("p1");
    d->ns.created_at = d->ns.updated_at = 1000;
    assert_int_equal(ims_repo_md_namespace_insert(c, d, &err), IMS_OK);
}

static void test_parser_refuses_unknown_definition_members(void **state)
{
    (void)state;
    struct ims_md_doc d;
    struct ims_err err = {0};
    assert_int_equal(ims_md_doc_parse(DOC, strlen(DOC), &d, &err), IMS_E_BADREQ);
    assert_non_null(strstr(err.msg, "junk_free"));
}

static void test_stale_writes_change_nothing(void **state)
{
    (void)state;
    struct ims_dbc *c = ims_db_conn(db);
    struct ims_err err = {0};
    static const char doc[] =
        "{\"namespace\": \"OS::Unit\", \"visibility\": \"public\","
        " \"resource_type_associations\": [{\"name\": \"OS::Unit::Type\", \"prefix\": \"u_\"}],"
        " \"properties\": {\"b\": {\"title\": \"B\", \"type\": \"string\"}}, \"objects\": [{\"name\": \"o\"}]}";
    struct ims_md_doc d;
    insert_doc(c, doc, &d);
    struct ims_md_namespace before;
    assert_int_equal(ims_repo_md_namespace_get(c, "OS::Unit", &before, &err), IMS_OK);
    assert_int_equal(before.revision, 0);
    assert_string_equal(before.id, d.ns.id);

    /* a second insert of the name is a conflict and leaves one row */
    struct ims_md_doc again;
    insert_doc(c, "{\"namespace\": \"x\"}", &again);
    free(again.ns.name);
    again.ns.name = ims_xstrdup("OS::Unit");
    ims_uuid_new(again.ns.id);
    assert_int_equal(ims_repo_md_namespace_insert(c, &again, &err), IMS_E_CONFLICT);
    ims_md_doc_release(&again);

    /* rename from the revision read: applied, revision 1 */
    struct ims_md_namespace next = before;
    next.name = "OS::Unit2";
    next.description = "renamed";
    assert_int_equal(ims_repo_md_namespace_update(c, &before, &next, 2000, &err), IMS_OK);
    /* the same revision again: stale, nothing written */
    next.name = "OS::Unit3";
    assert_int_equal(ims_repo_md_namespace_update(c, &before, &next, 3000, &err), IMS_E_CONFLICT);
    struct ims_md_tag tag = {.name = "t"};
    assert_int_equal(ims_repo_md_item_put(c, &before, IMS_MD_TAGS, NULL, &tag, 3000, &err), IMS_E_CONFLICT);
    assert_int_equal(ims_repo_md_item_delete(c, &before, IMS_MD_OBJECTS, "o", 3000, &err), IMS_E_CONFLICT);
    assert_int_equal(ims_repo_md_contents_delete(c, &before, IMS_MD_PROPERTIES, 3000, &err), IMS_E_CONFLICT);
    assert_int_equal(ims_repo_md_namespace_delete(c, &before, &err), IMS_E_CONFLICT);
    ims_md_namespace_release(&before);

    struct ims_md_doc now = {0};
    assert_int_equal(ims_repo_md_namespace_get(c, "OS::Unit", &now.ns, &err), IMS_E_NOTFOUND);
    assert_int_equal(ims_repo_md_namespace_get(c, "OS::Unit2", &now.ns, &err), IMS_OK);
    assert_int_equal(now.ns.revision, 1);
    assert_int_equal(now.ns.updated_at, 2000);
    assert_int_equal(now.ns.created_at, 1000);
    assert_string_equal(now.ns.description, "renamed");
    /* what it held went with it */
    assert_int_equal(ims_repo_md_contents(c, &now, &err), IMS_OK);
    assert_int_equal(now.nprops, 1);
    assert_string_equal(now.props[0].schema, "{\"type\":\"string\",\"title\":\"B\"}");
    assert_int_equal(now.nobjects, 1);
    assert_int_equal(now.ntags, 0);
    assert_int_equal(now.nassocs, 1);
    assert_string_equal(now.assocs[0].prefix, "u_");

    /* the association made its resource type, unprotected */
    struct ims_md_resource_type *rt = NULL;
    size_t n = 0;
    assert_int_equal(ims_repo_md_resource_types(c, &rt, &n, &err), IMS_OK);
    bool made = false, seeded = false;
    for (size_t i = 0; i < n; i++) {
        made = made || (!strcmp(rt[i].name, "OS::Unit::Type") && !rt[i].is_protected);
        seeded = seeded || (!strcmp(rt[i].name, "OS::Glance::Image") && rt[i].is_protected && rt[i].created_at > 0);
        ims_md_resource_type_release(&rt[i]);
    }
    free(rt);
    assert_true(made && seeded);

    /* from the current revision: renaming an item onto another's name
     * conflicts and keeps both */
    struct ims_md_object o2 = {.name = "o2"};
    assert_int_equal(ims_repo_md_item_put(c, &now.ns, IMS_MD_OBJECTS, NULL, &o2, 4000, &err), IMS_OK);
    now.ns.revision++;
    struct ims_md_object onto = {.name = "o"};
    assert_int_equal(ims_repo_md_item_put(c, &now.ns, IMS_MD_OBJECTS, "o2", &onto, 5000, &err), IMS_E_CONFLICT);
    struct ims_md_object got;
    assert_int_equal(ims_repo_md_object_get(c, now.ns.id, "o2", &got, &err), IMS_OK);
    assert_int_equal(got.created_at, 4000);
    ims_md_object_release(&got);
    assert_int_equal(ims_repo_md_namespace_delete(c, &now.ns, &err), IMS_OK);
    assert_int_equal(ims_repo_md_object_get(c, now.ns.id, "o", &got, &err), IMS_E_NOTFOUND);
    ims_md_doc_release(&now);
    ims_md_doc_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_refuses_unknown_definition_members),
        cmocka_unit_test(test_stale_writes_change_nothing),
    };
    return cmocka_run_group_tests_name("metadef repository", tests, setup, teardown);
}
