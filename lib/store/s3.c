/* SPDX-License-Identifier: Apache-2.0
 * S3 store: a blob is the object images/<uuid> in one bucket of an
 * S3-compatible service, its location s3://<uuid> (the scheme is the
 * store's id, "s3" unless [stores] names it). It talks to S3 through
 * lib/obs's client (SigV4 by libcurl), never a second one.
 *
 * Writers stream. A blob whose size the writer knows in advance, larger
 * than a part and at most single_put_max, goes up as one PUT streamed while
 * the bytes come (ims_obs_s3_upload_open_sized): S3 stores one object, as a
 * client's own PUT does, and nothing is held; such a PUT is tried again
 * only while none of its body went, so a fault later fails the write (the
 * upload's client gets the error, nothing is stored); with md5_from_etag
 * its answer's ETag is the data's md5 once a probe proved this service's
 * ETags md5s (commit gives it; the writer's caller then hashes no md5).
 * The probe runs once per process: when the store opens in imsd, else on
 * the first such writer, so imsctl's commands that upload nothing send none.
 * Any other blob goes
 * up as a multipart upload, two parts at a time while the next part fills
 * (ims_obs_s3_upload_open), so an upload holds three parts in memory and no
 * file, and a failed part is sent again from memory; one that fits in a
 * part is one PUT of it, sent again as often. Nothing is visible before
 * commit, and an abort aborts the PUT or the multipart upload. Reads are ranged GETs, opened where
 * the reader asks (a Range request reads from its start), streamed.
 *
 * Producers that write files (qemu-img, links of backups) write them in
 * the local temporary directory (<dir>/tmp, the file store's: its recovery
 * removes what a dead process left); adopt uploads such a file (one PUT up
 * to single_put_max, whose answer gives its md5 as a writer's commit does)
 * and removes it. local_path downloads a blob into that directory for a program that
 * reads files (the caller removes the copy). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

#define KEY_PREFIX "images/"
#define PROBE_PREFIX "ims-probe/" /* outside KEY_PREFIX: the sweep never sees a probe */

struct s3_store {
    struct ims_store base;
    struct ims_obs *obs;
    char *bucket;
    char *dir; /* local: <dir>/tmp */
    uint64_t part_size, single_put_max;
    /* md5_from_etag: the probe is wanted and not yet run; once run,
     * whether it proved this service's single-PUT ETags md5s, and its
     * encryption headers (probe_etag_md5). All three under probe_lock. */
    pthread_mutex_t probe_lock;
    bool probe_due, etag_md5;
    char probe_sse[IMS_OBS_SSE_MAX];
};

struct s3_writer {
    struct ims_store_writer base;
    struct ims_obs_upload *up;
    char id[IMS_UUID_LEN + 1];
};

/* The md5 of what a single PUT stored, from its answer, when the store
 * trusts it; "" otherwise (the producer computes it then). */
static void md5_of_answer(const struct s3_store *st, const struct ims_obs_put_answer *a, char md5[33])
{
    md5[0] = 0;
    if (st->etag_md5 && !ims_obs_s3_etag_md5(a, st->probe_sse, md5)) {
        md5[0] = 0;
        ims_warn("S3 store: a PUT's answer does not prove the md5 of its data (ETag '%s', encryption '%s'; the "
                 "probe's '%s'): computed from the stored data instead",
                 a->etag, a->sse, st->probe_sse);
    }
}

/* The store's result for an S3 failure (err->msg says which): the service's
 * own storage failing is an I/O error to every client, whatever S3 said
 * (a refused credential is not the client's 403). */
static enum ims_rc obs_fail(struct ims_err *err, enum ims_obs_rc rc)
{
    (void)err;
    return rc == IMS_OBS_TOO_LARGE ? IMS_E_TOOLARGE : IMS_E_IO;
}

/* "images/<uuid>" of "s3://<uuid>"; false for anything else. */
static bool object_key(const struct s3_store *st, const char *location, char key[64])
{
    const char *id = ims_store_location_key(&st->base, location);
    if (!id || !ims_uuid_valid(id) || strlen(id) != IMS_UUID_LEN)
        return false;
    snprintf(key, 64, KEY_PREFIX "%s", id);
    return true;
}

/* md5_from_etag = auto: only a service whose ETag the probe proved the
 * md5 of its data is trusted, and later answers only with the probe's
 * encryption headers; any failure leaves md5s computed locally. */
