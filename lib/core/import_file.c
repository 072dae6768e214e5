/* SPDX-License-Identifier: Apache-2.0
 * An image's data from an object-storage file: fetched (streamed; the
 * digests computed in the same pass only for a remote image store) into
 * the image store's temporary area, inspected before anything else reads
 * it, converted to raw with qemu-img when it is in another format, and adopted by the store (rename: no
 * second copy). A quick import takes raw files only and links the object's
 * file into the store (hard link, else reflink) instead of copying it: no
 * byte goes through imsd. Whatever fails, the image is queued again and
 * the temporary files are removed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/convert.h"
#include "ims/imports.h"
#include "ims/obs.h"
#include "ims/store.h"

/* Files above this import only quickly (IMG.0059, the reference's 128 GB);
 * a quick import takes up to 1 TB. */
#define IMPORT_MAX (128LL << 30)
#define QUICK_IMPORT_MAX (1LL << 40)
#define GB (1LL << 30)
#define FETCH_BLOCK (4u << 20)

/* An object-storage result as the IMS error the reference gives it. */
static enum ims_rc obs_fail(enum ims_obs_rc orc, const struct ims_obs_url *url, struct ims_err *err)
{
    ims_error("object storage: %s:%s: %s: %s", url->bucket, url->object, ims_obs_rc_name(orc), err->msg);
    switch (orc) {
    case IMS_OBS_NO_BUCKET:
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0069", "The bucket %s does not exist or cannot be accessed.",
                             url->bucket);
    case IMS_OBS_DENIED:
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0069", "The bucket %s cannot be accessed.", url->bucket);
    case IMS_OBS_NO_OBJECT:
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file %s:%s was not found.", url->bucket,
                             url->object);
    case IMS_OBS_BAD_NAME:
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0017", "The file name %.64s:%.200s is invalid.", url->bucket,
                             url->object);
    default:
        return ims_fail(err, IMS_E_IO, "object storage failed (%s)", ims_obs_rc_name(orc));
    }
}

enum ims_rc ims_obs_bucket_usable(struct ims_service *svc, const char *bucket, struct ims_err *err)
{
    /* bucket names are lower case (ims_obs_bucket_check): compared as they are */
    const char *own = svc->backends ? svc->backends->obs_store_bucket : NULL;
    if (own && ims_streq(own, bucket))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0069", "The bucket %s cannot be accessed: it holds the image "
                             "store's data.", bucket);
    return IMS_OK;
}

/* The names as object storage takes them (IMG.0109 for a bucket, IMG.0017
 * for a key it refuses), and a bucket users may use. */
