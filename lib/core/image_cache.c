/* SPDX-License-Identifier: Apache-2.0
 * The node-local image cache's directory: images of a remote store (S3)
 * kept as local files so that a download after the first is a sendfile
 * from the page cache, as the file store's are.
 *
 *   <dir>/data/<image id>.<blob tag>   a cached image, complete and verified
 *   <dir>/tmp/<key>.<owner>.part       a fill in progress (its process named)
 *   <dir>/lock/<key>                   flock()ed by the one fill of key
 *   <dir>/queue/<image id>             queued for caching (Glance's queue)
 *
 * The blob tag (a digest of the image's data location) is part of the
 * name, so a file never stands for other data than the image's own: data
 * replaced under the same id is another name. Least recently used files
 * (atime, set on every hit) go first when the directory grows past its
 * bound. A reader keeps its descriptor of a file evicted meanwhile. Several
 * processes of one host may share the directory: fills are locked per key
 * across them, and a process's temporary files are removed once it is
 * gone. Hits are counted per process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/image.h"
#include "ims/kv.h"
#include "ims/store.h"

#define HITS_MAX 4096
#define WRITEBACK_STEP (8u << 20)

struct ims_image_cache {
    char *dir;
    uint64_t max_size;
    pthread_mutex_t lock; /* hits, eviction within this process, fills */
    pthread_cond_t fills_gone;
    unsigned fills;       /* live fills: close waits for them (their threads use the cache) */
    atomic_bool closing;  /* fills in progress stop at their next step */
    struct {
        char key[IMS_CACHE_KEY_MAX];
        int64_t hits;
    } hits[HITS_MAX];
    size_t nhits;
};

static char *sub(const struct ims_image_cache *c, const char *area, const char *name)
{
    return name ? ims_xasprintf("%s/%s/%s", c->dir, area, name) : ims_xasprintf("%s/%s", c->dir, area);
}

/* "<uuid>.<owner>.part" of a gone owner. */
static bool temp_of_gone_owner(const char *name)
{
    const char *dot = strchr(name, '.');
    size_t len = strlen(name);
    if (!dot || len < 5 || strcmp(name + len - 5, ".part") != 0)
        return false;
    const char *owner = strchr(dot + 1, '.');
    if (!owner)
        return false;
    owner++;
    size_t olen = (size_t)(name + len - 5 - owner);
    char buf[IMS_OWNER_MAX];
    if (olen == 0 || olen >= sizeof(buf))
        return false;
    memcpy(buf, owner, olen);
    buf[olen] = 0;
    return ims_owner_gone(buf);
}

static int open_in(const struct ims_image_cache *c, const char *area, const char *name, int flags)
{
    char *path = sub(c, area, name);
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0640);
    free(path);
    return fd;
}

/* The directory and its areas, made when first written (a node whose
 * images are all in the file store never has one). */
static bool ensure_areas(const struct ims_image_cache *c)
{
    const char *areas[] = {NULL, "data", "tmp", "lock", "queue"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(areas); i++) {
        char *path = areas[i] ? sub(c, areas[i], NULL) : ims_xstrdup(c->dir);
        int r = mkdir(path, 0750);
        int e = errno;
        if (r != 0 && e != EEXIST) {
            ims_warn("image cache: cannot create %s: %s", path, strerror(e));
            free(path);
            return false;
        }
        free(path);
    }
    return true;
}

enum ims_rc ims_image_cache_open(const char *dir, uint64_t max_size, struct ims_image_cache **ret,
                                 struct ims_err *err)
{
    if (strlen(dir) > 3000)
        return ims_fail(err, IMS_E_IO, "[cache] directory path is too long");
    struct ims_image_cache *c = ims_xcalloc(1, sizeof(*c));
    c->dir = ims_xstrdup(dir);
    c->max_size = max_size;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->fills_gone, NULL);
    /* what fills of processes gone left behind */
    char *tmp = sub(c, "tmp", NULL);
    DIR *d = opendir(tmp);
    for (struct dirent *e; d && (e = readdir(d));)
        if (temp_of_gone_owner(e->d_name)) {
            char *p = sub(c, "tmp", e->d_name);
            unlink(p);
            free(p);
        }
    if (d)
        closedir(d);
    free(tmp);
    *ret = c;
    return IMS_OK;
}

void ims_image_cache_close(struct ims_image_cache *c)
{
    if (!c)
        return;
    atomic_store(&c->closing, true);
    pthread_mutex_lock(&c->lock);
    while (c->fills)
        pthread_cond_wait(&c->fills_gone, &c->lock);
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&c->fills_gone);
    pthread_mutex_destroy(&c->lock);
    free(c->dir);
    free(c);
}

