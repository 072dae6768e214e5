/* SPDX-License-Identifier: Apache-2.0
 * The route table against the permission table (spec/api-permissions.tsv,
 * the repository's copy of the API's permission table), row by row: method, path,
 * actions, condition, both scope flags. A route missing from the table or a
 * row without a route fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ims/api.h"

struct row {
    char method[16], path[128], actions[160], condition[512];
    bool iam, ep;
};

static struct row rows[160];
static size_t nrows;

static const char *spec_path(void)
{
    const char *dir = getenv("IMS_SPEC_DIR");
    static char path[512];
    snprintf(path, sizeof(path), "%s/api-permissions.tsv", dir ? dir : "spec");
    return path;
}

static int load(void **state)
{
    FILE *f = fopen(spec_path(), "r");
    if (!f)
        return -1;
    char line[4096];
    bool header = true;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        if (header) {
            header = false;
            continue;
        }
        line[strcspn(line, "\r\n")] = 0;
        char *fields[9] = {0};
        char *p = line;
        for (int i = 0; i < 9 && p; i++) {
            fields[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = 0;
        }
        if (!fields[7] || nrows == IMS_ARRAY_SIZE(rows))
            continue;
        struct row *r = &rows[nrows++];
        snprintf(r->method, sizeof(r->method), "%s", fields[2]);
        snprintf(r->path, sizeof(r->path), "%s", fields[3]);
        snprintf(r->actions, sizeof(r->actions), "%s", fields[4]);
        snprintf(r->condition, sizeof(r->condition), "%s", fields[5]);
        r->iam = !strcmp(fields[6], "Y");
        r->ep = !strcmp(fields[7], "Y");
    }
    fclose(f);
    return nrows > 0 ? 0 : -1;
}

static const struct ims_route *find(enum ims_method m, const char *path)
{
    for (size_t i = 0; i < ims_api_nroutes; i++)
        if ((ims_api_routes[i].methods & m) && !strcmp(ims_api_routes[i].pattern, path))
            return &ims_api_routes[i];
    return NULL;
}

static void test_every_row_has_its_route(void **state)
{
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        const struct ims_route *route = find(ims_method_parse(r->method), r->path);
        if (!route)
            fail_msg("no route for %s %s", r->method, r->path);
        if (!strcmp(r->actions, "N/A")) {
            if (route->actions)
                fail_msg("%s %s: table says N/A, route requires %s", r->method, r->path, route->actions);
        } else if (!route->actions || strcmp(route->actions, r->actions)) {
            fail_msg("%s %s: table says %s, route says %s", r->method, r->path, r->actions,
                     route->actions ? route->actions : "N/A");
        }
        bool conditional = route->deferred || (route->actions && strchr(route->actions, '|'));
        if (conditional != (r->condition[0] != 0))
            fail_msg("%s %s: the table's condition '%s' is not reflected in the route", r->method, r->path,
                     r->condition);
        if (route->deferred && !strstr(r->condition, route->deferred))
            fail_msg("%s %s: deferred action %s is not the one the condition names", r->method, r->path,
                     route->deferred);
        if (route->iam_project != r->iam || route->enterprise_project != r->ep)
            fail_msg("%s %s: scope flags iam=%d ep=%d, table iam=%d ep=%d", r->method, r->path, route->iam_project,
                     route->enterprise_project, r->iam, r->ep);
    }
}

static void test_every_route_is_in_the_table(void **state)
{
    for (size_t i = 0; i < ims_api_nroutes; i++) {
        const struct ims_route *route = &ims_api_routes[i];
        if (route->flags & IMS_ROUTE_UNLISTED)
            continue;
        for (unsigned m = 1; m <= IMS_OPTIONS; m <<= 1) {
            if (!(route->methods & m))
                continue;
            bool found = false;
            for (size_t k = 0; k < nrows && !found; k++)
                found = ims_method_parse(rows[k].method) == (enum ims_method)m && !strcmp(rows[k].path, route->pattern);
            if (!found)
                fail_msg("route %s %s is not in the permission table (mark it UNLISTED if it should not be)",
                         ims_method_name((enum ims_method)m), route->pattern);
        }
    }
}

/* Only what is not the image service may stay out of the permission table:
 * the version documents, the identity and IAM APIs (IAM is a global
 * service: each handler checks its own iam:/eps: action) and the compute
 * admin API (cloud administrators only). Every image route, Glance's
 * metadata definitions, import and tasks included, has its row, so its
 * actions are the table's and the authorization matrix tests each. */
