/* SPDX-License-Identifier: Apache-2.0
 * The embedded object store: bucket B is the directory <dir>/B, object K
 * the file <dir>/B/K, each '/' in K a subdirectory.
 *
 * Names come from users, so nothing here trusts a path: every key is walked
 * one segment at a time with openat(O_NOFOLLOW) from the bucket's
 * directory, so a symlink anywhere in a bucket (put there by someone with
 * access to the directory) is never followed, and a valid key (name.c: no
 * "..", no leading '/') cannot name anything outside. Files are opened
 * O_NONBLOCK and must be regular, so a FIFO cannot stall a reader.
 *
 * A put writes <dir>/.tmp/<uuid>.<owner>.part (".tmp" is no valid bucket
 * name), fsyncs it and renames it over the key: nobody sees a partial
 * object, and a crash leaves only a temporary file, which the next open
 * removes once its owner is gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "obs-int.h"

#define TAG_XATTR "user.ims.tag" /* an object's tag (ims_obs_tag_valid) */

#define TMP_DIR ".tmp"
/* Temporary files of live owners are left alone this long at most. */
#define TMP_GRACE_SECONDS (24 * 3600)
/* Keys one listing looks at, at most (the whole bucket is read per page). */
#define LIST_SCAN_MAX 1000000
#define COPY_CHUNK (1 << 20)

struct embedded {
    struct ims_obs base;
    char *dir;
    int root_fd, tmp_fd;
};

struct emb_reader {
    struct ims_obs_reader base;
    uint64_t pos; /* bytes of the range delivered */
};

/* The directories from a bucket down to a key's last segment, all open. */
struct walk {
    int *fds; /* fds[0]: the bucket; fds[i]: the directory of segment i */
    size_t n;
    const char *leaf; /* inside key */
};

static void walk_release(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        close(w->fds[i]);
    free(w->fds);
    memset(w, 0, sizeof(*w));
}

static int walk_dir(const struct walk *w) { return w->fds[w->n - 1]; }

static enum ims_obs_rc errno_rc(int e, struct ims_err *err, const char *what, const char *bucket, const char *key)
{
    switch (e) {
    case ENOENT: return ims_obs_fail(err, IMS_OBS_NO_OBJECT, "no object %s:%s", bucket, key);
    case ELOOP:
        return ims_obs_fail(err, IMS_OBS_DENIED, "%s:%s: a symbolic link in the way is not followed", bucket, key);
    case EACCES:
    case EPERM: return ims_obs_fail(err, IMS_OBS_DENIED, "%s %s:%s: %s", what, bucket, key, strerror(e));
    case ENAMETOOLONG: return ims_obs_fail(err, IMS_OBS_BAD_NAME, "%s:%s: a part of the name is too long", bucket, key);
    case EFBIG:
    case ENOSPC:
    case EDQUOT: return ims_obs_fail(err, IMS_OBS_TOO_LARGE, "%s %s:%s: %s", what, bucket, key, strerror(e));
    default: return ims_obs_fail(err, IMS_OBS_IO, "%s %s:%s: %s", what, bucket, key, strerror(e));
    }
}

/* Whether name in dirfd is a symlink (for the ENOTDIR that O_DIRECTORY
 * gives some kernels instead of ELOOP). */