enum ims_rc ims_obs_url_check(struct ims_service *svc, const struct ims_obs_url *url, struct ims_err *err)
{
    enum ims_obs_name_rc nrc = ims_obs_bucket_check(url->bucket);
    if (nrc != IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, nrc == IMS_OBS_NAME_BUCKET_EMPTY ? "IMG.0068" : "IMG.0109",
                             "Invalid bucket name %.64s: %s", url->bucket, ims_obs_name_problem(nrc));
    if (ims_obs_bucket_usable(svc, url->bucket, err) != IMS_OK)
        return IMS_E_BADREQ;
    nrc = ims_obs_key_check(url->object);
    if (nrc != IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0017", "Invalid object name: %s", ims_obs_name_problem(nrc));
    return IMS_OK;
}

struct job {
    struct ims_service *svc;
    const char *id;
    const struct ims_obs_url *url;
    const struct ims_import_opts *o;
    const struct ims_import_progress *prog;
    int base, span;   /* the share of the progress the current phase covers */
    bool stop;        /* report said stop */
    char *fetched;    /* temporary files, removed unless adopted */
    char *converted;
};

static bool report(struct job *j, int percent)
{
    if (!j->stop && j->prog && j->prog->report && !j->prog->report(j->prog->ctx, j->base + j->span * percent / 100))
        j->stop = true;
    return !j->stop;
}

/* ---- fetching ---- */

struct fetch_sink {
    int fd;
    const char *path;
};

static enum ims_rc write_sink(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct fetch_sink *s = ctx;
    const char *q = p;
    while (n) {
        ssize_t w = write(s->fd, q, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == ENOSPC || errno == EDQUOT
                       ? ims_fail_code(err, IMS_E_TOOLARGE, "IMG.0061", "The image store has no space left for the image.")
                       : ims_fail(err, IMS_E_IO, "cannot write %s: %s", s->path, strerror(errno));
        q += w;
        n -= (size_t)w;
    }
    return IMS_OK;
}

/* Streams what r delivers into j->fetched; with md5 and sha512 (hex) in
 * the same pass, each when it is asked for (not NULL). */
static enum ims_rc fetch(struct job *j, struct ims_obs_reader *r, uint64_t size, char *md5, char *sha,
                         struct ims_err *err)
{
    struct fetch_sink sink = {.path = j->fetched};
    sink.fd = open(j->fetched, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (sink.fd < 0)
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", j->fetched, strerror(errno));
    bool digests = md5 || sha;
    struct ims_hash_pipe *h = digests ? ims_hash_pipe_new_digests(write_sink, &sink, md5 != NULL, sha != NULL) : NULL;
    enum ims_rc rc = h || !digests ? IMS_OK : ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    char *buf = ims_xmalloc(FETCH_BLOCK);
    uint64_t got = 0;
    while (rc == IMS_OK) {
        size_t n = 0;
        enum ims_obs_rc orc = ims_obs_read(r, buf, FETCH_BLOCK, &n, err);
        if (orc != IMS_OBS_OK) {
            rc = obs_fail(orc, j->url, err);
            break;
        }
        if (n == 0)
            break;
        if (h && !ims_hash_pipe_update(h, buf, n))
            rc = ims_hash_pipe_error(h, err);
        else if (!h)
            rc = write_sink(&sink, buf, n, err);
        got += n;
        if (rc == IMS_OK && !report(j, size ? (int)(got * 100 / size) : 100))
            rc = ims_fail(err, IMS_E_BUSY, "stopped");
    }
    if (rc == IMS_OK && got != size)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file %s:%s changed while it was read.",
                           j->url->bucket, j->url->object);
    if (rc == IMS_OK && h && !ims_hash_pipe_final(h, md5, sha))
        rc = ims_hash_pipe_error(h, err);
    ims_hash_pipe_free(h);
    free(buf);
    if (close(sink.fd) != 0 && rc == IMS_OK)
        rc = ims_fail(err, IMS_E_IO, "cannot write %s: %s", j->fetched, strerror(errno));
    return rc;
}

/* ---- inspection where the file is ---- */

/* The object read at any offset, for the inspector: pread on the embedded
 * store's descriptor, a ranged read of the object otherwise (S3: one GET
 * per call; the inspector reads headers only, a few MiB at most). */
struct remote {
    struct ims_obs *obs;
    const struct ims_obs_url *url;
    int fd;
};

static long remote_read_at(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct remote *r = ctx;
    if (r->fd >= 0) {
        ssize_t n;
        do
            n = pread(r->fd, buf, len, (off_t)offset);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -1 : (long)n;
    }
    struct ims_obs_reader *rd;
    struct ims_err e;
    if (ims_obs_open_read(r->obs, r->url->bucket, r->url->object, offset, len, &rd, &e) != IMS_OBS_OK)
        return -1;
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        if (ims_obs_read(rd, (char *)buf + got, len - got, &n, &e) != IMS_OBS_OK) {
            ims_obs_reader_close(rd);
            return -1;
        }
        if (n == 0)
            break;
        got += n;
    }
    ims_obs_reader_close(rd);
    return (long)got;
}

static enum ims_rc inspect(const struct ims_format_source *src, const char *declared, struct ims_format_info *fi,
                           struct ims_err *err)
{
    struct ims_format_limits limits = {.max_virtual_size = (uint64_t)QUICK_IMPORT_MAX};
    enum ims_format_refusal why;
    enum ims_rc rc = ims_format_inspect(src, &limits, fi, &why, err);
    if (rc == IMS_OK && declared)
        rc = ims_format_check_declared(declared, fi, &why, err);
    if (rc != IMS_OK)
        return rc == IMS_E_IO ? rc : ims_err_default_code(err, IMS_E_BADREQ, "IMG.0057");
    return IMS_OK;
}

/* The local copy is what qemu-img and the store get: inspected again, it
 * must be what was inspected where it was (an object replaced meanwhile is
 * refused). */
static enum ims_rc same_file(struct job *j, const struct ims_format_info *fi, const char *declared,
                             struct ims_err *err)
{
    struct ims_format_info again;
    enum ims_format_refusal why;
    struct ims_format_limits limits = {.max_virtual_size = (uint64_t)QUICK_IMPORT_MAX};
    enum ims_rc rc = ims_image_inspect_file(j->fetched, &limits, declared, &again, &why, err);
    if (rc != IMS_OK)
        return rc == IMS_E_IO ? rc : ims_err_default_code(err, IMS_E_BADREQ, "IMG.0057");
    if (again.format != fi->format || again.virtual_size != fi->virtual_size)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file %s:%s changed while it was read.",
                             j->url->bucket, j->url->object);
    return IMS_OK;
}

