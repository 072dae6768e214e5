/* SPDX-License-Identifier: Apache-2.0
 * Unit tests of the image-list query parser (lib/query): the query-string
 * splitter and every GET /v2/images parameter, its Glance error, clamping,
 * "in:" lists with quotes, both sort syntaxes and their combinations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ims/query.h"

static const struct ims_query_limits limits = {.default_limit = 25, .max_limit = 1000};

/* Parses qs the way the API layer will: split, then interpret. */
static enum ims_rc parse(const char *qs, struct ims_image_query *q, struct ims_err *err)
{
    struct ims_kvlist params = {0};
    enum ims_rc rc = ims_query_string_parse(qs, 2000, &params, err);
    if (rc == IMS_OK)
        rc = ims_image_query_parse(&params, &limits, q, err);
    ims_kvlist_release(&params);
    return rc;
}

static void parse_ok(const char *qs, struct ims_image_query *q)
{
    struct ims_err err = {0};
    enum ims_rc rc = parse(qs, q, &err);
    if (rc != IMS_OK)
        fail_msg("'%s' failed: %s", qs, err.msg);
}

/* Asserts a 400 whose message contains every given fragment. */
static void expect_bad(const char *qs, const char *fragment, const char *fragment2)
{
    struct ims_image_query q = {0};
    struct ims_err err = {0};
    enum ims_rc rc = parse(qs, &q, &err);
    if (rc != IMS_E_BADREQ)
        fail_msg("'%s': expected 400, got %s", qs, ims_rc_name(rc));
    if (!strstr(err.msg, fragment))
        fail_msg("'%s': message '%s' lacks '%s'", qs, err.msg, fragment);
    if (fragment2 && !strstr(err.msg, fragment2))
        fail_msg("'%s': message '%s' lacks '%s'", qs, err.msg, fragment2);
    assert_int_equal(q.nfilters, 0); /* *ret untouched on failure */
}

static const struct ims_filter *only_filter(const struct ims_image_query *q)
{
    assert_int_equal(q->nfilters, 1);
    return &q->filters[0];
}

static void assert_filter(const struct ims_filter *f, const char *key, bool is_property, enum ims_field_type type,
                          enum ims_cmp op, const char *value)
{
    assert_string_equal(f->key, key);
    assert_int_equal(f->is_property, is_property);
    assert_int_equal(f->type, type);
    assert_int_equal(f->op, op);
    assert_int_equal(f->values.n, 1);
    assert_string_equal(f->values.items[0], value);
}

static void assert_single_filter(const char *qs, const char *key, bool is_property, enum ims_field_type type,
                                 enum ims_cmp op, const char *value)
{
    struct ims_image_query q;
    parse_ok(qs, &q);
    assert_filter(only_filter(&q), key, is_property, type, op, value);
    ims_image_query_release(&q);
}

static void assert_sorts(const char *qs, size_t n, const char *const *keys, const bool *desc)
{
    struct ims_image_query q;
    parse_ok(qs, &q);
    assert_int_equal(q.nsorts, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(q.sorts[i].key, keys[i]);
        assert_int_equal(q.sorts[i].desc, desc[i]);
    }
    ims_image_query_release(&q);
}

/* ---- query string ---- */

static void test_qs_pairs_in_order_with_repeats(void **state)
{
    struct ims_kvlist l = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_query_string_parse("a=1&b=x%20y&a=2&c=p+q&d&e=&=v&f=%3D%26", 100, &l, &err), IMS_OK);
    assert_int_equal(l.n, 8);
    const char *want[][2] = {{"a", "1"}, {"b", "x y"}, {"a", "2"}, {"c", "p q"},
                             {"d", ""},  {"e", ""},    {"", "v"},  {"f", "=&"}};
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.items[i].key, want[i][0]);
        assert_string_equal(l.items[i].value, want[i][1]);
    }
    ims_kvlist_release(&l);
}

static void test_qs_empty_and_skipped_pairs(void **state)
{
    struct ims_kvlist l = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_query_string_parse("", 10, &l, &err), IMS_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(ims_query_string_parse(NULL, 10, &l, &err), IMS_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(ims_query_string_parse("&&a=1&&&b=2&", 10, &l, &err), IMS_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[1].key, "b");
    ims_kvlist_release(&l);
}

static void test_qs_decoded_key(void **state)
{
    struct ims_kvlist l = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_query_string_parse("sort%5Fkey=name&x+y=1", 10, &l, &err), IMS_OK);
    assert_string_equal(l.items[0].key, "sort_key");
    assert_string_equal(l.items[1].key, "x y");
    ims_kvlist_release(&l);
}

