/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: web-download URIs through Glance's filter
 * (lib/obs/web_filter.c): the URL as libcurl's parser splits it, the
 * scheme, host and port rules, and the address checks. The input's first
 * byte picks a filter configuration, the rest is the URI (or, when the
 * URI parses, also an address to check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/obs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    static const char *const hosts[] = {"", "127.0.0.1", "example.com,[::1]"};
    static const char *const ports[] = {"80,443", "", "8080"};
    struct ims_web_filter f;
    struct ims_err err = {0};
    unsigned pick = data[0];
    enum ims_rc rc = ims_web_filter_init(&f, pick & 1 ? "http,https" : "", pick & 2 ? "https" : "",
                                         hosts[(pick >> 2) % 3], pick & 16 ? "10.0.0.1,evil.example" : "",
                                         ports[(pick >> 5) % 3], "", pick & 128, &err);
    fuzz_check(rc == IMS_OK, "the fuzzer's filters are valid");
    char *uri = malloc(size);
    memcpy(uri, data + 1, size - 1);
    uri[size - 1] = 0;
    struct ims_web_target t;
    rc = ims_web_check_uri(&f, uri, &t, &err);
    fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "refusals are 400");
    if (rc == IMS_OK) {
        fuzz_check(ims_streq(t.scheme, "http") || ims_streq(t.scheme, "https"), "http(s) only");
        fuzz_check(t.port >= 1 && t.port <= 65535, "a port");
        fuzz_check(t.host[0] != 0, "a host");
        fuzz_check(strlen(t.url) <= IMS_WEB_URI_MAX, "URL length");
        if (f.allowed_hosts.n)
            fuzz_check(ims_strlist_contains(&f.allowed_hosts, t.host), "allowed hosts only");
        /* the address checks never accept loopback or link-local for an unlisted host */
        if (!ims_strlist_contains(&f.allowed_hosts, t.host)) {
            fuzz_check(!ims_web_address_allowed(&f, t.host, "127.0.0.1"), "loopback refused");
            fuzz_check(!ims_web_address_allowed(&f, t.host, "::ffff:127.0.0.1"), "mapped loopback refused");
            fuzz_check(!ims_web_address_allowed(&f, t.host, "169.254.169.254"), "link-local refused");
            fuzz_check(!ims_web_address_allowed(&f, t.host, "fe80::1"), "IPv6 link-local refused");
        }
    }
    /* the URI text as an address */
    (void)ims_web_address_allowed(&f, "h", uri);
    free(uri);
    ims_web_filter_release(&f);
    return 0;
}
