/* SPDX-License-Identifier: Apache-2.0
 * Local disk files of servers: format and virtual size through the format
 * inspector over the file (convert.h; bounded reads of headers only), and
 * the copy a backup makes, a reflink where the file system shares blocks.
 * A disk may be a block device (an LVM volume, a loop device): its size is
 * the device's, and it is copied by reads (nothing to share blocks with). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute-int.h"
#include "ims/convert.h"
#include "ims/formats.h"
#include "ims/obs.h"

enum ims_rc ims_compute_disk_inspect(const char *path, const char *declared, char **ret_format, uint64_t *ret_size,
                                     struct ims_err *err)
{
    /* A missing file is the administrator's typo: say so with its path
     * (the inspector's messages name no paths, for users). */
    struct stat st;
    if (stat(path, &st) != 0)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s cannot be opened: %s.", ims_compute_shown(path),
                             strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s is neither a regular file nor a block device.",
                             ims_compute_shown(path));
    struct ims_format_info info;
    enum ims_rc rc = ims_image_inspect_disk(path, NULL, declared, &info, NULL, err);
    if (rc != IMS_OK) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        rc = rc == IMS_E_IO ? IMS_E_IO : IMS_E_BADREQ;
        return ims_fail_code(err, rc, "IMG.0057", "Disk %s is refused: %s", ims_compute_shown(path), why);
    }
    *ret_format = ims_xstrdup(ims_format_name(info.format));
    *ret_size = info.virtual_size;
    return IMS_OK;
}

struct obs_disk {
    struct ims_obs *obs;
    char bucket[IMS_OBS_BUCKET_MAX + 1], key[IMS_OBS_KEY_MAX + 1];
};

/* The inspector's read-at over ranged reads of the object. */
static long obs_read_at(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct obs_disk *d = ctx;
    struct ims_obs_reader *r;
    struct ims_err err;
    if (ims_obs_open_read(d->obs, d->bucket, d->key, offset, len, &r, &err) != IMS_OBS_OK)
        return -1;
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        if (ims_obs_read(r, (char *)buf + got, len - got, &n, &err) != IMS_OBS_OK) {
            ims_obs_reader_close(r);
            return -1;
        }
        if (n == 0)
            break;
        got += n;
    }
    ims_obs_reader_close(r);
    return (long)got;
}

static enum ims_rc obs_disk_open(struct ims_obs *obs, const char *ref, struct obs_disk *d, struct ims_obs_info *info,
                                 struct ims_err *err)
{
    if (!obs)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s is in object storage, and none is configured.",
                             ims_compute_shown(ref));
    d->obs = obs;
    if (ims_obs_url_parse(ref, strlen(ref), d->bucket, sizeof(d->bucket), d->key, sizeof(d->key)) != IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s is not bucket:object.", ims_compute_shown(ref));
    struct ims_err oerr = {0};
    enum ims_obs_rc orc = ims_obs_head(obs, d->bucket, d->key, info, &oerr);
    if (orc == IMS_OBS_OK)
        return IMS_OK;
    enum ims_rc rc = ims_obs_rc_to_ims(orc);
    if (rc == IMS_E_NOTFOUND || rc == IMS_E_FORBIDDEN || rc == IMS_E_BADREQ)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s cannot be read from object storage: %s.",
                             ims_compute_shown(ref), ims_obs_rc_name(orc));
    return ims_fail(err, rc, "object storage: %s", oerr.msg);
}

enum ims_rc ims_compute_obs_disk_inspect(struct ims_obs *obs, const char *ref, char **ret_format, uint64_t *ret_size,
                                         struct ims_err *err)
{
    struct obs_disk d;
    struct ims_obs_info info;
    enum ims_rc rc = obs_disk_open(obs, ref, &d, &info, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_format_source src = {.read_at = obs_read_at, .ctx = &d, .size = info.size};
    struct ims_format_info fi;
    rc = ims_format_inspect(&src, NULL, &fi, NULL, err);
    if (rc != IMS_OK) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        rc = rc == IMS_E_IO ? IMS_E_IO : IMS_E_BADREQ;
        return ims_fail_code(err, rc, "IMG.0057", "Disk %s is refused: %s", ims_compute_shown(ref), why);
    }
    *ret_format = ims_xstrdup(ims_format_name(fi.format));
    *ret_size = fi.virtual_size;
    return IMS_OK;
}

