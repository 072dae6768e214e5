/* SPDX-License-Identifier: Apache-2.0
 * The embedded object store: what is put comes back, whole or by range;
 * listings page in key order; a bucket's directory is never left, whether
 * by a name (refused before the backend) or by a symlink someone placed in
 * the tree (never followed, for reads, writes, removals and listings);
 * nothing partial is ever visible, and a crash's leftovers go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/obs.h"

struct fixture {
    char root[256];   /* a temp dir: obs/ and outside/ below it */
    char dir[300];    /* the store's directory */
    char outside[300];
    struct ims_obs *o;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "/tmp/ims-obs-test-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof(f->dir), "%s/obs", f->root);
    snprintf(f->outside, sizeof(f->outside), "%s/outside", f->root);
    assert_int_equal(mkdir(f->outside, 0755), 0);
    struct ims_err e = {0};
    assert_int_equal(ims_obs_embedded_open(f->dir, &f->o, &e), IMS_OBS_OK);
    assert_string_equal(f->o->ops->name, "embedded");
    assert_int_equal(ims_obs_bucket_create(f->o, "bkt", &e), IMS_OBS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ims_obs_close(f->o);
    nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

struct mem_src {
    const char *data;
    size_t len, pos;
    size_t fail_at; /* return -1 once pos reaches this (0 = never) */
};

static ssize_t mem_read(void *ctx, char *buf, size_t max)
{
    struct mem_src *m = ctx;
    if (m->fail_at && m->pos >= m->fail_at)
        return -1;
    size_t n = m->len - m->pos < max ? m->len - m->pos : max;
    if (n > 7000)
        n = 7000; /* short reads, as pipes give */
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static enum ims_obs_rc put_str(struct ims_obs *o, const char *b, const char *k, const char *data)
{
    struct mem_src m = {.data = data, .len = strlen(data)};
    struct ims_err e = {0};
    return ims_obs_put(o, b, k, m.len, mem_read, &m, &e);
}

/* The whole range of a reader, through ims_obs_read in small steps. */
static char *read_all(struct ims_obs *o, const char *b, const char *k, uint64_t off, uint64_t len,
                      enum ims_obs_rc *rc)
{
    struct ims_err e = {0};
    struct ims_obs_reader *r;
    *rc = ims_obs_open_read(o, b, k, off, len, &r, &e);
    if (*rc)
        return NULL;
    size_t cap = r->length + 1, got = 0;
    char *out = malloc(cap);
    for (;;) {
        size_t n;
        *rc = ims_obs_read(r, out + got, cap - got < 3 ? cap - got : 3, &n, &e);
        if (*rc || !n)
            break;
        got += n;
    }
    assert_int_equal(got, r->length);
    out[got] = 0;
    ims_obs_reader_close(r);
    return out;
}

static bool exists(const char *dir, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

static void test_put_get_range(void **state)
{
    struct fixture *f = *state;
    struct ims_err e = {0};
    enum ims_obs_rc rc;
    assert_int_equal(put_str(f->o, "bkt", "dir/sub/file.img", "0123456789abcdef"), IMS_OBS_OK);
    assert_true(exists(f->dir, "bkt/dir/sub/file.img"));
    char *all = read_all(f->o, "bkt", "dir/sub/file.img", 0, UINT64_MAX, &rc);
    assert_int_equal(rc, IMS_OBS_OK);
    assert_string_equal(all, "0123456789abcdef");
    free(all);
    char *part = read_all(f->o, "bkt", "dir/sub/file.img", 10, 4, &rc);
    assert_string_equal(part, "abcd");
    free(part);
    /* a range past the end is cut there; one that starts there is empty */
    part = read_all(f->o, "bkt", "dir/sub/file.img", 14, 100, &rc);
    assert_string_equal(part, "ef");
    free(part);
    part = read_all(f->o, "bkt", "dir/sub/file.img", 16, 100, &rc);
    assert_string_equal(part, "");
    free(part);
    struct ims_obs_reader *r;
    assert_int_equal(ims_obs_open_read(f->o, "bkt", "dir/sub/file.img", 17, 1, &r, &e), IMS_OBS_BAD_RANGE);

    /* the reader's descriptor reads the same file */
    assert_int_equal(ims_obs_open_read(f->o, "bkt", "dir/sub/file.img", 2, 3, &r, &e), IMS_OBS_OK);
    char buf[4] = {0};
    assert_true(r->fd >= 0);
    assert_int_equal(pread(r->fd, buf, r->length, (off_t)r->offset), 3);
    assert_string_equal(buf, "234");
    assert_int_equal(r->info.size, 16);
    ims_obs_reader_close(r);

    struct ims_obs_info info, again;
    assert_int_equal(ims_obs_head(f->o, "bkt", "dir/sub/file.img", &info, &e), IMS_OBS_OK);
    assert_int_equal(info.size, 16);
    assert_true(info.etag[0]);
    /* a put replaces the object, and its ETag changes */
    assert_int_equal(put_str(f->o, "bkt", "dir/sub/file.img", "new"), IMS_OBS_OK);
    assert_int_equal(ims_obs_head(f->o, "bkt", "dir/sub/file.img", &again, &e), IMS_OBS_OK);
    assert_int_equal(again.size, 3);
    assert_string_not_equal(info.etag, again.etag);

    /* a missing bucket and a missing object are told apart */
    assert_int_equal(ims_obs_head(f->o, "nobkt", "x", &info, &e), IMS_OBS_NO_BUCKET);
    assert_int_equal(ims_obs_head(f->o, "bkt", "x", &info, &e), IMS_OBS_NO_OBJECT);
    assert_int_equal(ims_obs_head(f->o, "bkt", "dir/nothing/x", &info, &e), IMS_OBS_NO_OBJECT);
    /* a folder is not an object */
    assert_int_equal(ims_obs_head(f->o, "bkt", "dir/sub", &info, &e), IMS_OBS_NO_OBJECT);
    assert_int_equal(put_str(f->o, "nobkt", "x", "data"), IMS_OBS_NO_BUCKET);
    assert_false(exists(f->dir, "nobkt"));
    /* an object cannot become a folder, nor a folder an object */
    assert_int_equal(put_str(f->o, "bkt", "dir/sub/file.img/below", "x"), IMS_OBS_EXISTS);
    assert_int_equal(put_str(f->o, "bkt", "dir/sub", "x"), IMS_OBS_EXISTS);
    assert_int_equal(ims_obs_bucket_create(f->o, "bkt", &e), IMS_OBS_EXISTS);
    assert_int_equal(ims_obs_bucket_exists(f->o, "bkt", &e), IMS_OBS_OK);
    assert_int_equal(ims_obs_bucket_exists(f->o, "nobkt", &e), IMS_OBS_NO_BUCKET);
}

/* Names that would leave the bucket never reach the file system. */
static void test_traversal_names(void **state)
{
    struct fixture *f = *state;
    struct ims_err e = {0};
    struct ims_obs_info info;
    const char *keys[] = {"../outside/x", "../../x", "/etc/passwd", "a/../../x", "..", ".", "a//b", "a/./b", "a/"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_int_equal(put_str(f->o, "bkt", keys[i], "escape"), IMS_OBS_BAD_NAME);
        assert_int_equal(ims_obs_head(f->o, "bkt", keys[i], &info, &e), IMS_OBS_BAD_NAME);
        assert_int_equal(ims_obs_remove(f->o, "bkt", keys[i], &e), IMS_OBS_BAD_NAME);
    }
    const char *buckets[] = {"..", ".tmp", "../outside", "/tmp", "a/b", "Bkt"};
    for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
        assert_int_equal(put_str(f->o, buckets[i], "x", "escape"), IMS_OBS_BAD_NAME);
        assert_int_equal(ims_obs_bucket_create(f->o, buckets[i], &e), IMS_OBS_BAD_NAME);
    }
    char *path = NULL;
    assert_int_equal(ims_obs_local_path(f->o, "bkt", "../x", &path, &e), IMS_OBS_BAD_NAME);
    assert_null(path);
    struct ims_obs_listing l;
    assert_int_equal(ims_obs_list(f->o, "bkt", "a\nb", NULL, 10, &l, &e), IMS_OBS_BAD_NAME);
    /* nothing was written outside */
    assert_false(exists(f->outside, "x"));
    assert_false(exists(f->root, "x"));
}

/* Symlinks placed in a bucket by hand (as a user with access to the
 * directory could) are never followed: not to read, not to write through,
 * not to remove through, not in listings; nor is a bucket that is one. */
static void test_symlink_escapes(void **state)
{
    struct fixture *f = *state;
    struct ims_err e = {0};
    struct ims_obs_info info;
    char p[1024], target[1024];
    snprintf(target, sizeof(target), "%s/secret", f->outside);
    FILE *s = fopen(target, "w");
    fputs("secret", s);
    fclose(s);

    snprintf(p, sizeof(p), "%s/bkt/dirlink", f->dir);
    assert_int_equal(symlink(f->outside, p), 0);
    snprintf(p, sizeof(p), "%s/bkt/filelink", f->dir);
    assert_int_equal(symlink(target, p), 0);

    assert_int_equal(ims_obs_head(f->o, "bkt", "dirlink/secret", &info, &e), IMS_OBS_DENIED);
    assert_int_equal(ims_obs_head(f->o, "bkt", "filelink", &info, &e), IMS_OBS_DENIED);
    enum ims_obs_rc rc;
    assert_null(read_all(f->o, "bkt", "filelink", 0, UINT64_MAX, &rc));
    assert_int_equal(rc, IMS_OBS_DENIED);
    char *path = NULL;
    assert_int_equal(ims_obs_local_path(f->o, "bkt", "dirlink/secret", &path, &e), IMS_OBS_DENIED);
    assert_int_equal(ims_obs_local_path(f->o, "bkt", "filelink", &path, &e), IMS_OBS_DENIED);
    assert_null(path);
    /* writing through a linked folder */
    assert_int_equal(put_str(f->o, "bkt", "dirlink/planted", "x"), IMS_OBS_DENIED);
    assert_false(exists(f->outside, "planted"));
    /* copying out of it */
    assert_int_equal(ims_obs_copy(f->o, "bkt", "dirlink/secret", "bkt", "stolen", &e), IMS_OBS_DENIED);
    assert_false(exists(f->dir, "bkt/stolen"));
    /* removing through it leaves the target */
    assert_int_equal(ims_obs_remove(f->o, "bkt", "dirlink/secret", &e), IMS_OBS_DENIED);
    assert_true(exists(f->outside, "secret"));
    /* overwriting a file symlink replaces the link, never the target */
    assert_int_equal(put_str(f->o, "bkt", "filelink", "replaced"), IMS_OBS_OK);
    s = fopen(target, "r");
    char buf[16] = {0};
    assert_non_null(fgets(buf, sizeof(buf), s));
    fclose(s);
    assert_string_equal(buf, "secret");
    /* listings show no link and nothing behind one */
    struct ims_obs_listing l;
    assert_int_equal(ims_obs_list(f->o, "bkt", "", NULL, 100, &l, &e), IMS_OBS_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].key, "filelink"); /* the regular file the put made */
    ims_obs_listing_release(&l);

    /* a bucket that is a symlink */
    snprintf(p, sizeof(p), "%s/evil", f->dir);
    assert_int_equal(symlink(f->outside, p), 0);
    assert_int_equal(ims_obs_head(f->o, "evil", "secret", &info, &e), IMS_OBS_DENIED);
    assert_int_equal(put_str(f->o, "evil", "planted", "x"), IMS_OBS_DENIED);
    assert_int_equal(ims_obs_list(f->o, "evil", "", NULL, 100, &l, &e), IMS_OBS_DENIED);
    assert_false(exists(f->outside, "planted"));

    /* a FIFO is no object and does not block */
    snprintf(p, sizeof(p), "%s/bkt/fifo", f->dir);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(ims_obs_head(f->o, "bkt", "fifo", &info, &e), IMS_OBS_NO_OBJECT);
}

static void test_list_pages(void **state)
{
    struct fixture *f = *state;
    struct ims_err e = {0};
    struct ims_obs_listing empty;
    assert_int_equal(ims_obs_list(f->o, "bkt", "", NULL, 10, &empty, &e), IMS_OBS_OK);
    assert_int_equal(empty.n, 0);
    assert_false(empty.truncated);
    ims_obs_listing_release(&empty);
    const char *keys[] = {"b", "a/2", "a/1", "a/10", "c/d/e", "ab", "a-"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_int_equal(put_str(f->o, "bkt", keys[i], keys[i]), IMS_OBS_OK);
    /* byte order, as S3 lists */
    const char *sorted[] = {"a-", "a/1", "a/10", "a/2", "ab", "b", "c/d/e"};
    char *token = NULL;
    size_t seen = 0;
    for (int page = 0; page < 10; page++) {
        struct ims_obs_listing l;
        assert_int_equal(ims_obs_list(f->o, "bkt", "", token, 3, &l, &e), IMS_OBS_OK);
        free(token);
        token = NULL;
        for (size_t i = 0; i < l.n; i++) {
            assert_string_equal(l.items[i].key, sorted[seen]);
            assert_int_equal(l.items[i].size, strlen(sorted[seen]));
            seen++;
        }
        if (!l.truncated) {
            ims_obs_listing_release(&l);
            break;
        }
        assert_int_equal(l.n, 3);
        token = strdup(l.next);
        ims_obs_listing_release(&l);
    }
    assert_int_equal(seen, 7);
    struct ims_obs_listing l;
    assert_int_equal(ims_obs_list(f->o, "bkt", "a/", NULL, 100, &l, &e), IMS_OBS_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].key, "a/1");
    assert_false(l.truncated);
    ims_obs_listing_release(&l);
    assert_int_equal(ims_obs_list(f->o, "bkt", "c/d", NULL, 100, &l, &e), IMS_OBS_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].key, "c/d/e");
    ims_obs_listing_release(&l);
    assert_int_equal(ims_obs_list(f->o, "nobkt", "", NULL, 100, &l, &e), IMS_OBS_NO_BUCKET);

    /* removing the last object of a folder prunes the folders it leaves empty */
    assert_int_equal(ims_obs_remove(f->o, "bkt", "c/d/e", &e), IMS_OBS_OK);
    assert_false(exists(f->dir, "bkt/c"));
    assert_int_equal(ims_obs_remove(f->o, "bkt", "a/1", &e), IMS_OBS_OK);
    assert_true(exists(f->dir, "bkt/a/2"));
    /* removing what is not there is no error (as S3), a missing bucket is */
    assert_int_equal(ims_obs_remove(f->o, "bkt", "a/1", &e), IMS_OBS_OK);
    assert_int_equal(ims_obs_remove(f->o, "nobkt", "a/1", &e), IMS_OBS_NO_BUCKET);
}

