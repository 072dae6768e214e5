/* SPDX-License-Identifier: Apache-2.0
 * An image write costs the pages it changes, not one page per index of the
 * images table: images carries an index per list filter and sort key
 * (migration 17), and an UPDATE naming a column rewrites the entries of
 * every index on it, changed or not. The counts are the pages SQLite itself
 * writes to the WAL at commit (sqlite3_db_status CACHE_WRITE, summed over
 * every connection of the process through a hook), not timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/db.h"
#include "db_files.h"

#define NIMAGES 200
#define PAGES_PER_CREATE 33.5 /* 35.5 with whole indexes of the system attributes (partial since migration 25) */

static char path[64];
static struct ims_db *db;
static sqlite3 *handles[16];
static size_t nhandles;

static int hook(sqlite3 *h, char **msg, const struct sqlite3_api_routines *api)
{
    (void)msg;
    (void)api;
    if (nhandles < IMS_ARRAY_SIZE(handles))
        handles[nhandles++] = h;
    return SQLITE_OK;
}

/* Pages written to the WAL by every connection since the last call. */
static int pages_written(void)
{
    int sum = 0;
    for (size_t i = 0; i < nhandles; i++) {
        int cur = 0, hi = 0;
        sqlite3_db_status(handles[i], SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 1);
        sum += cur;
    }
    return sum;
}

static void make_image(struct ims_image *img, int k)
{
    ims_image_init(img);
    snprintf(img->id, sizeof(img->id), "%08x-0000-4000-8000-%012x", k, k);
    ims_set_str(&img->owner, "p1");
    ims_set_str(&img->name, "image");
    snprintf(img->status, sizeof(img->status), "queued");
    snprintf(img->visibility, sizeof(img->visibility), "private");
    ims_set_str(&img->container_format, "bare");
    ims_set_str(&img->disk_format, "raw");
    ims_set_str(&img->enterprise_project_id, "0");
    img->created_at = img->updated_at = 1000 + k;
    ims_kvlist_add(&img->props, "__os_type", "Linux");
    ims_kvlist_add(&img->props, "__platform", "Ubuntu");
    /* the system attributes' values every create gives (lib/core/images.c) */
    ims_kvlist_add(&img->props, "__isregistered", "true");
    ims_kvlist_add(&img->props, "__imagetype", "private");
    ims_kvlist_add(&img->props, "__image_source_type", "uds");
}