static void test_qs_bad_escapes(void **state)
{
    const char *bad[] = {"a=%zz", "a=%4", "a=%", "a=%00", "%zz=1", "ok=1&a=b%0"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
        struct ims_kvlist l = {0};
        struct ims_err err = {0};
        assert_int_equal(ims_query_string_parse(bad[i], 10, &l, &err), IMS_E_BADREQ);
        assert_non_null(strstr(err.msg, "percent-encoding"));
        assert_int_equal(l.n, 0);
    }
}

static void test_qs_max_params(void **state)
{
    struct ims_kvlist l = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_query_string_parse("a=1&b=2&c=3", 3, &l, &err), IMS_OK);
    ims_kvlist_release(&l);
    assert_int_equal(ims_query_string_parse("a=1&b=2&c=3&d=4", 3, &l, &err), IMS_E_BADREQ);
    assert_non_null(strstr(err.msg, "Too many query parameters"));
    assert_int_equal(l.n, 0);
}

/* ---- defaults and limit ---- */

static void test_defaults(void **state)
{
    struct ims_image_query q;
    parse_ok("", &q);
    assert_int_equal(q.limit, 25);
    assert_int_equal(q.nfilters, 0);
    assert_int_equal(q.tags.n, 0);
    assert_null(q.visibility);
    assert_null(q.member_status);
    assert_null(q.marker);
    assert_false(q.os_hidden_given);
    assert_int_equal(q.nsorts, 1);
    assert_string_equal(q.sorts[0].key, "created_at");
    assert_true(q.sorts[0].desc);
    ims_image_query_release(&q);
}

static void test_default_limit_clamped_to_max(void **state)
{
    struct ims_query_limits lim = {.default_limit = 50, .max_limit = 20};
    struct ims_kvlist params = {0};
    struct ims_image_query q;
    struct ims_err err = {0};
    assert_int_equal(ims_image_query_parse(&params, &lim, &q, &err), IMS_OK);
    assert_int_equal(q.limit, 20);
    ims_image_query_release(&q);
}

static void test_limit_values(void **state)
{
    struct {
        const char *qs;
        int64_t want;
    } cases[] = {
        {"limit=10", 10},     {"limit=0", 0},          {"limit=1000", 1000},
        {"limit=1001", 1000}, {"limit=5000", 1000},    {"limit=99999999999999999999999", 1000},
        {"limit=+7", 7},      {"limit=%207%20", 7},    {"limit=-0", 0},
        {"limit=007", 7},     {"limit=5&limit=abc", 5}, /* Glance pops the first limit */
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
        struct ims_image_query q;
        parse_ok(cases[i].qs, &q);
        if (q.limit != cases[i].want)
            fail_msg("%s: limit %lld, want %lld", cases[i].qs, (long long)q.limit, (long long)cases[i].want);
        ims_image_query_release(&q);
    }
}

static void test_limit_errors(void **state)
{
    expect_bad("limit=-1", "limit param must be positive", "-1");
    expect_bad("limit=-99999999999999999999", "limit param must be positive", NULL);
    expect_bad("limit=abc", "limit param must be an integer", "abc");
    expect_bad("limit=", "limit param must be an integer", NULL);
    expect_bad("limit=1.5", "limit param must be an integer", "1.5");
    expect_bad("limit=1e3", "limit param must be an integer", NULL);
    expect_bad("limit=0x10", "limit param must be an integer", NULL);
    expect_bad("limit=-", "limit param must be an integer", NULL);
    expect_bad("limit=1%202", "limit param must be an integer", NULL);
}

/* ---- marker, member_status, visibility ---- */

static void test_marker(void **state)
{
    struct ims_image_query q;
    parse_ok("marker=abc-123&marker=other", &q);
    assert_string_equal(q.marker, "abc-123");
    assert_int_equal(q.nfilters, 0);
    ims_image_query_release(&q);
}

static void test_member_status(void **state)
{
    const char *ok[] = {"pending", "accepted", "rejected", "all"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ok); i++) {
        char qs[64];
        snprintf(qs, sizeof(qs), "member_status=%s", ok[i]);
        struct ims_image_query q;
        parse_ok(qs, &q);
        assert_string_equal(q.member_status, ok[i]);
        assert_int_equal(q.nfilters, 0);
        ims_image_query_release(&q);
    }
    expect_bad("member_status=foo", "Invalid member_status value: foo", NULL);
    expect_bad("member_status=", "Invalid member_status value", NULL);
    expect_bad("member_status=Accepted", "Accepted", NULL);
}

