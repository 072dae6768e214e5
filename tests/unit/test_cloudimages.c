/* SPDX-License-Identifier: Apache-2.0
 * Unit tests of the pure IMS pieces: the IMS dialect of the list query
 * parser, the IMS PATCH dialect, and the supported-OS table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ims/os_version.h"
#include "ims/patch.h"
#include "ims/query.h"

static const struct ims_query_limits limits = {.default_limit = 500, .max_limit = 1000};

static enum ims_rc parse(const char *qs, struct ims_image_query *q, struct ims_err *err)
{
    struct ims_kvlist params = {0};
    enum ims_rc rc = ims_query_string_parse(qs, 2000, &params, err);
    if (rc == IMS_OK)
        rc = ims_image_query_parse_dialect(&params, &limits, IMS_QUERY_IMS, q, err);
    ims_kvlist_release(&params);
    return rc;
}

static const struct ims_filter *find(const struct ims_image_query *q, const char *key)
{
    for (size_t i = 0; i < q->nfilters; i++)
        if (!strcmp(q->filters[i].key, key))
            return &q->filters[i];
    return NULL;
}

static void expect_code(const char *qs, const char *code)
{
    struct ims_image_query q = {0};
    struct ims_err err = {0};
    if (parse(qs, &q, &err) == IMS_OK)
        fail_msg("'%s' was accepted", qs);
    if (strcmp(err.code, code))
        fail_msg("'%s': code %s, expected %s (%s)", qs, err.code, code, err.msg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct ims_image_query q = {0};
    struct ims_err err = {0};
    assert_int_equal(parse("", &q, &err), IMS_OK);
    assert_int_equal(q.limit, 500);
    assert_int_equal(q.nsorts, 1);
    assert_string_equal(q.sorts[0].key, "created_at");
    assert_true(q.sorts[0].desc);
    const struct ims_filter *f = find(&q, "__isregistered");
    assert_non_null(f);
    assert_true(f->is_property);
    assert_string_equal(f->values.items[0], "true");
    assert_null(q.imagetype);
    ims_image_query_release(&q);
}

static void test_filters(void **state)
{
    (void)state;
    struct ims_image_query q = {0};
    struct ims_err err = {0};
    assert_int_equal(parse("__imagetype=gold&__platform=CentOS&__os_type=Linux&name=in:a,b&min_ram=1024"
                           "&enterprise_project_id=0&protected=true&__whole_image=false&__support_kvm=true"
                           "&created_at=lt:2018-10-28T10:00:00Z&updated_at=gte:2018-10-28 10:00:00"
                           "&sort_key=name&sort_dir=asc&limit=1",
                           &q, &err),
                     IMS_OK);
    assert_string_equal(q.imagetype, "gold");
    assert_int_equal(q.limit, 1);
    assert_string_equal(q.sorts[0].key, "name");
    assert_false(q.sorts[0].desc);
    /* exact match: "in:" is not an operator in the IMS dialect */
    assert_string_equal(find(&q, "name")->values.items[0], "in:a,b");
    assert_int_equal(find(&q, "name")->op, IMS_CMP_EQ);
    assert_true(find(&q, "__platform")->is_property);
    assert_false(find(&q, "enterprise_project_id")->is_property);
    assert_int_equal(find(&q, "created_at")->op, IMS_CMP_LT);
    assert_int_equal(find(&q, "updated_at")->op, IMS_CMP_GTE);
    assert_string_equal(find(&q, "__whole_image")->values.items[0], "false");
    assert_string_equal(find(&q, "__support_kvm")->values.items[0], "true");
    ims_image_query_release(&q);
    assert_int_equal(parse("enterprise_project_id=all_granted_eps", &q, &err), IMS_OK);
    assert_null(find(&q, "enterprise_project_id"));
    ims_image_query_release(&q);
}