/* A put that fails midway leaves neither a partial object nor a
 * temporary file, and the old object stays. */
static void test_put_failure_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct ims_err e = {0};
    assert_int_equal(put_str(f->o, "bkt", "keep", "old"), IMS_OBS_OK);
    static char big[100000];
    memset(big, 'x', sizeof(big));
    struct mem_src m = {.data = big, .len = sizeof(big), .fail_at = 50000};
    assert_int_equal(ims_obs_put(f->o, "bkt", "keep", sizeof(big), mem_read, &m, &e), IMS_OBS_IO);
    /* a source shorter than announced */
    struct mem_src shortsrc = {.data = big, .len = 10};
    assert_int_equal(ims_obs_put(f->o, "bkt", "new/obj", 20, mem_read, &shortsrc, &e), IMS_OBS_IO);
    enum ims_obs_rc rc;
    char *got = read_all(f->o, "bkt", "keep", 0, UINT64_MAX, &rc);
    assert_string_equal(got, "old");
    free(got);
    struct ims_obs_info info;
    assert_int_equal(ims_obs_head(f->o, "bkt", "new/obj", &info, &e), IMS_OBS_NO_OBJECT);
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/.tmp", f->dir);
    DIR *d = opendir(tmp);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)))
        files += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 0);
}

