/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: request targets and path parameters. The first byte chooses
 * the method, the rest is the request target as libmicrohttpd hands it over
 * ("/v2/images/%7Bx%7D/tags/a%2Fb?limit=2"). It goes through what the
 * server does before a handler runs (lib/http/server.c): the path must
 * percent-decode to valid text, the query is split, and the real route
 * table (lib/api/routes.c) is matched on the raw path, captures decoded
 * after matching. Then the id checks handlers apply to their parameters.
 * Invariants: a match has the route's method, one decoded, non-empty,
 * valid-text capture per "{name}", and as many segments as its pattern. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/api.h"
#include "ims/http.h"
#include "ims/query.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static size_t segments(const char *path)
{
    size_t n = 0, len = strlen(path);
    if (len > 1 && path[len - 1] == '/')
        len--; /* the one trailing slash non-exact routes tolerate */
    for (size_t i = 0; i < len; i++)
        n += path[i] == '/';
    return n;
}

/* The name of the i-th "{name}" of pattern, into out. */
static void capture_name(const char *pattern, size_t i, char *out, size_t cap)
{
    const char *p = pattern;
    for (size_t k = 0; (p = strchr(p, '{')); k++, p++) {
        if (k == i) {
            size_t n = strcspn(p + 1, "}");
            snprintf(out, cap, "%.*s", (int)n, p + 1);
            return;
        }
    }
    out[0] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ims_method methods[] = {IMS_GET,    IMS_HEAD,    IMS_POST,        IMS_PUT,
                                              IMS_PATCH, IMS_DELETE, IMS_OPTIONS, IMS_METHOD_OTHER};
    if (size < 1)
        return 0;
    enum ims_method m = methods[data[0] % 8];
    char *uri = ims_xstrndup((const char *)data + 1, size - 1);
    char *qs = strchr(uri, '?');
    char *path = ims_xstrndup(uri, qs ? (size_t)(qs - uri) : strlen(uri));
    char *decoded = ims_xstrdup(path);
    if (!ims_url_decode(decoded, false))
        goto out; /* 400: the path is not valid text */
    check(ims_text_valid(decoded));
    if (qs) {
        struct ims_kvlist q = {0};
        struct ims_err err = {0};
        if (ims_query_string_parse(qs + 1, IMS_MAX_QUERY_PARAMS, &q, &err) == IMS_OK)
            check(q.n <= IMS_MAX_QUERY_PARAMS);
        ims_kvlist_release(&q);
    }

    char *params[IMS_MAX_PATH_PARAMS] = {0};
    size_t n = 0;
    unsigned allowed = 0;
    const struct ims_route *r = ims_route_match(ims_api_routes, ims_api_nroutes, m, path, params, &n, &allowed);
    if (r) {
        check((r->methods & m) || (m == IMS_HEAD && (r->methods & IMS_GET)));
        check(allowed & r->methods);
        size_t want = 0;
        for (const char *p = r->pattern; (p = strchr(p, '{')); p++)
            want++;
        check(n == want && n <= IMS_MAX_PATH_PARAMS);
        check(segments(r->pattern) == segments(path));
        /* Glance's routes match exactly: no trailing slash. */
        check(!(r->flags & IMS_ROUTE_EXACT) || path[strlen(path) - 1] != '/' || strcmp(r->pattern, "/") == 0);
        for (size_t i = 0; i < n; i++) {
            check(params[i] && params[i][0] && ims_text_valid(params[i]));
            char name[64];
            capture_name(r->pattern, i, name, sizeof(name));
            /* What handlers check before a lookup. */
            if (strstr(name, "image_id"))
                (void)ims_uuid_valid(params[i]);
            else if (strstr(name, "project_id"))
                (void)ims_project_id_valid(params[i]);
            free(params[i]);
        }
    } else {
        check(n == 0);
    }
out:
    free(decoded);
    free(path);
    free(uri);
    return 0;
}
