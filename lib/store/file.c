/* SPDX-License-Identifier: Apache-2.0
 * File store: a blob is a file under <dir>/images/<2 hex>/<uuid>, its
 * location file://<2 hex>/<uuid> (relative: the data dir may move; the
 * scheme is the store's id, "file" unless [stores] names it). Uploads go
 * to <dir>/tmp first; commit fsyncs the file, renames it into place and
 * fsyncs the directory, so a committed blob survives a crash and an
 * uncommitted one is only ever in tmp/ (emptied by recover).
 *
 * Uploads bypass the page cache (O_DIRECT) where the file system allows:
 * a multi-GiB image would otherwise evict the catalog's hot pages, and on a
 * VM whose freed memory goes back to the host, copying into fresh page-cache
 * pages cost more CPU than both digests together (bench/README.md).
 * Downloads read through the page cache: an image read again and again is
 * served from memory, as cat would read it, and the server sends the file
 * itself (the reader's fd). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

struct file_store {
    struct ims_store base;
    char *dir;
    bool direct_io; /* try O_DIRECT for image data */
};

struct file_writer {
    struct ims_store_writer base;
    struct file_store *fs;
    int fd;
    bool direct; /* fd is O_DIRECT: until the first write that is not aligned */
    uint64_t written, flushed; /* bytes written; bytes whose writeback was started */
    char tmp_path[PATH_MAX];
};

/* Start writeback every WRITEBACK_STEP bytes while the upload goes on, so
 * the fsync at commit has little left to do instead of the whole image. */
#define WRITEBACK_STEP (16ULL * 1024 * 1024)

/* Formats a path; false if it would not fit (never silently truncated). */
__attribute__((format(printf, 2, 3))) static bool path_fmt(char out[PATH_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    return n >= 0 && n < PATH_MAX;
}

static enum ims_rc errno_fail(struct ims_err *err, const char *what, const char *path)
{
    return ims_fail(err, IMS_E_IO, "%s %s: %s", what, path, strerror(errno));
}

static enum ims_rc mkdir_p(const char *path, struct ims_err *err)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return IMS_OK;
    return errno_fail(err, "cannot create directory", path);
}

static enum ims_rc fsync_dir(const char *path, struct ims_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno_fail(err, "cannot open", path);
    int r = fsync(fd);
    close(fd);
    return r == 0 ? IMS_OK : errno_fail(err, "cannot fsync", path);
}

/* Opens image data with O_DIRECT when the store asks for it and the file
 * system has it; *direct says which. A file system without O_DIRECT may
 * create the file before refusing the flag, so the second try does not
 * insist on creating it (the name is a fresh UUID either way). */
static int open_data(const struct file_store *fs, const char *path, int flags, bool *direct)
{
    *direct = false;
    if (fs->direct_io) {
        int fd = open(path, flags | O_DIRECT, 0640);
        if (fd >= 0 || errno != EINVAL) {
            *direct = fd >= 0;
            return fd;
        }
    }
    return open(path, flags & ~O_EXCL, 0640);
}

static enum ims_rc fs_writer_open(struct ims_store *s, int64_t size, struct ims_store_writer **ret,
                                  struct ims_err *err)
{
    (void)size; /* the file grows as it is written */
    struct file_store *fs = (struct file_store *)s;
    struct file_writer *w = ims_xcalloc(1, sizeof(*w));
    w->base.store = s;
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    w->fs = fs;
    /* named by its owner: another process's recovery leaves it alone while we live */
    path_fmt(w->tmp_path, "%s/tmp/%s.%s.part", fs->dir, id, ims_process_owner());
    snprintf(w->base.location, sizeof(w->base.location), "%s://%.2s/%s", ims_store_id(s), id, id);
    w->fd = open_data(fs, w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, &w->direct);
    if (w->fd < 0) {
        enum ims_rc rc = errno_fail(err, "cannot create", w->tmp_path);
        free(w);
        return rc;
    }
    *ret = &w->base;
    return IMS_OK;
}

/* Leaves O_DIRECT for the rest of the file: the last, partial block of an
 * upload (or a caller whose buffers are not aligned) goes through the page
 * cache and is flushed by the fsync at commit. */
static void leave_direct(struct file_writer *w)
{
    int flags = fcntl(w->fd, F_GETFL);
    if (flags >= 0 && fcntl(w->fd, F_SETFL, flags & ~O_DIRECT) == 0) {
        w->direct = false;
        w->flushed = w->written; /* nothing before is in the page cache */
    }
}

static bool direct_aligned(const struct file_writer *w, const void *p, size_t n)
{
    return (((uintptr_t)p | n | w->written) & (IMS_DIRECT_IO_ALIGN - 1)) == 0;
}