static void test_visibility(void **state)
{
    const char *ok[] = {"public", "private", "shared", "community", "all"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ok); i++) {
        char qs[64];
        snprintf(qs, sizeof(qs), "visibility=%s", ok[i]);
        struct ims_image_query q;
        parse_ok(qs, &q);
        assert_string_equal(q.visibility, ok[i]);
        assert_int_equal(q.nfilters, 0);
        ims_image_query_release(&q);
    }
    expect_bad("visibility=foo", "Invalid visibility value: foo", NULL);
    expect_bad("visibility=Public", "Invalid visibility value: Public", NULL);
    expect_bad("visibility=", "Invalid visibility value", NULL);
    struct ims_image_query q;
    parse_ok("visibility=public&visibility=private", &q);
    assert_string_equal(q.visibility, "public");
    ims_image_query_release(&q);
}

/* ---- boolean filters ---- */

static void test_protected(void **state)
{
    assert_single_filter("protected=true", "protected", false, IMS_FIELD_BOOL, IMS_CMP_EQ, "1");
    assert_single_filter("protected=false", "protected", false, IMS_FIELD_BOOL, IMS_CMP_EQ, "0");
    assert_single_filter("protected=yes&protected=true", "protected", false, IMS_FIELD_BOOL, IMS_CMP_EQ, "1");
    /* Glance compares protected as given, without lower-casing. */
    expect_bad("protected=True", "Invalid value 'True' for 'protected' filter", "'true' or 'false'");
    expect_bad("protected=1", "Invalid value '1' for 'protected' filter", NULL);
    expect_bad("protected=", "for 'protected' filter", NULL);
    struct ims_image_query q;
    parse_ok("protected=true", &q);
    assert_false(q.os_hidden_given);
    ims_image_query_release(&q);
}

static void test_os_hidden(void **state)
{
    struct ims_image_query q;
    parse_ok("os_hidden=true", &q);
    assert_true(q.os_hidden_given);
    assert_filter(only_filter(&q), "os_hidden", false, IMS_FIELD_BOOL, IMS_CMP_EQ, "1");
    ims_image_query_release(&q);
    parse_ok("os_hidden=FALSE", &q); /* Glance lower-cases os_hidden */
    assert_true(q.os_hidden_given);
    assert_filter(only_filter(&q), "os_hidden", false, IMS_FIELD_BOOL, IMS_CMP_EQ, "0");
    ims_image_query_release(&q);
    expect_bad("os_hidden=no", "Invalid value 'no' for 'os_hidden' filter", NULL);
    expect_bad("os_hidden=", "'os_hidden'", NULL);
}

/* ---- name/id/status/formats: eq and in: ---- */

static void test_listable_plain_and_eq(void **state)
{
    /* name and id take any text; the others their enumerated values
     * (test_query_enums refuses the rest). */
    const char *keys[] = {"name", "id", "status", "container_format", "disk_format"};
    const char *plain[] = {"foo", "foo", "active", "bare", "raw"};
    const char *with_colon[] = {"foo:bar", "foo:bar", "deactivated", "ovf", "qcow2"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
        char qs[128];
        snprintf(qs, sizeof(qs), "%s=%s", keys[i], plain[i]);
        assert_single_filter(qs, keys[i], false, IMS_FIELD_TEXT, IMS_CMP_EQ, plain[i]);
        snprintf(qs, sizeof(qs), "%s=eq:%s", keys[i], with_colon[i]);
        assert_single_filter(qs, keys[i], false, IMS_FIELD_TEXT, IMS_CMP_EQ, with_colon[i]);
    }
    assert_single_filter("name=eq:", "name", false, IMS_FIELD_TEXT, IMS_CMP_EQ, "");
    assert_single_filter("name=", "name", false, IMS_FIELD_TEXT, IMS_CMP_EQ, "");
    /* A value that is an ISO time keeps its colons: no operator split. */
    assert_single_filter("name=2020-01-01T10:00:00Z", "name", false, IMS_FIELD_TEXT, IMS_CMP_EQ,
                         "2020-01-01T10:00:00Z");
    /* Values are not trimmed. */
    assert_single_filter("name=%20cirros%20", "name", false, IMS_FIELD_TEXT, IMS_CMP_EQ, " cirros ");
}

static void test_listable_unknown_operator(void **state)
{
    expect_bad("name=foo:bar", "Unable to filter by unknown operator 'foo' for name", "foo:bar");
    expect_bad("status=neq:active", "unknown operator 'neq' for status", NULL);
    expect_bad("id=gt:1", "unknown operator 'gt' for id", NULL);
    expect_bad("disk_format=:raw", "unknown operator '' for disk_format", NULL);
}