uint64_t ims_image_cache_max_size(const struct ims_image_cache *c)
{
    return c->max_size;
}

bool ims_image_cache_key(const struct ims_image *img, char key[IMS_CACHE_KEY_MAX])
{
    if (!img->blob || !ims_uuid_valid(img->id) || strlen(img->id) != IMS_UUID_LEN)
        return false;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(img->blob, strlen(img->blob), md, &n, EVP_sha256(), NULL);
    char tag[33];
    ims_hex_encode(md, 16, tag, sizeof(tag));
    snprintf(key, IMS_CACHE_KEY_MAX, "%s.%s", img->id, tag);
    return true;
}

static void count_hit(struct ims_image_cache *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    size_t i = 0;
    while (i < c->nhits && strcmp(c->hits[i].key, key) != 0)
        i++;
    if (i == c->nhits && c->nhits < HITS_MAX)
        snprintf(c->hits[c->nhits++].key, IMS_CACHE_KEY_MAX, "%s", key);
    if (i < c->nhits)
        c->hits[i].hits++;
    pthread_mutex_unlock(&c->lock);
}

static int64_t hits_of(struct ims_image_cache *c, const char *key)
{
    int64_t n = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nhits; i++)
        if (!strcmp(c->hits[i].key, key))
            n = c->hits[i].hits;
    pthread_mutex_unlock(&c->lock);
    return n;
}

int ims_image_cache_lookup(struct ims_image_cache *c, const char *key, uint64_t size)
{
    int fd = open_in(c, "data", key, O_RDONLY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
        close(fd); /* not this image's data (a file torn by a crash): drop it */
        ims_image_cache_remove_key(c, key);
        return -1;
    }
    /* the LRU order is the files' atime, whatever the mount's atime policy */
    struct timespec times[2] = {{.tv_nsec = UTIME_NOW}, {.tv_nsec = UTIME_OMIT}};
    futimens(fd, times);
    count_hit(c, key);
    return fd;
}

void ims_image_cache_remove_key(struct ims_image_cache *c, const char *key)
{
    char *path = sub(c, "data", key);
    unlink(path);
    free(path);
}

/* ---- fills ---- */

struct ims_cache_fill {
    struct ims_image_cache *cache;
    char key[IMS_CACHE_KEY_MAX];
    char md5[33];
    uint64_t size, written, flushed;
    int fd, lock_fd;
    bool direct; /* fd is O_DIRECT: until a write that is not aligned (the last) */
    char *tmp;
};

struct ims_cache_fill *ims_image_cache_fill_begin(struct ims_image_cache *c, const char *key, const char *md5_hex,
                                                  uint64_t size)
{
    if (!md5_hex || strlen(md5_hex) != 32 || size > c->max_size || !ensure_areas(c))
        return NULL;
    int lock_fd = open_in(c, "lock", key, O_RDWR | O_CREAT);
    if (lock_fd < 0)
        return NULL;
    /* one fill of an image at a time, across the processes sharing the directory */
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        close(lock_fd);
        return NULL;
    }
    char *data = sub(c, "data", key);
    bool present = access(data, F_OK) == 0; /* filled while we opened the lock */
    free(data);
    if (present) {
        close(lock_fd);
        return NULL;
    }
    struct ims_cache_fill *f = ims_xcalloc(1, sizeof(*f));
    pthread_mutex_lock(&c->lock);
    c->fills++;
    pthread_mutex_unlock(&c->lock);
    f->cache = c;
    snprintf(f->key, sizeof(f->key), "%s", key);
    snprintf(f->md5, sizeof(f->md5), "%s", md5_hex);
    f->size = size;
    f->lock_fd = lock_fd;
    char name[IMS_CACHE_KEY_MAX + IMS_OWNER_MAX + 8];
    snprintf(name, sizeof(name), "%s.%s.part", key, ims_process_owner());
    f->tmp = sub(c, "tmp", name);
    /* Past the page cache where the file system allows (as the file
     * store's uploads): on a VM whose freed memory goes back to the host,
     * copying into fresh page-cache pages costs more CPU than the download
     * itself, and the fill fell behind it (bench/README, Run CF). Read
     * back through the page cache by the md5 check at the end. */
    int flags = O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW;
    f->fd = open(f->tmp, flags | O_DIRECT, 0640);
    f->direct = f->fd >= 0;
    if (f->fd < 0 && errno == EINVAL)
        f->fd = open(f->tmp, flags, 0640);
    if (f->fd < 0) {
        ims_image_cache_fill_abort(f);
        return NULL;
    }
    return f;
}

static bool leave_direct(struct ims_cache_fill *f)
{
    int fl = fcntl(f->fd, F_GETFL);
    if (fl < 0 || fcntl(f->fd, F_SETFL, fl & ~O_DIRECT) != 0)
        return false;
    f->direct = false;
    f->flushed = f->written;
    return true;
}

