/* SPDX-License-Identifier: Apache-2.0
 * The format inspector over a file of the local file system: a regular
 * file opened read-only, read with pread through the inspector's callback,
 * then checked against the declared format. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/convert.h"

static long pread_at(void *ctx, uint64_t off, void *buf, size_t len)
{
    int fd = *(const int *)ctx;
    for (;;) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n >= 0 || errno != EINTR)
            return (long)n;
    }
}

enum ims_rc ims_image_inspect_file(const char *path, const struct ims_format_limits *limits, const char *declared,
                                   struct ims_format_info *info, enum ims_format_refusal *why,
                                   struct ims_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ims_warn("inspect: cannot read %s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        if (why)
            *why = IMS_FORMAT_R_READ;
        return ims_fail(err, IMS_E_IO, "the image file could not be read");
    }
    struct ims_format_source src = { pread_at, &fd, (uint64_t)st.st_size };
    struct ims_format_info found;
    enum ims_rc rc = ims_format_inspect(&src, limits, &found, why, err);
    close(fd);
    if (rc == IMS_OK && declared)
        rc = ims_format_check_declared(declared, &found, why, err);
    if (rc == IMS_OK)
        *info = found;
    return rc;
}