/* Leftovers of a put whose process died are removed at the next open. */
static void test_stale_temp_removed(void **state)
{
    struct fixture *f = *state;
    char p[1024];
    /* an owner that cannot be running: this host (as owners spell it), a
     * pid no process has */
    const char *me = ims_process_owner();
    int hostlen = (int)(strchr(me, ':') - me);
    snprintf(p, sizeof(p), "%s/.tmp/01234567-89ab-4cde-8f01-23456789abcd.%.*s:2147483646:dead.part", f->dir,
             hostlen, me);
    FILE *s = fopen(p, "w");
    assert_non_null(s);
    fclose(s);
    ims_obs_close(f->o);
    struct ims_err e = {0};
    assert_int_equal(ims_obs_embedded_open(f->dir, &f->o, &e), IMS_OBS_OK);
    struct stat st;
    assert_int_equal(lstat(p, &st), -1);
}

static void test_file_copy_and_local_path(void **state)
{
    struct fixture *f = *state;
    struct ims_err e = {0};
    char src[512];
    snprintf(src, sizeof(src), "%s/src.bin", f->outside);
    FILE *s = fopen(src, "w");
    for (int i = 0; i < 300000; i++)
        fputc('a' + i % 26, s);
    fclose(s);
    int fd = open(src, O_RDONLY);
    assert_int_equal(ims_obs_put_file(f->o, "bkt", "img/disk.raw", fd, &e), IMS_OBS_OK);
    close(fd);
    assert_int_equal(ims_obs_copy(f->o, "bkt", "img/disk.raw", "bkt", "copy/disk.raw", &e), IMS_OBS_OK);
    enum ims_obs_rc rc;
    char *a = read_all(f->o, "bkt", "img/disk.raw", 0, UINT64_MAX, &rc);
    char *b = read_all(f->o, "bkt", "copy/disk.raw", 0, UINT64_MAX, &rc);
    assert_int_equal(strlen(a), 300000);
    assert_string_equal(a, b);
    free(a);
    free(b);
    char *path = NULL;
    /* its objects are files here (an export's conversion output is linked,
     * not read again); S3's are not (opening one connects to nothing) */
    assert_true(ims_obs_has_local_files(f->o));
    struct ims_obs *s3 = NULL;
    const struct ims_obs_s3_config s3c = {.endpoint = "http://127.0.0.1:9", .region = "r", .access_key = "a",
                                          .secret_key = "s", .part_size = IMS_OBS_S3_PART_MIN,
                                          .server_copy_max = IMS_OBS_S3_PART_MIN};
    assert_int_equal(ims_obs_s3_open(&s3c, &s3, &e), IMS_OBS_OK);
    assert_false(ims_obs_has_local_files(s3));
    ims_obs_close(s3);
    assert_int_equal(ims_obs_local_path(f->o, "bkt", "copy/disk.raw", &path, &e), IMS_OBS_OK);
    char want[1024];
    snprintf(want, sizeof(want), "%s/bkt/copy/disk.raw", f->dir);
    assert_string_equal(path, want);
    free(path);
    assert_int_equal(ims_obs_copy(f->o, "bkt", "missing", "bkt", "x", &e), IMS_OBS_NO_OBJECT);
    assert_int_equal(ims_obs_copy(f->o, "bkt", "img/disk.raw", "nobkt", "x", &e), IMS_OBS_NO_BUCKET);

    /* ims_obs_get_file writes the range to a descriptor */
    char out[512];
    snprintf(out, sizeof(out), "%s/out.bin", f->outside);
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(ims_obs_get_file(f->o, "bkt", "img/disk.raw", 26 * 1000 + 1, 3, fd, &e), IMS_OBS_OK);
    close(fd);
    s = fopen(out, "r");
    char buf[8] = {0};
    assert_non_null(fgets(buf, sizeof(buf), s));
    fclose(s);
    assert_string_equal(buf, "bcd");
}