static void assert_in_list(const char *qs, const char *key, size_t n, const char *const *want)
{
    struct ims_image_query q;
    parse_ok(qs, &q);
    const struct ims_filter *f = only_filter(&q);
    assert_string_equal(f->key, key);
    assert_false(f->is_property);
    assert_int_equal(f->type, IMS_FIELD_TEXT);
    assert_int_equal(f->op, IMS_CMP_IN);
    if (f->values.n != n)
        fail_msg("%s: %zu values, want %zu", qs, f->values.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(f->values.items[i], want[i]);
    ims_image_query_release(&q);
}

static void test_in_lists(void **state)
{
    assert_in_list("name=in:a,b,c", "name", 3, (const char *[]){"a", "b", "c"});
    assert_in_list("id=in:x", "id", 1, (const char *[]){"x"});
    assert_in_list("status=in:active,queued", "status", 2, (const char *[]){"active", "queued"});
    assert_in_list("container_format=in:bare,ovf", "container_format", 2, (const char *[]){"bare", "ovf"});
    assert_in_list("disk_format=in:qcow2,raw,zvhd2", "disk_format", 3, (const char *[]){"qcow2", "raw", "zvhd2"});
    assert_in_list("name=in:", "name", 0, NULL);
    /* Python's regex: a lone comma is an empty item, a trailing one is not. */
    assert_in_list("name=in:a,,b", "name", 3, (const char *[]){"a", "", "b"});
    assert_in_list("name=in:a,", "name", 1, (const char *[]){"a"});
    assert_in_list("name=in:,a", "name", 2, (const char *[]){"", "a"});
    assert_in_list("name=in:%20a%20,b", "name", 2, (const char *[]){" a ", "b"});
}

static void test_in_lists_quoted(void **state)
{
    assert_in_list("name=in:%22a,b%22,c", "name", 2, (const char *[]){"a,b", "c"});
    assert_in_list("name=in:c,%22a,b%22", "name", 2, (const char *[]){"c", "a,b"});
    assert_in_list("name=in:%22%22,x", "name", 2, (const char *[]){"", "x"});
    assert_in_list("name=in:%22in:x%22", "name", 1, (const char *[]){"in:x"});
    /* An escaped quote stays in the value, backslash included, as in Glance. */
    assert_in_list("name=in:%22a%5C%22b%22,c", "name", 2, (const char *[]){"a\\\"b", "c"});
    /* An escaped quote outside quotes is ordinary text. */
    assert_in_list("name=in:a%5C%22b", "name", 1, (const char *[]){"a\\\"b"});
    assert_in_list("name=in:%22my%20image%22,%22other%20one%22", "name", 2,
                   (const char *[]){"my image", "other one"});
}

static void test_in_lists_bad_quotes(void **state)
{
    expect_bad("name=in:a%22b%22", "There is no comma before opening quotation mark", "a\"b\"");
    expect_bad("name=in:%22a%22b", "There is no comma after closing quotation mark", NULL);
    expect_bad("name=in:%22abc", "The quote is not closed", NULL);
    expect_bad("name=in:a,%22b", "The quote is not closed", NULL);
    expect_bad("id=in:%22a%5C%22", "The quote is not closed", "id");
}

static void test_in_list_cap(void **state)
{
    struct ims_buf b;
    ims_buf_init(&b, 8192);
    ims_buf_adds(&b, "id=in:");
    for (int i = 0; i < 1000; i++)
        ims_buf_printf(&b, "%s%d", i ? "," : "", i % 10);
    struct ims_image_query q;
    parse_ok(b.data, &q);
    assert_int_equal(only_filter(&q)->values.n, 1000);
    ims_image_query_release(&q);
    ims_buf_adds(&b, ",1");
    expect_bad(b.data, "Too many values", "id");
    ims_buf_release(&b);
}

static void test_filters_last_occurrence_wins(void **state)
{
    assert_single_filter("name=a&name=b", "name", false, IMS_FIELD_TEXT, IMS_CMP_EQ, "b");
    assert_single_filter("foo=1&foo=2", "foo", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "2");
    /* Only the occurrence used is validated. */
    assert_single_filter("size_min=x&size_min=3", "size", false, IMS_FIELD_INT, IMS_CMP_GTE, "3");
}

/* ---- other core columns ---- */

static void test_text_columns_exact(void **state)
{
    const char *keys[] = {"owner", "checksum", "os_hash_algo", "os_hash_value"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
        char qs[128];
        snprintf(qs, sizeof(qs), "%s=in:a,b", keys[i]); /* no operators here */
        assert_single_filter(qs, keys[i], false, IMS_FIELD_TEXT, IMS_CMP_EQ, "in:a,b");
    }
}

static void test_int_columns_exact(void **state)
{
    const char *keys[] = {"size", "virtual_size", "min_disk", "min_ram"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
        char qs[128];
        snprintf(qs, sizeof(qs), "%s=1024", keys[i]);
        assert_single_filter(qs, keys[i], false, IMS_FIELD_INT, IMS_CMP_EQ, "1024");
        snprintf(qs, sizeof(qs), "%s=abc", keys[i]);
        expect_bad(qs, keys[i], "abc");
    }
    expect_bad("size=-1", "Invalid size value: -1", "non-negative");
}

static void test_size_ranges(void **state)
{
    assert_single_filter("size_min=10", "size", false, IMS_FIELD_INT, IMS_CMP_GTE, "10");
    assert_single_filter("size_max=20", "size", false, IMS_FIELD_INT, IMS_CMP_LTE, "20");
    assert_single_filter("size_min=0", "size", false, IMS_FIELD_INT, IMS_CMP_GTE, "0");
    assert_single_filter("size_min=%2B5", "size", false, IMS_FIELD_INT, IMS_CMP_GTE, "5");
    assert_single_filter("size_max=+7+", "size", false, IMS_FIELD_INT, IMS_CMP_LTE, "7"); /* blanks */
    assert_single_filter("virtual_size_min=1", "virtual_size", false, IMS_FIELD_INT, IMS_CMP_GTE, "1");
    assert_single_filter("virtual_size_max=2", "virtual_size", false, IMS_FIELD_INT, IMS_CMP_LTE, "2");
    assert_single_filter("min_disk_min=3", "min_disk", false, IMS_FIELD_INT, IMS_CMP_GTE, "3");
    assert_single_filter("min_disk_max=4", "min_disk", false, IMS_FIELD_INT, IMS_CMP_LTE, "4");
    assert_single_filter("min_ram_min=5", "min_ram", false, IMS_FIELD_INT, IMS_CMP_GTE, "5");
    assert_single_filter("min_ram_max=6", "min_ram", false, IMS_FIELD_INT, IMS_CMP_LTE, "6");

    /* min above max is allowed: it simply matches nothing. */
    struct ims_image_query q;
    parse_ok("size_min=100&size_max=10", &q);
    assert_int_equal(q.nfilters, 2);
    assert_filter(&q.filters[0], "size", false, IMS_FIELD_INT, IMS_CMP_GTE, "100");
    assert_filter(&q.filters[1], "size", false, IMS_FIELD_INT, IMS_CMP_LTE, "10");
    ims_image_query_release(&q);

    expect_bad("size_min=-1", "Invalid size_min value: -1", "non-negative integer");
    expect_bad("size_max=abc", "Invalid size_max value: abc", NULL);
    expect_bad("size_max=", "Invalid size_max value", NULL);
    expect_bad("size_min=1.5", "size_min", "1.5");
    expect_bad("size_min=99999999999999999999", "size_min", NULL);
}

/* ---- timestamps ---- */

static void test_time_operators(void **state)
{
    struct {
        const char *value;
        enum ims_cmp op;
    } cases[] = {
        {"gt:2020-01-01T00:00:00Z", IMS_CMP_GT},   {"gte:2020-01-01T00:00:00Z", IMS_CMP_GTE},
        {"lt:2020-01-01T00:00:00Z", IMS_CMP_LT},   {"lte:2020-01-01T00:00:00Z", IMS_CMP_LTE},
        {"eq:2020-01-01T00:00:00Z", IMS_CMP_EQ},   {"neq:2020-01-01T00:00:00Z", IMS_CMP_NEQ},
        {"2020-01-01T00:00:00Z", IMS_CMP_EQ},      {"2020-01-01", IMS_CMP_EQ},
        {"gt:2020-01-01T01:00:00%2B01:00", IMS_CMP_GT}, {"lt:2020-01-01T00:00:00.123456Z", IMS_CMP_LT},
    };
    const char *cols[] = {"created_at", "updated_at"};
    for (size_t c = 0; c < IMS_ARRAY_SIZE(cols); c++) {
        for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
            char qs[128];
            snprintf(qs, sizeof(qs), "%s=%s", cols[c], cases[i].value);
            assert_single_filter(qs, cols[c], false, IMS_FIELD_TIME, cases[i].op, "1577836800");
        }
    }
}

