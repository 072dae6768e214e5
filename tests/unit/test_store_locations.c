/* SPDX-License-Identifier: Apache-2.0
 * Blob locations name their store. An image stored before locations had a
 * scheme (a plain "ab/<uuid>") reads as file://ab/<uuid> after the
 * migration and its data still reads back through the store router; the
 * router sends new data to its first store and every location to the store
 * its scheme names, and refuses locations no store has (a plain path
 * included: it never reaches the file system). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/db.h"
#include "ims/store.h"
#include "old_schema.h"

extern const size_t ims_nmigrations;

#define IMG_ID "11111111-1111-1111-1111-111111111111"
#define BLOB "5e/5e0a4b62-3c1d-4f0e-9a8b-7c6d5e4f3a2b"

/* What the repository knows, as recovery asks it: a list, how many
 * questions it was asked and about how many locations. */
struct known_list {
    struct ims_blob_known known;
    const struct ims_strlist *list;
    int asked, locations;
};

static void in_list(void *ctx, const char *const *locations, size_t n, bool *ret)
{
    struct known_list *k = ctx;
    assert_true(n >= 1 && n <= IMS_BLOB_KNOWN_BATCH);
    k->asked++;
    k->locations += (int)n;
    for (size_t i = 0; i < n; i++)
        ret[i] = ims_strlist_contains(k->list, locations[i]);
}

static const char data[] = "an image stored before locations had a scheme\n";

static char dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The migration that gives locations their scheme. */
static size_t scheme_migration(void)
{
    for (size_t v = 0; v < ims_nmigrations; v++)
        if (strstr(ims_migrations[v], "'file://' || location"))
            return v;
    fail_msg("no migration gives locations a scheme");
    return 0;
}

static void read_all(struct ims_store *s, const char *location)
{
    struct ims_blob_reader rd;
    struct ims_err err;
    if (s->ops->open_read(s, location, &rd, &err) != IMS_OK)
        fail_msg("open_read %s: %s", location, err.msg);
    assert_int_equal(rd.size, sizeof(data) - 1);
    char back[sizeof(data)] = {0};
    ssize_t n = rd.read ? rd.read(rd.ctx, 0, back, sizeof(back)) : pread(rd.fd, back, sizeof(back), 0);
    assert_int_equal(n, (ssize_t)(sizeof(data) - 1));
    assert_string_equal(back, data);
    if (rd.read)
        rd.close(rd.ctx);
    else
        close(rd.fd);
}