static bool is_symlink(int dirfd, const char *name)
{
    struct stat st;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

static enum ims_obs_rc open_bucket(struct embedded *e, const char *bucket, int *ret, struct ims_err *err)
{
    int fd = openat(e->root_fd, bucket, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        *ret = fd;
        return IMS_OBS_OK;
    }
    int saved = errno;
    if (saved == ELOOP || (saved == ENOTDIR && is_symlink(e->root_fd, bucket)))
        return ims_obs_fail(err, IMS_OBS_DENIED, "bucket %s is a symbolic link, which is not followed", bucket);
    if (saved == ENOENT || saved == ENOTDIR)
        return ims_obs_fail(err, IMS_OBS_NO_BUCKET, "no bucket %s", bucket);
    return ims_obs_fail(err, saved == EACCES ? IMS_OBS_DENIED : IMS_OBS_IO, "bucket %s: %s", bucket, strerror(saved));
}

/* Opens the directories of key's segments but the last; with create,
 * makes the missing ones. ENOTDIR on the way: a segment is an object
 * (EXISTS with create, else NO_OBJECT). */
static enum ims_obs_rc walk_open(struct embedded *e, const char *bucket, const char *key, bool create, struct walk *w,
                                 struct ims_err *err)
{
    memset(w, 0, sizeof(*w));
    int bfd;
    enum ims_obs_rc rc = open_bucket(e, bucket, &bfd, err);
    if (rc)
        return rc;
    size_t cap = 8;
    w->fds = ims_xmalloc(cap * sizeof(int));
    w->fds[w->n++] = bfd;
    char seg[NAME_MAX + 1];
    const char *p = key;
    for (const char *slash; (slash = strchr(p, '/')); p = slash + 1) {
        size_t len = (size_t)(slash - p);
        if (len > NAME_MAX) {
            walk_release(w);
            return ims_obs_fail(err, IMS_OBS_BAD_NAME, "%s:%s: a part of the name is too long", bucket, key);
        }
        memcpy(seg, p, len);
        seg[len] = 0;
        int parent = walk_dir(w), fd = -1;
        for (int tries = 0; tries < 8; tries++) {
            fd = openat(parent, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0 || errno != ENOENT || !create)
                break;
            /* a concurrent remove may prune it again before we open it: retry */
            if (mkdirat(parent, seg, 0755) && errno != EEXIST)
                break;
        }
        if (fd < 0) {
            int saved = errno;
            bool link = saved == ELOOP || (saved == ENOTDIR && is_symlink(parent, seg));
            walk_release(w);
            if (link)
                return errno_rc(ELOOP, err, "", bucket, key);
            if (saved == ENOTDIR)
                return create ? ims_obs_fail(err, IMS_OBS_EXISTS, "%s:%s: '%s' is an object, not a folder", bucket,
                                             key, seg)
                              : ims_obs_fail(err, IMS_OBS_NO_OBJECT, "no object %s:%s", bucket, key);
            return errno_rc(saved, err, create ? "cannot create a folder for" : "cannot open", bucket, key);
        }
        if (w->n == cap)
            w->fds = ims_xrealloc(w->fds, (cap *= 2) * sizeof(int));
        w->fds[w->n++] = fd;
    }
    if (strlen(p) > NAME_MAX) {
        walk_release(w);
        return ims_obs_fail(err, IMS_OBS_BAD_NAME, "%s:%s: a part of the name is too long", bucket, key);
    }
    w->leaf = p;
    return IMS_OBS_OK;
}

/* Opens the object's file for reading: a regular file, no symlink. */
static enum ims_obs_rc open_object(struct embedded *e, const char *bucket, const char *key, int *ret_fd,
                                   struct stat *st, struct ims_err *err)
{
    struct walk w;
    enum ims_obs_rc rc = walk_open(e, bucket, key, false, &w, err);
    if (rc)
        return rc;
    int fd = openat(walk_dir(&w), w.leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int saved = errno;
    walk_release(&w);
    if (fd < 0)
        return errno_rc(saved, err, "cannot open", bucket, key);
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        return ims_obs_fail(err, IMS_OBS_NO_OBJECT, "no object %s:%s (not a file)", bucket, key);
    }
    /* back to blocking reads: O_NONBLOCK was only against FIFOs */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *ret_fd = fd;
    return IMS_OBS_OK;
}

static void fill_info(const struct stat *st, struct ims_obs_info *info)
{
    memset(info, 0, sizeof(*info));
    info->size = (uint64_t)st->st_size;
    info->mtime = st->st_mtim.tv_sec;
    snprintf(info->etag, sizeof(info->etag), "%llx-%llx-%llx-%llx", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_mtim.tv_sec, (unsigned long long)st->st_mtim.tv_nsec,
             (unsigned long long)st->st_size);
}

static enum ims_obs_rc emb_bucket_create(struct ims_obs *o, const char *bucket, struct ims_err *err)
{
    struct embedded *e = (struct embedded *)o;
    if (mkdirat(e->root_fd, bucket, 0755) == 0) {
        fsync(e->root_fd);
        return IMS_OBS_OK;
    }
    if (errno == EEXIST)
        return ims_obs_fail(err, IMS_OBS_EXISTS, "bucket %s already exists", bucket);
    return ims_obs_fail(err, errno == EACCES ? IMS_OBS_DENIED : IMS_OBS_IO, "cannot create bucket %s: %s", bucket,
                        strerror(errno));
}

static enum ims_obs_rc emb_bucket_exists(struct ims_obs *o, const char *bucket, struct ims_err *err)
{
    int fd;
    enum ims_obs_rc rc = open_bucket((struct embedded *)o, bucket, &fd, err);
    if (!rc)
        close(fd);
    return rc;
}

static enum ims_obs_rc emb_head(struct ims_obs *o, const char *bucket, const char *key, struct ims_obs_info *ret,
                                struct ims_err *err)
{
    int fd;
    struct stat st;
    enum ims_obs_rc rc = open_object((struct embedded *)o, bucket, key, &fd, &st, err);
    if (rc)
        return rc;
    fill_info(&st, ret);
    ssize_t n = fgetxattr(fd, TAG_XATTR, ret->tag, IMS_OBS_TAG_MAX);
    ret->tag[n > 0 ? n : 0] = 0;
    if (!ims_obs_tag_valid(ret->tag))
        ret->tag[0] = 0;
    close(fd);
    return IMS_OBS_OK;
}

static enum ims_obs_rc emb_open_read(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                     uint64_t length, struct ims_obs_reader **ret, struct ims_err *err)
{
    int fd;
    struct stat st;
    enum ims_obs_rc rc = open_object((struct embedded *)o, bucket, key, &fd, &st, err);
    if (rc)
        return rc;
    uint64_t size = (uint64_t)st.st_size;
    if (offset > size) {
        close(fd);
        return ims_obs_fail(err, IMS_OBS_BAD_RANGE, "%s:%s has %llu bytes; offset %llu is past its end", bucket, key,
                            (unsigned long long)size, (unsigned long long)offset);
    }
    struct emb_reader *r = ims_xcalloc(1, sizeof(*r));
    r->base.obs = o;
    r->base.fd = fd;
    r->base.offset = offset;
    r->base.length = length < size - offset ? length : size - offset;
    fill_info(&st, &r->base.info);
    *ret = &r->base;
    return IMS_OBS_OK;
}

static enum ims_obs_rc emb_read(struct ims_obs_reader *base, char *buf, size_t max, size_t *ret_n,
                                struct ims_err *err)
{
    struct emb_reader *r = (struct emb_reader *)base;
    uint64_t left = base->length - r->pos;
    size_t want = left < max ? (size_t)left : max;
    if (!want) {
        *ret_n = 0;
        return IMS_OBS_OK;
    }
    for (;;) {
        ssize_t n = pread(base->fd, buf, want, (off_t)(base->offset + r->pos));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ims_obs_fail(err, IMS_OBS_IO, "cannot read the object: %s", strerror(errno));
        if (n == 0) /* truncated under us: never pass a short object off as whole */
            return ims_obs_fail(err, IMS_OBS_IO, "the object became shorter while it was read");
        r->pos += (uint64_t)n;
        *ret_n = (size_t)n;
        return IMS_OBS_OK;
    }
}

static void emb_reader_close(struct ims_obs_reader *base)
{
    close(base->fd);
    free(base);
}

/* ---- writes: a temporary file, renamed over the key ---- */

struct tmpfile {
    int fd;
    char name[IMS_UUID_LEN + IMS_OWNER_MAX + 8];
};

static enum ims_obs_rc tmp_create(struct embedded *e, struct tmpfile *t, struct ims_err *err)
{
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    /* named by its owner: a crash's leftovers are removed once it is gone */
    snprintf(t->name, sizeof(t->name), "%s.%s.part", id, ims_process_owner());
    t->fd = openat(e->tmp_fd, t->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (t->fd < 0)
        return ims_obs_fail(err, IMS_OBS_IO, "cannot create a temporary file in %s/" TMP_DIR ": %s", e->dir,
                            strerror(errno));
    return IMS_OBS_OK;
}

static void tmp_discard(struct embedded *e, struct tmpfile *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    unlinkat(e->tmp_fd, t->name, 0);
}

/* fsyncs the data and renames it over the key; discards it on failure. The
 * tag goes with the file (an extended attribute; a file system without
 * user attributes keeps none, which only the tag's reader notices). */
static enum ims_obs_rc tmp_commit(struct embedded *e, struct tmpfile *t, const char *bucket, const char *key,
                                  const char *tag, struct ims_err *err)
{
    if (tag && fsetxattr(t->fd, TAG_XATTR, tag, strlen(tag), 0) != 0)
        ims_warn("object storage: %s:%s keeps no tag: %s", bucket, key, strerror(errno));
    if (fsync(t->fd)) {
        int saved = errno;
        tmp_discard(e, t);
        return errno_rc(saved, err, "cannot write", bucket, key);
    }
    close(t->fd);
    t->fd = -1;
    enum ims_obs_rc rc = IMS_OBS_OK;
    /* a concurrent remove may prune a folder we made: walk again */
    for (int tries = 0; tries < 8; tries++) {
        struct walk w;
        rc = walk_open(e, bucket, key, true, &w, err);
        if (rc)
            break;
        if (renameat(e->tmp_fd, t->name, walk_dir(&w), w.leaf) == 0) {
            fsync(walk_dir(&w));
            walk_release(&w);
            return IMS_OBS_OK;
        }
        int saved = errno;
        walk_release(&w);
        if (saved == ENOENT)
            continue;
        if (saved == EISDIR || saved == ENOTEMPTY || saved == EEXIST)
            rc = ims_obs_fail(err, IMS_OBS_EXISTS, "%s:%s is a folder of other objects", bucket, key);
        else
            rc = errno_rc(saved, err, "cannot store", bucket, key);
        break;
    }
    if (!rc)
        rc = ims_obs_fail(err, IMS_OBS_IO, "cannot store %s:%s: its folder keeps disappearing", bucket, key);
    tmp_discard(e, t);
    return rc;
}

static enum ims_obs_rc emb_put(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                               ims_obs_source_fn src, void *src_ctx, const char *tag, struct ims_err *err)
{
    struct embedded *e = (struct embedded *)o;
    /* the bucket first: a missing one is the caller's error, not ours */
    enum ims_obs_rc rc = emb_bucket_exists(o, bucket, err);
    if (rc)
        return rc;
    struct tmpfile t;
    if ((rc = tmp_create(e, &t, err)))
        return rc;
    char *buf = ims_xmalloc(COPY_CHUNK);
    uint64_t done = 0;
    while (done < size) {
        size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
        ssize_t n = src(src_ctx, buf, want);
        if (n <= 0) {
            rc = ims_obs_fail(err, IMS_OBS_IO, n < 0 ? "reading the data failed after %llu of %llu bytes"
                                                     : "the data ended after %llu of %llu bytes",
                              (unsigned long long)done, (unsigned long long)size);
            break;
        }
        if (!ims_obs_write_all(t.fd, buf, (size_t)n)) {
            rc = errno_rc(errno, err, "cannot write", bucket, key);
            break;
        }
        done += (uint64_t)n;
    }
    free(buf);
    if (rc) {
        tmp_discard(e, &t);
        return rc;
    }
    return tmp_commit(e, &t, bucket, key, tag, err);
}

/* The whole of regular file src into t: a reflink where the file system
 * shares blocks (no data copied), else an in-kernel copy, else read/write. */
static enum ims_obs_rc copy_fd(int src, struct tmpfile *t, const char *bucket, const char *key, struct ims_err *err)
{
    struct stat st;
    if (fstat(src, &st) || !S_ISREG(st.st_mode))
        return ims_obs_fail(err, IMS_OBS_IO, "the source of %s:%s is not a regular file", bucket, key);
    if (ioctl(t->fd, FICLONE, src) == 0)
        return IMS_OBS_OK;
    uint64_t size = (uint64_t)st.st_size, done = 0;
    loff_t in = 0;
    while (done < size) {
        size_t want = size - done < (1u << 30) ? (size_t)(size - done) : (1u << 30);
        ssize_t n = copy_file_range(src, &in, t->fd, NULL, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (uint64_t)n;
    }
    if (done == size)
        return IMS_OBS_OK;
    /* not supported here (or the file changed): plain copy of the rest */
    char *buf = ims_xmalloc(COPY_CHUNK);
    enum ims_obs_rc rc = IMS_OBS_OK;
    while (done < size) {
        ssize_t n = pread(src, buf, COPY_CHUNK, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = ims_obs_fail(err, IMS_OBS_IO, "reading the data failed after %llu of %llu bytes",
                              (unsigned long long)done, (unsigned long long)size);
            break;
        }
        if (pwrite(t->fd, buf, (size_t)n, (off_t)done) != n) {
            rc = errno_rc(errno ? errno : EIO, err, "cannot write", bucket, key);
            break;
        }
        done += (uint64_t)n;
    }
    free(buf);
    return rc;
}

/* A hard link of the very file open at fd, under a temporary name (no byte
 * copied): false when the file systems differ (or links are refused). */
static bool tmp_link(struct embedded *e, int fd, struct tmpfile *t)
{
    char id[IMS_UUID_LEN + 1], self[64];
    ims_uuid_new(id);
    snprintf(t->name, sizeof(t->name), "%s.%s.part", id, ims_process_owner());
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, self, e->tmp_fd, t->name, AT_SYMLINK_FOLLOW) != 0)
        return false;
    t->fd = openat(e->tmp_fd, t->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (t->fd < 0) {
        unlinkat(e->tmp_fd, t->name, 0);
        return false;
    }
    return true;
}

static enum ims_obs_rc emb_put_file(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                    const struct ims_obs_put_opts *opts, struct ims_err *err)
{
    struct embedded *e = (struct embedded *)o;
    const char *tag = opts->tag;
    enum ims_obs_rc rc = emb_bucket_exists(o, bucket, err);
    if (rc)
        return rc;
    struct tmpfile t;
    struct stat st;
    if (opts->may_link && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && tmp_link(e, fd, &t))
        return tmp_commit(e, &t, bucket, key, tag, err);
    if ((rc = tmp_create(e, &t, err)))
        return rc;
    if ((rc = copy_fd(fd, &t, bucket, key, err))) {
        tmp_discard(e, &t);
        return rc;
    }
    return tmp_commit(e, &t, bucket, key, tag, err);
}

static enum ims_obs_rc emb_copy(struct ims_obs *o, const char *sb, const char *sk, const char *db, const char *dk,
                                struct ims_err *err)
{
    int fd;
    struct stat st;
    enum ims_obs_rc rc = open_object((struct embedded *)o, sb, sk, &fd, &st, err);
    if (rc)
        return rc;
    static const struct ims_obs_put_opts copy_opts; /* a copy: the source may change later */
    rc = emb_put_file(o, db, dk, fd, &copy_opts, err);
    close(fd);
    return rc;
}

static enum ims_obs_rc emb_remove(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err)
{
    struct walk w;
    enum ims_obs_rc rc = walk_open((struct embedded *)o, bucket, key, false, &w, err);
    if (rc == IMS_OBS_NO_OBJECT)
        return IMS_OBS_OK;
    if (rc)
        return rc;
    struct stat st;
    if (fstatat(walk_dir(&w), w.leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
        if (unlinkat(walk_dir(&w), w.leaf, 0) == 0)
            fsync(walk_dir(&w));
        else if (errno != ENOENT)
            rc = errno_rc(errno, err, "cannot remove", bucket, key);
    }
    /* prune the folders it leaves empty, deepest first; each by its name in
     * its parent (fds[i] holds folder segment i), so no symlink is followed */
    const char *end = w.leaf - 1;
    for (size_t i = w.n - 1; !rc && i-- > 0;) {
        const char *start = end;
        while (start > key && start[-1] != '/')
            start--;
        char seg[NAME_MAX + 1];
        memcpy(seg, start, (size_t)(end - start));
        seg[end - start] = 0;
        if (unlinkat(w.fds[i], seg, AT_REMOVEDIR))
            break;
        end = start - 1;
    }
    walk_release(&w);
    return rc;
}

/* ---- listing ---- */

struct scan {
    const char *prefix, *after;
    size_t plen;
    struct ims_obs_entry *items;
    size_t n, cap;
    bool overflow;
};

/* Whether keys below the folder path (with its trailing '/') can start with prefix. */
static bool folder_may_match(const char *path, size_t len, const char *prefix, size_t plen)
{
    size_t m = len < plen ? len : plen;
    return memcmp(path, prefix, m) == 0;
}

static void scan_dir(struct scan *s, int dfd, char *path, size_t len)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) && !s->overflow) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        size_t nlen = strlen(name);
        if (len + nlen + 1 > IMS_OBS_KEY_MAX)
            continue;
        memcpy(path + len, name, nlen + 1);
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW))
            continue;
        if (S_ISDIR(st.st_mode)) {
            path[len + nlen] = '/';
            path[len + nlen + 1] = 0;
            if (!folder_may_match(path, len + nlen + 1, s->prefix, s->plen))
                continue;
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                scan_dir(s, sub, path, len + nlen + 1);
            continue;
        }
        /* symlinks, FIFOs, sockets: not objects */
        if (!S_ISREG(st.st_mode) || strncmp(path, s->prefix, s->plen) != 0)
            continue;
        if (s->after && strcmp(path, s->after) <= 0)
            continue;
        if (ims_obs_key_check(path) != IMS_OBS_NAME_OK)
            continue; /* a file no valid key names (put there by hand) */
        if (s->n == LIST_SCAN_MAX) {
            s->overflow = true;
            break;
        }
        if (s->n == s->cap)
            s->items = ims_xrealloc(s->items, (s->cap = s->cap ? 2 * s->cap : 64) * sizeof(*s->items));
        s->items[s->n++] = (struct ims_obs_entry){
            .key = ims_xstrdup(path), .size = (uint64_t)st.st_size, .mtime = st.st_mtim.tv_sec};
    }
    closedir(d);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ims_obs_entry *)a)->key, ((const struct ims_obs_entry *)b)->key);
}