/* ---- quick import: the object's own file ---- */

/* Links the object's file into the store's temporary area: a hard link of
 * the very file opened (no symlink followed), else a reflink. Neither copies
 * a byte; IMS_E_NOTIMPL when the file systems allow neither. */
static enum ims_rc link_object(struct job *j, struct ims_obs *obs, struct ims_err *err)
{
    struct ims_obs_reader *r;
    enum ims_obs_rc orc = ims_obs_open_read(obs, j->url->bucket, j->url->object, 0, UINT64_MAX, &r, err);
    if (orc != IMS_OBS_OK)
        return obs_fail(orc, j->url, err);
    enum ims_rc rc = IMS_OK;
    if (r->fd < 0) {
        rc = ims_fail(err, IMS_E_NOTIMPL, "object storage keeps no local files");
    } else {
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/fd/%d", r->fd);
        if (linkat(AT_FDCWD, self, AT_FDCWD, j->fetched, AT_SYMLINK_FOLLOW) != 0) {
            int out = open(j->fetched, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (out < 0 || ioctl(out, FICLONE, r->fd) != 0) {
                rc = ims_fail(err, IMS_E_NOTIMPL, "neither a hard link nor a reflink is possible: %s",
                              strerror(errno));
                if (out >= 0)
                    unlink(j->fetched);
            }
            if (out >= 0)
                close(out);
        }
    }
    ims_obs_reader_close(r);
    return rc;
}

/* The file exists, is not empty and not too large. */
static enum ims_rc source_check(struct ims_obs *obs, const struct ims_obs_url *url, bool quick,
                                struct ims_obs_info *info, struct ims_err *err)
{
    enum ims_obs_rc orc = ims_obs_head(obs, url->bucket, url->object, info, err);
    if (orc != IMS_OBS_OK)
        return obs_fail(orc, url, err);
    if (info->size == 0)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file %s:%s is empty.", url->bucket,
                             url->object);
    if (quick ? info->size > (uint64_t)QUICK_IMPORT_MAX : info->size > (uint64_t)IMPORT_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0059", "The image file is larger than %s: %s.",
                             quick ? "1 TB" : "128 GB", quick ? "it cannot be imported" : "import it quickly (RAW files)");
    return IMS_OK;
}

