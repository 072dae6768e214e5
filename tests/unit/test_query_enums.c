/* SPDX-License-Identifier: Apache-2.0
 * The enumerated list-query parameters: lib/query/query_enums.c against
 * spec/query-enums.tsv row by row (parameter, APIs, values, IMS code), the
 * image record's vocabularies against the status and format rows, and the
 * parser refusing every other value in each dialect (whole values and the
 * items of "in:" lists) with the right error code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims/image.h"
#include "ims/query.h"

struct row {
    char param[64], apis[32], values[512], code[16];
};

static struct row rows[64];
static size_t nrows;

static int load(void **state)
{
    (void)state;
    const char *dir = getenv("IMS_SPEC_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/query-enums.tsv", dir ? dir : "spec");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[2048];
    bool header = true;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\r\n")] = 0;
        if (header) {
            header = false;
            continue;
        }
        char *fields[4] = {0};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            fields[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = 0;
        }
        if (!fields[3] || nrows == IMS_ARRAY_SIZE(rows))
            return -1;
        struct row *r = &rows[nrows++];
        snprintf(r->param, sizeof(r->param), "%s", fields[0]);
        snprintf(r->apis, sizeof(r->apis), "%s", fields[1]);
        snprintf(r->values, sizeof(r->values), "%s", fields[2]);
        snprintf(r->code, sizeof(r->code), "%s", fields[3]);
    }
    fclose(f);
    return nrows > 0 ? 0 : -1;
}

static unsigned apis_bits(const char *apis)
{
    unsigned bits = 0;
    if (strstr(apis, "glance"))
        bits |= (1u << IMS_QUERY_GLANCE) | (1u << IMS_QUERY_GLANCE_V1);
    if (strstr(apis, "ims"))
        bits |= 1u << IMS_QUERY_IMS;
    return bits;
}

static const struct ims_query_enum *table_row(const char *param)
{
    for (size_t i = 0; i < ims_query_nenums; i++)
        if (!strcmp(ims_query_enums[i].param, param))
            return &ims_query_enums[i];
    return NULL;
}

static void test_table_matches_spec(void **state)
{
    (void)state;
    assert_int_equal(nrows, ims_query_nenums);
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        const struct ims_query_enum *e = table_row(r->param);
        if (!e)
            fail_msg("spec row %s has no entry in query_enums.c", r->param);
        if (e->dialects != apis_bits(r->apis))
            fail_msg("%s: APIs differ from the spec's '%s'", r->param, r->apis);
        assert_string_equal(e->ims_code, r->code);
        struct ims_buf joined;
        ims_buf_init(&joined, 1024);
        for (size_t j = 0; e->values[j]; j++)
            ims_buf_printf(&joined, "%s%s", j ? "|" : "", e->values[j]);
        if (strcmp(joined.data, r->values))
            fail_msg("%s: values '%s', spec '%s'", r->param, joined.data, r->values);
        ims_buf_release(&joined);
    }
}

/* The service's vocabularies (what images carry) and the query's agree:
 * a status or format an image may have can be asked for, and no other. */
static void test_record_vocabularies_agree(void **state)
{
    (void)state;
    struct {
        const char *param;
        bool (*valid)(const char *);
    } vocab[] = {
        {"status", ims_image_status_valid},
        {"disk_format", ims_disk_format_valid},
        {"container_format", ims_container_format_valid},
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(vocab); i++) {
        const struct ims_query_enum *e = table_row(vocab[i].param);
        assert_non_null(e);
        size_t n = 0;
        for (; e->values[n]; n++)
            if (!vocab[i].valid(e->values[n]))
                fail_msg("%s: '%s' is not a value images can carry", vocab[i].param, e->values[n]);
        assert_true(n > 0);
    }
}

static enum ims_rc parse(enum ims_query_dialect d, const char *key, const char *value, struct ims_err *err)
{
    struct ims_kvlist params = {0};
    ims_kvlist_add(&params, key, value);
    struct ims_query_limits lim = {.default_limit = 25, .max_limit = 1000};
    struct ims_image_query q = {0};
    enum ims_rc rc = ims_image_query_parse_dialect(&params, &lim, d, &q, err);
    if (rc == IMS_OK)
        ims_image_query_release(&q);
    ims_kvlist_release(&params);
    return rc;
}

/* Every listed value passes and an unlisted one is refused, in every
 * dialect the row names, with the IMS code in the IMS dialect and none
 * (Glance's plain 400) in the Glance ones. Dialects the row does not name
 * take any value. */
static void test_parser_enforces_every_row(void **state)
{
    (void)state;
    const enum ims_query_dialect dialects[] = {IMS_QUERY_GLANCE, IMS_QUERY_GLANCE_V1, IMS_QUERY_IMS};
    for (size_t i = 0; i < ims_query_nenums; i++) {
        const struct ims_query_enum *e = &ims_query_enums[i];
        for (size_t k = 0; k < IMS_ARRAY_SIZE(dialects); k++) {
            enum ims_query_dialect d = dialects[k];
            struct ims_err err = {0};
            for (size_t j = 0; e->values[j]; j++)
                if (parse(d, e->param, e->values[j], &err) != IMS_OK)
                    fail_msg("%s=%s refused in dialect %d: %s", e->param, e->values[j], d, err.msg);
            enum ims_rc rc = parse(d, e->param, "no-such-value", &err);
            if (!(e->dialects & (1u << d))) {
                assert_int_equal(rc, IMS_OK);
                continue;
            }
            if (rc != IMS_E_BADREQ)
                fail_msg("%s=no-such-value accepted in dialect %d", e->param, d);
            assert_non_null(strstr(err.msg, "Invalid value 'no-such-value'"));
            assert_string_equal(err.code, d == IMS_QUERY_IMS ? e->ims_code : "");
        }
    }
}

static void test_in_lists_checked_item_by_item(void **state)
{
    (void)state;
    struct ims_err err = {0};
    assert_int_equal(parse(IMS_QUERY_GLANCE, "status", "in:active,deactivated,importing,uploading", &err), IMS_OK);
    assert_int_equal(parse(IMS_QUERY_GLANCE, "disk_format", "in:qcow2,\"raw\"", &err), IMS_OK);
    assert_int_equal(parse(IMS_QUERY_GLANCE, "status", "eq:active", &err), IMS_OK);
    assert_int_equal(parse(IMS_QUERY_GLANCE, "status", "in:active,activ", &err), IMS_E_BADREQ);
    assert_non_null(strstr(err.msg, "Invalid value 'activ' for 'status'"));
    assert_int_equal(parse(IMS_QUERY_GLANCE, "container_format", "eq:barely", &err), IMS_E_BADREQ);
    assert_int_equal(parse(IMS_QUERY_GLANCE, "status", "ACTIVE", &err), IMS_E_BADREQ);
    /* property filters without an enumeration stay free */
    assert_int_equal(parse(IMS_QUERY_GLANCE, "hw_disk_bus", "anything", &err), IMS_OK);
    assert_int_equal(parse(IMS_QUERY_IMS, "name", "anything", &err), IMS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_spec),
        cmocka_unit_test(test_record_vocabularies_agree),
        cmocka_unit_test(test_parser_enforces_every_row),
        cmocka_unit_test(test_in_lists_checked_item_by_item),
    };
    return cmocka_run_group_tests(tests, load, NULL);
}