enum ims_rc ims_compute_copy_obs(struct ims_obs *obs, const char *ref, const char *dst, struct ims_err *err)
{
    struct obs_disk d;
    struct ims_obs_info info;
    enum ims_rc rc = obs_disk_open(obs, ref, &d, &info, err);
    if (rc != IMS_OK)
        return rc;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0)
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", dst, strerror(errno));
    struct ims_err oerr = {0};
    enum ims_obs_rc orc = ims_obs_get_file(obs, d.bucket, d.key, 0, UINT64_MAX, out, &oerr);
    if (orc != IMS_OBS_OK)
        rc = ims_fail(err, ims_obs_rc_to_ims(orc) == IMS_E_IO ? IMS_E_IO : IMS_E_BADREQ,
                      "copying %s from object storage: %s", ims_compute_shown(ref), oerr.msg);
    if (rc == IMS_OK && fsync(out) != 0)
        rc = ims_fail(err, IMS_E_IO, "fsync %s: %s", dst, strerror(errno));
    if (close(out) != 0 && rc == IMS_OK)
        rc = ims_fail(err, IMS_E_IO, "close %s: %s", dst, strerror(errno));
    if (rc != IMS_OK)
        unlink(dst);
    return rc;
}

static enum ims_rc copy_bytes(int in, int out, const char *src, const struct ims_copy_tap *tap,
                              struct ims_err *err)
{
    /* copy_file_range first: the kernel copies (or shares) without the
     * data passing through here; plain reads where it cannot, or where a
     * tap must see the bytes (so they are read once, not again after). */
    while (!tap) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0)
            return IMS_OK;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)
            break;
        return ims_fail(err, IMS_E_IO, "copying %s: %s", src, strerror(errno));
    }
    static const size_t chunk = 1 << 20;
    char *buf = ims_xmalloc(chunk);
    enum ims_rc rc = IMS_OK;
    for (;;) {
        ssize_t n = read(in, buf, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ims_fail(err, IMS_E_IO, "reading %s: %s", src, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (tap && !tap->fn(tap->ctx, buf, (size_t)n)) {
            rc = ims_fail(err, IMS_E_INTERNAL, "the digests of %s failed", src);
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = ims_fail(err, IMS_E_IO, "writing the copy of %s: %s", src, strerror(errno));
                break;
            }
            off += w;
        }
        if (rc != IMS_OK)
            break;
    }
    free(buf);
    return rc;
}

enum ims_rc ims_compute_copy_file(const char *src, const char *dst, const struct ims_copy_tap *tap,
                                  bool *ret_reflinked, struct ims_err *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (in < 0)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s cannot be opened: %s.", ims_compute_shown(src),
                             strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0) {
        int e = errno;
        close(in);
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", dst, strerror(e));
    }
    enum ims_rc rc = IMS_OK;
    bool reflinked = ioctl(out, FICLONE, in) == 0;
    if (!reflinked)
        rc = copy_bytes(in, out, src, tap, err);
    if (rc == IMS_OK && fsync(out) != 0)
        rc = ims_fail(err, IMS_E_IO, "fsync %s: %s", dst, strerror(errno));
    close(in);
    if (close(out) != 0 && rc == IMS_OK)
        rc = ims_fail(err, IMS_E_IO, "close %s: %s", dst, strerror(errno));
    if (rc != IMS_OK) {
        unlink(dst);
        return rc;
    }
    *ret_reflinked = reflinked;
    return IMS_OK;
}
