/* SPDX-License-Identifier: Apache-2.0
 * Glance's web-download filter ([import_filtering_opts]): schemes, hosts
 * and ports allowed or disallowed, applied to a URL as libcurl's URL parser
 * splits it, and the addresses a host may resolve to. No I/O but the
 * resolver in ims_web_resolve. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ims/obs.h"

void ims_web_filter_release(struct ims_web_filter *f)
{
    if (!f)
        return;
    ims_strlist_release(&f->allowed_schemes);
    ims_strlist_release(&f->disallowed_schemes);
    ims_strlist_release(&f->allowed_hosts);
    ims_strlist_release(&f->disallowed_hosts);
    ims_strlist_release(&f->allowed_ports);
    ims_strlist_release(&f->disallowed_ports);
    *f = (struct ims_web_filter){0};
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* A host as lists and URLs name it: lower case, IPv6 without brackets. */
static void normalize_host(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '[' && in[n - 1] == ']')
        snprintf(out, cap, "%.*s", (int)(n - 2), in + 1);
    else
        snprintf(out, cap, "%s", in);
    lower(out);
    char *zone = strchr(out, '%'); /* fe80::1%eth0: the zone is no part of the address */
    if (zone)
        *zone = 0;
}

static bool port_valid(const char *s)
{
    int64_t v;
    return ims_parse_i64(s, 1, 65535, &v);
}

static enum ims_rc add_items(struct ims_strlist *l, const char *csv, int kind, struct ims_err *err)
{
    if (!csv || !*csv)
        return IMS_OK;
    char *copy = ims_xstrdup(csv);
    enum ims_rc rc = IMS_OK;
    for (char *save = NULL, *s = strtok_r(copy, ",", &save); s && rc == IMS_OK; s = strtok_r(NULL, ",", &save)) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = 0;
        if (!n)
            continue;
        char item[256];
        if (n >= sizeof(item) || !ims_utf8_valid(s, n)) {
            rc = ims_fail(err, IMS_E_BADREQ, "invalid list item '%.64s'", s);
            break;
        }
        if (kind == 1) {
            normalize_host(s, item, sizeof(item));
        } else {
            snprintf(item, sizeof(item), "%s", s);
            lower(item);
        }
        if (kind == 2 && !port_valid(item))
            rc = ims_fail(err, IMS_E_BADREQ, "invalid port '%.64s' (1 to 65535)", s);
        else if (!ims_strlist_contains(l, item))
            ims_strlist_add(l, item);
    }
    free(copy);
    return rc;
}

enum ims_rc ims_web_filter_init(struct ims_web_filter *f, const char *allowed_schemes, const char *disallowed_schemes,
                                const char *allowed_hosts, const char *disallowed_hosts, const char *allowed_ports,
                                const char *disallowed_ports, bool allow_private_networks, struct ims_err *err)
{
    *f = (struct ims_web_filter){.allow_private_networks = allow_private_networks};
    enum ims_rc rc = add_items(&f->allowed_schemes, allowed_schemes, 0, err);
    if (rc == IMS_OK)
        rc = add_items(&f->disallowed_schemes, disallowed_schemes, 0, err);
    if (rc == IMS_OK)
        rc = add_items(&f->allowed_hosts, allowed_hosts, 1, err);
    if (rc == IMS_OK)
        rc = add_items(&f->disallowed_hosts, disallowed_hosts, 1, err);
    if (rc == IMS_OK)
        rc = add_items(&f->allowed_ports, allowed_ports, 2, err);
    if (rc == IMS_OK)
        rc = add_items(&f->disallowed_ports, disallowed_ports, 2, err);
    if (rc != IMS_OK)
        ims_web_filter_release(f);
    return rc;
}

/* Glance's rule: an allowed list, when there is one, is the whole rule. */
static bool listed_ok(const struct ims_strlist *allowed, const struct ims_strlist *disallowed, const char *v)
{
    if (allowed->n)
        return ims_strlist_contains(allowed, v);
    return !ims_strlist_contains(disallowed, v);
}

static bool text_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > IMS_WEB_URI_MAX || !ims_utf8_valid(s, n))
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c <= 0x20 || *c == 0x7f)
            return false;
    return true;
}

static enum ims_rc refuse(struct ims_err *err, const char *why, const char *uri)
{
    return ims_fail(err, IMS_E_BADREQ, "URI for web-download does not pass filtering (%s): %.256s", why, uri);
}

