/* SPDX-License-Identifier: Apache-2.0
 * The file store keeps exactly the bytes it was given and reads back any
 * range of them: aligned blocks written with O_DIRECT followed by a partial
 * tail, buffers that were never aligned, and file systems without O_DIRECT
 * (tmpfs before Linux 6.6) or with direct_io off. Where the file system has
 * O_DIRECT and direct_io is on, aligned uploads must leave nothing in the
 * page cache; downloads always read a plain descriptor through the page
 * cache, so what was read is then cached. A file another program wrote at a temp_path is
 * adopted as it is (same inode: renamed, not copied) and read back through
 * local_path; adopt takes nothing outside the store's temporary area. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ims/store.h"
#include "o_direct.h"

#define MIB (1024 * 1024)

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}


/* Reads [pos, pos+n) through whatever the store handed out, at most
 * 256 KiB at a time as the HTTP server asks. */
static void read_range(const struct ims_blob_reader *rd, uint64_t pos, unsigned char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t ask = n - got < 256 * 1024 ? n - got : 256 * 1024;
        ssize_t r = rd->read ? rd->read(rd->ctx, pos + got, (char *)out + got, ask)
                             : pread(rd->fd, out + got, ask, (off_t)(pos + got));
        assert_true(r > 0);
        got += (size_t)r;
    }
}

static void close_reader(struct ims_blob_reader *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    if (rd->close)
        rd->close(rd->ctx);
}

/* Pages of the first len bytes of path that are in the page cache. */
static size_t cached_pages(const char *path, size_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(map != MAP_FAILED);
    size_t page = (size_t)sysconf(_SC_PAGESIZE), npages = (len + page - 1) / page, cached = 0;
    unsigned char *vec = ims_xmalloc(npages);
    assert_int_equal(mincore(map, len, vec), 0);
    for (size_t i = 0; i < npages; i++)
        cached += vec[i] & 1;
    free(vec);
    munmap(map, len);
    close(fd);
    return cached;
}

/* Writes data in `chunk`-byte pieces from `src` (aligned or not), commits,
 * and checks every byte and a few ranges that straddle the reader's chunks.
 * With writes_direct, the whole blocks must not have gone through the page
 * cache. */
static void round_trip(struct ims_store *s, const char *dir, const unsigned char *src, size_t n, size_t chunk,
                       bool writes_direct)
{
    struct ims_store_writer *w;
    struct ims_err err;
    assert_int_equal(s->ops->writer_open(s, -1, &w, &err), IMS_OK);
    for (size_t off = 0; off < n; off += chunk)
        assert_int_equal(s->ops->write(w, src + off, off + chunk <= n ? chunk : n - off, &err), IMS_OK);
    char *location = NULL;
    assert_int_equal(s->ops->commit(w, &location, NULL, &err), IMS_OK);
    /* the location names its store: file://<2 hex>/<uuid> */
    assert_non_null(ims_store_location_key(s, location));
    assert_int_equal(strncmp(location, "file://", 7), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/images/%s", dir, location + 7);
    size_t whole = n & ~(size_t)(MIB - 1), page = (size_t)sysconf(_SC_PAGESIZE);
    if (writes_direct)
        assert_int_equal(cached_pages(path, whole), 0);

    struct ims_blob_reader rd;
    assert_int_equal(s->ops->open_read(s, location, &rd, &err), IMS_OK);
    assert_int_equal(rd.size, n);
    assert_true(rd.fd >= 0 && rd.read == NULL);
    unsigned char *back = ims_xmalloc(n + 1);
    read_range(&rd, 0, back, n);
    assert_memory_equal(back, src, n);
    if (whole) /* read through the page cache */
        assert_int_equal(cached_pages(path, whole), whole / page);
    /* around the reader's 4 MiB chunks, forwards and then backwards */
    const uint64_t starts[] = {1, 4095, 4097, 4 * MIB - 1, 4 * MIB + 7, 8 * MIB - 3, 8 * MIB + 12344, 3, 5 * MIB};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        if (starts[i] >= n)
            continue;
        size_t len = n - starts[i] < 3 * MIB ? n - starts[i] : 3 * MIB;
        read_range(&rd, starts[i], back, len);
        assert_memory_equal(back, src + starts[i], len);
    }
    if (rd.read) /* past the end: end of stream, not an error */
        assert_int_equal(rd.read(rd.ctx, n, (char *)back, 1), 0);
    close_reader(&rd);
    free(back);
    assert_int_equal(s->ops->remove(s, location, &err), IMS_OK);
    free(location);
}