static enum ims_obs_rc emb_list(struct ims_obs *o, const char *bucket, const char *prefix, const char *token,
                                size_t max, struct ims_obs_listing *ret, struct ims_err *err)
{
    int bfd;
    enum ims_obs_rc rc = open_bucket((struct embedded *)o, bucket, &bfd, err);
    if (rc)
        return rc;
    struct scan s = {.prefix = prefix, .plen = strlen(prefix), .after = token};
    char path[IMS_OBS_KEY_MAX + 2] = "";
    scan_dir(&s, bfd, path, 0);
    if (s.overflow) {
        struct ims_obs_listing all = {.items = s.items, .n = s.n};
        ims_obs_listing_release(&all);
        return ims_obs_fail(err, IMS_OBS_IO, "bucket %s holds more than %d matching objects; list a narrower prefix",
                            bucket, LIST_SCAN_MAX);
    }
    if (s.n > 1) /* qsort takes no NULL, even for nothing */
        qsort(s.items, s.n, sizeof(*s.items), entry_cmp);
    memset(ret, 0, sizeof(*ret));
    ret->items = s.items;
    ret->n = s.n;
    if (s.n > max) {
        for (size_t i = max; i < s.n; i++)
            free(s.items[i].key);
        ret->n = max;
        ret->truncated = true;
        ret->next = ims_xstrdup(s.items[max - 1].key);
    }
    return IMS_OBS_OK;
}