enum ims_rc ims_import_source_check(struct ims_service *svc, const struct ims_obs_url *url, bool quick,
                                    struct ims_err *err)
{
    struct ims_obs *obs = svc->backends ? svc->backends->obs : NULL;
    if (!obs)
        return ims_fail(err, IMS_E_NOTIMPL, "no object storage is configured");
    enum ims_rc rc = ims_obs_url_check(svc, url, err);
    struct ims_obs_info info;
    return rc == IMS_OK ? source_check(obs, url, quick, &info, err) : rc;
}

/* ---- the steps ---- */

static void cleanup(struct job *j)
{
    if (j->fetched)
        unlink(j->fetched);
    if (j->converted)
        unlink(j->converted);
    free(j->fetched);
    free(j->converted);
}

static void convert_progress(void *ctx, unsigned percent)
{
    report(ctx, (int)percent);
}

static bool convert_cancelled(void *ctx)
{
    return ((struct job *)ctx)->stop;
}

/* The directory of a temporary path: where qemu-img writes its output. */
static void dir_of(const char *path, char out[PATH_MAX])
{
    const char *slash = strrchr(path, '/');
    snprintf(out, PATH_MAX, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
}

/* Whether the image store keeps the file it adopts as it is (the file
 * store): its checksum job then reads that file. A remote store's would
 * download the blob once more, so an import into one computes the digests
 * before the store takes the file. */
static bool store_keeps_file(const struct job *j)
{
    return ims_store_is_local(ims_store_router_first(j->svc->store));
}

/* Where the md5 of an imported file of size bytes is hashed (NULL: the
 * store's adopt gives it, as an S3 PUT's proved ETag, and sha512 is hashed
 * alone). */
static char *md5_to_hash(const struct job *j, struct ims_import_data *d, int64_t size)
{
    return ims_blob_adopt_gives_md5(j->svc, size) ? NULL : d->md5;
}

static enum ims_rc convert_to_raw(struct job *j, const char *input, const struct ims_format_info *fi,
                                  struct ims_err *err)
{
    char dir[PATH_MAX];
    dir_of(j->fetched, dir);
    struct ims_convert_request req = {
        .input = input, .input_format = fi->format, .output_format = IMS_CONVERT_RAW, .tmp_dir = dir,
        .limits = {.max_output_size = fi->virtual_size + (1 << 20)},
        .progress = convert_progress, .cancelled = convert_cancelled, .ctx = j,
        /* a remote store's file is digested and sent right after, then removed */
        .read_after = !store_keeps_file(j),
    };
    struct ims_convert_outcome out;
    enum ims_rc rc = ims_convert(&req, &j->converted, &out, err);
    if (rc == IMS_OK)
        return IMS_OK;
    ims_error("image %s: qemu-img convert from %s failed (%d, exit %d, signal %d): %s", j->id,
              ims_format_name(fi->format), (int)out.end, out.exit_status, out.signal, out.stderr_tail);
    if (j->stop)
        return ims_fail(err, IMS_E_BUSY, "stopped");
    if (rc != IMS_E_BADREQ && rc != IMS_E_TOOLARGE)
        return rc;
    char detail[sizeof(err->msg)];
    snprintf(detail, sizeof(detail), "%s", err->msg);
    return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file could not be converted: %s", detail);
}

/* What the format allows: quick imports raw files only, ISO files with
 * type IsoImage only, a disk that fits min_disk. */
static enum ims_rc format_allowed(const struct ims_import_opts *o, const struct ims_format_info *fi,
                                  struct ims_err *err)
{
    if (o->quick && fi->format != IMS_FORMAT_RAW)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "A quick import takes RAW files; this file is %s.",
                             ims_format_name(fi->format));
    if (o->iso != (fi->format == IMS_FORMAT_ISO))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057",
                             o->iso ? "The file is not an ISO image (it is %s)."
                                    : "The file is an ISO image: import it with type IsoImage.",
                             ims_format_name(fi->format));
    if (o->min_disk > 0 && fi->virtual_size > (uint64_t)(o->min_disk * GB))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0055",
                             "The disk in the file (%llu bytes) is larger than min_disk (%lld GB).",
                             (unsigned long long)fi->virtual_size, (long long)o->min_disk);
    return IMS_OK;
}