/* Stress: one thread puts and removes the only object of a folder (so
 * each remove tries to prune the folder), another puts beside it at the
 * same time. Neither may fail, and the second thread's objects are all
 * there at the end. (The window in which a prune lands between a put's
 * walk and its rename is microseconds against each put's fsync, so this
 * rarely reaches the re-walk itself; it checks nothing else breaks.) */
struct churn {
    struct ims_obs *o;
    const char *key;
    bool remove;
    int failures;
};

static void *churn_run(void *arg)
{
    struct churn *c = arg;
    for (int i = 0; i < 300; i++) {
        char key[64];
        snprintf(key, sizeof(key), "%s%d", c->key, c->remove ? 0 : i);
        if (put_str(c->o, "bkt", key, "data") != IMS_OBS_OK)
            c->failures++;
        struct ims_err e = {0};
        if (c->remove && ims_obs_remove(c->o, "bkt", key, &e) != IMS_OBS_OK)
            c->failures++;
    }
    return NULL;
}

static void test_concurrent_prune_and_put(void **state)
{
    struct fixture *f = *state;
    struct churn a = {.o = f->o, .key = "d/e/f/churn", .remove = true};
    struct churn b = {.o = f->o, .key = "d/e/f/keep"};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, churn_run, &a);
    pthread_create(&tb, NULL, churn_run, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures, 0);
    assert_int_equal(b.failures, 0);
    struct ims_obs_listing l;
    struct ims_err e = {0};
    assert_int_equal(ims_obs_list(f->o, "bkt", "d/", NULL, 1000, &l, &e), IMS_OBS_OK);
    assert_int_equal(l.n, 300);
    ims_obs_listing_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traversal_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temp_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_copy_and_local_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_prune_and_put, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
