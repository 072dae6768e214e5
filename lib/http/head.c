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

/* q of an Accept item: "0", "1", "0.xyz" or "1.000" (RFC 9110 §12.4.2), in
 * thousandths; -1 when malformed. */
static int accept_q(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q <= 1000 ? q : -1;
}

static size_t trim_len(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

size_t ims_http_accept_choose(const char *accept, const char *const *offers, size_t noffers)
{
    if (!accept || noffers == 0)
        return 0;
    int best_q[8] = {0}, best_spec[8] = {0};
    if (noffers > 8)
        noffers = 8;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t itemlen = end ? (size_t)(end - p) : strlen(p);
        const char *item = p;
        p = end ? end + 1 : p + itemlen;
        while (itemlen && (*item == ' ' || *item == '\t'))
            item++, itemlen--;
        itemlen = trim_len(item, itemlen);
        if (itemlen == 0)
            continue;
        /* media range, then ";name=value" parameters; q is one of them */
        const char *semi = memchr(item, ';', itemlen);
        size_t rlen = trim_len(item, semi ? (size_t)(semi - item) : itemlen);
        const char *slash = memchr(item, '/', rlen);
        if (!slash || slash == item || slash == item + rlen - 1)
            return 0; /* not type/subtype: webob treats the header as invalid, every offer acceptable */
        int q = 1000;
        for (const char *par = semi; par && par < item + itemlen;) {
            const char *pend = memchr(par + 1, ';', (size_t)(item + itemlen - par - 1));
            const char *v = par + 1;
            size_t vlen = (size_t)((pend ? pend : item + itemlen) - v);
            while (vlen && (*v == ' ' || *v == '\t'))
                v++, vlen--;
            vlen = trim_len(v, vlen);
            if (vlen >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=') {
                q = accept_q(v + 2, vlen - 2);
                if (q < 0)
                    return 0;
            }
            par = pend;
        }
        size_t tlen = (size_t)(slash - item), slen = rlen - tlen - 1;
        for (size_t o = 0; o < noffers; o++) {
            const char *os = strchr(offers[o], '/');
            size_t otlen = os ? (size_t)(os - offers[o]) : strlen(offers[o]);
            int spec = 0;
            if (tlen == 1 && item[0] == '*' && slen == 1 && slash[1] == '*')
                spec = 1;
            else if (tlen == otlen && !strncasecmp(item, offers[o], tlen)) {
                if (slen == 1 && slash[1] == '*')
                    spec = 2;
                else if (os && strlen(os + 1) == slen && !strncasecmp(slash + 1, os + 1, slen))
                    spec = 3;
            }
            /* the most specific range that matches decides the offer's q */
            if (spec > best_spec[o]) {
                best_spec[o] = spec;
                best_q[o] = q;
            }
        }
    }
    size_t chosen = noffers;
    for (size_t o = 0; o < noffers; o++)
        if (best_spec[o] && best_q[o] > 0 && (chosen == noffers || best_q[o] > best_q[chosen]))
            chosen = o;
    return chosen;
}