static void test_time_errors(void **state)
{
    expect_bad("created_at=yesterday", "Bad \"created_at\" query filter format: yesterday", "ISO 8601");
    expect_bad("updated_at=gt:2020-13-01T00:00:00Z", "Bad \"updated_at\" query filter format", NULL);
    expect_bad("created_at=gt:", "Bad \"created_at\"", NULL);
    expect_bad("created_at=", "Bad \"created_at\"", NULL);
    expect_bad("created_at=foo:2020-01-01T00:00:00Z", "unknown operator 'foo' for created_at", NULL);
    expect_bad("updated_at=in:2020-01-01T00:00:00Z", "unknown operator 'in' for updated_at", NULL);
}

/* ---- tags ---- */

static void test_tags(void **state)
{
    struct ims_image_query q;
    parse_ok("tag=x86&tag=%2064bit%20&tag=", &q);
    assert_int_equal(q.tags.n, 3);
    assert_string_equal(q.tags.items[0], "x86");
    assert_string_equal(q.tags.items[1], "64bit");
    assert_string_equal(q.tags.items[2], "");
    assert_int_equal(q.nfilters, 0);
    ims_image_query_release(&q);
}

/* ---- sorting ---- */

static void test_sort_key_classic(void **state)
{
    assert_sorts("sort_key=name", 1, (const char *[]){"name"}, (bool[]){true});
    assert_sorts("sort_key=name&sort_key=size", 2, (const char *[]){"name", "size"}, (bool[]){true, true});
    assert_sorts("sort_key=name,size", 2, (const char *[]){"name", "size"}, (bool[]){true, true});
    assert_sorts("sort_key=%20name%20,%20size", 2, (const char *[]){"name", "size"}, (bool[]){true, true});
    assert_sorts("sort_key=name&sort_dir=asc", 1, (const char *[]){"name"}, (bool[]){false});
    /* One direction applies to every key. */
    assert_sorts("sort_key=name&sort_key=size&sort_dir=asc", 2, (const char *[]){"name", "size"},
                 (bool[]){false, false});
    assert_sorts("sort_dir=asc&sort_key=name,size", 2, (const char *[]){"name", "size"}, (bool[]){false, false});
    /* Several pair up positionally, wherever they appear. */
    assert_sorts("sort_key=name&sort_dir=asc&sort_key=size&sort_dir=desc", 2, (const char *[]){"name", "size"},
                 (bool[]){false, true});
    assert_sorts("sort_key=name,size&sort_dir=desc,asc", 2, (const char *[]){"name", "size"},
                 (bool[]){true, false});
    /* A direction alone sorts the default key. */
    assert_sorts("sort_dir=asc", 1, (const char *[]){"created_at"}, (bool[]){false});
    assert_sorts("sort_dir=%20desc%20", 1, (const char *[]){"created_at"}, (bool[]){true});
}

