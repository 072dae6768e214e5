/* SPDX-License-Identifier: Apache-2.0
 * Bucket and object names, checked before any backend sees them (pure: no
 * I/O). A valid key is also a safe relative path: the embedded store maps
 * it onto files one segment at a time, so anything that could leave the
 * bucket's directory ("..", a leading '/') or alias another key (".",
 * empty segments) is refused here, for S3 too, so both backends accept the
 * same names. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ims/obs.h"

const char *ims_obs_name_problem(enum ims_obs_name_rc rc)
{
    switch (rc) {
    case IMS_OBS_NAME_OK: return "valid";
    case IMS_OBS_NAME_NO_SEPARATOR: return "expected bucket:object";
    case IMS_OBS_NAME_BUCKET_EMPTY: return "the bucket name is empty";
    case IMS_OBS_NAME_BUCKET_INVALID:
        return "invalid bucket name (3 to 63 characters: lower-case letters, digits, '.' and '-', starting and "
               "ending with a letter or digit, not an IP address)";
    case IMS_OBS_NAME_KEY_EMPTY: return "the object name is empty";
    case IMS_OBS_NAME_KEY_TOO_LONG: return "the object name is longer than 1024 bytes";
    case IMS_OBS_NAME_KEY_INVALID:
        return "invalid object name (UTF-8 without control characters; '/'-separated parts that are neither empty, "
               "'.' nor '..')";
    }
    return "invalid name";
}

static bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* Four dot-separated groups of 1-3 digits: S3 refuses such bucket names. */
static bool ipv4_shaped(const char *s)
{
    int groups = 0, digits = 0;
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            if (++digits > 3)
                return false;
        } else if (*s == '.' || !*s) {
            if (!digits)
                return false;
            groups++;
            digits = 0;
            if (!*s)
                return groups == 4;
        } else {
            return false;
        }
    }
}

enum ims_obs_name_rc ims_obs_bucket_check(const char *b)
{
    size_t n = strlen(b);
    if (!n)
        return IMS_OBS_NAME_BUCKET_EMPTY;
    if (n < 3 || n > IMS_OBS_BUCKET_MAX || !lower_or_digit(b[0]) || !lower_or_digit(b[n - 1]))
        return IMS_OBS_NAME_BUCKET_INVALID;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!lower_or_digit(c) && c != '.' && c != '-')
            return IMS_OBS_NAME_BUCKET_INVALID;
        /* ".." ".-" "-.": a dot must sit between letters or digits */
        if (c == '.' && (b[i + 1] == '.' || b[i + 1] == '-' || b[i - 1] == '-'))
            return IMS_OBS_NAME_BUCKET_INVALID;
    }
    if (ipv4_shaped(b) || !strncmp(b, "xn--", 4) || (n >= 8 && !strcmp(b + n - 8, "-s3alias")))
        return IMS_OBS_NAME_BUCKET_INVALID;
    return IMS_OBS_NAME_OK;
}

enum ims_obs_name_rc ims_obs_key_check(const char *k)
{
    size_t n = strlen(k);
    if (!n)
        return IMS_OBS_NAME_KEY_EMPTY;
    if (n > IMS_OBS_KEY_MAX)
        return IMS_OBS_NAME_KEY_TOO_LONG;
    if (!ims_text_valid(k))
        return IMS_OBS_NAME_KEY_INVALID;
    /* every segment: not empty, not "." or ".." */
    for (const char *seg = k;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return IMS_OBS_NAME_KEY_INVALID;
        if (!end)
            return IMS_OBS_NAME_OK;
        seg = end + 1;
    }
}

enum ims_obs_name_rc ims_obs_url_parse(const char *url, size_t len, char *bucket, size_t bucket_cap, char *key,
                                       size_t key_cap)
{
    if (memchr(url, 0, len))
        return IMS_OBS_NAME_KEY_INVALID;
    const char *colon = memchr(url, ':', len);
    if (!colon)
        return IMS_OBS_NAME_NO_SEPARATOR;
    size_t blen = (size_t)(colon - url), klen = len - blen - 1;
    char b[IMS_OBS_BUCKET_MAX + 2], k[IMS_OBS_KEY_MAX + 2];
    if (blen == 0)
        return IMS_OBS_NAME_BUCKET_EMPTY;
    if (blen > IMS_OBS_BUCKET_MAX)
        return IMS_OBS_NAME_BUCKET_INVALID;
    memcpy(b, url, blen);
    b[blen] = 0;
    enum ims_obs_name_rc rc = ims_obs_bucket_check(b);
    if (rc != IMS_OBS_NAME_OK)
        return rc;
    if (klen > IMS_OBS_KEY_MAX)
        return IMS_OBS_NAME_KEY_TOO_LONG;
    memcpy(k, colon + 1, klen);
    k[klen] = 0;
    rc = ims_obs_key_check(k);
    if (rc != IMS_OBS_NAME_OK)
        return rc;
    /* a valid name that does not fit is the caller's error, not the user's:
     * refused all the same, never cut */
    if (blen + 1 > bucket_cap)
        return IMS_OBS_NAME_BUCKET_INVALID;
    if (klen + 1 > key_cap)
        return IMS_OBS_NAME_KEY_TOO_LONG;
    memcpy(bucket, b, blen + 1);
    memcpy(key, k, klen + 1);
    return IMS_OBS_NAME_OK;
}

/* An endpoint's parts as ims_obs_endpoints_same compares them. */
struct endpoint {
    const char *scheme, *host, *path;
    size_t scheme_len, host_len, path_len;
    long port; /* the scheme's default when none is written; -1: not a number */
};

static struct endpoint endpoint_parts(const char *url)
{
    struct endpoint e = {.scheme = url, .port = -1};
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    e.scheme_len = sep ? (size_t)(sep - url) : 0;
    size_t auth_len = strcspn(auth, "/?#");
    e.path = auth + auth_len;
    e.path_len = strlen(e.path);
    while (e.path_len && e.path[e.path_len - 1] == '/')
        e.path_len--;
    /* the port follows the last ':' that is not inside an IPv6 "[...]" */
    const char *close = memchr(auth, ']', auth_len);
    const char *from = close ? close : auth;
    const char *colon = memchr(from, ':', auth_len - (size_t)(from - auth));
    e.host = auth;
    e.host_len = colon ? (size_t)(colon - auth) : auth_len;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end == auth + auth_len && end != colon + 1)
            e.port = port;
    } else if (e.scheme_len == 4 && !strncasecmp(url, "http", 4)) {
        e.port = 80;
    } else if (e.scheme_len == 5 && !strncasecmp(url, "https", 5)) {
        e.port = 443;
    }
    return e;
}

bool ims_obs_endpoints_same(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    struct endpoint x = endpoint_parts(a), y = endpoint_parts(b);
    return x.scheme_len == y.scheme_len && !strncasecmp(x.scheme, y.scheme, x.scheme_len) &&
           x.host_len == y.host_len && !strncasecmp(x.host, y.host, x.host_len) && x.port == y.port &&
           x.path_len == y.path_len && !memcmp(x.path, y.path, x.path_len);
}