static void probe_etag_md5(struct s3_store *st)
{
    st->probe_due = false;
    char id[IMS_UUID_LEN + 1], key[64];
    ims_uuid_new(id);
    snprintf(key, sizeof(key), PROBE_PREFIX "%s", id);
    struct ims_err err = {0};
    if (ims_obs_s3_probe_etag_md5(st->obs, st->bucket, key, st->probe_sse, &err) != IMS_OBS_OK) {
        ims_warn("S3 store: md5_from_etag off: %s", err.msg);
        return;
    }
    st->etag_md5 = true;
    ims_info("S3 store: single PUTs' ETags are the md5 of their data (probe passed): uploads of a known size "
             "take their checksum from them");
}

/* Whether a single PUT's answer gives its md5 here: the probe runs on the
 * first writer that asks; writers opened meanwhile wait for its verdict. */
static bool etag_md5_proved(struct s3_store *st)
{
    pthread_mutex_lock(&st->probe_lock);
    if (st->probe_due)
        probe_etag_md5(st);
    bool proved = st->etag_md5;
    pthread_mutex_unlock(&st->probe_lock);
    return proved;
}

/* Whether a file of size bytes goes up as one PUT when adopted (one that
 * fits in a part does too), so that its answer may prove its md5. */
static bool file_in_one_put(const struct s3_store *st, uint64_t size)
{
    return size <= st->part_size || size <= st->single_put_max;
}

static bool s3_adopt_gives_md5(struct ims_store *s, uint64_t size)
{
    struct s3_store *st = (struct s3_store *)s;
    return file_in_one_put(st, size) && etag_md5_proved(st);
}

static enum ims_rc s3_writer_open(struct ims_store *s, int64_t size, struct ims_store_writer **ret,
                                  struct ims_err *err)
{
    struct s3_store *st = (struct s3_store *)s;
    struct s3_writer *w = ims_xcalloc(1, sizeof(*w));
    w->base.store = s;
    ims_uuid_new(w->id);
    snprintf(w->base.location, sizeof(w->base.location), "%s://%s", ims_store_id(s), w->id);
    char key[64];
    snprintf(key, sizeof(key), KEY_PREFIX "%s", w->id);
    bool one_put = size >= 0 && (uint64_t)size > st->part_size && (uint64_t)size <= st->single_put_max;
    bool etag_md5 = one_put && etag_md5_proved(st);
    enum ims_obs_rc rc = one_put ? ims_obs_s3_upload_open_sized(st->obs, st->bucket, key, (uint64_t)size, &w->up, err)
                                 : ims_obs_s3_upload_open(st->obs, st->bucket, key, st->part_size, &w->up, err);
    if (rc) {
        free(w);
        return obs_fail(err, rc);
    }
    w->base.md5_at_commit = etag_md5;
    *ret = &w->base;
    return IMS_OK;
}

static enum ims_rc s3_write(struct ims_store_writer *sw, const void *p, size_t n, struct ims_err *err)
{
    struct s3_writer *w = (struct s3_writer *)sw;
    enum ims_obs_rc rc = ims_obs_s3_upload_write(w->up, p, n, err);
    return rc ? obs_fail(err, rc) : IMS_OK;
}

static void s3_abort(struct ims_store_writer *sw)
{
    struct s3_writer *w = (struct s3_writer *)sw;
    if (!w)
        return;
    ims_obs_s3_upload_abort(w->up);
    free(w);
}

static enum ims_rc s3_commit(struct ims_store_writer *sw, char **ret_location, char ret_md5[33], struct ims_err *err)
{
    struct s3_writer *w = (struct s3_writer *)sw;
    struct ims_obs_put_answer answer;
    enum ims_obs_rc rc = ims_obs_s3_upload_finish(w->up, &answer, err);
    if (ret_md5)
        ret_md5[0] = 0;
    if (rc == IMS_OBS_OK && ret_md5 && w->base.md5_at_commit)
        md5_of_answer((const struct s3_store *)w->base.store, &answer, ret_md5);
    if (rc == IMS_OBS_OK)
        *ret_location = ims_xasprintf("%s://%s", ims_store_id(w->base.store), w->id);
    free(w);
    return rc ? obs_fail(err, rc) : IMS_OK;
}

/* The file store's shape (<dir>/tmp/<uuid>.<owner>.part), so that its
 * recovery removes what a dead process left. */
static enum ims_rc s3_temp_path(struct ims_store *s, char **ret_path, struct ims_err *err)
{
    (void)err;
    struct s3_store *st = (struct s3_store *)s;
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    *ret_path = ims_xasprintf("%s/tmp/%s.%s.part", st->dir, id, ims_process_owner());
    return IMS_OK;
}