static void test_errors(void **state)
{
    (void)state;
    expect_code("__imagetype=public", "IMG.0001");
    expect_code("visibility=community", "IMG.0001");
    expect_code("member_status=all", "IMG.0001");
    expect_code("sort_key=owner", "IMG.0001");
    expect_code("sort_dir=up", "IMG.0001");
    expect_code("limit=-1", "IMG.0001");
    expect_code("limit=abc", "IMG.0001");
    expect_code("min_ram=x", "IMG.0055");
    expect_code("min_disk=-4", "IMG.0055");
    expect_code("__os_type=Unix", "IMG.0122");
    expect_code("architecture=mips", "IMG.0212");
    expect_code("__platform=Gentoo", "IMG.0001");
    expect_code("__os_bit=16", "IMG.0001");
    expect_code("status=gone", "IMG.0001");
    expect_code("virtual_env_type=Docker", "IMG.0001");
    expect_code("enterprise_project_id=nope", "IMG.0001");
    expect_code("__isregistered=yes", "IMG.0001");
    expect_code("created_at=lt:yesterday", "IMG.0001");
    expect_code("created_at=about:2018-10-28T10:00:00Z", "IMG.0001");
}

static void test_glance_dialect_unchanged(void **state)
{
    (void)state;
    struct ims_kvlist params = {0};
    struct ims_image_query q = {0};
    struct ims_err err = {0};
    ims_query_string_parse("__imagetype=gold&visibility=community", 10, &params, &err);
    struct ims_query_limits gl = {.default_limit = 25, .max_limit = 1000};
    assert_int_equal(ims_image_query_parse(&params, &gl, &q, &err), IMS_OK);
    assert_null(q.imagetype);                              /* a property filter there */
    assert_true(find(&q, "__imagetype")->is_property);
    assert_null(find(&q, "__isregistered"));
    assert_int_equal(q.limit, 25);
    ims_image_query_release(&q);
    ims_kvlist_release(&params);
}

/* ---- PATCH dialect ---- */

static enum ims_rc patch(const char *body, struct ims_patch *p, char **ep, struct ims_err *err)
{
    return ims_cloudimage_patch_parse(body, strlen(body), p, ep, err);
}

static void patch_code(const char *body, const char *code)
{
    struct ims_patch p = {0};
    char *ep = NULL;
    struct ims_err err = {0};
    if (patch(body, &p, &ep, &err) == IMS_OK)
        fail_msg("'%s' was accepted", body);
    if (strcmp(err.code, code))
        fail_msg("'%s': code %s, expected %s (%s)", body, err.code, code, err.msg);
}

static void test_patch_ok(void **state)
{
    (void)state;
    struct ims_patch p = {0};
    char *ep = NULL;
    struct ims_err err = {0};
    assert_int_equal(patch("[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"ims_test\"},"
                           "{\"op\":\"replace\",\"path\":\"/min_ram\",\"value\":\"1024\"},"
                           "{\"op\":\"replace\",\"path\":\"/__support_kvm\",\"value\":true},"
                           "{\"op\":\"add\",\"path\":\"/my_attr\",\"value\":\"x\"},"
                           "{\"op\":\"remove\",\"path\":\"/other_attr\"},"
                           "{\"op\":\"replace\",\"path\":\"/enterprise_project_id\",\"value\":\"0\"}]",
                           &p, &ep, &err),
                     IMS_OK);
    assert_int_equal(p.n, 5);
    assert_string_equal(p.ops[0].path, "name");
    assert_int_equal(json_integer_value(p.ops[1].value), 1024);
    assert_string_equal(json_string_value(p.ops[2].value), "true");
    assert_int_equal(p.ops[2].op, IMS_PATCH_ADD); /* properties are set, present or not */
    assert_int_equal(p.ops[4].op, IMS_PATCH_REMOVE);
    assert_string_equal(ep, "0");
    ims_patch_release(&p);
    free(ep);
}

static void test_patch_errors(void **state)
{
    (void)state;
    patch_code("", "IMG.0007");
    patch_code("[]", "IMG.0007");
    patch_code("{\"op\":\"replace\"}", "IMG.0001");
    patch_code("[{\"op\":\"move\",\"path\":\"/name\",\"value\":\"a\"}]", "IMG.0001");
    patch_code("[{\"op\":\"replace\",\"path\":\"name\",\"value\":\"a\"}]", "IMG.0001");
    patch_code("[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"active\"}]", "IMG.0001");
    patch_code("[{\"op\":\"replace\",\"path\":\"/__os_version\",\"value\":\"x\"}]", "IMG.0001");
    patch_code("[{\"op\":\"add\",\"path\":\"/MyAttr\",\"value\":\"x\"}]", "IMG.0001");
    patch_code("[{\"op\":\"remove\",\"path\":\"/name\"}]", "IMG.0001");
    patch_code("[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"bad*name\"}]", "IMG.0003");
    patch_code("[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\" lead\"}]", "IMG.0003");
    patch_code("[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]",
               "IMG.0002");
    patch_code("[{\"op\":\"replace\",\"path\":\"/__description\",\"value\":\"<b>\"}]", "IMG.0054");
    patch_code("[{\"op\":\"replace\",\"path\":\"/min_ram\",\"value\":\"lots\"}]", "IMG.0055");
    patch_code("[{\"op\":\"replace\",\"path\":\"/hw_firmware_type\",\"value\":\"efi\"}]", "IMG.0141");
    patch_code("[{\"op\":\"replace\",\"path\":\"/enterprise_project_id\",\"value\":\"x\"}]", "IMG.0155");
    patch_code("[{\"op\":\"replace\",\"path\":\"/name\"}]", "IMG.0001");
}