static enum ims_obs_rc emb_local_path(struct ims_obs *o, const char *bucket, const char *key, char **ret,
                                      struct ims_err *err)
{
    struct embedded *e = (struct embedded *)o;
    int fd;
    struct stat st;
    enum ims_obs_rc rc = open_object(e, bucket, key, &fd, &st, err);
    if (rc)
        return rc;
    close(fd);
    *ret = ims_xasprintf("%s/%s/%s", e->dir, bucket, key);
    return IMS_OBS_OK;
}

static void emb_close(struct ims_obs *o)
{
    struct embedded *e = (struct embedded *)o;
    close(e->tmp_fd);
    close(e->root_fd);
    free(e->dir);
    free(e);
}

static const struct ims_obs_ops embedded_ops = {
    .name = "embedded",
    .bucket_create = emb_bucket_create,
    .bucket_exists = emb_bucket_exists,
    .head = emb_head,
    .open_read = emb_open_read,
    .read = emb_read,
    .reader_close = emb_reader_close,
    .put = emb_put,
    .put_file = emb_put_file,
    .remove = emb_remove,
    .list = emb_list,
    .copy = emb_copy,
    .local_path = emb_local_path,
    .close = emb_close,
};

/* Temporary files of puts whose process is gone, or older than a day. */
static void remove_stale_temp(int tmp_fd)
{
    int fd = dup(tmp_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    int64_t cutoff = ims_now() - TMP_GRACE_SECONDS;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char owner[IMS_OWNER_MAX];
        struct stat st;
        bool gone = ims_temp_name_owner(de->d_name, owner) && ims_owner_gone(owner);
        bool old = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtim.tv_sec < cutoff;
        if (gone || old)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* mkdir -p */
static bool make_dirs(const char *dir)
{
    char *p = ims_xstrdup(dir);
    bool ok = true;
    for (char *s = p + 1; ok && *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        ok = mkdir(p, 0755) == 0 || errno == EEXIST;
        *s = '/';
    }
    ok = ok && (mkdir(p, 0755) == 0 || errno == EEXIST);
    free(p);
    return ok;
}

enum ims_obs_rc ims_obs_embedded_open(const char *dir, struct ims_obs **ret, struct ims_err *err)
{
    if (!*dir || !make_dirs(dir))
        return ims_obs_fail(err, IMS_OBS_IO, "cannot create the object storage directory %s: %s", dir,
                            strerror(errno));
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return ims_obs_fail(err, IMS_OBS_IO, "cannot open the object storage directory %s: %s", dir, strerror(errno));
    if (mkdirat(root, TMP_DIR, 0700) && errno != EEXIST) {
        int saved = errno;
        close(root);
        return ims_obs_fail(err, IMS_OBS_IO, "cannot create %s/" TMP_DIR ": %s", dir, strerror(saved));
    }
    int tmp = openat(root, TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tmp < 0) {
        int saved = errno;
        close(root);
        return ims_obs_fail(err, IMS_OBS_IO, "cannot open %s/" TMP_DIR ": %s", dir, strerror(saved));
    }
    remove_stale_temp(tmp);
    struct embedded *e = ims_xcalloc(1, sizeof(*e));
    e->base.ops = &embedded_ops;
    e->dir = ims_xstrdup(dir);
    e->root_fd = root;
    e->tmp_fd = tmp;
    *ret = &e->base;
    return IMS_OBS_OK;
}