static bool temp_path_valid(const struct s3_store *st, const char *path)
{
    size_t n = strlen(st->dir), len = strlen(path);
    return strncmp(path, st->dir, n) == 0 && strncmp(path + n, "/tmp/", 5) == 0 && !strchr(path + n + 5, '/') &&
           len > n + 5 + IMS_UUID_LEN + 5 && strcmp(path + len - 5, ".part") == 0;
}

static enum ims_rc s3_adopt(struct ims_store *s, const char *path, char **ret_location, char ret_md5[33],
                            struct ims_err *err)
{
    struct s3_store *st = (struct s3_store *)s;
    if (ret_md5)
        ret_md5[0] = 0;
    if (!temp_path_valid(st, path))
        return ims_fail(err, IMS_E_INTERNAL, "not a temporary file of this store");
    /* O_NOFOLLOW: what the producer left must be a file, not a link out */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    enum ims_rc rc = IMS_OK;
    if (fd < 0)
        rc = ims_fail(err, IMS_E_IO, "cannot open %s: %s", path, strerror(errno));
    else if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        rc = ims_fail(err, IMS_E_IO, "%s is not a regular file", path);
    char id[IMS_UUID_LEN + 1], key[64];
    ims_uuid_new(id);
    snprintf(key, sizeof(key), KEY_PREFIX "%s", id);
    if (rc == IMS_OK) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        /* as a writer of known size: one PUT up to single_put_max, whose
         * answer may prove the md5 (a multipart ETag never does) */
        struct ims_obs_put_answer answer;
        const struct ims_obs_put_opts opts = {.single_put_max = st->single_put_max, .answer = &answer};
        enum ims_obs_rc orc = ims_obs_put_file_with(st->obs, st->bucket, key, fd, &opts, err);
        if (orc)
            rc = obs_fail(err, orc);
        else if (ret_md5 && file_in_one_put(st, (uint64_t)sb.st_size) && etag_md5_proved(st))
            md5_of_answer(st, &answer, ret_md5);
    }
    if (fd >= 0)
        close(fd);
    unlink(path);
    if (rc == IMS_OK)
        *ret_location = ims_xasprintf("%s://%s", ims_store_id(&st->base), id);
    return rc;
}

