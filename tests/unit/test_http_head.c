/* SPDX-License-Identifier: Apache-2.0
 * Request-head checks against request smuggling (RFC 9112 §3.2, §6.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ims/http.h"

/* Checks a head given as alternating name, value strings ending with NULL. */
static const char *check(const char *version, ...)
{
    struct ims_kvlist l = {0};
    va_list ap;
    va_start(ap, version);
    for (const char *k; (k = va_arg(ap, const char *));)
        ims_kvlist_add(&l, k, va_arg(ap, const char *));
    va_end(ap);
    const char *msg = ims_http_head_check(version, &l);
    ims_kvlist_release(&l);
    return msg;
}

static void test_accepted(void **state)
{
    assert_null(check("HTTP/1.1", "Host", "a", NULL));
    assert_null(check("HTTP/1.1", "host", "a", "Content-Length", "5", NULL));
    assert_null(check("HTTP/1.1", "Host", "a", "Content-Length", "5", "content-length", "5", NULL));
    assert_null(check("HTTP/1.1", "Host", "a", "Transfer-Encoding", "chunked", NULL));
    assert_null(check("HTTP/1.0", NULL));
}

static void test_refused(void **state)
{
    assert_string_equal(check("HTTP/1.1", "Host", "a", "Content-Length", "2", "Content-Length", "5", NULL),
                        "Conflicting Content-Length headers.");
    assert_string_equal(check("HTTP/1.1", "Host", "a", "Content-Length", "2", "Transfer-Encoding", "chunked", NULL),
                        "Content-Length and Transfer-Encoding must not be sent together.");
    assert_string_equal(check("HTTP/1.0", "transfer-encoding", "chunked", "CONTENT-LENGTH", "2", NULL),
                        "Content-Length and Transfer-Encoding must not be sent together.");
    assert_string_equal(check("HTTP/1.1", "Accept", "*/*", NULL), "An HTTP/1.1 request must have a Host header.");
    assert_string_equal(check("HTTP/1.1", "Host", "a", "Host", "b", NULL), "More than one Host header.");
}

static void test_host_base_url(void **state)
{
    char out[32];
    ims_http_host_base_url("imsd.example:9292", out, sizeof(out));
    assert_string_equal(out, "http://imsd.example:9292");
    ims_http_host_base_url("[::1]:80", out, sizeof(out));
    assert_string_equal(out, "http://[::1]:80");
    /* Anything else a client could use to point links elsewhere. */
    const char *refused[] = {NULL, "", "evil.example/x", "a@b", "a b", "a\r\nX: y", "h\xc3\xa9"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ims_http_host_base_url(refused[i], out, sizeof(out));
        assert_string_equal(out, "http://localhost");
    }
    /* What does not fit is refused, not cut. */
    ims_http_host_base_url("012345678901234567890123", out, sizeof(out));
    assert_string_equal(out, "http://012345678901234567890123");
    ims_http_host_base_url("0123456789012345678901234", out, sizeof(out));
    assert_string_equal(out, "http://localhost");
}

/* webob's choice among Glance's error bodies (text/plain, text/html, JSON). */
static void test_accept_choose(void **state)
{
    (void)state;
    static const char *const offers[] = {"text/plain", "text/html", "application/json"};
    struct { const char *accept; size_t chosen; } cases[] = {
        {NULL, 0},                      /* no header: anything goes, the first offer */
        {"*/*", 0},                     /* requests' default, what glanceclient sends */
        {"application/json", 2},        /* openstacksdk, keystoneauth's JSON adapter */
        {"application/json, */*", 0},   /* equal q: the offers' order decides, as webob */
        {"application/json, */*;q=0.5", 2},
        {"text/html,application/xhtml+xml,*/*;q=0.8", 1},
        {"APPLICATION/JSON", 2},
        {"application/*", 2},
        {"text/*;q=0.3, application/json;q=0.9", 2},
        {"text/plain;q=0, */*", 1},    /* q=0 refuses that offer */
        {"image/png", 3},               /* valid, nothing acceptable */
        {"", 3},
        {"application/json;q=2", 0},    /* malformed: every offer acceptable */
        {"json", 0},
        {"application/json ; charset=utf-8 ; q=0.500, text/plain;q=0.4", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = ims_http_accept_choose(cases[i].accept, offers, 3);
        if (got != cases[i].chosen)
            fail_msg("Accept %s: chose %zu, expected %zu", cases[i].accept ? cases[i].accept : "(none)", got,
                     cases[i].chosen);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_host_base_url),
        cmocka_unit_test(test_accept_choose),
    };
    return cmocka_run_group_tests_name("http_head", tests, NULL, NULL);
}