static enum ims_rc fs_write(struct ims_store_writer *sw, const void *p, size_t n, struct ims_err *err)
{
    struct file_writer *w = (struct file_writer *)sw;
    const char *q = p;
    while (n) {
        if (w->direct && !direct_aligned(w, q, n))
            leave_direct(w);
        ssize_t r = write(w->fd, q, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == ENOSPC ? ims_fail(err, IMS_E_TOOLARGE, "image store is full")
                                   : errno_fail(err, "cannot write", w->tmp_path);
        }
        q += r;
        n -= (size_t)r;
        w->written += (uint64_t)r;
    }
    if (!w->direct && w->written - w->flushed >= WRITEBACK_STEP) {
        /* Asynchronous: only queues the range for writeback. */
        sync_file_range(w->fd, (off64_t)w->flushed, (off64_t)(w->written - w->flushed), SYNC_FILE_RANGE_WRITE);
        w->flushed = w->written;
    }
    return IMS_OK;
}

static void fs_abort(struct ims_store_writer *sw)
{
    struct file_writer *w = (struct file_writer *)sw;
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp_path);
    free(w);
}

static enum ims_rc fs_commit(struct ims_store_writer *sw, char **ret_location, char ret_md5[33], struct ims_err *err)
{
    if (ret_md5)
        ret_md5[0] = 0;
    struct file_writer *w = (struct file_writer *)sw;
    char dir[PATH_MAX], final[PATH_MAX];
    /* the location it was opened for */
    const char *id = ims_store_location_key(&w->fs->base, w->base.location) + 3;
    path_fmt(dir, "%s/images/%.2s", w->fs->dir, id);
    path_fmt(final, "%s/%s", dir, id);
    enum ims_rc rc = IMS_OK;
    if (fsync(w->fd) != 0)
        rc = errno_fail(err, "cannot fsync", w->tmp_path);
    if (rc == IMS_OK)
        rc = mkdir_p(dir, err);
    if (rc == IMS_OK && rename(w->tmp_path, final) != 0)
        rc = errno_fail(err, "cannot rename into", final);
    if (rc == IMS_OK)
        rc = fsync_dir(dir, err);
    if (rc != IMS_OK) {
        unlink(final);
        fs_abort(sw);
        return rc;
    }
    close(w->fd);
    *ret_location = ims_xstrdup(w->base.location);
    free(w);
    return IMS_OK;
}


static enum ims_rc fs_temp_path(struct ims_store *s, char **ret_path, struct ims_err *err)
{
    struct file_store *fs = (struct file_store *)s;
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    /* the writer's shape: recovery knows it and its owner */
    *ret_path = ims_xasprintf("%s/tmp/%s.%s.part", fs->dir, id, ims_process_owner());
    return IMS_OK;
}

/* Whether path is one temp_path gives: directly in <dir>/tmp, this shape. */
static bool temp_path_valid(const struct file_store *fs, const char *path)
{
    size_t n = strlen(fs->dir);
    char owner[IMS_OWNER_MAX];
    return strncmp(path, fs->dir, n) == 0 && strncmp(path + n, "/tmp/", 5) == 0 && !strchr(path + n + 5, '/') &&
           ims_temp_name_owner(path + n + 5, owner);
}