static enum ims_rc import_steps(struct job *j, struct ims_obs *obs, struct ims_obs_reader *r, uint64_t size,
                                struct ims_import_data *d, struct ims_err *err)
{
    const struct ims_import_opts *o = j->o;
    /* Inspected where it is, before a byte is copied: a refused file costs
     * nothing, and only a file stored as it is needs checksums while it is
     * fetched. A quick import's raw file needs no declaration to be trusted
     * as raw; the inspector still refuses anything that is another format. */
    const char *declared = o->quick ? "raw" : o->declared;
    struct remote rm = {.obs = obs, .url = j->url, .fd = r->fd};
    struct ims_format_source src = {.read_at = remote_read_at, .ctx = &rm, .size = size};
    struct ims_format_info fi;
    enum ims_rc rc = inspect(&src, declared, &fi, err);
    if (rc == IMS_OK)
        rc = format_allowed(o, &fi, err);
    if (rc == IMS_OK)
        rc = ims_import_temp_path(j->svc, &j->fetched, err);
    if (rc != IMS_OK)
        return rc;
    bool converted = fi.format != IMS_FORMAT_RAW && fi.format != IMS_FORMAT_ISO;
    j->base = 0;
    j->span = converted ? 50 : 100;
    if (o->quick) {
        rc = link_object(j, obs, err);
        if (rc == IMS_OK) { /* linked: nothing read, so no checksums */
            rc = same_file(j, &fi, declared, err);
            d->size = (int64_t)size;
        } else if (rc == IMS_E_NOTIMPL) { /* another file system, or S3: read it once */
            ims_info("image %s: quick import copies %s:%s (%s)", j->id, j->url->bucket, j->url->object, err->msg);
            rc = fetch(j, r, size, md5_to_hash(j, d, (int64_t)size), d->sha512, err);
            if (rc == IMS_OK)
                rc = same_file(j, &fi, declared, err);
            d->size = (int64_t)size;
        }
        d->temp_path = j->fetched;
    } else if (!converted) {
        /* Stored as it is: on the embedded store the object's own file is
         * linked (its content never changes: puts replace files whole) and
         * only read for the checksums; anything else is fetched. The
         * checksums of a fetched file come in the same pass only when the
         * image store is remote (its checksum job would fetch the blob once
         * more); a local store's file is read for them after the image is
         * active, as a linked file is: md5 and sha512 of every byte cost
         * imsd more CPU than the fetch itself, and on a machine shared with
         * the S3 server they made the import take twice a plain GET. */
        rc = r->fd >= 0 ? link_object(j, obs, err) : IMS_E_NOTIMPL;
        if (rc == IMS_OK) {
            /* nothing read here (the checksums: below, or after the image is active) */
            struct stat st;
            rc = same_file(j, &fi, declared, err);
            if (rc == IMS_OK && (stat(j->fetched, &st) != 0 || st.st_size != (off_t)size))
                rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file %s:%s changed while it was read.",
                                   j->url->bucket, j->url->object);
        } else if (rc == IMS_E_NOTIMPL) {
            bool later = store_keeps_file(j); /* the checksums after the image is active */
            rc = fetch(j, r, size, later ? NULL : md5_to_hash(j, d, (int64_t)size), later ? NULL : d->sha512, err);
            if (rc == IMS_OK)
                rc = same_file(j, &fi, declared, err);
        }
        d->size = (int64_t)size;
        d->temp_path = j->fetched;
    } else {
        /* qemu-img reads the embedded store's file itself, through the
         * descriptor inspected (no symlink, no copy); anything else is
         * fetched first and inspected again */
        char input[64];
        const char *in = j->fetched;
        if (r->fd >= 0) {
            snprintf(input, sizeof(input), "/proc/%ld/fd/%d", (long)getpid(), r->fd);
            in = input;
        } else if ((rc = fetch(j, r, size, NULL, NULL, err)) == IMS_OK) {
            rc = same_file(j, &fi, declared, err);
        }
        j->base = 50;
        if (rc == IMS_OK)
            rc = convert_to_raw(j, in, &fi, err);
        if (rc == IMS_OK) {
            unlink(j->fetched); /* the converted file replaces the copy, if there was one */
            d->temp_path = j->converted;
            /* the checksums: below, or after the image is active */
            struct stat st;
            if (stat(j->converted, &st) != 0)
                rc = ims_fail(err, IMS_E_IO, "cannot stat %s: %s", j->converted, strerror(errno));
            else
                d->size = (int64_t)st.st_size;
        }
    }
    if (rc == IMS_OK && !o->quick && !d->sha512[0] && !store_keeps_file(j)) {
        int64_t digested = 0;
        rc = ims_file_digests(d->temp_path, &digested, md5_to_hash(j, d, d->size), d->sha512, err);
        if (rc == IMS_OK && digested != d->size)
            rc = ims_fail(err, IMS_E_IO, "%s changed while it was read", d->temp_path);
    }
    if (rc != IMS_OK)
        return rc;
    d->virtual_size = (int64_t)fi.virtual_size;
    d->disk_format = fi.format == IMS_FORMAT_ISO ? "iso" : "raw";
    report(j, 100);
    return IMS_OK;
}

