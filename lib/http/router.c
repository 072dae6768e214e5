/* SPDX-License-Identifier: Apache-2.0
 * Route matching on raw path segments: "{name}" captures one segment, which
 * is percent-decoded only after matching, so "%2F" inside a tag stays one
 * segment. A path that exists with other methods yields 405 + Allow. One
 * trailing slash is tolerated, except on IMS_ROUTE_EXACT routes. */
#include <string.h>

#include "http-int.h"

static const struct {
    enum ims_method m;
    const char *name;
} methods[] = {
    {IMS_GET, "GET"},         {IMS_HEAD, "HEAD"},     {IMS_POST, "POST"},       {IMS_PUT, "PUT"},
    {IMS_PATCH, "PATCH"},     {IMS_DELETE, "DELETE"}, {IMS_OPTIONS, "OPTIONS"},
};

enum ims_method ims_method_parse(const char *s)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(methods); i++)
        if (strcmp(s, methods[i].name) == 0)
            return methods[i].m;
    return IMS_METHOD_OTHER;
}

const char *ims_method_name(enum ims_method m)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(methods); i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "OTHER";
}

/* Matches one pattern; on success captures[] holds raw (undecoded) copies. */
static bool match(const char *pattern, bool exact, const char *path, char **captures, size_t *ncaptures)
{
    const char *p = pattern, *q = path;
    size_t n = 0;
    while (*p && *q) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *qe = strchr(q, '/');
            size_t len = qe ? (size_t)(qe - q) : strlen(q);
            if (!pe || len == 0 || n == IMS_MAX_PATH_PARAMS)
                goto fail;
            captures[n++] = ims_xstrndup(q, len);
            p = pe + 1;
            q += len;
            continue;
        }
        if (*p != *q)
            goto fail;
        p++;
        q++;
    }
    if (*p == 0 && (*q == 0 || (!exact && q[0] == '/' && q[1] == 0))) {
        *ncaptures = n;
        return true;
    }
fail:
    for (size_t i = 0; i < n; i++)
        free(captures[i]);
    return false;
}

const struct ims_route *ims_route_match(const struct ims_route *table, size_t n, enum ims_method m, const char *path,
                                        char **captures, size_t *ncaptures, unsigned *ret_allowed)
{
    unsigned allowed = 0;
    for (size_t i = 0; i < n; i++) {
        char *caps[IMS_MAX_PATH_PARAMS];
        size_t ncaps = 0;
        if (!match(table[i].pattern, table[i].flags & IMS_ROUTE_EXACT, path, caps, &ncaps))
            continue;
        bool method_ok = (table[i].methods & m) || (m == IMS_HEAD && (table[i].methods & IMS_GET));
        if (!method_ok) {
            allowed |= table[i].methods;
            for (size_t k = 0; k < ncaps; k++)
                free(caps[k]);
            continue;
        }
        bool decoded = true;
        for (size_t k = 0; k < ncaps; k++) {
            decoded = decoded && ims_url_decode(caps[k], false);
            captures[k] = caps[k];
        }
        *ncaptures = ncaps;
        if (!decoded) {
            for (size_t k = 0; k < ncaps; k++)
                free(caps[k]);
            *ncaptures = 0;
            *ret_allowed = 0;
            return NULL;
        }
        *ret_allowed = allowed | table[i].methods;
        return &table[i];
    }
    *ret_allowed = allowed;
    return NULL;
}