/* ---- OS table ---- */

static void test_os_table(void **state)
{
    (void)state;
    struct ims_os_table t = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_os_table_parse("# c\nplatform\tos_version\tos_bit\tos_type\ttags\n\n"
                                        "CentOS\tCentOS 7.6 64bit\t64\tLinux\tx86,uefi,arm\n"
                                        "Other\tOther(32 bit)\t32\tOther\tx86\n",
                                        &t, &err),
                     IMS_OK);
    assert_int_equal(t.n, 2);
    const struct ims_os_version *v = ims_os_table_find(&t, "CentOS 7.6 64bit");
    assert_non_null(v);
    assert_int_equal(v->os_bit, 64);
    assert_true(ims_os_version_has_tag(v, "arm"));
    assert_false(ims_os_version_has_tag(v, "bms"));
    assert_false(ims_os_version_has_tag(v, "ar"));
    assert_null(ims_os_table_find(&t, "CentOS 7.6"));
    ims_os_table_release(&t);
    assert_int_equal(ims_os_table_parse("platform\tos_version\tos_bit\tos_type\ttags\nA\tB\t16\tLinux\tx86\n", &t, &err),
                     IMS_E_BADREQ);
    assert_int_equal(ims_os_table_parse("platform\tos_version\tos_bit\tos_type\ttags\nA\tB\t64\tLinux\n", &t, &err),
                     IMS_E_BADREQ);
    assert_int_equal(ims_os_table_parse("A\tB\t64\tLinux\tx86\n", &t, &err), IMS_E_BADREQ);
    assert_int_equal(ims_os_table_parse("platform\tos_version\tos_bit\tos_type\ttags\nA\tB\t64\tLinux\tx86\n"
                                        "A\tB\t64\tLinux\tx86\n",
                                        &t, &err),
                     IMS_E_BADREQ);
    /* the built-in table: the reference's versions */
    const struct ims_os_table *b = ims_os_table_builtin();
    assert_true(b->n > 100);
    assert_non_null(ims_os_table_find(b, "Windows Server 2016 Standard 64bit"));
    assert_non_null(ims_os_table_find(b, "openEuler 20.03 64bit"));
    assert_string_equal(ims_os_table_find(b, "Redhat Linux Enterprise 6.4 32bit")->platform, "Red Hat");
    assert_int_equal(ims_os_table_find(b, "Redhat Linux Enterprise 6.4 32bit")->os_bit, 32);
}

static void test_os_fill(void **state)
{
    (void)state;
    struct ims_kvlist props = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_os_version_fill(&props, &err), IMS_OK);
    assert_int_equal(props.n, 0);
    ims_kvlist_set(&props, "__os_version", "Ubuntu 14.04 server 32bit");
    ims_kvlist_set(&props, "__platform", "Other");
    assert_int_equal(ims_os_version_fill(&props, &err), IMS_OK);
    assert_string_equal(ims_kvlist_get(&props, "__platform"), "Ubuntu");
    assert_string_equal(ims_kvlist_get(&props, "__os_bit"), "32");
    assert_string_equal(ims_kvlist_get(&props, "__os_type"), "Linux");
    ims_kvlist_set(&props, "__os_version", "Ubuntu 99");
    assert_int_equal(ims_os_version_fill(&props, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0056");
    ims_kvlist_release(&props);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_filters),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_glance_dialect_unchanged), cmocka_unit_test(test_patch_ok),
        cmocka_unit_test(test_patch_errors), cmocka_unit_test(test_os_table), cmocka_unit_test(test_os_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