/* tmpfs keeps files in the page cache, O_DIRECT writes included. */
static bool memory_backed(const char *dir)
{
    struct statfs st;
    assert_int_equal(statfs(dir, &st), 0);
    return st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC;
}

static void exercise(const char *parent, bool direct_io)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/imsd-store-XXXXXX", parent);
    assert_non_null(mkdtemp(dir));
    struct ims_store *s;
    struct ims_err err;
    assert_int_equal(ims_store_file_open(dir, direct_io, &s, &err), IMS_OK);
    bool direct = direct_io && dir_takes_o_direct(dir), uncached = direct && !memory_backed(dir);

    size_t n = 9 * MIB + 12345; /* whole blocks, then a tail that is not a multiple of 4096 */
    unsigned char *aligned = ims_xaligned_alloc(IMS_DIRECT_IO_ALIGN, n + 1);
    ims_random_bytes(aligned, n + 1);
    round_trip(s, dir, aligned, n, MIB, uncached);        /* as the upload pipe writes */
    round_trip(s, dir, aligned, 8 * MIB, MIB, uncached);  /* ends on a block and on a reader chunk */
    round_trip(s, dir, aligned + 1, n, MIB, false);       /* never aligned: buffered from the start */
    round_trip(s, dir, aligned, n, 3 * MIB + 1, false);   /* not a multiple of 4096: buffered */
    round_trip(s, dir, aligned, 1, 1, false);             /* one byte */
    free(aligned);

    s->ops->close(s);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_disk(void **state)
{
    (void)state;
    const char *parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
    exercise(parent, true);
    exercise(parent, false);
}

static void test_tmpfs(void **state)
{
    (void)state;
    if (access("/dev/shm", W_OK) != 0)
        skip();
    exercise("/dev/shm", true);
}

static void test_adopt(void **state)
{
    (void)state;
    char dir[] = "/tmp/imsd-adopt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct ims_store *s;
    struct ims_err err;
    assert_int_equal(ims_store_file_open(dir, false, &s, &err), IMS_OK);
    char *path = NULL, *loc = NULL, *blob = NULL;
    bool copy = true;
    assert_int_equal(s->ops->temp_path(s, &path, &err), IMS_OK);
    assert_true(strncmp(path, dir, strlen(dir)) == 0 && strstr(path, "/tmp/") && strstr(path, ".part"));
    assert_int_equal(access(path, F_OK), -1); /* the producer creates it */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("made by another program\n", f);
    fclose(f);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(s->ops->adopt(s, path, &loc, NULL, &err), IMS_OK);
    assert_true(strncmp(loc, "file://", 7) == 0);
    assert_int_equal(access(path, F_OK), -1); /* renamed away */
    assert_int_equal(s->ops->local_path(s, loc, &blob, &copy, &err), IMS_OK);
    assert_false(copy); /* the blob's own file */
    assert_int_equal(stat(blob, &after), 0);
    assert_true(before.st_ino == after.st_ino && after.st_size == 24); /* the same file: no copy */
    struct ims_blob_reader rd;
    assert_int_equal(s->ops->open_read(s, loc, &rd, &err), IMS_OK);
    unsigned char got[24];
    read_range(&rd, 0, got, sizeof(got));
    assert_memory_equal(got, "made by another program\n", 24);
    close_reader(&rd);
    /* only files of its temporary area, of the temporary shape */
    char outside[512];
    snprintf(outside, sizeof(outside), "%s/elsewhere", dir);
    f = fopen(outside, "w");
    fclose(f);
    char *loc2 = NULL;
    assert_int_not_equal(s->ops->adopt(s, outside, &loc2, NULL, &err), IMS_OK);
    snprintf(outside, sizeof(outside), "%s/tmp/../elsewhere", dir);
    assert_int_not_equal(s->ops->adopt(s, outside, &loc2, NULL, &err), IMS_OK);
    assert_int_not_equal(s->ops->local_path(s, "file://../../etc/passwd", &loc2, &copy, &err), IMS_OK);
    assert_null(loc2);
    free(path);
    free(loc);
    free(blob);
    s->ops->close(s);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk),
        cmocka_unit_test(test_tmpfs),
        cmocka_unit_test(test_adopt),
    };
    return cmocka_run_group_tests_name("file store", tests, NULL, NULL);
}
