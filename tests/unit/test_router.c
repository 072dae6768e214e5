/* SPDX-License-Identifier: Apache-2.0
 * Route matching: captures, percent-decoding after matching, trailing
 * slash, 405 method sets, HEAD falling back to GET. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/http.h"

static void h(struct ims_request *req) { (void)req; }

static const struct ims_route table[] = {
    {.methods = IMS_GET | IMS_POST, .pattern = "/v2/images", .handler = h},
    {.methods = IMS_GET, .pattern = "/v2/images/{image_id}", .handler = h},
    {.methods = IMS_PATCH | IMS_DELETE, .pattern = "/v2/images/{image_id}", .handler = h},
    {.methods = IMS_PUT, .pattern = "/v2/images/{image_id}/tags/{tag}", .handler = h},
    {.methods = IMS_GET, .pattern = "/", .handler = h},
};

static const struct ims_route *match(enum ims_method m, const char *path, char **caps, size_t *n, unsigned *allowed)
{
    return ims_route_match(table, IMS_ARRAY_SIZE(table), m, path, caps, n, allowed);
}

static void free_caps(char **caps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(caps[i]);
}

static void test_exact_and_trailing_slash(void **state)
{
    char *caps[IMS_MAX_PATH_PARAMS];
    size_t n = 0;
    unsigned allowed = 0;
    assert_ptr_equal(match(IMS_GET, "/v2/images", caps, &n, &allowed), &table[0]);
    assert_int_equal(n, 0);
    assert_ptr_equal(match(IMS_POST, "/v2/images/", caps, &n, &allowed), &table[0]);
    assert_ptr_equal(match(IMS_GET, "/", caps, &n, &allowed), &table[4]);
    assert_null(match(IMS_GET, "/v2/imagesX", caps, &n, &allowed));
    assert_int_equal(allowed, 0);
}

static void test_captures_are_decoded(void **state)
{
    char *caps[IMS_MAX_PATH_PARAMS];
    size_t n = 0;
    unsigned allowed = 0;
    const struct ims_route *r = match(IMS_PUT, "/v2/images/abc/tags/a%2Fb%20c", caps, &n, &allowed);
    assert_ptr_equal(r, &table[3]);
    assert_int_equal(n, 2);
    assert_string_equal(caps[0], "abc");
    assert_string_equal(caps[1], "a/b c");
    free_caps(caps, n);
}

static void test_method_selection_and_405(void **state)
{
    char *caps[IMS_MAX_PATH_PARAMS];
    size_t n = 0;
    unsigned allowed = 0;
    assert_ptr_equal(match(IMS_DELETE, "/v2/images/x", caps, &n, &allowed), &table[2]);
    free_caps(caps, n);
    assert_null(match(IMS_PUT, "/v2/images/x", caps, &n, &allowed));
    assert_int_equal(allowed, IMS_GET | IMS_PATCH | IMS_DELETE);
    assert_ptr_equal(match(IMS_HEAD, "/v2/images/x", caps, &n, &allowed), &table[1]);
    free_caps(caps, n);
}

static void test_empty_segment_and_bad_escape(void **state)
{
    char *caps[IMS_MAX_PATH_PARAMS];
    size_t n = 0;
    unsigned allowed = 0;
    assert_null(match(IMS_GET, "/v2/images//", caps, &n, &allowed));
    assert_null(match(IMS_PUT, "/v2/images/x/tags/%zz", caps, &n, &allowed));
    assert_null(match(IMS_PUT, "/v2/images/x/tags/a%00b", caps, &n, &allowed));
}

static const struct ims_route exact_table[] = {
    {.methods = IMS_GET | IMS_POST, .pattern = "/v2/images", .handler = h, .flags = IMS_ROUTE_EXACT},
    {.methods = IMS_GET | IMS_DELETE, .pattern = "/v2/images/{image_id}", .handler = h, .flags = IMS_ROUTE_EXACT},
};

/* Exact routes (Glance's) take no trailing slash: "/v2/images/" is neither
 * the list nor an image with an empty id, so 404 (no 405 either). */
static void test_exact_routes(void **state)
{
    char *caps[IMS_MAX_PATH_PARAMS];
    size_t n = 0;
    unsigned allowed = 0;
    const struct ims_route *t = exact_table;
    size_t nt = IMS_ARRAY_SIZE(exact_table);
    assert_ptr_equal(ims_route_match(t, nt, IMS_GET, "/v2/images", caps, &n, &allowed), &t[0]);
    assert_null(ims_route_match(t, nt, IMS_GET, "/v2/images/", caps, &n, &allowed));
    assert_int_equal(allowed, 0);
    assert_null(ims_route_match(t, nt, IMS_DELETE, "/v2/images/", caps, &n, &allowed));
    assert_int_equal(allowed, 0);
    assert_null(ims_route_match(t, nt, IMS_GET, "/v2/images/x/", caps, &n, &allowed));
    assert_int_equal(allowed, 0);
    assert_ptr_equal(ims_route_match(t, nt, IMS_DELETE, "/v2/images/x", caps, &n, &allowed), &t[1]);
    free_caps(caps, n);
}

static void test_method_names(void **state)
{
    assert_int_equal(ims_method_parse("PATCH"), IMS_PATCH);
    assert_int_equal(ims_method_parse("BREW"), IMS_METHOD_OTHER);
    assert_string_equal(ims_method_name(IMS_DELETE), "DELETE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_trailing_slash),
        cmocka_unit_test(test_captures_are_decoded),
        cmocka_unit_test(test_method_selection_and_405),
        cmocka_unit_test(test_empty_segment_and_bad_escape),
        cmocka_unit_test(test_exact_routes),
        cmocka_unit_test(test_method_names),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
