/* SPDX-License-Identifier: Apache-2.0
 * Local disk files of servers: format and virtual size through the format
 * inspector over the file (convert.h; bounded reads of headers only), and
 * the copy a backup makes, a reflink where the file system shares blocks. */
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

enum ims_rc ims_compute_disk_inspect(const char *path, char **ret_format, uint64_t *ret_size, struct ims_err *err)
{
    /* A missing file is the administrator's typo: say so with its path
     * (the inspector's messages name no paths, for users). */
    struct stat st;
    if (stat(path, &st) != 0)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s cannot be opened: %s.", ims_compute_shown(path),
                             strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk %s is not a regular file.", ims_compute_shown(path));
    struct ims_format_info info;
    enum ims_rc rc = ims_image_inspect_file(path, NULL, NULL, &info, NULL, err);
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

static enum ims_rc copy_bytes(int in, int out, const char *src, struct ims_err *err)
{
    /* copy_file_range first: the kernel copies (or shares) without the
     * data passing through here; plain reads where it cannot. */
    for (;;) {
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

enum ims_rc ims_compute_copy_file(const char *src, const char *dst, bool *ret_reflinked, struct ims_err *err)
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
        rc = copy_bytes(in, out, src, err);
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
