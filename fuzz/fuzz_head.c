/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: request heads. The input is a head as a client writes it:
 * a request line ("GET /v2/images HTTP/1.1"), then "Name: value" lines
 * (CRLF or LF). It goes through what imsd does with a head libmicrohttpd
 * accepted: the smuggling checks (Content-Length, Transfer-Encoding, Host),
 * the Range header against bodies of several sizes, the Accept header's
 * choice of an error body's media type, Content-Length as a
 * number (body_waits in lib/http/server.c) and the Host header as the base
 * of links. Each answer is checked against the rules written out here
 * again, independently of lib/http/head.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "ims/http.h"

/* Whether RFC 9112 framing rules make this head a 400, computed apart from
 * ims_http_head_check. */
static bool should_refuse(const char *version, const struct ims_kvlist *h)
{
    size_t hosts = 0;
    const char *length = NULL;
    bool conflict = false, encoding = false;
    for (size_t i = 0; i < h->n; i++) {
        if (!strcasecmp(h->items[i].key, "Host"))
            hosts++;
        if (!strcasecmp(h->items[i].key, "Transfer-Encoding"))
            encoding = true;
        if (!strcasecmp(h->items[i].key, "Content-Length")) {
            if (length && strcmp(length, h->items[i].value))
                conflict = true;
            length = h->items[i].value;
        }
    }
    return conflict || (length && encoding) || hosts > 1 || (hosts == 0 && !strcasecmp(version, "HTTP/1.1"));
}

static void check_range(const char *value)
{
    static const uint64_t sizes[] = {0, 1, 2, 1000, 1ULL << 40, UINT64_MAX / 2, UINT64_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t first = 7, last = 7;
        enum ims_rc rc = ims_range_parse(value, sizes[i], &first, &last);
        if (rc == IMS_OK && !(first <= last && last < sizes[i]))
            abort();
        if (rc != IMS_OK && rc != IMS_E_RANGE && rc != IMS_E_NOTFOUND)
            abort();
    }
}

static void check_host(const char *value)
{
    char url[256];
    ims_http_host_base_url(value, url, sizeof(url));
    if (strncmp(url, "http://", 7) != 0 || strlen(url) >= sizeof(url))
        abort();
    /* What is echoed in links is the header itself or localhost, never a
     * part of it, and only host[:port] characters. */
    if (strcmp(url + 7, value) != 0 && strcmp(url + 7, "localhost") != 0)
        abort();
    for (const char *p = url + 7; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *p))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = ims_xstrndup((const char *)data, size);
    /* Request line: method, target, version separated by spaces. */
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (!line) {
        free(text);
        return 0;
    }
    line[strcspn(line, "\r")] = 0;
    char *version = strrchr(line, ' ');
    version = version ? version + 1 : line;

    struct ims_kvlist headers = {0};
    for (char *l; (l = strtok_r(NULL, "\n", &save));) {
        l[strcspn(l, "\r")] = 0;
        char *colon = strchr(l, ':');
        if (!colon || colon == l)
            continue; /* libmicrohttpd refuses such a line itself */
        *colon = 0;
        char *value = colon + 1;
        value += strspn(value, " \t");
        ims_kvlist_add(&headers, l, value);
        if (!strcasecmp(l, "Range"))
            check_range(value);
        else if (!strcasecmp(l, "Host"))
            check_host(value);
        else if (!strcasecmp(l, "Accept")) {
            /* the error body's media type: one of the offers or none */
            static const char *const offers[] = {"text/plain", "text/html", "application/json"};
            if (ims_http_accept_choose(value, offers, 3) > 3)
                abort();
        } else if (!strcasecmp(l, "Content-Length")) {
            int64_t n = -1;
            if (ims_parse_i64(value, 0, INT64_MAX, &n) && n < 0)
                abort();
        }
    }
    const char *msg = ims_http_head_check(version, &headers);
    if ((msg != NULL) != should_refuse(version, &headers))
        abort();
    ims_kvlist_release(&headers);
    free(text);
    return 0;
}