static void test_sort_key_classic_errors(void **state)
{
    expect_bad("sort_key=foo", "Invalid sort key: foo", "It must be one of the following: name, status");
    expect_bad("sort_key=", "Invalid sort key: .", NULL);
    expect_bad("sort_key=name,", "Invalid sort key: .", NULL);
    expect_bad("sort_key=name,checksum", "Invalid sort key: checksum", NULL);
    expect_bad("sort_key=Name", "Invalid sort key: Name", NULL);
    expect_bad("sort_dir=up", "Invalid sort direction: up", NULL);
    expect_bad("sort_key=name&sort_dir=ASC", "Invalid sort direction: ASC", NULL);
    expect_bad("sort_dir=", "Invalid sort direction: ", NULL);
    expect_bad("sort_key=name&sort_dir=asc&sort_dir=desc", "Number of sort dirs does not match", NULL);
    expect_bad("sort_key=name,size,id&sort_dir=asc,desc", "Number of sort dirs does not match", NULL);
    expect_bad("sort_dir=asc&sort_dir=desc", "Number of sort dirs does not match", NULL);
}

static void test_sort_new_syntax(void **state)
{
    assert_sorts("sort=name:asc,size", 2, (const char *[]){"name", "size"}, (bool[]){false, true});
    assert_sorts("sort=name", 1, (const char *[]){"name"}, (bool[]){true});
    assert_sorts("sort=name:", 1, (const char *[]){"name"}, (bool[]){true});
    /* The whole value is stripped first, so a blank direction is no direction. */
    assert_sorts("sort=name:%20", 1, (const char *[]){"name"}, (bool[]){true});
    assert_sorts("sort=%20name%20:%20asc%20,%20id:desc%20", 2, (const char *[]){"name", "id"},
                 (bool[]){false, true});
    assert_sorts("sort=created_at:asc,updated_at:desc,status", 3,
                 (const char *[]){"created_at", "updated_at", "status"}, (bool[]){false, true, true});
    /* A repeated sort: Glance pops the first. */
    assert_sorts("sort=name:asc&sort=size", 1, (const char *[]){"name"}, (bool[]){false});
}

static void test_sort_new_syntax_errors(void **state)
{
    expect_bad("sort=", "Invalid sort key: .", NULL);
    expect_bad("sort=bad", "Invalid sort key: bad", NULL);
    expect_bad("sort=name:up", "Invalid sort direction: up", NULL);
    expect_bad("sort=name:asc:desc", "Invalid sort direction: asc:desc", NULL);
    expect_bad("sort=name,", "Invalid sort key: .", NULL);
    expect_bad("sort=name:%20x", "Invalid sort direction: x", NULL);
    expect_bad("sort=name&sort_key=size", "Old and new sorting syntax cannot be combined", NULL);
    expect_bad("sort=name&sort_dir=asc", "Old and new sorting syntax cannot be combined", NULL);
    expect_bad("sort_key=name&sort=bad", "Old and new sorting syntax cannot be combined", NULL);
}