static void test_old_location_reads_after_migration(void **state)
{
    (void)state;
    /* a data dir as the version before the migration left it */
    char path[128], blob[128];
    snprintf(path, sizeof(path), "%s/imsd.db", dir);
    snprintf(blob, sizeof(blob), "%s/images/5e", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(blob, sizeof(blob), "%s/images", dir);
    assert_int_equal(mkdir(blob, 0700), 0);
    snprintf(blob, sizeof(blob), "%s/images/5e", dir);
    assert_int_equal(mkdir(blob, 0700), 0);
    snprintf(blob, sizeof(blob), "%s/images/%s", dir, BLOB);
    FILE *f = fopen(blob, "w");
    assert_non_null(f);
    fputs(data, f);
    fclose(f);
    size_t before = scheme_migration();
    sqlite3 *db = old_schema_create(path, before);
    old_schema_exec(db, "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, min_disk, min_ram, "
             "enterprise_project_id, created_at, updated_at, size, location) VALUES "
             "('" IMG_ID "', 'p1', 'old', 'active', 'private', 0, 0, 0, 0, '0', 1, 1, 46, '" BLOB "')");
    sqlite3_close(db);

    struct ims_db *repo;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &repo, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_image img;
    assert_int_equal(ims_repo_image_get(ims_db_conn(repo), IMG_ID, &img, &err), IMS_OK);
    assert_string_equal(img.blob, "file://" BLOB);

    struct ims_store *file, *router;
    assert_int_equal(ims_store_file_open(dir, true, &file, &err), IMS_OK);
    assert_int_equal(ims_store_router_open(&file, 1, &router, &err), IMS_OK);
    read_all(router, img.blob);
    /* the old spelling, and locations of stores not configured, are refused */
    struct ims_blob_reader rd;
    assert_int_equal(router->ops->open_read(router, BLOB, &rd, &err), IMS_E_IO);
    assert_int_equal(router->ops->open_read(router, "s3://bucket/" BLOB, &rd, &err), IMS_E_IO);
    assert_int_equal(router->ops->open_read(router, "file://../../etc/passwd", &rd, &err), IMS_E_IO);
    assert_int_equal(router->ops->remove(router, "s3://bucket/" BLOB, &err), IMS_E_IO);

    /* new data carries the scheme too, and recovery keeps what is referenced */
    struct ims_store_writer *w;
    char *location = NULL;
    assert_int_equal(router->ops->writer_open(router, -1, &w, &err), IMS_OK);
    assert_int_equal(router->ops->write(w, data, sizeof(data) - 1, &err), IMS_OK);
    assert_int_equal(router->ops->commit(w, &location, NULL, &err), IMS_OK);
    assert_int_equal(strncmp(location, "file://", 7), 0);
    read_all(router, location);
    struct ims_strlist refs = {0};
    ims_strlist_add(&refs, img.blob);
    struct known_list known = {.known = {in_list, &known}, .list = &refs};
    int64_t temp = -1, orphans = -1;
    /* within the grace period another process may be about to reference
     * it, and a live writer's temporary file stays; a gone writer's goes */
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s/tmp/00000000-0000-4000-8000-000000000000.%s.part", dir, ims_process_owner());
    fclose(fopen(tmp, "w"));
    char gone[256];
    snprintf(gone, sizeof(gone), "%s/tmp/00000000-0000-4000-8000-000000000001.%.*s:999999999:0.part", dir,
             (int)(strchr(ims_process_owner(), ':') - ims_process_owner()), ims_process_owner());
    fclose(fopen(gone, "w"));
    assert_int_equal(router->ops->recover(router, &known.known, 3600, &temp, &orphans, &err), IMS_OK);
    assert_int_equal(temp, 1);
    assert_int_equal(orphans, 0);
    /* blobs younger than the grace are not even looked up */
    assert_int_equal(known.asked, 0);
    assert_int_equal(known.locations, 0);
    assert_int_equal(access(tmp, F_OK), 0);
    read_all(router, location);
    /* past it (0 here) both go */
    assert_int_equal(router->ops->recover(router, &known.known, 0, &temp, &orphans, &err), IMS_OK);
    assert_int_equal(temp, 1);
    assert_int_equal(orphans, 1); /* the new blob: nothing references it */
    /* both old blobs asked about in one question, no list of them all */
    assert_int_equal(known.locations, 2);
    assert_int_equal(known.asked, 1);
    read_all(router, img.blob);
    assert_int_equal(router->ops->open_read(router, location, &rd, &err), IMS_E_NOTFOUND);
    ims_strlist_release(&refs);
    free(location);
    ims_image_release(&img);
    router->ops->close(router);
    file->ops->close(file);
    ims_db_close(repo);
}

/* ---- a second store: the router dispatches by scheme ---- */

struct mem_store {
    struct ims_store base;
    int writers, reads;
};

static enum ims_rc mem_writer_open(struct ims_store *s, int64_t size, struct ims_store_writer **ret,
                               struct ims_err *err)
{
    (void)err;
    (void)size;
    struct ims_store_writer *w = ims_xcalloc(1, sizeof(*w));
    w->store = s;
    ((struct mem_store *)s)->writers++;
    *ret = w;
    return IMS_OK;
}

static enum ims_rc mem_write(struct ims_store_writer *w, const void *p, size_t n, struct ims_err *err)
{
    (void)w, (void)p, (void)n, (void)err;
    return IMS_OK;
}

static enum ims_rc mem_commit(struct ims_store_writer *w, char **ret_location, char ret_md5[33], struct ims_err *err)
{
    (void)err;
    if (ret_md5)
        ret_md5[0] = 0;
    free(w);
    *ret_location = ims_xstrdup("mem://one");
    return IMS_OK;
}

static void mem_abort(struct ims_store_writer *w) { free(w); }

static enum ims_rc mem_open_read(struct ims_store *s, const char *location, struct ims_blob_reader *ret,
                                 struct ims_err *err)
{
    assert_string_equal(ims_store_location_key(s, location), "one");
    ((struct mem_store *)s)->reads++;
    *ret = (struct ims_blob_reader){.fd = -1};
    return IMS_OK;
}

static enum ims_rc mem_remove(struct ims_store *s, const char *location, struct ims_err *err)
{
    (void)s, (void)location, (void)err;
    return IMS_OK;
}

static enum ims_rc mem_recover(struct ims_store *s, const struct ims_blob_known *referenced, int64_t grace_seconds,
                               int64_t *ret_temp, int64_t *ret_orphans, struct ims_err *err)
{
    (void)s, (void)referenced, (void)grace_seconds, (void)err;
    *ret_temp = 2;
    *ret_orphans = 3;
    return IMS_OK;
}

static void mem_close(struct ims_store *s) { (void)s; }

static const struct ims_store_ops mem_ops = {
    .name = "mem", .writer_open = mem_writer_open, .write = mem_write, .commit = mem_commit,
    .abort = mem_abort, .open_read = mem_open_read, .remove = mem_remove, .recover = mem_recover,
    .close = mem_close,
};

static void test_router_dispatches_by_scheme(void **state)
{
    (void)state;
    struct mem_store mem = {.base.ops = &mem_ops};
    struct ims_store *file, *router;
    struct ims_err err;
    assert_int_equal(ims_store_file_open(dir, false, &file, &err), IMS_OK);
    struct ims_store *both[] = {&mem.base, file};
    assert_int_equal(ims_store_router_open(both, 2, &router, &err), IMS_OK);
    /* new data goes to the first store */
    struct ims_store_writer *w;
    char *location = NULL;
    assert_int_equal(router->ops->writer_open(router, -1, &w, &err), IMS_OK);
    assert_int_equal(router->ops->write(w, "x", 1, &err), IMS_OK);
    assert_int_equal(router->ops->commit(w, &location, NULL, &err), IMS_OK);
    assert_string_equal(location, "mem://one");
    assert_int_equal(mem.writers, 1);
    struct ims_blob_reader rd;
    assert_int_equal(router->ops->open_read(router, location, &rd, &err), IMS_OK);
    assert_int_equal(mem.reads, 1);
    free(location);
    /* the file store's locations still reach the file store */
    assert_int_equal(router->ops->open_read(router, "file://00/00000000-0000-4000-8000-000000000000", &rd, &err),
                     IMS_E_NOTFOUND);
    assert_int_equal(mem.reads, 1);
    /* recovery runs in both: the fake reports 2 and 3; the file store has
     * an empty tmp/ and, with no reference left, the first test's blob */
    struct ims_strlist refs = {0};
    struct known_list known = {.known = {in_list, &known}, .list = &refs};
    int64_t temp = 0, orphans = 0;
    assert_int_equal(router->ops->recover(router, &known.known, 0, &temp, &orphans, &err), IMS_OK);
    assert_int_equal(temp, 2);
    assert_int_equal(orphans, 3 + 1);
    router->ops->close(router);
    /* two stores with one scheme are refused, as are zero or too many */
    struct ims_store *twice[] = {file, file};
    assert_int_equal(ims_store_router_open(twice, 2, &router, &err), IMS_E_INTERNAL);
    assert_int_equal(ims_store_router_open(twice, 0, &router, &err), IMS_E_INTERNAL);
    file->ops->close(file);
}

/* ---- the sweep asks the repository a batch at a time ---- */

struct repo_known {
    struct ims_dbc *c;
    int queries;
};

static void in_repo(void *ctx, const char *const *locations, size_t n, bool *ret)
{
    struct repo_known *k = ctx;
    struct ims_err err;
    k->queries++;
    if (ims_repo_blobs_known(k->c, locations, n, ret, &err) != IMS_OK)
        fail_msg("blobs_known: %s", err.msg);
}

static void test_sweep_asks_in_batches(void **state)
{
    (void)state;
    char sweep_dir[96], path[160];
    snprintf(sweep_dir, sizeof(sweep_dir), "%s/sweep", dir);
    struct ims_store *file;
    struct ims_err err;
    assert_int_equal(ims_store_file_open(sweep_dir, false, &file, &err), IMS_OK);
    snprintf(path, sizeof(path), "%s/imsd.db", sweep_dir);
    struct ims_db *repo;
    if (ims_db_open(&ims_sqlite_ops, path, &repo, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(repo);
    /* 600 blobs with rows and 100 without, in every directory */
    enum { KNOWN = 600, ORPHANS = 100 };
    assert_int_equal(ims_db_begin(c, &err), IMS_OK);
    for (int i = 0; i < KNOWN + ORPHANS; i++) {
        char id[IMS_UUID_LEN + 1], loc[80];
        ims_uuid_new(id);
        snprintf(path, sizeof(path), "%s/images/%.2s", sweep_dir, id);
        mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/images/%.2s/%s", sweep_dir, id, id);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(loc, sizeof(loc), "file://%.2s/%s", id, id);
        if (i < KNOWN)
            assert_int_equal(ims_repo_blob_register(c, loc, NULL, 0, &err), IMS_OK);
    }
    assert_int_equal(ims_db_end(c, IMS_OK, &err), IMS_OK);
    /* a location asked twice in a batch, and one unknown, answer right */
    const char *const some[] = {"file://00/none", "file://00/none", "file://zz/other"};
    bool ret[3] = {true, true, true};
    assert_int_equal(ims_repo_blobs_known(c, some, 3, ret, &err), IMS_OK);
    assert_false(ret[0] || ret[1] || ret[2]);

    struct repo_known k = {.c = c};
    const struct ims_blob_known known = {in_repo, &k};
    int64_t temp = -1, orphans = -1;
    assert_int_equal(file->ops->recover(file, &known, 0, &temp, &orphans, &err), IMS_OK);
    assert_int_equal(orphans, ORPHANS);
    /* 700 old blobs in 3 queries (256 a batch), not 700 */
    assert_int_equal(k.queries, (KNOWN + ORPHANS + IMS_BLOB_KNOWN_BATCH - 1) / IMS_BLOB_KNOWN_BATCH);
    /* what the rows name stays: a second sweep removes nothing */
    k.queries = 0;
    assert_int_equal(file->ops->recover(file, &known, 0, &temp, &orphans, &err), IMS_OK);
    assert_int_equal(orphans, 0);
    assert_int_equal(k.queries, (KNOWN + IMS_BLOB_KNOWN_BATCH - 1) / IMS_BLOB_KNOWN_BATCH);
    file->ops->close(file);
    ims_db_close(repo);
}

/* Two file stores named by [stores] ids: each writes locations of its own
 * scheme, the router reads each from its store, one id twice is refused,
 * and ids that are no URI scheme are refused. */
static void test_named_stores_keep_their_locations_apart(void **state)
{
    (void)state;
    char d1[PATH_MAX], d2[PATH_MAX];
    snprintf(d1, sizeof(d1), "%s/fast", dir);
    snprintf(d2, sizeof(d2), "%s/cheap", dir);
    struct ims_store *fast, *cheap, *router;
    struct ims_err err;
    assert_int_equal(ims_store_file_open(d1, false, &fast, &err), IMS_OK);
    assert_int_equal(ims_store_file_open(d2, false, &cheap, &err), IMS_OK);
    assert_string_equal(ims_store_id(fast), "file");
    assert_int_equal(ims_store_set_id(fast, "fast", &err), IMS_OK);
    assert_int_equal(ims_store_set_id(cheap, "cheap", &err), IMS_OK);
    struct ims_store *both[] = {fast, cheap};
    assert_int_equal(ims_store_router_open(both, 2, &router, &err), IMS_OK);
    char *loc[2] = {0};
    struct ims_store *into[] = {router, cheap}; /* the router writes to the first */
    for (int i = 0; i < 2; i++) {
        struct ims_store_writer *w;
        assert_int_equal(into[i]->ops->writer_open(into[i], -1, &w, &err), IMS_OK);
        assert_int_equal(router->ops->write(w, i ? "cheap data" : "fast data", i ? 10 : 9, &err), IMS_OK);
        assert_int_equal(router->ops->commit(w, &loc[i], NULL, &err), IMS_OK);
    }
    assert_true(!strncmp(loc[0], "fast://", 7));
    assert_true(!strncmp(loc[1], "cheap://", 8));
    assert_ptr_equal(ims_store_router_find(router, loc[0]), fast);
    assert_ptr_equal(ims_store_router_find(router, loc[1]), cheap);
    assert_null(ims_store_router_find(router, "file://00/x"));
    assert_true(ims_store_is_local(cheap));
    for (int i = 0; i < 2; i++) {
        struct ims_blob_reader rd = {.fd = -1};
        char buf[16] = {0};
        assert_int_equal(router->ops->open_read(router, loc[i], &rd, &err), IMS_OK);
        assert_int_equal(pread(rd.fd, buf, sizeof(buf), 0), i ? 10 : 9);
        assert_string_equal(buf, i ? "cheap data" : "fast data");
        close(rd.fd);
    }
    /* a store's recovery keeps what its own locations name only: asked
     * about fast's blob alone, it leaves cheap's */
    struct ims_strlist refs = {0};
    ims_strlist_add(&refs, loc[0]);
    ims_strlist_add(&refs, loc[1]);
    struct known_list known = {.known = {in_list, &known}, .list = &refs};
    int64_t temp = 0, orphans = 0;
    assert_int_equal(router->ops->recover(router, &known.known, 0, &temp, &orphans, &err), IMS_OK);
    assert_int_equal(orphans, 0);
    ims_strlist_release(&refs);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(router->ops->remove(router, loc[i], &err), IMS_OK);
        free(loc[i]);
    }
    router->ops->close(router);
    assert_int_equal(ims_store_set_id(cheap, "fast", &err), IMS_OK);
    assert_int_equal(ims_store_router_open(both, 2, &router, &err), IMS_E_INTERNAL);
    static const char *const bad[] = {"", "1st", "a_b", "http", "https", "a:b", "abcdefghijklmnopqrstuvwxyz0123456"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++)
        assert_int_equal(ims_store_set_id(cheap, bad[i], &err), IMS_E_BADREQ);
    assert_string_equal(ims_store_id(cheap), "fast");
    fast->ops->close(fast);
    cheap->ops->close(cheap);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_store_locations.%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_location_reads_after_migration),
        cmocka_unit_test(test_router_dispatches_by_scheme),
        cmocka_unit_test(test_sweep_asks_in_batches),
        cmocka_unit_test(test_named_stores_keep_their_locations_apart),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