static enum ims_rc s3_local_path(struct ims_store *s, const char *location, char **ret_path, bool *ret_copy,
                                 struct ims_err *err)
{
    struct s3_store *st = (struct s3_store *)s;
    char key[64];
    if (!object_key(st, location, key))
        return ims_fail(err, IMS_E_IO, "invalid blob location");
    char *path;
    s3_temp_path(s, &path, err);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        enum ims_rc rc = ims_fail(err, IMS_E_IO, "cannot create %s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    enum ims_obs_rc orc = ims_obs_get_file(st->obs, st->bucket, key, 0, UINT64_MAX, fd, err);
    enum ims_rc rc = IMS_OK;
    if (orc == IMS_OBS_NO_OBJECT)
        rc = ims_fail(err, IMS_E_NOTFOUND, "image data is missing");
    else if (orc)
        rc = obs_fail(err, orc);
    else if (fsync(fd) != 0)
        rc = ims_fail(err, IMS_E_IO, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    if (rc != IMS_OK) {
        unlink(path);
        free(path);
        return rc;
    }
    *ret_path = path;
    *ret_copy = true;
    return IMS_OK;
}

/* A reader opens its GET where the first read asks and reopens it where a
 * read does not continue the last one. */
struct s3_blob_reader {
    struct s3_store *st;
    char key[64];
    uint64_t size;
    struct ims_obs_reader *r;
    uint64_t pos; /* where r's next byte is */
};

static ssize_t blob_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct s3_blob_reader *b = ctx;
    struct ims_err err = {0};
    if (pos >= b->size)
        return 0;
    if (b->r && pos != b->pos) {
        ims_obs_reader_close(b->r);
        b->r = NULL;
    }
    if (!b->r) {
        if (ims_obs_open_read(b->st->obs, b->st->bucket, b->key, pos, UINT64_MAX, &b->r, &err)) {
            ims_error("S3 store: cannot read %s: %s", b->key, err.msg);
            return -1;
        }
        b->pos = pos;
    }
    size_t n = 0;
    if (ims_obs_read(b->r, buf, max, &n, &err)) {
        ims_error("S3 store: reading %s: %s", b->key, err.msg);
        return -1;
    }
    b->pos += n;
    return (ssize_t)n;
}

static void blob_close(void *ctx)
{
    struct s3_blob_reader *b = ctx;
    ims_obs_reader_close(b->r);
    free(b);
}

static enum ims_rc s3_open_read(struct ims_store *s, const char *location, struct ims_blob_reader *ret,
                                struct ims_err *err)
{
    struct s3_store *st = (struct s3_store *)s;
    char key[64];
    if (!object_key(st, location, key))
        return ims_fail(err, IMS_E_IO, "invalid blob location");
    struct ims_obs_info info;
    enum ims_obs_rc rc = ims_obs_head(st->obs, st->bucket, key, &info, err);
    if (rc == IMS_OBS_NO_OBJECT)
        return ims_fail(err, IMS_E_NOTFOUND, "image data is missing");
    if (rc)
        return obs_fail(err, rc);
    struct s3_blob_reader *b = ims_xcalloc(1, sizeof(*b));
    b->st = st;
    memcpy(b->key, key, sizeof(key));
    b->size = info.size;
    *ret = (struct ims_blob_reader){.fd = -1, .size = info.size, .read = blob_read, .close = blob_close, .ctx = b};
    return IMS_OK;
}

static enum ims_rc s3_remove(struct ims_store *s, const char *location, struct ims_err *err)
{
    struct s3_store *st = (struct s3_store *)s;
    char key[64];
    if (!object_key(st, location, key))
        return ims_fail(err, IMS_E_IO, "invalid blob location");
    enum ims_obs_rc rc = ims_obs_remove(st->obs, st->bucket, key, err);
    size_t aborted = 0;
    if (!rc)
        rc = ims_obs_s3_uploads_abort(st->obs, st->bucket, key, &aborted, err);
    if (aborted)
        ims_info("S3 store: %zu multipart upload(s) of %s aborted (their writer is gone)", aborted, key);
    return rc ? obs_fail(err, rc) : IMS_OK;
}

/* The sweep's removal of an old blob nobody knows. */
static bool sweep_remove(void *ctx, const char *location)
{
    struct s3_store *st = ctx;
    char key[64];
    struct ims_err e = {0};
    return object_key(st, location, key) && ims_obs_remove(st->obs, st->bucket, key, &e) == IMS_OBS_OK;
}

/* Calls each(ctx, key, mtime) for every object under prefix, a page at a time. */
static enum ims_obs_rc list_each(struct s3_store *st, const char *prefix,
                                 void (*each)(void *ctx, const char *key, int64_t mtime), void *ctx,
                                 struct ims_err *err)
{
    char *token = NULL;
    enum ims_obs_rc rc;
    do {
        struct ims_obs_listing l = {0};
        rc = ims_obs_list(st->obs, st->bucket, prefix, token, IMS_OBS_LIST_MAX, &l, err);
        free(token);
        token = NULL;
        if (rc)
            break;
        for (size_t i = 0; i < l.n; i++)
            each(ctx, l.items[i].key, l.items[i].mtime);
        if (l.truncated && l.next)
            token = ims_xstrdup(l.next);
        ims_obs_listing_release(&l);
    } while (token);
    return rc;
}

struct recover_ctx {
    struct s3_store *st;
    struct ims_sweep *sweep;
    int64_t cutoff, probes; /* probe objects removed */
};

static void recover_blob(void *ctx, const char *key, int64_t mtime)
{
    struct recover_ctx *r = ctx;
    const char *id = key + strlen(KEY_PREFIX);
    char loc[IMS_BLOB_LOCATION_MAX];
    snprintf(loc, sizeof(loc), "%s://%s", ims_store_id(&r->st->base), id);
    if (ims_uuid_valid(id) && mtime <= r->cutoff)
        ims_sweep_add(r->sweep, loc);
}

/* A probe object is only ever needed by the probe that PUT it, for a
 * moment: one older than the grace is what a failed DELETE left. */
static void recover_probe(void *ctx, const char *key, int64_t mtime)
{
    struct recover_ctx *r = ctx;
    struct ims_err e = {0};
    if (mtime > r->cutoff)
        return;
    if (ims_obs_remove(r->st->obs, r->st->bucket, key, &e) == IMS_OBS_OK)
        r->probes++;
    else
        ims_warn("S3 store: cannot remove the probe object %s:%s left behind: %s", r->st->bucket, key, e.msg);
}

/* Blobs no row references, committed more than grace_seconds ago, and
 * probe objects as old. A writer's data is invisible until its commit,
 * so no upload in progress is ever listed; the multipart uploads of a
 * process that died are the service's to expire (an S3 lifecycle rule). */
static enum ims_rc s3_recover(struct ims_store *s, const struct ims_blob_known *known, int64_t grace_seconds,
                              int64_t *ret_temp, int64_t *ret_orphans, struct ims_err *err)
{
    struct s3_store *st = (struct s3_store *)s;
    *ret_temp = *ret_orphans = 0;
    struct ims_sweep sweep = {.known = known, .remove = sweep_remove, .ctx = st};
    struct recover_ctx r = {.st = st, .sweep = &sweep, .cutoff = ims_now() - grace_seconds};
    enum ims_obs_rc rc = list_each(st, KEY_PREFIX, recover_blob, &r, err);
    *ret_orphans = ims_sweep_finish(&sweep);
    if (!rc)
        rc = list_each(st, PROBE_PREFIX, recover_probe, &r, err);
    if (r.probes)
        ims_info("S3 store: %lld probe object(s) older than the grace removed", (long long)r.probes);
    *ret_orphans += r.probes;
    return rc ? obs_fail(err, rc) : IMS_OK;
}

static void s3_close(struct ims_store *s)
{
    struct s3_store *st = (struct s3_store *)s;
    if (!st)
        return;
    ims_obs_close(st->obs);
    pthread_mutex_destroy(&st->probe_lock);
    free(st->bucket);
    free(st->dir);
    free(st);
}

static const struct ims_store_ops s3_store_ops = {
    .name = "s3",
    .writer_open = s3_writer_open,
    .write = s3_write,
    .commit = s3_commit,
    .abort = s3_abort,
    .temp_path = s3_temp_path,
    .adopt = s3_adopt,
    .adopt_gives_md5 = s3_adopt_gives_md5,
    .local_path = s3_local_path,
    .open_read = s3_open_read,
    .remove = s3_remove,
    .recover = s3_recover,
    .close = s3_close,
};

enum ims_rc ims_store_s3_open(const struct ims_store_s3_config *cfg, struct ims_store **ret, struct ims_err *err)
{
    if (!cfg->bucket || ims_obs_bucket_check(cfg->bucket))
        return ims_fail(err, IMS_E_IO, "bucket must be a valid S3 bucket name (is '%s')",
                        cfg->bucket ? cfg->bucket : "");
    if (cfg->part_size < IMS_OBS_S3_PART_MIN || cfg->part_size > (1ULL << 30))
        return ims_fail(err, IMS_E_IO, "part_size must be between 5 MiB and 1 GiB");
    if (cfg->single_put_max > (5ULL << 30))
        return ims_fail(err, IMS_E_IO, "single_put_max must be at most 5 GiB (S3's largest PUT)");
    if (strlen(cfg->dir) > 3000)
        return ims_fail(err, IMS_E_IO, "data dir path is too long");
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/tmp", cfg->dir);
    if ((mkdir(cfg->dir, 0750) != 0 && errno != EEXIST) || (mkdir(tmp, 0750) != 0 && errno != EEXIST))
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    struct ims_obs *obs;
    enum ims_obs_rc rc = ims_obs_s3_open(&cfg->s3, &obs, err);
    if (rc)
        return IMS_E_IO; /* err->msg says what is wrong */
    /* the bucket is made at first start; a bucket another account owns is refused */
    rc = ims_obs_bucket_exists(obs, cfg->bucket, err);
    if (rc == IMS_OBS_NO_BUCKET) {
        rc = ims_obs_bucket_create(obs, cfg->bucket, err);
        if (rc == IMS_OBS_EXISTS) /* another node made it meanwhile */
            rc = ims_obs_bucket_exists(obs, cfg->bucket, err);
    }
    if (rc) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        ims_obs_close(obs);
        return ims_fail(err, IMS_E_IO, "bucket %s: %s", cfg->bucket, msg);
    }
    struct s3_store *st = ims_xcalloc(1, sizeof(*st));
    st->base.ops = &s3_store_ops;
    st->obs = obs;
    st->bucket = ims_xstrdup(cfg->bucket);
    st->dir = ims_xstrdup(cfg->dir);
    st->part_size = cfg->part_size;
    st->single_put_max = cfg->single_put_max;
    pthread_mutex_init(&st->probe_lock, NULL);
    st->probe_due = cfg->md5_from_etag;
    if (st->probe_due && cfg->probe_at_open)
        probe_etag_md5(st);
    *ret = &st->base;
    return IMS_OK;
}