static void test_sort_every_valid_key(void **state)
{
    const char *keys[] = {"name", "status", "container_format", "disk_format", "size", "virtual_size", "id",
                          "created_at", "updated_at", "visibility", "owner", "protected", "min_disk", "min_ram",
                          "os_hidden"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
        assert_true(ims_query_sort_key_valid(keys[i]));
        char qs[64];
        snprintf(qs, sizeof(qs), "sort=%s:asc", keys[i]);
        assert_sorts(qs, 1, &keys[i], (bool[]){false});
        snprintf(qs, sizeof(qs), "sort_key=%s", keys[i]);
        assert_sorts(qs, 1, &keys[i], (bool[]){true});
    }
    const char *invalid[] = {"", "checksum", "tags", "NAME", "name ", "foo", "os_hash_value"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(invalid); i++)
        assert_false(ims_query_sort_key_valid(invalid[i]));
}

static void test_sort_cap(void **state)
{
    const char *eight = "sort_key=name,status,size,id,owner,min_disk,min_ram,created_at";
    struct ims_image_query q;
    parse_ok(eight, &q);
    assert_int_equal(q.nsorts, IMS_QUERY_MAX_SORT);
    ims_image_query_release(&q);
    expect_bad("sort_key=name,status,size,id,owner,min_disk,min_ram,created_at,updated_at", "Too many sort keys",
               "updated_at");
    expect_bad("sort=name,status,size,id,owner,min_disk,min_ram,created_at,updated_at", "Too many sort keys", NULL);
    expect_bad("sort_dir=asc,asc,asc,asc,asc,asc,asc,asc,asc", "Too many sort directions", NULL);
}

/* ---- property filters and the rest ---- */

static void test_property_filters(void **state)
{
    assert_single_filter("hw_disk_bus=virtio", "hw_disk_bus", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "virtio");
    assert_single_filter("__platform=Ubuntu", "__platform", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "Ubuntu");
    assert_single_filter("__os_bit=64", "__os_bit", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "64");
    assert_single_filter("foo=in:a,b", "foo", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "in:a,b");
    assert_single_filter("foo_min=1", "foo_min", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "1");
    assert_single_filter("empty=", "empty", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "");
    assert_single_filter("a%20b=c%26d", "a b", true, IMS_FIELD_TEXT, IMS_CMP_EQ, "c&d");
}

static void test_mixed_query(void **state)
{
    struct ims_image_query q;
    parse_ok("limit=5&marker=m&visibility=all&member_status=all&status=in:active,queued&__platform=Ubuntu"
             "&tag=a&size_min=1&os_hidden=true&sort=name:asc",
             &q);
    assert_int_equal(q.limit, 5);
    assert_string_equal(q.marker, "m");
    assert_string_equal(q.visibility, "all");
    assert_string_equal(q.member_status, "all");
    assert_int_equal(q.tags.n, 1);
    assert_true(q.os_hidden_given);
    assert_int_equal(q.nfilters, 4);
    assert_string_equal(q.filters[0].key, "status");
    assert_int_equal(q.filters[0].op, IMS_CMP_IN);
    assert_string_equal(q.filters[1].key, "__platform");
    assert_true(q.filters[1].is_property);
    assert_string_equal(q.filters[2].key, "size");
    assert_string_equal(q.filters[3].key, "os_hidden");
    assert_int_equal(q.nsorts, 1);
    assert_false(q.sorts[0].desc);
    ims_image_query_release(&q);
}

static void test_changes_since_refused(void **state)
{
    expect_bad("changes-since=2020-01-01", "\"changes-since\" filter is no longer available on v2", NULL);
    expect_bad("changes-since=", "changes-since", NULL);
}

/* GET /v1.1/images/detail: changes-since is v1's filter, images updated at
 * or after the time (offsets honoured); anything but a time is a 400. */