static enum ims_rc fs_adopt(struct ims_store *s, const char *path, char **ret_location, char ret_md5[33],
                            struct ims_err *err)
{
    struct file_store *fs = (struct file_store *)s;
    if (!temp_path_valid(fs, path))
        return ims_fail(err, IMS_E_INTERNAL, "not a temporary file of this store");
    struct file_writer *w = ims_xcalloc(1, sizeof(*w));
    w->base.store = s;
    w->fs = fs;
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    snprintf(w->base.location, sizeof(w->base.location), "%s://%.2s/%s", ims_store_id(s), id, id);
    snprintf(w->tmp_path, sizeof(w->tmp_path), "%s", path);
    /* O_NOFOLLOW: what the producer left must be a file, not a link out */
    w->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (w->fd < 0 || fstat(w->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        enum ims_rc rc = w->fd < 0 ? errno_fail(err, "cannot open", path)
                                   : ims_fail(err, IMS_E_IO, "%s is not a regular file", path);
        fs_abort(&w->base);
        return rc;
    }
    return fs_commit(&w->base, ret_location, ret_md5, err);
}

/* A key is "<2 hex>/<uuid>": anything else never reaches the file
 * system, whatever the database says. */
static bool key_valid(const char *key)
{
    return key && strlen(key) == 3 + IMS_UUID_LEN && key[2] == '/' && ims_uuid_valid(key + 3) &&
           strncmp(key, key + 3, 2) == 0;
}

/* The path of a location's blob; false for a location that is not one of
 * this store's. */
static bool blob_path(const struct file_store *fs, const char *location, char path[PATH_MAX])
{
    const char *key = ims_store_location_key(&fs->base, location);
    return key_valid(key) && path_fmt(path, "%s/images/%s", fs->dir, key);
}

static enum ims_rc fs_open_read(struct ims_store *s, const char *location, struct ims_blob_reader *ret,
                                struct ims_err *err)
{
    struct file_store *fs = (struct file_store *)s;
    char path[PATH_MAX];
    if (!blob_path(fs, location, path))
        return ims_fail(err, IMS_E_IO, "invalid blob location");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ims_fail(err, IMS_E_NOTFOUND, "image data is missing")
                               : errno_fail(err, "cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return errno_fail(err, "cannot stat", path);
    }
    *ret = (struct ims_blob_reader){.fd = fd, .size = (uint64_t)st.st_size};
    return IMS_OK;
}

static enum ims_rc fs_local_path(struct ims_store *s, const char *location, char **ret_path, bool *ret_copy,
                                 struct ims_err *err)
{
    *ret_copy = false;
    char path[PATH_MAX];
    if (!blob_path((struct file_store *)s, location, path))
        return ims_fail(err, IMS_E_IO, "invalid blob location");
    *ret_path = ims_xstrdup(path);
    return IMS_OK;
}

static enum ims_rc fs_remove(struct ims_store *s, const char *location, struct ims_err *err)
{
    struct file_store *fs = (struct file_store *)s;
    char path[PATH_MAX];
    if (!blob_path(fs, location, path))
        return ims_fail(err, IMS_E_IO, "invalid blob location");
    if (unlink(path) != 0 && errno != ENOENT)
        return errno_fail(err, "cannot remove", path);
    return IMS_OK;
}

static bool older_than(int dirfd, const char *name, int64_t cutoff)
{
    struct stat st;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (int64_t)st.st_mtime <= cutoff;
}

/* Temporary files of writers that are gone, or not newer than cutoff. */
static int64_t remove_stale_temp(const char *path, int64_t cutoff)
{
    int64_t n = 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char owner[IMS_OWNER_MAX];
        bool gone = ims_temp_name_owner(e->d_name, owner) && ims_owner_gone(owner);
        if ((gone || older_than(dirfd(d), e->d_name, cutoff)) && unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* The sweep's removal of an old blob nobody knows: its location was made
 * from the names readdir gave, so it is "<dir>/<file>" under images/. */
static bool sweep_remove(void *ctx, const char *location)
{
    struct file_store *fs = ctx;
    const char *key = ims_store_location_key(&fs->base, location);
    char path[PATH_MAX];
    return key && path_fmt(path, "%s/images/%s", fs->dir, key) && unlink(path) == 0;
}

static enum ims_rc fs_recover(struct ims_store *s, const struct ims_blob_known *known, int64_t grace_seconds,
                              int64_t *ret_temp, int64_t *ret_orphans, struct ims_err *err)
{
    struct file_store *fs = (struct file_store *)s;
    int64_t cutoff = ims_now() - grace_seconds;
    char path[PATH_MAX];
    path_fmt(path, "%s/tmp", fs->dir);
    *ret_temp = remove_stale_temp(path, cutoff);
    *ret_orphans = 0;
    path_fmt(path, "%s/images", fs->dir);
    DIR *top = opendir(path);
    if (!top)
        return errno_fail(err, "cannot open", path);
    struct ims_sweep sweep = {.known = known, .remove = sweep_remove, .ctx = fs};
    struct dirent *e;
    while ((e = readdir(top))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        path_fmt(sub, "%s/%s", path, e->d_name);
        DIR *d = opendir(sub);
        if (!d)
            continue;
        struct dirent *f;
        while ((f = readdir(d))) {
            if (f->d_name[0] == '.')
                continue;
            char loc[PATH_MAX];
            if (path_fmt(loc, "%s://%s/%s", ims_store_id(s), e->d_name, f->d_name) && older_than(dirfd(d), f->d_name, cutoff))
                ims_sweep_add(&sweep, loc);
        }
        closedir(d);
    }
    closedir(top);
    *ret_orphans = ims_sweep_finish(&sweep);
    return IMS_OK;
}

static void fs_close(struct ims_store *s)
{
    struct file_store *fs = (struct file_store *)s;
    if (!fs)
        return;
    free(fs->dir);
    free(fs);
}

static const struct ims_store_ops file_ops = {
    .name = "file",
    .writer_open = fs_writer_open,
    .write = fs_write,
    .commit = fs_commit,
    .abort = fs_abort,
    .temp_path = fs_temp_path,
    .adopt = fs_adopt,
    .local_path = fs_local_path,
    .open_read = fs_open_read,
    .remove = fs_remove,
    .recover = fs_recover,
    .close = fs_close,
};

enum ims_rc ims_store_file_open(const char *dir, bool direct_io, struct ims_store **ret, struct ims_err *err)
{
    /* Every path below is dir plus at most 90 bytes: checked once here. */
    if (strlen(dir) > PATH_MAX - 100)
        return ims_fail(err, IMS_E_IO, "data dir path is too long");
    char path[PATH_MAX];
    enum ims_rc rc = mkdir_p(dir, err);
    path_fmt(path, "%s/images", dir);
    if (rc == IMS_OK)
        rc = mkdir_p(path, err);
    path_fmt(path, "%s/tmp", dir);
    if (rc == IMS_OK)
        rc = mkdir_p(path, err);
    if (rc != IMS_OK)
        return rc;
    struct file_store *fs = ims_xcalloc(1, sizeof(*fs));
    fs->base.ops = &file_ops;
    fs->dir = ims_xstrdup(dir);
    fs->direct_io = direct_io;
    *ret = &fs->base;
    return IMS_OK;
}