bool ims_image_cache_fill_write(struct ims_cache_fill *f, uint64_t pos, const void *p, size_t n)
{
    if (pos != f->written || n > f->size - f->written || atomic_load(&f->cache->closing))
        return false; /* not the next bytes (not a full download), or the process stops */
    if (f->direct && (((uintptr_t)p | n | f->written) & (IMS_DIRECT_IO_ALIGN - 1)) && !leave_direct(f))
        return false; /* the last, partial block goes through the page cache */
    for (size_t done = 0; done < n;) {
        ssize_t w = write(f->fd, (const char *)p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        done += (size_t)w;
    }
    f->written += n;
    if (!f->direct && f->written - f->flushed >= WRITEBACK_STEP) {
        /* queued for writeback as it comes (asynchronous), so the fdatasync
         * at the end, on the download's thread, has little left to wait for */
        sync_file_range(f->fd, (off64_t)f->flushed, (off64_t)(f->written - f->flushed), SYNC_FILE_RANGE_WRITE);
        f->flushed = f->written;
    }
    return true;
}

static void evict(struct ims_image_cache *c);

/* The md5 of the fill's file, read back: one pread and md5 loop on the
 * fill's thread. ims_blob_digests' hash pipe (a copy into its ring, three
 * threads) took 1.82 s of CPU per GiB from the page cache where this takes
 * 1.65 (A/B pairs, loaded machine). Stops when the cache closes. */
static enum ims_rc file_md5(const struct ims_cache_fill *f, char hex[33], struct ims_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(md);
        return ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    }
    enum ims_rc rc = IMS_OK;
    size_t cap = 1u << 20;
    char *buf = ims_xmalloc(cap);
    for (uint64_t pos = 0; rc == IMS_OK && pos < f->size;) {
        if (atomic_load(&f->cache->closing)) {
            rc = ims_fail(err, IMS_E_BUSY, "stopped");
            break;
        }
        size_t want = f->size - pos < cap ? (size_t)(f->size - pos) : cap;
        ssize_t got = pread(f->fd, buf, want, (off_t)pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            rc = ims_fail(err, IMS_E_IO, "the image's data ended at %llu of %llu bytes", (unsigned long long)pos,
                          (unsigned long long)f->size);
        else if (!EVP_DigestUpdate(md, buf, (size_t)got))
            rc = ims_fail(err, IMS_E_INTERNAL, "md5 failed");
        else
            pos += (uint64_t)got;
    }
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (rc == IMS_OK && (!EVP_DigestFinal_ex(md, sum, &len) || len != 16))
        rc = ims_fail(err, IMS_E_INTERNAL, "md5 failed");
    if (rc == IMS_OK)
        ims_hex_encode(sum, 16, hex, 33);
    free(buf);
    EVP_MD_CTX_free(md);
    return rc;
}

enum ims_rc ims_image_cache_fill_end(struct ims_cache_fill *f, struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    char hex[33] = "";
    /* The md5 of the file as written, read back (from the page cache):
     * what later downloads will be sent, not only what arrived. */
    int64_t md5_start = ims_mono_us();
    if (f->written != f->size)
        rc = ims_fail(err, IMS_E_IO, "the download ended after %llu of %llu bytes", (unsigned long long)f->written,
                      (unsigned long long)f->size);
    else if (f->direct && !leave_direct(f)) /* read back into the page cache: later downloads send it */
        rc = ims_fail(err, IMS_E_IO, "cannot read the cache file back: %s", strerror(errno));
    else
        rc = file_md5(f, hex, err);
    if (rc == IMS_OK && strcmp(hex, f->md5) != 0)
        rc = ims_fail(err, IMS_E_IO, "the data read has md5 %s, the image's checksum is %s", hex, f->md5);
    int64_t sync_start = ims_mono_us();
    if (rc == IMS_OK && fdatasync(f->fd) != 0)
        rc = ims_fail(err, IMS_E_IO, "cannot write the cache file: %s", strerror(errno));
    if (rc == IMS_OK) {
        char *data = sub(f->cache, "data", f->key);
        if (rename(f->tmp, data) != 0)
            rc = ims_fail(err, IMS_E_IO, "cannot rename into the cache: %s", strerror(errno));
        else {
            free(IMS_TAKE_PTR(f->tmp)); /* renamed: nothing to remove */
            ims_info("image cache: cached %s (%llu bytes; md5 of the file %lld ms, sync and rename %lld ms)",
                     f->key, (unsigned long long)f->size, (long long)((sync_start - md5_start) / 1000),
                     (long long)((ims_mono_us() - sync_start) / 1000));
        }
        free(data);
    }
    if (rc == IMS_OK)
        evict(f->cache); /* before the fill is gone: close waits for it */
    ims_image_cache_fill_abort(f);
    return rc;
}

void ims_image_cache_fill_abort(struct ims_cache_fill *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    close(f->lock_fd); /* releases the fill's lock */
    struct ims_image_cache *c = f->cache;
    free(f);
    pthread_mutex_lock(&c->lock);
    if (--c->fills == 0)
        pthread_cond_broadcast(&c->fills_gone);
    pthread_mutex_unlock(&c->lock);
}

/* ---- listing, eviction, removal ---- */

void ims_cached_list_release(struct ims_cached_list *l)
{
    free(l->items);
    *l = (struct ims_cached_list){0};
}

void ims_image_cache_scan(struct ims_image_cache *c, struct ims_cached_list *ret)
{
    *ret = (struct ims_cached_list){0};
    char *dir = sub(c, "data", NULL);
    DIR *d = opendir(dir);
    free(dir);
    size_t cap = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *dot = strchr(e->d_name, '.');
        size_t len = strlen(e->d_name);
        if (!dot || dot - e->d_name != IMS_UUID_LEN || len >= IMS_CACHE_KEY_MAX)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (ret->n == cap)
            ret->items = ims_xrealloc(ret->items, (cap = cap ? cap * 2 : 16) * sizeof(*ret->items));
        struct ims_cached_entry *it = &ret->items[ret->n++];
        memset(it, 0, sizeof(*it));
        memcpy(it->key, e->d_name, len + 1); /* len < IMS_CACHE_KEY_MAX: checked above */
        memcpy(it->image_id, e->d_name, IMS_UUID_LEN);
        it->size = (uint64_t)st.st_size;
        it->last_accessed = (double)st.st_atim.tv_sec + st.st_atim.tv_nsec / 1e9;
        it->last_modified = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
        it->hits = hits_of(c, e->d_name);
    }
    if (d)
        closedir(d);
}

