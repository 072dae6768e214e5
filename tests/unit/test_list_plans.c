/* SPDX-License-Identifier: Apache-2.0
 * Every image-list filter and sort key costs a page, not the catalogue:
 * on N images where a filter matches 0.2% of them, all of them, or none,
 * the list statement runs fewer SQLite virtual-machine steps than there are
 * images (a walk of the catalogue takes several per image), sorts nothing
 * a page of a filter most images match, and answers exactly the matching images in the
 * list's order, page after page through markers. The images holding a
 * blob (a location PATCH's check) cost their rows too. The counts come from
 * SQLite itself (sqlite3_stmt_status through a profile hook every
 * connection of the process gets), not from timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ims/db.h"
#include "ims/query.h"
#include "db_files.h"

#define N 6000     /* images */
#define RARE 500   /* every RARE-th image is the rare one: 0.2% */
#define NRARE (N / RARE)

static char path[64];
static struct ims_db *db;
static struct ims_dbc *c;

/* the last list's counters: SQLite VM steps and sorts */
static int64_t last_steps = -1, last_sorts = -1;
static char last_sql[8192];
/* statements that counted a property's images (probe_few_props) */
static int prop_counts;
/* statements that read images' custom properties by image (what
 * images.props_text saves a page since migration 26) */
static int prop_row_reads;

static int profile(unsigned type, void *ctx, void *p, void *x)
{
    (void)ctx;
    (void)x;
    if (type != SQLITE_TRACE_PROFILE)
        return 0;
    sqlite3_stmt *st = p;
    const char *sql = sqlite3_sql(st);
    int steps = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
    int sorts = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_SORT, 1);
    if (sql && strstr(sql, "SELECT COUNT(*) FROM (SELECT 1 FROM image_properties"))
        prop_counts++;
    if (sql && strstr(sql, "FROM image_properties WHERE image_id"))
        prop_row_reads++;
    if (sql && ((strstr(sql, " ORDER BY ") && strstr(sql, " LIMIT ?")) || strstr(sql, "WHERE location = ? UNION"))) {
        /* summed over the list's statements (a list in parts runs one a
         * part) */
        last_steps = (last_steps < 0 ? 0 : last_steps) + steps;
        last_sorts = (last_sorts < 0 ? 0 : last_sorts) + sorts;
        char *text = sqlite3_expanded_sql(st);
        snprintf(last_sql, sizeof(last_sql), "%s", text ? text : sql);
        sqlite3_free(text);
    }
    return 0;
}

static int hook(sqlite3 *h, char **msg, const struct sqlite3_api_routines *api)
{
    (void)msg;
    (void)api;
    sqlite3_trace_v2(h, SQLITE_TRACE_PROFILE, profile, NULL);
    return SQLITE_OK;
}