enum ims_rc ims_web_check_uri(const struct ims_web_filter *f, const char *uri, struct ims_web_target *t,
                              struct ims_err *err)
{
    *t = (struct ims_web_target){0};
    if (!uri || !text_ok(uri))
        return refuse(err, "not a URL", uri ? uri : "");
    CURLU *u = curl_url();
    if (!u)
        return ims_fail(err, IMS_E_INTERNAL, "out of memory");
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *full = NULL;
    enum ims_rc rc = IMS_OK;
    /* no guessed scheme, no default one: the URL must say http or https */
    if (curl_url_set(u, CURLUPART_URL, uri, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
        rc = refuse(err, "not a URL", uri);
        goto out;
    }
    lower(scheme);
    if (!ims_streq(scheme, "http") && !ims_streq(scheme, "https")) {
        rc = refuse(err, "only http and https", uri);
        goto out;
    }
    if (!listed_ok(&f->allowed_schemes, &f->disallowed_schemes, scheme)) {
        rc = refuse(err, "scheme not allowed", uri);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user) {
        rc = refuse(err, "user information in the URL", uri);
        goto out;
    }
    normalize_host(host, t->host, sizeof(t->host));
    if (!t->host[0] || strlen(host) >= sizeof(t->host)) {
        rc = refuse(err, "host not allowed", uri);
        goto out;
    }
    if (!listed_ok(&f->allowed_hosts, &f->disallowed_hosts, t->host)) {
        rc = refuse(err, "host not allowed", uri);
        goto out;
    }
    bool given = curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port;
    char pbuf[8];
    snprintf(pbuf, sizeof(pbuf), "%s", given ? port : ims_streq(scheme, "https") ? "443" : "80");
    int64_t pv;
    if (!ims_parse_i64(pbuf, 1, 65535, &pv)) {
        rc = refuse(err, "port not allowed", uri);
        goto out;
    }
    /* Glance filters a port only when the URL gives one */
    if (given && !listed_ok(&f->allowed_ports, &f->disallowed_ports, pbuf)) {
        rc = refuse(err, "port not allowed", uri);
        goto out;
    }
    if (strlen(full) > IMS_WEB_URI_MAX) {
        rc = refuse(err, "too long", uri);
        goto out;
    }
    t->port = (unsigned)pv;
    snprintf(t->scheme, sizeof(t->scheme), "%s", scheme);
    snprintf(t->url, sizeof(t->url), "%s", full);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

/* Addresses no import may reach unless configured: this host (loopback),
 * the link (link-local: cloud metadata services live there), private
 * networks, nothing (unspecified) and groups (multicast, broadcast). */
enum range { PUBLIC, PRIVATE, LOCAL };

static enum range v4_range(const unsigned char a[4])
{
    if (a[0] == 127 || a[0] == 0 || (a[0] == 169 && a[1] == 254) || a[0] >= 224)
        return LOCAL; /* loopback, "this network", link-local, multicast, reserved, broadcast */
    if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
        (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 198 && (a[1] & 0xfe) == 18))
        return PRIVATE; /* RFC 1918, shared address space (CGNAT), benchmarking */
    return PUBLIC;
}

static enum range addr_range(const char *addr)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1)
        return v4_range(b);
    if (inet_pton(AF_INET6, addr, b) != 1)
        return LOCAL; /* not an address: never reachable */
    static const unsigned char zero[10] = {0};
    if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
        return v4_range(b + 12); /* IPv4-mapped: the IPv4 address counts */
    static const unsigned char nul[16] = {0};
    if (memcmp(b, nul, 15) == 0 && (b[15] == 0 || b[15] == 1))
        return LOCAL; /* :: and ::1 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return LOCAL; /* fe80::/10 link-local */
    if (b[0] == 0xff)
        return LOCAL; /* multicast */
    if ((b[0] & 0xfe) == 0xfc)
        return PRIVATE; /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return LOCAL; /* fec0::/10 site-local (deprecated) */
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: the embedded IPv4 address counts */
        return v4_range(b + 2) == PUBLIC ? PUBLIC : LOCAL;
    return PUBLIC;
}

/* Canonical text of an address literal, or "" when s is none. */
static void canonical(const char *s, char *out, size_t cap)
{
    unsigned char b[16];
    out[0] = 0;
    if (inet_pton(AF_INET, s, b) == 1)
        inet_ntop(AF_INET, b, out, (socklen_t)cap);
    else if (inet_pton(AF_INET6, s, b) == 1)
        inet_ntop(AF_INET6, b, out, (socklen_t)cap);
}

bool ims_web_address_allowed(const struct ims_web_filter *f, const char *host, const char *addr)
{
    char a[64];
    canonical(addr, a, sizeof(a));
    if (!a[0])
        return false;
    /* an address named in disallowed_hosts is refused whatever name led to it */
    if (!f->allowed_hosts.n) {
        for (size_t i = 0; i < f->disallowed_hosts.n; i++) {
            char d[64];
            canonical(f->disallowed_hosts.items[i], d, sizeof(d));
            if (d[0] && ims_streq(d, a))
                return false;
        }
    }
    /* a host the administrator listed may be anywhere, as in Glance */
    if (ims_strlist_contains(&f->allowed_hosts, host))
        return true;
    enum range r = addr_range(a);
    return r == PUBLIC || (r == PRIVATE && f->allow_private_networks);
}

enum ims_rc ims_web_resolve(const struct ims_web_filter *f, struct ims_web_target *t, struct ims_err *err)
{
    char lit[64];
    canonical(t->host, lit, sizeof(lit));
    if (lit[0]) {
        if (!ims_web_address_allowed(f, t->host, lit))
            return ims_fail(err, IMS_E_BADREQ, "URI for web-download does not pass filtering (address %s not "
                                               "allowed): %.256s", lit, t->url);
        snprintf(t->addr, sizeof(t->addr), "%s", lit);
        return IMS_OK;
    }
    /* a name: every address it resolves to is a candidate, the first the
     * filter allows is the one connected to */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char name[260];
    snprintf(name, sizeof(name), "%s.", t->host); /* absolute: no search domains */
    int gai = getaddrinfo(name, NULL, &hints, &res);
    if (gai != 0)
        return ims_fail(err, IMS_E_BADREQ, "URI for web-download does not pass filtering (host %s does not "
                                           "resolve): %.256s", t->host, t->url);
    enum ims_rc rc = ims_fail(err, IMS_E_BADREQ, "URI for web-download does not pass filtering (no allowed address "
                                                 "for %s): %.256s", t->host, t->url);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char a[64] = "";
        if (ai->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, a, sizeof(a));
        else if (ai->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, a, sizeof(a));
        if (a[0] && ims_web_address_allowed(f, t->host, a)) {
            snprintf(t->addr, sizeof(t->addr), "%s", a);
            rc = IMS_OK;
            break;
        }
    }
    freeaddrinfo(res);
    return rc;
}