enum ims_rc ims_import_file(struct ims_service *svc, const char *id, const struct ims_obs_url *url,
                            const struct ims_import_opts *o, const struct ims_import_progress *prog,
                            struct ims_err *err)
{
    struct ims_obs *obs = svc->backends ? svc->backends->obs : NULL;
    if (!obs)
        return ims_fail(err, IMS_E_NOTIMPL, "no object storage is configured");
    enum ims_rc rc = ims_obs_url_check(svc, url, err);
    if (rc != IMS_OK)
        return rc;
    char upload_id[IMS_UUID_LEN + 1];
    if ((rc = ims_import_claim(svc, id, upload_id, err)) != IMS_OK)
        return rc;
    struct job j = {.svc = svc, .id = id, .url = url, .o = o, .prog = prog};
    struct ims_import_data d = {0};
    char origin[IMS_OBS_BUCKET_MAX + IMS_OBS_KEY_MAX + 8];
    snprintf(origin, sizeof(origin), "file,%s:%s", url->bucket, url->object);
    d.data_origin = origin;
    int64_t started = ims_mono_us();
    struct ims_obs_info info;
    struct ims_obs_reader *r = NULL;
    rc = source_check(obs, url, o->quick, &info, err);
    if (rc == IMS_OK) {
        enum ims_obs_rc orc = ims_obs_open_read(obs, url->bucket, url->object, 0, UINT64_MAX, &r, err);
        rc = orc == IMS_OBS_OK ? IMS_OK : obs_fail(orc, url, err);
    }
    if (rc == IMS_OK && r->info.size != info.size)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "The image file %s:%s changed while it was read.",
                           url->bucket, url->object);
    if (rc == IMS_OK)
        rc = import_steps(&j, obs, r, info.size, &d, err);
    if (r)
        ims_obs_reader_close(r);
    if (rc == IMS_OK) {
        /* adopts the file (cleanup's unlink then finds nothing), or removes it */
        rc = ims_import_commit(svc, id, upload_id, &d, err);
    }
    if (rc == IMS_OK)
        ims_info("image %s: %s:%s imported (%s, %lld bytes, virtual %lld) in %.2f s%s%s", id, url->bucket,
                 url->object, d.disk_format, (long long)d.size, (long long)d.virtual_size,
                 (double)(ims_mono_us() - started) / 1e6, d.md5_from[0] ? "; md5 " : "", d.md5_from);
    /* the temporary files go first: on a full disk the repository needs
     * their room to give the image back */
    cleanup(&j);
    if (rc != IMS_OK)
        ims_import_giveback(svc, id, upload_id);
    return rc;
}