static void exec(sqlite3 *h, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Image k (1..N): created at second k; the rare ones (k % RARE == 0) differ
 * in every filtered column, are public, owned by p2, tagged and carry
 * custom=x; the others are p1's, private, custom=y. */
static int setup(void **state)
{
    (void)state;
    sqlite3_auto_extension((void (*)(void))hook);
    snprintf(path, sizeof(path), "/tmp/test_list_plans.%d.db", (int)getpid());
    unlink(path);
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    c = ims_db_conn(db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    exec(h, "BEGIN");
    exec(h,
         "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 6000), "
         "r(k, rare) AS (SELECT k, k % 500 = 0 FROM n) "
         "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, container_format, "
         "disk_format, size, virtual_size, checksum, os_hash_algo, os_hash_value, min_disk, min_ram, "
         "enterprise_project_id, created_at, updated_at, p_os_type, p_platform, p_os_bit, p_imagetype, "
         "p_isregistered, p_virtual_env_type, p_image_source_type, p_os_version, p_is_config_init, p_image_size, "
         "extras, tags_text) "
         "SELECT printf('%08x-0000-4000-8000-%012x', k, k), CASE WHEN rare THEN 'p2' ELSE 'p1' END, "
         "CASE WHEN rare THEN 'rare' ELSE 'common' END, CASE WHEN rare THEN 'active' ELSE 'queued' END, "
         "CASE WHEN rare THEN 'public' ELSE 'private' END, rare, 0, CASE WHEN rare THEN 'ovf' ELSE 'bare' END, "
         "CASE WHEN rare THEN 'raw' ELSE 'qcow2' END, CASE WHEN rare THEN 1 ELSE 1000 END, "
         "CASE WHEN rare THEN 2 ELSE 2000 END, CASE WHEN rare THEN 'c1' ELSE 'c0' END, "
         "CASE WHEN rare THEN 'sha256' ELSE 'sha512' END, CASE WHEN rare THEN 'h1' ELSE 'h0' END, "
         "rare, CASE WHEN rare THEN 512 ELSE 0 END, CASE WHEN rare THEN 'e1e1e1e1-0000-4000-8000-000000000001' ELSE '0' END, k, k + 1, "
         "CASE WHEN rare THEN 'Windows' ELSE 'Linux' END, CASE WHEN rare THEN 'Windows' ELSE 'Ubuntu' END, "
         "CASE WHEN rare THEN '32' ELSE '64' END, CASE WHEN rare THEN 'gold' ELSE 'private' END, "
         "'true', CASE WHEN rare THEN 'BMS' ELSE 'FusionCompute' END, "
         "CASE WHEN rare THEN 'obs' ELSE 'uds' END, CASE WHEN rare THEN 'Windows 10' ELSE 'Ubuntu 22.04' END, "
         "CASE WHEN rare THEN 'false' ELSE 'true' END, CASE WHEN rare THEN '7' ELSE '1' END, "
         "1, CASE WHEN rare THEN '4:rare' ELSE '' END FROM r");
    exec(h, "INSERT INTO image_tags (image_id, value, created_at) SELECT id, 'rare', created_at FROM images "
            "WHERE name = 'rare'");
    exec(h, "INSERT INTO image_properties (image_id, name, value, created_at) SELECT id, 'custom', "
            "CASE WHEN name = 'rare' THEN 'x' ELSE 'y' END, created_at FROM images");
    /* every sixth image: a property as many images have as a "few" one may */
    exec(h, "INSERT INTO image_properties (image_id, name, value, created_at) SELECT id, 'sixth', 'z', created_at "
            "FROM images WHERE created_at % 6 = 0");
    /* in the rows too, as imsd writes them (migration 26) */
    exec(h, "UPDATE images SET props_text = CASE WHEN name = 'rare' THEN '6:custom1:x' ELSE '6:custom1:y' END || "
            "CASE WHEN created_at % 6 = 0 THEN '5:sixth1:z' ELSE '' END");
    exec(h, "INSERT INTO image_members (image_id, member, status, created_at, updated_at) "
            "SELECT id, 'p3', 'accepted', 1, 1 FROM images WHERE name = 'rare'");
    exec(h, "UPDATE images SET visibility = 'shared' WHERE name = 'rare' AND created_at % 1000 = 0");
    /* unregistered: twelve images that are not the rare ones (these stay
     * in the IMS lists, which show only registered images) */
    exec(h, "UPDATE images SET p_isregistered = 'false' WHERE created_at % 500 = 250");
    exec(h, "COMMIT");
    sqlite3_close(h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ims_db_close(db);
    db_files_remove(path);
    sqlite3_reset_auto_extension();
    return 0;
}

static bool is_rare(const struct ims_image *img)
{
    return img->created_at % RARE == 0;
}

/* One page of query qs ("k=v&k=v", Glance or IMS dialect) as viewer v; fails
 * the test when the statement ran as many steps as there are images, or
 * (sorted says it must not) sorted. */
enum { MAY_SORT = 1, MAY_WALK = 2 };

static size_t page(enum ims_query_dialect d, const char *qs, const struct ims_viewer *v, const char *marker,
                   int may, struct ims_image **ret)
{
    struct ims_kvlist params = {0};
    struct ims_err err;
    assert_int_equal(ims_query_string_parse(qs, 64, &params, &err), IMS_OK);
    struct ims_query_limits lim = {.default_limit = 25, .max_limit = 1000};
    struct ims_image_query q;
    if (ims_image_query_parse_dialect(&params, &lim, d, &q, &err) != IMS_OK)
        fail_msg("%s: %s", qs, err.msg);
    ims_kvlist_release(&params);
    struct ims_image m = {0};
    if (marker)
        assert_int_equal(ims_repo_image_get(c, marker, &m, &err), IMS_OK);
    size_t n = 0;
    last_steps = last_sorts = -1;
    if (ims_repo_image_list(c, &q, marker ? &m : NULL, v, ret, &n, &err) != IMS_OK)
        fail_msg("%s: %s", qs, err.msg);
    if (marker)
        ims_image_release(&m);
    ims_image_query_release(&q);
    if (last_steps < 0)
        fail_msg("%s: the list statement was not seen", qs);
    if (last_steps >= N && !(may & MAY_WALK))
        fail_msg("%s%s%s: %lld steps on %d images: the list walked the catalogue\n%s", qs,
                 marker ? " after " : "", marker ? marker : "", (long long)last_steps, N, last_sql);
    if (!(may & MAY_SORT) && last_sorts > 0)
        fail_msg("%s: the list sorted its rows\n%s", qs, last_sql);
    return n;
}

/* Every filter at 0.2%, all and none, as p1 (sees its own and the public
 * images) and as an administrator; the rare images page through markers in
 * the list's order. */
static void test_filters_cost_a_page(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    struct ims_viewer p1 = {.project_id = "p1", .ep_scope = IMS_EP_SCOPE_ALL};
    const struct ims_viewer *viewers[] = {&admin, &p1};
    static const struct {
        enum ims_query_dialect d;
        const char *rare, *common, *none;
    } filters[] = {
        {IMS_QUERY_GLANCE, "status=active", "status=queued", "status=killed"},
        {IMS_QUERY_GLANCE, "name=rare", "name=common", "name=none"},
        {IMS_QUERY_GLANCE, "owner=p2", "owner=p1", "owner=p7"},
        {IMS_QUERY_GLANCE, "container_format=ovf", "container_format=bare", "container_format=ova"},
        {IMS_QUERY_GLANCE, "disk_format=raw", "disk_format=qcow2", "disk_format=vhd"},
        {IMS_QUERY_GLANCE, "checksum=c1", "checksum=c0", "checksum=c2"},
        {IMS_QUERY_GLANCE, "os_hash_value=h1", "os_hash_value=h0", "os_hash_value=h2"},
        {IMS_QUERY_GLANCE, "size=1", "size=1000", "size=3"},
        {IMS_QUERY_GLANCE, "virtual_size=2", "virtual_size=2000", "virtual_size=3"},
        {IMS_QUERY_GLANCE, "min_disk=1", "min_disk=0", "min_disk=9"},
        {IMS_QUERY_GLANCE, "min_ram=512", "min_ram=0", "min_ram=9"},
        {IMS_QUERY_GLANCE, "protected=true", "protected=false", NULL},
        {IMS_QUERY_GLANCE, "visibility=public", "visibility=private", "visibility=community"},
        {IMS_QUERY_GLANCE, "tag=rare", NULL, "tag=none"},
        {IMS_QUERY_GLANCE, "custom=x", "custom=y", "custom=z"},
        {IMS_QUERY_GLANCE, "__os_type=Windows", "__os_type=Linux", "__os_type=Other"},
        {IMS_QUERY_GLANCE, "__platform=Windows", "__platform=Ubuntu", "__platform=Other"},
        {IMS_QUERY_GLANCE, "__os_bit=32", "__os_bit=64", NULL},
        {IMS_QUERY_GLANCE, "__is_config_init=false", "__is_config_init=true", NULL},
        {IMS_QUERY_GLANCE, "virtual_env_type=BMS", "virtual_env_type=FusionCompute", "virtual_env_type=x"},
        {IMS_QUERY_GLANCE, "__os_version=Windows%2010", "__os_version=Ubuntu%2022.04", "__os_version=x"},
        {IMS_QUERY_GLANCE, "status=in:active,killed", "status=in:queued,killed", "status=in:killed,deleted"},
        /* system attributes whose index holds only the images without the
         * value every image imsd makes has (migration 25): another value
         * from that index, the common one by the list's order */
        {IMS_QUERY_GLANCE, "__imagetype=gold", "__imagetype=private", "__imagetype=shared"},
        {IMS_QUERY_GLANCE, "__image_source_type=obs", "__image_source_type=uds", "__image_source_type=x"},
        {IMS_QUERY_IMS, "enterprise_project_id=e1e1e1e1-0000-4000-8000-000000000001", "enterprise_project_id=0",
         "enterprise_project_id=e9e9e9e9-0000-4000-8000-000000000009"},
        {IMS_QUERY_IMS, "__platform=Windows", "__platform=Ubuntu", "__platform=Other"},
        {IMS_QUERY_IMS, "status=active", "status=queued", "status=killed"},
    };
    for (size_t vi = 0; vi < IMS_ARRAY_SIZE(viewers); vi++) {
        const struct ims_viewer *v = viewers[vi];
        for (size_t i = 0; i < IMS_ARRAY_SIZE(filters); i++) {
            char qs[256];
            struct ims_image *imgs;
            size_t n;
            /* the rare ones: all of them, newest first, two at a time */
            if (filters[i].rare) {
                /* p1 sees the public rare images, not the shared ones */
                int64_t expect_created = N / RARE * RARE;
                bool skip_shared = !v->is_admin || strcmp(filters[i].rare, "visibility=public") == 0;
                size_t seen = 0;
                char marker[IMS_UUID_LEN + 1] = "";
                for (;;) {
                    snprintf(qs, sizeof(qs), "%s&limit=2", filters[i].rare);
                    n = page(filters[i].d, qs, v, marker[0] ? marker : NULL, MAY_SORT, &imgs);
                    for (size_t k = 0; k < n; k++) {
                        if (!is_rare(&imgs[k]))
                            fail_msg("%s: image %lld is not a match", qs, (long long)imgs[k].created_at);
                        while (skip_shared && expect_created % 1000 == 0 && expect_created > 0)
                            expect_created -= RARE; /* shared with p3 only */
                        assert_int_equal(imgs[k].created_at, expect_created);
                        expect_created -= RARE;
                        seen++;
                    }
                    if (n)
                        snprintf(marker, sizeof(marker), "%s", imgs[n - 1].id);
                    ims_image_array_free(imgs, n);
                    if (n < 2)
                        break;
                }
                if (seen != (skip_shared ? NRARE / 2 : NRARE))
                    fail_msg("%s: %zu images", filters[i].rare, seen);
            }
            if (filters[i].common) {
                /* an in: list's parts are merged as their indexes give
                 * them, never sorted; a caller's view with a filter is
                 * checked on the filter's rows */
                int common_may = !strstr(filters[i].common, "in:") && !v->is_admin ? MAY_SORT : 0;
                n = page(filters[i].d, filters[i].common, v, NULL, common_may, &imgs);
                assert_int_equal(n, 25);
                for (size_t k = 0; k < n; k++)
                    assert_false(is_rare(&imgs[k]));
                /* the next page, from the last one's marker */
                char marker[IMS_UUID_LEN + 1];
                snprintf(marker, sizeof(marker), "%s", imgs[n - 1].id);
                int64_t last = imgs[n - 1].created_at;
                ims_image_array_free(imgs, n);
                n = page(filters[i].d, filters[i].common, v, marker, common_may, &imgs);
                assert_int_equal(n, 25);
                assert_true(imgs[0].created_at < last);
                ims_image_array_free(imgs, n);
            }
            if (filters[i].none) {
                n = page(filters[i].d, filters[i].none, v, NULL, MAY_SORT, &imgs);
                assert_int_equal(n, 0);
                ims_image_array_free(imgs, n);
            }
        }
    }
}

/* Every Glance sort key, both ways, with and without a marker: a page is
 * read from the key's index in order, never sorted. */
static void test_sort_keys_cost_a_page(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    struct ims_viewer p1 = {.project_id = "p1", .ep_scope = IMS_EP_SCOPE_ALL};
    struct ims_viewer p3 = {.project_id = "p3", .ep_scope = IMS_EP_SCOPE_ALL};
    const struct ims_viewer *viewers[] = {&admin, &p1, &p3};
    static const char *const keys[] = {"name", "status", "container_format", "disk_format", "size",
                                       "virtual_size", "id", "created_at", "updated_at", "visibility",
                                       "owner", "protected", "min_disk", "min_ram", "os_hidden"};
    for (size_t vi = 0; vi < IMS_ARRAY_SIZE(viewers); vi++)
        for (size_t i = 0; i < IMS_ARRAY_SIZE(keys); i++)
            for (int desc = 0; desc < 2; desc++) {
                char qs[128];
                snprintf(qs, sizeof(qs), "sort_key=%s&sort_dir=%s", keys[i], desc ? "desc" : "asc");
                struct ims_image *imgs;
                /* p3 sees the twelve rare images (public, or shared with
                 * it): in the default order, the union of its view's parts,
                 * each read from its index, sorted; in another order the
                 * key's index is walked and the view checked on each image
                 * (the limit of this design: a caller seeing few of many
                 * images in a non-default order walks them) */
                bool few = viewers[vi] == &p3;
                int may = viewers[vi]->is_admin ? 0 : MAY_SORT;
                if (few && !ims_streq(keys[i], "created_at"))
                    may |= MAY_WALK;
                size_t n = page(IMS_QUERY_GLANCE, qs, viewers[vi], NULL, may, &imgs);
                assert_int_equal(n, few ? NRARE : 25);
                char marker[IMS_UUID_LEN + 1];
                snprintf(marker, sizeof(marker), "%s", imgs[few ? 5 : n - 1].id);
                ims_image_array_free(imgs, n);
                n = page(IMS_QUERY_GLANCE, qs, viewers[vi], marker, may | MAY_SORT, &imgs);
                assert_int_equal(n, few ? NRARE - 6 : 25);
                ims_image_array_free(imgs, n);
                /* from the middle of the catalogue (image 3001, p1's): a
                 * page that may be the union of parts, so sorted */
                n = page(IMS_QUERY_GLANCE, qs, viewers[vi], "00000bb9-0000-4000-8000-000000000bb9", may | MAY_SORT,
                         &imgs);
                if (!few)
                    assert_int_equal(n, 25);
                ims_image_array_free(imgs, n);
            }
}

/* A caller who sees few of the images (p3: the public rare ones and those
 * shared with it) pages through exactly them, newest first, each page
 * costing a page; with member_status=pending the shared ones drop out, and
 * visibility=all adds nothing here (no community images). */
static void test_small_view_costs_a_page(void **state)
{
    (void)state;
    struct ims_viewer p3 = {.project_id = "p3", .ep_scope = IMS_EP_SCOPE_ALL};
    static const struct {
        const char *qs;
        size_t expect;
    } cases[] = {{"limit=5", NRARE}, {"limit=5&visibility=all", NRARE}, {"limit=5&member_status=pending", NRARE / 2}};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
        char marker[IMS_UUID_LEN + 1] = "";
        int64_t expect_created = N;
        size_t seen = 0, n;
        do {
            struct ims_image *imgs;
            /* the view's parts merged as their indexes give them: no sort */
            n = page(IMS_QUERY_GLANCE, cases[i].qs, &p3, marker[0] ? marker : NULL, 0, &imgs);
            for (size_t k = 0; k < n; k++) {
                while (cases[i].expect < NRARE && expect_created % 1000 == 0)
                    expect_created -= RARE;
                assert_int_equal(imgs[k].created_at, expect_created);
                expect_created -= RARE;
                seen++;
            }
            if (n)
                snprintf(marker, sizeof(marker), "%s", imgs[n - 1].id);
            ims_image_array_free(imgs, n);
        } while (n == 5);
        assert_int_equal(seen, cases[i].expect);
    }
}

/* A custom property 1,000 of the 6,000 images have (as many as one found
 * through its index may): the default order's pages walk the property's
 * index in that order, neither collecting its thousand images nor sorting
 * them, newest first through markers. */
static void test_few_property_walks_its_index(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    char marker[IMS_UUID_LEN + 1] = "";
    int64_t expect = N;
    for (int pg = 0; pg < 3; pg++) {
        struct ims_image *imgs;
        size_t n = page(IMS_QUERY_GLANCE, "sixth=z&limit=25", &admin, marker[0] ? marker : NULL, 0, &imgs);
        assert_int_equal(n, 25);
        for (size_t k = 0; k < n; k++, expect -= 6)
            assert_int_equal(imgs[k].created_at, expect);
        if (last_steps >= 2000) /* a page's rows read, about 1,100 */
            fail_msg("%lld steps for a page of 25\n%s", (long long)last_steps, last_sql);
        snprintf(marker, sizeof(marker), "%s", imgs[n - 1].id);
        ims_image_array_free(imgs, n);
    }
}

/* A custom property nearly every image has (custom=y: all but the rare
 * ones), the list's only filter: its pages walk the property's index in
 * the list's order (no correlated probe of each image walked), without
 * counting first how many images have it; newest first through markers,
 * exactly the images that have it. */
static void test_sole_property_walks_its_index(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    char marker[IMS_UUID_LEN + 1] = "";
    int64_t expect = N - 1;
    prop_counts = 0;
    for (int pg = 0; pg < 3; pg++) {
        struct ims_image *imgs;
        size_t n = page(IMS_QUERY_GLANCE, "custom=y&limit=25", &admin, marker[0] ? marker : NULL, 0, &imgs);
        assert_int_equal(n, 25);
        for (size_t k = 0; k < n; k++, expect--) {
            if (expect % RARE == 0)
                expect--;
            assert_int_equal(imgs[k].created_at, expect);
        }
        if (!strstr(last_sql, "FROM image_properties t0"))
            fail_msg("custom=y: not driven by the property's index\n%s", last_sql);
        snprintf(marker, sizeof(marker), "%s", imgs[n - 1].id);
        ims_image_array_free(imgs, n);
    }
    assert_int_equal(prop_counts, 0);
}

/* __isregistered is true for nearly every image, and its index holds only
 * the others (migration 25): the twelve unregistered ones page from it,
 * newest first, and a page of registered ones walks the default order;
 * neither walks the catalogue. */
static void test_unregistered_images_cost_a_page(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    char marker[IMS_UUID_LEN + 1] = "";
    int64_t expect = N - RARE / 2;
    size_t n, seen = 0;
    do {
        struct ims_image *imgs;
        n = page(IMS_QUERY_GLANCE, "__isregistered=false&limit=5", &admin, marker[0] ? marker : NULL, 0, &imgs);
        for (size_t k = 0; k < n; k++, expect -= RARE, seen++)
            assert_int_equal(imgs[k].created_at, expect);
        if (n)
            snprintf(marker, sizeof(marker), "%s", imgs[n - 1].id);
        ims_image_array_free(imgs, n);
    } while (n == 5);
    assert_int_equal(seen, N / RARE);
    struct ims_image *imgs;
    n = page(IMS_QUERY_GLANCE, "__isregistered=true", &admin, NULL, 0, &imgs);
    assert_int_equal(n, 25);
    for (size_t k = 0; k < n; k++)
        assert_int_not_equal(imgs[k].created_at % RARE, RARE / 2);
    ims_image_array_free(imgs, n);
}

/* After a marker on a key the index holds as an expression (name), with
 * more conditions than the split statements repeat (an in: list of 70
 * names): one statement, and still the page after the marker. */
static void test_marker_with_many_conditions(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    char qs[2048];
    int len = snprintf(qs, sizeof(qs), "sort_key=name&sort_dir=desc&name=in:common,rare");
    for (int i = 0; i < 70; i++)
        len += snprintf(qs + len, sizeof(qs) - (size_t)len, ",n%d", i);
    struct ims_image *imgs;
    /* image 3001 is common: after it, the common ones older than it */
    size_t n = page(IMS_QUERY_GLANCE, qs, &admin, "00000bb9-0000-4000-8000-000000000bb9", MAY_SORT | MAY_WALK, &imgs);
    assert_int_equal(n, 25);
    assert_int_equal(imgs[0].created_at, 2999);
    for (size_t k = 0; k < n; k++)
        assert_false(is_rare(&imgs[k]));
    ims_image_array_free(imgs, n);
}

/* A page, after a marker anywhere in the catalogue, reads its images'
 * custom properties from their rows (images.props_text), not one
 * image_properties lookup per image: at 100,000 images, where the
 * rendered-document cache holds a tenth of them, that read was a fifth of
 * a page's CPU. What the page shows is the same. */
static void test_page_reads_no_property_rows(void **state)
{
    (void)state;
    struct ims_viewer admin = {.project_id = "p9", .is_admin = true, .ep_scope = IMS_EP_SCOPE_ALL};
    struct ims_image *imgs;
    prop_row_reads = 0;
    /* image 3001: the page holds 3000 .. 2976, rare 3000 among them */
    size_t n = page(IMS_QUERY_GLANCE, "", &admin, "00000bb9-0000-4000-8000-000000000bb9", 0, &imgs);
    assert_int_equal(n, 25);
    assert_int_equal(prop_row_reads, 0);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(imgs[k].created_at, 3000 - (int64_t)k);
        assert_string_equal(ims_kvlist_get(&imgs[k].props, "custom"), is_rare(&imgs[k]) ? "x" : "y");
        const char *sixth = ims_kvlist_get(&imgs[k].props, "sixth");
        if (imgs[k].created_at % 6 == 0)
            assert_string_equal(sixth, "z");
        else
            assert_null(sixth);
        /* in name order, the promoted attributes among them */
        for (size_t i = 1; i < imgs[k].props.n; i++)
            assert_true(strcmp(imgs[k].props.items[i - 1].key, imgs[k].props.items[i].key) < 0);
    }
    ims_image_array_free(imgs, n);
}

/* The images holding a blob (a location PATCH's check that the tenant may
 * read each) are found by index, not by a walk of the catalogue: the
 * statement runs fewer steps than there are images (the build before
 * migration 24 walked them all, about 3 steps each). */
static void test_blob_holders_cost_their_rows(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    exec(h, "UPDATE images SET location = 's3://held' WHERE created_at IN (7, 4000)");
    exec(h, "INSERT INTO image_properties (image_id, name, value, created_at) SELECT id, 'os_glance_location_b', "
            "'s3://held', created_at FROM images WHERE created_at = 5000");
    exec(h, "INSERT INTO blobs (location, refs, writer, lease_until, created_at) VALUES ('s3://held', 3, NULL, 0, 0)");
    sqlite3_close(h);
    int64_t refs = -1;
    struct ims_strlist ids = {0};
    struct ims_err err;
    last_steps = -1;
    assert_int_equal(ims_repo_blob_holders(c, "s3://held", "os_glance_location_b", &refs, &ids, &err), IMS_OK);
    assert_int_equal(refs, 3);
    assert_int_equal(ids.n, 3);
    assert_true(ims_strlist_contains(&ids, "00000007-0000-4000-8000-000000000007"));
    assert_true(ims_strlist_contains(&ids, "00000fa0-0000-4000-8000-000000000fa0"));
    assert_true(ims_strlist_contains(&ids, "00001388-0000-4000-8000-000000001388"));
    ims_strlist_release(&ids);
    if (last_steps < 0 || last_steps >= N)
        fail_msg("%lld steps on %d images: the holders' lookup walked the catalogue\n%s", (long long)last_steps, N,
                 last_sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_cost_a_page),
        cmocka_unit_test(test_sort_keys_cost_a_page),
        cmocka_unit_test(test_small_view_costs_a_page),
        cmocka_unit_test(test_marker_with_many_conditions),
        cmocka_unit_test(test_few_property_walks_its_index),
        cmocka_unit_test(test_sole_property_walks_its_index),
        cmocka_unit_test(test_blob_holders_cost_their_rows),
        cmocka_unit_test(test_page_reads_no_property_rows),
        cmocka_unit_test(test_unregistered_images_cost_a_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