static int setup(void **state)
{
    (void)state;
    sqlite3_auto_extension((void (*)(void))hook);
    snprintf(path, sizeof(path), "/tmp/test_write_cost.%d.db", (int)getpid());
    unlink(path);
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    for (int k = 1; k <= NIMAGES; k++) {
        struct ims_image img;
        make_image(&img, k);
        assert_int_equal(ims_repo_image_insert(ims_db_conn(db), &img, -1, &err), IMS_OK);
        ims_image_release(&img);
    }
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

/* A rename (PATCH replace /name) changes the row, the name index and the
 * updated_at index: a handful of pages, where rewriting every index's
 * entry wrote one page per index (about thirty). */
static void test_rename_writes_the_pages_it_changes(void **state)
{
    (void)state;
    struct ims_dbc *c = ims_db_conn(db);
    struct ims_err err;
    for (int k = 1; k <= 20; k++) {
        char id[IMS_UUID_LEN + 1];
        snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", k * 7, k * 7);
        pages_written();
        assert_int_equal(ims_db_begin(c, &err), IMS_OK);
        struct ims_image before, after;
        assert_int_equal(ims_repo_image_get(c, id, &before, &err), IMS_OK);
        ims_image_copy(&after, &before);
        char name[32];
        snprintf(name, sizeof(name), "renamed-%d", k);
        ims_set_str(&after.name, name);
        after.updated_at = before.updated_at + 5000;
        assert_int_equal(ims_repo_image_write_changes(c, &before, &after, &err), IMS_OK);
        assert_int_equal(ims_db_commit(c, &err), IMS_OK);
        int pages = pages_written();
        if (pages > 8)
            fail_msg("renaming image %d wrote %d pages", k * 7, pages);
        ims_image_release(&before);
        ims_image_release(&after);
        /* the row holds the change, and every other column as it was */
        struct ims_image got;
        assert_int_equal(ims_repo_image_get(c, id, &got, &err), IMS_OK);
        assert_string_equal(got.name, name);
        assert_int_equal(got.updated_at, 1000 + k * 7 + 5000);
        assert_int_equal(got.created_at, 1000 + k * 7);
        assert_string_equal(got.disk_format, "raw");
        assert_string_equal(ims_kvlist_get(&got.props, "__os_type"), "Linux");
        ims_image_release(&got);
    }
}

/* A write that changes nothing but the revision and updated_at (a tag
 * added, a member's status) still leaves the other columns alone. */
static void test_property_change_keeps_the_other_columns(void **state)
{
    (void)state;
    struct ims_dbc *c = ims_db_conn(db);
    struct ims_err err;
    const char *id = "00000005-0000-4000-8000-000000000005";
    assert_int_equal(ims_db_begin(c, &err), IMS_OK);
    struct ims_image before, after;
    assert_int_equal(ims_repo_image_get(c, id, &before, &err), IMS_OK);
    ims_image_copy(&after, &before);
    ims_kvlist_set(&after.props, "__os_type", "Windows");
    ims_kvlist_set(&after.props, "custom", "x");
    ims_strlist_add(&after.tags, "t1");
    after.size = 42;
    assert_int_equal(ims_repo_image_write_changes(c, &before, &after, &err), IMS_OK);
    assert_int_equal(ims_db_commit(c, &err), IMS_OK);
    struct ims_image got;
    assert_int_equal(ims_repo_image_get(c, id, &got, &err), IMS_OK);
    assert_string_equal(ims_kvlist_get(&got.props, "__os_type"), "Windows");
    assert_string_equal(ims_kvlist_get(&got.props, "custom"), "x");
    assert_string_equal(ims_kvlist_get(&got.props, "__platform"), "Ubuntu");
    assert_int_equal(got.tags.n, 1);
    assert_int_equal(got.size, 42);
    assert_int_equal(got.revision, before.revision + 1);
    assert_string_equal(got.name, before.name);
    /* a write from a stale read changes nothing */
    ims_set_str(&after.name, "stale");
    assert_int_equal(ims_db_begin(c, &err), IMS_OK);
    assert_int_equal(ims_repo_image_write_changes(c, &before, &after, &err), IMS_E_CONFLICT);
    ims_db_rollback(c);
    ims_image_release(&got);
    assert_int_equal(ims_repo_image_get(c, id, &got, &err), IMS_OK);
    assert_string_equal(got.name, "image");
    ims_image_release(&got);
    ims_image_release(&before);
    ims_image_release(&after);
}

/* A create writes the row and an entry in each index over the rows it is
 * in: not in the indexes of columns it has no value in yet (checksum and
 * the os_hash pair, partial since migration 19), nor in those of the
 * system attributes while they have the value every image imsd makes has
 * (migration 25), nor in one no query uses (images_location, dropped).
 * Fifty creates of queued images, on average. */
static void test_create_writes_no_unused_index_pages(void **state)
{
    (void)state;
    struct ims_err err;
    pages_written();
    int n = 50;
    for (int k = NIMAGES + 1001; k <= NIMAGES + 1000 + n; k++) {
        struct ims_image img;
        make_image(&img, k);
        assert_int_equal(ims_repo_image_insert(ims_db_conn(db), &img, -1, &err), IMS_OK);
        ims_image_release(&img);
    }
    double avg = (double)pages_written() / n;
    print_message("%.1f pages per create\n", avg);
    if (avg > PAGES_PER_CREATE)
        fail_msg("a create wrote %.1f pages on average", avg);
}

/* A checkpoint copies the WAL into the database file and fsyncs it, in the
 * request whose commit crossed the interval: a hundred creates (about four
 * thousand WAL pages) run none, where SQLite's default interval (1000
 * pages) ran one every 25 creates. */
static void test_creates_do_not_checkpoint_every_few_commits(void **state)
{
    (void)state;
    for (size_t i = 0; i < nhandles; i++)
        sqlite3_wal_checkpoint_v2(handles[i], NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    struct ims_err err;
    for (int k = NIMAGES + 1; k <= NIMAGES + 100; k++) {
        struct ims_image img;
        make_image(&img, k);
        assert_int_equal(ims_repo_image_insert(ims_db_conn(db), &img, -1, &err), IMS_OK);
        ims_image_release(&img);
    }
    assert_int_equal(stat(path, &after), 0);
    if (after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
        fail_msg("the database file was written (checkpointed) during 100 creates");
}

/* Creates made at the same time share one commit (lib/db/shared_commit.c):
 * eight threads' creates, queued while the write lock is held, are
 * committed together, each under its own savepoint (the one whose id is
 * taken fails alone, the others are made), and write a fraction of the
 * pages eight commits of their own would: each index's newest leaf once. */
#define RACERS 8

struct racer {
    int k;
    enum ims_rc rc;
};

static pthread_barrier_t inserted, may_exit;

static void *race_insert(void *arg)
{
    struct racer *r = arg;
    struct ims_image img;
    make_image(&img, r->k);
    struct ims_err err;
    r->rc = ims_repo_image_insert(ims_db_conn(db), &img, -1, &err);
    ims_image_release(&img);
    pthread_barrier_wait(&inserted);
    pthread_barrier_wait(&may_exit); /* its connection stays open until its pages are counted */
    return NULL;
}

static void test_creates_waiting_together_share_a_commit(void **state)
{
    (void)state;
    struct ims_dbc *c = ims_db_conn(db);
    struct ims_err err;
    size_t nbefore = nhandles;
    pthread_barrier_init(&inserted, NULL, RACERS + 1);
    pthread_barrier_init(&may_exit, NULL, RACERS + 1);
    pages_written();
    assert_int_equal(ims_db_begin(c, &err), IMS_OK); /* the write lock, held while they queue */
    pthread_t threads[RACERS];
    struct racer racers[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i].k = i < RACERS - 1 ? NIMAGES + 3001 + i : 1; /* image 1 exists: a conflict */
        assert_int_equal(pthread_create(&threads[i], NULL, race_insert, &racers[i]), 0);
    }
    usleep(300 * 1000);
    assert_int_equal(ims_db_commit(c, &err), IMS_OK);
    pthread_barrier_wait(&inserted);
    int pages = pages_written();
    pthread_barrier_wait(&may_exit);
    for (int i = 0; i < RACERS; i++)
        pthread_join(threads[i], NULL);
    nhandles = nbefore; /* the threads' connections are closed */
    pthread_barrier_destroy(&inserted);
    pthread_barrier_destroy(&may_exit);
    for (int i = 0; i < RACERS - 1; i++)
        assert_int_equal(racers[i].rc, IMS_OK);
    assert_int_equal(racers[RACERS - 1].rc, IMS_E_CONFLICT);
    for (int i = 0; i < RACERS - 1; i++) {
        struct ims_image got;
        char id[IMS_UUID_LEN + 1];
        snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", racers[i].k, racers[i].k);
        assert_int_equal(ims_repo_image_get(c, id, &got, &err), IMS_OK);
        ims_image_release(&got);
    }
    int64_t n = 0;
    assert_int_equal(ims_repo_image_count(c, "p1", &n, &err), IMS_OK);
    assert_int_equal(n, NIMAGES + 150 + RACERS - 1); /* setup's, the two tests' above, these */
    print_message("%d pages for %d creates\n", pages, RACERS - 1);
    if (pages > (RACERS - 1) * PAGES_PER_CREATE / 3)
        fail_msg("%d creates made together wrote %d pages", RACERS - 1, pages);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rename_writes_the_pages_it_changes),
        cmocka_unit_test(test_property_change_keeps_the_other_columns),
        cmocka_unit_test(test_creates_do_not_checkpoint_every_few_commits),
        cmocka_unit_test(test_create_writes_no_unused_index_pages),
        cmocka_unit_test(test_creates_waiting_together_share_a_commit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
