/* SPDX-License-Identifier: Apache-2.0
 * The format inspector over a file of the local file system: a regular
 * file (or, for a server's disk, a block device) opened read-only, read
 * with pread through the inspector's callback, then checked against the
 * declared format. A block device's st_size is 0: its size is the
 * device's (BLKGETSIZE64). A server's disk its hypervisor reads as raw is
 * raw, unprobed (ims_image_inspect_disk). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
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

/* The size of the open regular file or block device fd, and which it is:
 * IMS_E_BADREQ for anything else. */
static enum ims_rc disk_size(int fd, uint64_t *ret_size, bool *ret_block)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return IMS_E_IO;
    if (S_ISREG(st.st_mode)) {
        *ret_size = (uint64_t)st.st_size;
        *ret_block = false;
        return IMS_OK;
    }
    uint64_t size = 0;
    if (!S_ISBLK(st.st_mode) || ioctl(fd, BLKGETSIZE64, &size) != 0)
        return IMS_E_BADREQ;
    *ret_size = size;
    *ret_block = true;
    return IMS_OK;
}

static enum ims_rc inspect(const char *path, bool block_ok, bool raw_as_is, const struct ims_format_limits *limits,
                           const char *declared, struct ims_format_info *info, enum ims_format_refusal *why,
                           struct ims_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    uint64_t size = 0;
    bool block = false;
    if (fd < 0 || disk_size(fd, &size, &block) != IMS_OK || (block && !block_ok)) {
        ims_warn("inspect: cannot read %s: %s", path,
                 fd < 0 ? strerror(errno) : block_ok ? "neither a regular file nor a block device"
                                                     : "not a regular file");
        if (fd >= 0)
            close(fd);
        if (why)
            *why = IMS_FORMAT_R_READ;
        return ims_fail(err, IMS_E_IO, "the image file could not be read");
    }
    if (raw_as_is) { /* its bytes, whatever they look like: nothing of them is read */
        close(fd);
        uint64_t max = limits && limits->max_virtual_size ? limits->max_virtual_size : IMS_FORMAT_DEFAULT_MAX_VIRTUAL;
        enum ims_format_refusal r = size == 0 ? IMS_FORMAT_R_EMPTY : size > max ? IMS_FORMAT_R_TOO_LARGE
                                                                                : IMS_FORMAT_ACCEPTED;
        if (why)
            *why = r;
        if (r == IMS_FORMAT_R_EMPTY)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "the image file is empty");
        if (r == IMS_FORMAT_R_TOO_LARGE)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0059",
                                 "raw image's virtual size %llu bytes exceeds the limit of %llu bytes",
                                 (unsigned long long)size, (unsigned long long)max);
        *info = (struct ims_format_info){.format = IMS_FORMAT_RAW, .virtual_size = size};
        return IMS_OK;
    }
    struct ims_format_source src = { pread_at, &fd, size };
    struct ims_format_info found;
    enum ims_rc rc = ims_format_inspect(&src, limits, &found, why, err);
    close(fd);
    if (rc == IMS_OK && declared)
        rc = ims_format_check_declared(declared, &found, why, err);
    if (rc == IMS_OK)
        *info = found;
    return rc;
}

enum ims_rc ims_image_inspect_file(const char *path, const struct ims_format_limits *limits, const char *declared,
                                   struct ims_format_info *info, enum ims_format_refusal *why,
                                   struct ims_err *err)
{
    return inspect(path, false, false, limits, declared, info, why, err);
}

enum ims_rc ims_image_inspect_disk(const char *path, const struct ims_format_limits *limits, const char *declared,
                                   struct ims_format_info *info, enum ims_format_refusal *why, struct ims_err *err)
{
    return inspect(path, true, declared && strcasecmp(declared, "raw") == 0, limits, declared, info, why, err);
}