static void test_changes_since_v1(void **state)
{
    struct ims_kvlist params = {0};
    struct ims_err err = {0};
    struct ims_image_query q;
    assert_int_equal(ims_query_string_parse("changes-since=2020-01-01T01:00:00%2B01:00&name=x", 10, &params, &err),
                     IMS_OK);
    assert_int_equal(ims_image_query_parse_dialect(&params, &limits, IMS_QUERY_GLANCE_V1, &q, &err), IMS_OK);
    assert_int_equal(q.nfilters, 2);
    assert_string_equal(q.filters[0].key, "updated_at");
    assert_int_equal(q.filters[0].type, IMS_FIELD_TIME);
    assert_int_equal(q.filters[0].op, IMS_CMP_GTE);
    assert_string_equal(q.filters[0].values.items[0], "1577836800"); /* 2020-01-01T00:00:00Z */
    ims_image_query_release(&q);
    ims_kvlist_release(&params);
    static const char *const bad[] = {"changes-since=", "changes-since=yesterday", "changes-since=gte:2020-01-01",
                                      "changes-since=2020-13-01"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
        assert_int_equal(ims_query_string_parse(bad[i], 10, &params, &err), IMS_OK);
        assert_int_equal(ims_image_query_parse_dialect(&params, &limits, IMS_QUERY_GLANCE_V1, &q, &err),
                         IMS_E_BADREQ);
        assert_non_null(strstr(err.msg, "Unrecognized changes-since value"));
        ims_kvlist_release(&params);
    }
}

static void test_deleted_ignored(void **state)
{
    struct ims_image_query q;
    parse_ok("deleted=true&deleted=false", &q);
    assert_int_equal(q.nfilters, 0);
    ims_image_query_release(&q);
}

static void test_length_caps(void **state)
{
    char *v = malloc(4096 + 32);
    memcpy(v, "name=", 5);
    memset(v + 5, 'a', 4096);
    v[5 + 4096] = 0;
    struct ims_image_query q;
    parse_ok(v, &q);
    assert_int_equal(strlen(only_filter(&q)->values.items[0]), 4096);
    ims_image_query_release(&q);
    strcpy(v + 5 + 4096, "a");
    expect_bad(v, "Value of query parameter name too long", "4096");

    memset(v, 'k', 4097);
    strcpy(v + 4097, "=1");
    expect_bad(v, "Query parameter name too long", NULL);
    free(v);
}

static void test_null_value_from_caller(void **state)
{
    struct ims_kvlist params = {0};
    ims_kvlist_add(&params, "name", NULL);
    ims_kvlist_add(&params, "tag", NULL);
    struct ims_image_query q;
    struct ims_err err = {0};
    assert_int_equal(ims_image_query_parse(&params, &limits, &q, &err), IMS_OK);
    assert_filter(only_filter(&q), "name", false, IMS_FIELD_TEXT, IMS_CMP_EQ, "");
    assert_string_equal(q.tags.items[0], "");
    ims_image_query_release(&q);
    ims_kvlist_release(&params);
}

static void test_error_after_filters_frees_everything(void **state)
{
    /* Filters built before the failing parameter must not leak (ASan). */
    expect_bad("name=in:a,b&foo=bar&tag=x&sort_key=name&marker=m&visibility=all&limit=-3",
               "limit param must be positive", NULL);
    expect_bad("name=a&sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc", "Number of sort dirs", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qs_pairs_in_order_with_repeats),
        cmocka_unit_test(test_qs_empty_and_skipped_pairs),
        cmocka_unit_test(test_qs_decoded_key),
        cmocka_unit_test(test_qs_bad_escapes),
        cmocka_unit_test(test_qs_max_params),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_default_limit_clamped_to_max),
        cmocka_unit_test(test_limit_values),
        cmocka_unit_test(test_limit_errors),
        cmocka_unit_test(test_marker),
        cmocka_unit_test(test_member_status),
        cmocka_unit_test(test_visibility),
        cmocka_unit_test(test_protected),
        cmocka_unit_test(test_os_hidden),
        cmocka_unit_test(test_listable_plain_and_eq),
        cmocka_unit_test(test_listable_unknown_operator),
        cmocka_unit_test(test_in_lists),
        cmocka_unit_test(test_in_lists_quoted),
        cmocka_unit_test(test_in_lists_bad_quotes),
        cmocka_unit_test(test_in_list_cap),
        cmocka_unit_test(test_filters_last_occurrence_wins),
        cmocka_unit_test(test_text_columns_exact),
        cmocka_unit_test(test_int_columns_exact),
        cmocka_unit_test(test_size_ranges),
        cmocka_unit_test(test_time_operators),
        cmocka_unit_test(test_time_errors),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_sort_key_classic),
        cmocka_unit_test(test_sort_key_classic_errors),
        cmocka_unit_test(test_sort_new_syntax),
        cmocka_unit_test(test_sort_new_syntax_errors),
        cmocka_unit_test(test_sort_every_valid_key),
        cmocka_unit_test(test_sort_cap),
        cmocka_unit_test(test_property_filters),
        cmocka_unit_test(test_mixed_query),
        cmocka_unit_test(test_changes_since_refused),
        cmocka_unit_test(test_changes_since_v1),
        cmocka_unit_test(test_deleted_ignored),
        cmocka_unit_test(test_length_caps),
        cmocka_unit_test(test_null_value_from_caller),
        cmocka_unit_test(test_error_after_filters_frees_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