static int by_atime(const void *a, const void *b)
{
    double x = ((const struct ims_cached_entry *)a)->last_accessed;
    double y = ((const struct ims_cached_entry *)b)->last_accessed;
    return x < y ? -1 : x > y;
}

/* The least recently used files go until the directory is within its
 * bound; a reader of one keeps its descriptor. */
static void evict(struct ims_image_cache *c)
{
    struct ims_cached_list l;
    ims_image_cache_scan(c, &l);
    pthread_mutex_lock(&c->lock); /* one eviction at a time in this process */
    uint64_t total = 0;
    for (size_t i = 0; i < l.n; i++)
        total += l.items[i].size;
    qsort(l.items, l.n, sizeof(*l.items), by_atime);
    for (size_t i = 0; i < l.n && total > c->max_size; i++) {
        char *path = sub(c, "data", l.items[i].key);
        if (unlink(path) == 0) {
            ims_info("image cache: evicted %s (%llu bytes, least recently used)", l.items[i].key,
                     (unsigned long long)l.items[i].size);
            total -= l.items[i].size;
        }
        free(path);
    }
    pthread_mutex_unlock(&c->lock);
    ims_cached_list_release(&l);
}

void ims_image_cache_drop_image(struct ims_image_cache *c, const char *image_id)
{
    struct ims_cached_list l;
    ims_image_cache_scan(c, &l);
    for (size_t i = 0; i < l.n; i++)
        if (!image_id || !strcmp(l.items[i].image_id, image_id))
            ims_image_cache_remove_key(c, l.items[i].key);
    ims_cached_list_release(&l);
}

/* ---- the queue ---- */

bool ims_image_cache_enqueue(struct ims_image_cache *c, const char *image_id)
{
    if (!ensure_areas(c))
        return false;
    int fd = open_in(c, "queue", image_id, O_WRONLY | O_CREAT);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

void ims_image_cache_dequeue(struct ims_image_cache *c, const char *image_id)
{
    if (image_id) {
        char *path = sub(c, "queue", image_id);
        unlink(path);
        free(path);
        return;
    }
    struct ims_strlist q = {0};
    ims_image_cache_queued(c, &q);
    for (size_t i = 0; i < q.n; i++)
        ims_image_cache_dequeue(c, q.items[i]);
    ims_strlist_release(&q);
}

void ims_image_cache_queued(struct ims_image_cache *c, struct ims_strlist *ret)
{
    *ret = (struct ims_strlist){0};
    char *dir = sub(c, "queue", NULL);
    DIR *d = opendir(dir);
    free(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (ims_uuid_valid(e->d_name) && strlen(e->d_name) == IMS_UUID_LEN)
            ims_strlist_add(ret, e->d_name);
    if (d)
        closedir(d);
}
