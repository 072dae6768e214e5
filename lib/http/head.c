/* SPDX-License-Identifier: Apache-2.0
 * Checks of a request head that libmicrohttpd leaves to the application.
 * It keeps the first of two Content-Length headers, lets Transfer-Encoding
 * and Content-Length coexist and accepts HTTP/1.1 without Host: a proxy in
 * front that frames the body differently would then see another request
 * than we do (request smuggling). RFC 9112 §3.2 and §6.3 make each a 400.
 * Pure: the server passes the header fields in the order received.
 * Also the base URL a request's Host header names (links in responses). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http-int.h"

const char *ims_http_head_check(const char *version, const struct ims_kvlist *headers)
{
    size_t hosts = 0;
    const char *length = NULL, *encoding = NULL;
    for (size_t i = 0; i < headers->n; i++) {
        const struct ims_kv *h = &headers->items[i];
        if (strcasecmp(h->key, "Host") == 0) {
            hosts++;
        } else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
            encoding = h->value;
        } else if (strcasecmp(h->key, "Content-Length") == 0) {
            /* The same value repeated is one length (§6.3 allows either). */
            if (length && strcmp(length, h->value) != 0)
                return "Conflicting Content-Length headers.";
            length = h->value;
        }
    }
    if (length && encoding)
        return "Content-Length and Transfer-Encoding must not be sent together.";
    if (hosts > 1)
        return "More than one Host header.";
    if (hosts == 0 && version && strcasecmp(version, "HTTP/1.1") == 0)
        return "An HTTP/1.1 request must have a Host header.";
    return NULL;
}

void ims_http_host_base_url(const char *host, char *out, size_t cap)
{
    /* Host is client input echoed in every link: keep it only if it looks
     * like host[:port] (no scheme, path, userinfo or spaces). */
    bool ok = host && *host && strlen(host) + sizeof("http://") <= cap;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
             *p == '-' || *p == ':' || *p == '[' || *p == ']';
    snprintf(out, cap, "http://%s", ok ? host : "localhost");
}
