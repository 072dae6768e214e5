/* SPDX-License-Identifier: Apache-2.0
 * Unit tests of the IMS key/value tags (lib/query/image_tags.c): the native
 * key=value form, the tag formats, the request bodies and the query by tag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ims/tags.h"

static void test_native_form(void **state)
{
    (void)state;
    char *k, *v;
    ims_tag_split("key=value", &k, &v);
    assert_string_equal(k, "key");
    assert_string_equal(v, "value");
    free(k), free(v);
    ims_tag_split("a=b=c", &k, &v);
    assert_string_equal(k, "a");
    assert_string_equal(v, "b=c");
    free(k), free(v);
    ims_tag_split("solo", &k, &v);
    assert_string_equal(k, "solo");
    assert_string_equal(v, "");
    free(k), free(v);
    ims_tag_split("k=", &k, &v);
    assert_string_equal(k, "k");
    assert_string_equal(v, "");
    free(k), free(v);
    char *s = ims_tag_join("k", "v");
    assert_string_equal(s, "k=v");
    free(s);
    s = ims_tag_join("k", "");
    assert_string_equal(s, "k");
    free(s);
    assert_true(ims_tag_has_key("k=v", "k"));
    assert_true(ims_tag_has_key("k", "k"));
    assert_false(ims_tag_has_key("kk=v", "k"));
    assert_false(ims_tag_has_key("k", "k="));
    assert_int_equal(ims_tag_chars("héllo"), 5);
    struct ims_strlist l = {0};
    ims_strlist_add(&l, "a=1");
    ims_strlist_add(&l, "b");
    struct ims_kvlist pairs = {0};
    ims_tags_to_pairs(&l, &pairs);
    assert_int_equal(pairs.n, 2);
    assert_string_equal(ims_kvlist_get(&pairs, "a"), "1");
    assert_string_equal(ims_kvlist_get(&pairs, "b"), "");
    ims_kvlist_release(&pairs);
    ims_strlist_release(&l);
}

static void expect_dotted(const char *s, const char *key, const char *value)
{
    char *k = NULL, *v = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = ims_tag_parse_dotted(s, &k, &v, &err);
    if (!key) {
        if (rc == IMS_OK)
            fail_msg("'%s' was accepted", s);
        assert_string_equal(err.code, "IMG.0115");
        return;
    }
    if (rc != IMS_OK)
        fail_msg("'%s' refused: %s", s, err.msg);
    assert_string_equal(k, key);
    assert_string_equal(v, value);
    free(k);
    free(v);
}

static void test_dotted(void **state)
{
    (void)state;
    expect_dotted("aaaa.1111", "aaaa", "1111");
    expect_dotted("aaaa", "aaaa", "");
    expect_dotted("a_-9.", "a_-9", "");
    char buf[128];
    snprintf(buf, sizeof(buf), "%s.%s", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", /* 36 */
             "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");                    /* 43 */
    expect_dotted(buf, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
    snprintf(buf, sizeof(buf), "k%s.v", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
    expect_dotted(buf, NULL, NULL);
    snprintf(buf, sizeof(buf), "k.v%s", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
    expect_dotted(buf, NULL, NULL);
    expect_dotted("", NULL, NULL);
    expect_dotted(".v", NULL, NULL);
    expect_dotted("a b.c", NULL, NULL);
    expect_dotted("a.b.c", NULL, NULL);
    expect_dotted("a=b", NULL, NULL);
    expect_dotted("é.v", NULL, NULL);
}

static void test_pair(void **state)
{
    (void)state;
    char *k, *v;
    struct ims_err err = {0};
    assert_int_equal(ims_tag_check_pair("  key 1 ", " v ", &k, &v, &err), IMS_OK);
    assert_string_equal(k, "key 1");
    assert_string_equal(v, "v");
    free(k), free(v);
    assert_int_equal(ims_tag_check_pair("k", "", &k, &v, &err), IMS_OK);
    assert_string_equal(v, "");
    free(k), free(v);
    /* 36 two-byte characters are 36 characters */
    char key[128] = "", value[256] = "";
    for (int i = 0; i < 36; i++)
        strcat(key, "é");
    for (int i = 0; i < 43; i++)
        strcat(value, "ü");
    assert_int_equal(ims_tag_check_pair(key, value, &k, &v, &err), IMS_OK);
    free(k), free(v);
    strcat(key, "é");
    assert_int_equal(ims_tag_check_pair(key, "v", &k, &v, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0115");
    strcat(value, "ü");
    assert_int_equal(ims_tag_check_pair("k", value, &k, &v, &err), IMS_E_BADREQ);
    assert_int_equal(ims_tag_check_pair("   ", "v", &k, &v, &err), IMS_E_BADREQ);
    assert_int_equal(ims_tag_check_pair("a=b", "v", &k, &v, &err), IMS_E_BADREQ);
    assert_int_equal(ims_tag_check_pair("a\tb", "v", &k, &v, &err), IMS_E_BADREQ);
    assert_int_equal(ims_tag_check_pair("k", "line\n", &k, &v, &err), IMS_E_BADREQ);
}

#define BODY(s) (s), strlen(s)

static void expect_code(enum ims_rc rc, const struct ims_err *err, const char *code)
{
    assert_int_equal(rc, IMS_E_BADREQ);
    assert_string_equal(err->code, code);
}

static void test_bodies(void **state)
{
    (void)state;
    struct ims_err err = {0};
    char *id, *k, *v;
    assert_int_equal(ims_tag_v1_parse(BODY("{\"image_id\": \"i1\", \"tag\": \"aaaa.1111\"}"), &id, &k, &v, &err),
                     IMS_OK);
    assert_string_equal(id, "i1");
    assert_string_equal(k, "aaaa");
    assert_string_equal(v, "1111");
    free(id), free(k), free(v);
    assert_int_equal(ims_tag_v1_parse(BODY("{\"image_id\": \"i1\", \"image_tag\": {\"key\": \"key1\", \"value\": "
                                           "\"value1\"}}"),
                                      &id, &k, &v, &err),
                     IMS_OK);
    assert_string_equal(k, "key1");
    free(id), free(k), free(v);
    expect_code(ims_tag_v1_parse(BODY(""), &id, &k, &v, &err), &err, "IMG.0007");
    expect_code(ims_tag_v1_parse(BODY(" \n"), &id, &k, &v, &err), &err, "IMG.0007");
    expect_code(ims_tag_v1_parse(BODY("{"), &id, &k, &v, &err), &err, "IMG.0001");
    expect_code(ims_tag_v1_parse(BODY("[]"), &id, &k, &v, &err), &err, "IMG.0001");
    expect_code(ims_tag_v1_parse(BODY("{\"tag\": \"a.b\"}"), &id, &k, &v, &err), &err, "IMG.0001");
    expect_code(ims_tag_v1_parse(BODY("{\"image_id\": \"i\"}"), &id, &k, &v, &err), &err, "IMG.0001");
    expect_code(ims_tag_v1_parse(BODY("{\"image_id\": \"i\", \"tag\": \"a.b\", \"image_tag\": {}}"), &id, &k, &v,
                                 &err),
                &err, "IMG.0001");
    expect_code(ims_tag_v1_parse(BODY("{\"image_id\": \"i\", \"tag\": \"a b\"}"), &id, &k, &v, &err), &err,
                "IMG.0115");
    expect_code(ims_tag_v1_parse(BODY("{\"image_id\": \"i\", \"tag\": \"a\\u0000.b\"}"), &id, &k, &v, &err), &err,
                "IMG.0001");

    assert_int_equal(ims_tag_one_parse(BODY("{\"tag\": {\"value\": \"value1\", \"key\": \"key1\"}}"), &k, &v, &err),
                     IMS_OK);
    assert_string_equal(k, "key1");
    assert_string_equal(v, "value1");
    free(k), free(v);
    expect_code(ims_tag_one_parse(BODY("{\"tag\": {\"key\": \"k\"}}"), &k, &v, &err), &err, "IMG.0001");
    expect_code(ims_tag_one_parse(BODY("{}"), &k, &v, &err), &err, "IMG.0001");

    struct ims_tag_batch b;
    assert_int_equal(ims_tag_batch_parse(BODY("{\"tags\": [{\"value\": \"value1\", \"key\": \"key1\"}, {\"value\": "
                                              "\"\", \"key\": \"key3\"}], \"action\": \"create\"}"),
                                         &b, &err),
                     IMS_OK);
    assert_true(b.create);
    assert_int_equal(b.tags.n, 2);
    assert_string_equal(ims_kvlist_get(&b.tags, "key3"), "");
    ims_tag_batch_release(&b);
    assert_int_equal(ims_tag_batch_parse(BODY("{\"tags\": [{\"key\": \"any chars=.*\"}, {\"key\": \"k\", "
                                              "\"value\": \"v\"}], \"action\": \"delete\"}"),
                                         &b, &err),
                     IMS_OK);
    assert_false(b.create);
    assert_null(b.tags.items[0].value);
    assert_string_equal(b.tags.items[1].value, "v");
    ims_tag_batch_release(&b);
    expect_code(ims_tag_batch_parse(BODY("{\"tags\": [{\"key\": \"k\", \"value\": \"v\"}], \"action\": "
                                         "\"Create\"}"),
                                    &b, &err),
                &err, "IMG.0001");
    expect_code(ims_tag_batch_parse(BODY("{\"tags\": [], \"action\": \"create\"}"), &b, &err), &err, "IMG.0001");
    expect_code(ims_tag_batch_parse(BODY("{\"tags\": [{\"key\": \"k\", \"value\": \"1\"}, {\"key\": \" k\", "
                                         "\"value\": \"2\"}], \"action\": \"create\"}"),
                                    &b, &err),
                &err, "IMG.0115");
    expect_code(ims_tag_batch_parse(BODY("{\"tags\": [{\"key\": \"\"}], \"action\": \"delete\"}"), &b, &err), &err,
                "IMG.0115");
}

static enum ims_rc query(const char *body, struct ims_tag_query *q, struct ims_err *err)
{
    return ims_tag_query_parse(body, strlen(body), q, err);
}

static bool matches(const char *body, const char *name, const char *const *tags)
{
    struct ims_tag_query q;
    struct ims_err err = {0};
    if (query(body, &q, &err) != IMS_OK)
        fail_msg("'%s' refused: %s", body, err.msg);
    struct ims_strlist l = {0};
    for (; tags && *tags; tags++)
        ims_strlist_add(&l, *tags);
    bool m = ims_tag_query_match(&q, "id-1", name, &l);
    ims_strlist_release(&l);
    ims_tag_query_release(&q);
    return m;
}

static void test_query_parse(void **state)
{
    (void)state;
    struct ims_tag_query q;
    struct ims_err err = {0};
    assert_int_equal(query("{\"action\": \"filter\"}", &q, &err), IMS_OK);
    assert_false(q.count);
    assert_int_equal(q.limit, 10);
    assert_int_equal(q.offset, 0);
    ims_tag_query_release(&q);
    assert_int_equal(query("{\"action\": \"filter\", \"limit\": \"1000\", \"offset\": 5}", &q, &err), IMS_OK);
    assert_int_equal(q.limit, 1000);
    assert_int_equal(q.offset, 5);
    ims_tag_query_release(&q);
    assert_int_equal(query("{\"action\": \"count\", \"limit\": \"0\"}", &q, &err), IMS_OK);
    assert_true(q.count);
    ims_tag_query_release(&q);
    static const char *const bad[][2] = {
        {"{}", "IMG.0001"},
        {"{\"action\": \"Count\"}", "IMG.0001"},
        {"{\"action\": \"filter\", \"limit\": \"0\"}", "IMG.0001"},
        {"{\"action\": \"filter\", \"limit\": 1001}", "IMG.0001"},
        {"{\"action\": \"filter\", \"offset\": \"-1\"}", "IMG.0001"},
        {"{\"action\": \"filter\", \"offset\": true}", "IMG.0001"},
        {"{\"action\": \"filter\", \"without_any_tag\": 1}", "IMG.0001"},
        {"{\"action\": \"filter\", \"tags\": [{\"key\": \"k\"}]}", "IMG.0001"},
        {"{\"action\": \"filter\", \"tags\": [{\"key\": \"\", \"values\": []}]}", "IMG.0115"},
        {"{\"action\": \"filter\", \"tags\": [{\"key\": \"k\", \"values\": [\"a\", \"a\"]}]}", "IMG.0115"},
        {"{\"action\": \"filter\", \"tags_any\": [{\"key\": \"k\", \"values\": []}, {\"key\": \"k\", \"values\": "
         "[]}]}",
         "IMG.0115"},
        {"{\"action\": \"filter\", \"matches\": [{\"key\": \"resource_type\", \"value\": \"x\"}]}", "IMG.0001"},
        {"{\"action\": \"filter\", \"matches\": [{\"key\": \"resource_id\", \"value\": \"\"}]}", "IMG.0001"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.code[0] = 0;
        if (query(bad[i][0], &q, &err) == IMS_OK)
            fail_msg("'%s' was accepted", bad[i][0]);
        if (strcmp(err.code, bad[i][1]))
            fail_msg("'%s': %s, expected %s", bad[i][0], err.code, bad[i][1]);
    }
}

static void test_query_match(void **state)
{
    (void)state;
    const char *const a[] = {"key3=valueXX", "key0=valueXX", NULL};
    const char *const b[] = {"key3=valueXX", "key0=valueXX", "key7=value7", NULL};
    const char *const c[] = {"key3=valueXX", "key0=valueXX", "key9=value9", NULL};
    const char *const solo[] = {"key8", NULL};
    const char *example = "{\"action\": \"count\", \"matches\": [{\"key\": \"resource_name\", \"value\": "
                          "\"test100\"}], \"tags\": [{\"key\": \"key3\", \"values\": [\"valueXX\"]}], "
                          "\"tags_any\": [{\"key\": \"key0\", \"values\": [\"valueXX\"]}], \"not_tags\": "
                          "[{\"key\": \"key9\", \"values\": [\"value9\"]}], \"not_tags_any\": [{\"key\": "
                          "\"key7\", \"values\": [\"value7\"]}]}";
    assert_true(matches(example, "test10001", a));
    assert_false(matches(example, "test10002", b));
    assert_false(matches(example, "test10003", c));
    assert_false(matches(example, "other", a));
    assert_false(matches(example, NULL, a));
    assert_true(matches("{\"action\": \"count\"}", NULL, NULL));
    assert_true(matches("{\"action\": \"count\", \"without_any_tag\": true, \"tags\": [{\"key\": \"x\", "
                        "\"values\": []}]}",
                        "n", NULL));
    assert_false(matches("{\"action\": \"count\", \"without_any_tag\": true}", "n", solo));
    /* a key-only tag has the empty value */
    assert_true(matches("{\"action\": \"count\", \"tags\": [{\"key\": \"key8\", \"values\": [\"\"]}]}", "n", solo));
    assert_true(matches("{\"action\": \"count\", \"tags\": [{\"key\": \"key8\", \"values\": []}]}", "n", solo));
    assert_false(matches("{\"action\": \"count\", \"tags\": [{\"key\": \"key\", \"values\": []}]}", "n", solo));
    /* not_tags: all of them; not_tags_any: any of them */
    const char *nt = "{\"action\": \"count\", \"not_tags\": [{\"key\": \"key0\", \"values\": []}, {\"key\": "
                     "\"key7\", \"values\": []}]}";
    assert_true(matches(nt, "n", a));
    assert_false(matches(nt, "n", b));
    const char *nta = "{\"action\": \"count\", \"not_tags_any\": [{\"key\": \"key9\", \"values\": []}, {\"key\": "
                      "\"key7\", \"values\": []}]}";
    assert_true(matches(nta, "n", a));
    assert_false(matches(nta, "n", b));
    assert_false(matches(nta, "n", c));
    assert_true(matches("{\"action\": \"count\", \"matches\": [{\"key\": \"resource_id\", \"value\": \"id-1\"}]}",
                        "n", NULL));
    assert_false(matches("{\"action\": \"count\", \"matches\": [{\"key\": \"resource_id\", \"value\": \"id\"}]}",
                         "n", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_form), cmocka_unit_test(test_dotted),      cmocka_unit_test(test_pair),
        cmocka_unit_test(test_bodies),      cmocka_unit_test(test_query_parse), cmocka_unit_test(test_query_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