static void test_only_other_services_are_unlisted(void **state)
{
    static const char *const prefixes[] = {"/v3", "/v1.0/enterprise-projects", "/v1/admin/"};
    (void)state;
    for (size_t i = 0; i < ims_api_nroutes; i++) {
        const struct ims_route *route = &ims_api_routes[i];
        if (!(route->flags & IMS_ROUTE_UNLISTED))
            continue;
        bool other = !strcmp(route->pattern, "/versions") || !strcmp(route->pattern, "/v2");
        for (size_t k = 0; k < IMS_ARRAY_SIZE(prefixes) && !other; k++)
            other = !strncmp(route->pattern, prefixes[k], strlen(prefixes[k]));
        if (!other)
            fail_msg("image route %s is UNLISTED: give it a row in spec/api-permissions.tsv", route->pattern);
    }
}

static void test_required_actions(void **state)
{
    char out[256];
    const struct ims_route *patch = find(IMS_PATCH, "/v2/cloudimages/{image_id}");
    assert_non_null(patch);
    assert_true(ims_route_required_actions(patch, out, sizeof(out)));
    assert_string_equal(out, "ims:images:update");
    const struct ims_route *upload = find(IMS_PUT, "/v2/images/{image_id}/file");
    assert_true(ims_route_required_actions(upload, out, sizeof(out)));
    assert_string_equal(out, "ims:images:get+ims:images:update+ims:images:upload");
    assert_false(ims_route_required_actions(find(IMS_POST, "/v2/cloudimages/quickimport/action"), out, sizeof(out)));
    assert_false(ims_route_required_actions(find(IMS_GET, "/v2/schemas/image"), out, sizeof(out)));
}

/* Glance's routes match exactly ("/v2/images/" is 404 in Glance), so every
 * route under Glance's prefixes carries IMS_ROUTE_EXACT. */
static void test_glance_routes_are_exact(void **state)
{
    static const char *const prefixes[] = {"/v2/images", "/v2/schemas/", "/v1/images/", "/v1.1/images/",
                                           "/v2/metadefs/"};
    size_t seen = 0;
    for (size_t i = 0; i < ims_api_nroutes; i++) {
        const struct ims_route *route = &ims_api_routes[i];
        for (size_t k = 0; k < IMS_ARRAY_SIZE(prefixes); k++) {
            if (strncmp(route->pattern, prefixes[k], strlen(prefixes[k])) != 0)
                continue;
            seen++;
            if (!(route->flags & IMS_ROUTE_EXACT))
                fail_msg("Glance route %s is not IMS_ROUTE_EXACT", route->pattern);
        }
    }
    assert_true(seen >= 20);
}

/* Readers are refused every write: every method but GET and HEAD of every
 * route writes, except logins and the two routes marked as reads. */
static void test_writes(void **state)
{
    (void)state;
    size_t reads = 0;
    for (size_t i = 0; i < ims_api_nroutes; i++) {
        const struct ims_route *r = &ims_api_routes[i];
        if (r->flags & IMS_ROUTE_READS) {
            reads++;
            assert_true(!strcmp(r->pattern, "/v2/{project_id}/images/resource_instances/action") ||
                        !strcmp(r->pattern, "/v3/auth/tokens"));
        }
        for (unsigned m = 1; m <= IMS_OPTIONS; m <<= 1) {
            if (!(r->methods & m))
                continue;
            bool read = m == IMS_GET || m == IMS_HEAD || (r->flags & (IMS_ROUTE_PUBLIC | IMS_ROUTE_READS));
            if (ims_route_writes(r, (enum ims_method)m) == read)
                fail_msg("%s %s: writes is %d", ims_method_name((enum ims_method)m), r->pattern, !read);
        }
    }
    assert_int_equal(reads, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_has_its_route),
        cmocka_unit_test(test_every_route_is_in_the_table),
        cmocka_unit_test(test_only_other_services_are_unlisted),
        cmocka_unit_test(test_required_actions),
        cmocka_unit_test(test_glance_routes_are_exact),
        cmocka_unit_test(test_writes),
    };
    return cmocka_run_group_tests_name("route table", tests, load, NULL);
}
