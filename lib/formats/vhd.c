/* SPDX-License-Identifier: Apache-2.0
 * VHD (Virtual PC, qemu-img's "vpc"), after Microsoft's VHD specification:
 * a 512-byte big-endian footer at the end of the file (copied at the start
 * of dynamic disks), and for dynamic disks a header pointing at the block
 * allocation table. The virtual size follows QEMU: the CHS geometry for
 * creators that size disks by geometry, the footer's current size for the
 * others (Hyper-V, disk2vhd, XenServer, qemu-img with force_size).
 * Refused: differencing disks (a parent), bad checksums, tables outside the
 * file or too small for the disk, fixed disks shorter than their size. */
#include <stdio.h>
#include <string.h>

#include "formats-int.h"

#define VHD_FIXED 2u
#define VHD_DYNAMIC 3u
#define VHD_DIFF 4u
#define VHD_MAX_SECTORS 0xff000000ull          /* 2040 GiB: the most QEMU opens */
#define VHD_MAX_GEOMETRY (65535ull * 16 * 255) /* CHS saturated: use current_size */

static uint32_t vhd_checksum(const uint8_t *p, size_t n, size_t skip)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (i < skip || i >= skip + 4)
            sum += p[i];
    return ~sum;
}

static bool footer_valid(const uint8_t *f)
{
    return memcmp(f, "conectix", 8) == 0 && vhd_checksum(f, 512, 64) == fmt_be32(f + 64);
}

/* A copy of the footer at the start (dynamic disks), or a valid footer at
 * the end alone (fixed disks: there the signature is the only sign, so
 * its checksum must hold too). */
bool fmt_vhd_detect(const struct fmt_head *h)
{
    if (h->head_len >= 8 && memcmp(h->head, "conectix", 8) == 0)
        return true;
    return h->have_tail && footer_valid(h->tail);
}

static uint64_t vhd_virtual_size(const uint8_t *f)
{
    uint64_t chs = (uint64_t)fmt_be16(f + 56) * f[58] * f[59];
    const uint8_t *app = f + 28;
    bool by_size = !memcmp(app, "win ", 4) || !memcmp(app, "qem2", 4) || !memcmp(app, "d2v ", 4) ||
                   !memcmp(app, "CTXS", 4) || !memcmp(app, "tap\0", 4);
    if (by_size || chs == VHD_MAX_GEOMETRY)
        return fmt_be64(f + 48) / 512 * 512;
    return chs * 512;
}

static enum ims_rc inspect_dynamic(struct fmt_ctx *c, const uint8_t *f, uint64_t vsize, struct ims_format_info *info)
{
    uint64_t hdr_off = fmt_be64(f + 16);
    uint8_t d[1024];
    enum ims_rc rc = fmt_read(c, hdr_off, d, sizeof(d), "VHD dynamic disk header");
    if (rc != IMS_OK)
        return rc;
    if (memcmp(d, "cxsparse", 8) != 0)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD dynamic disk header signature is missing");
    if (vhd_checksum(d, sizeof(d), 36) != fmt_be32(d + 36))
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD dynamic disk header checksum is wrong");
    uint64_t bat_off = fmt_be64(d + 16);
    uint32_t entries = fmt_be32(d + 28), block = fmt_be32(d + 32);
    if (!fmt_pow2(block) || block < 512)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD block size %u is invalid", block);
    if (entries > 0x1fffffffu)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD block table is too large");
    if ((uint64_t)entries * block < vsize)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD block table is too small for the disk size");
    if (!fmt_in_file(c, bat_off, (uint64_t)entries * 4))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VHD block table lies beyond the end of the file");
    info->cluster_bits = fmt_log2(block);
    return IMS_OK;
}

enum ims_rc fmt_vhd_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    bool at_start = h->head_len >= 8 && memcmp(h->head, "conectix", 8) == 0;
    if (at_start && h->head_len < 512)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VHD footer is truncated");
    const uint8_t *f = at_start ? h->head : h->tail;
    if (vhd_checksum(f, 512, 64) != fmt_be32(f + 64))
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD footer checksum is wrong");
    uint32_t type = fmt_be32(f + 60);
    if (type == VHD_DIFF)
        return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "VHD image is a differencing disk with a parent");
    if (type != VHD_FIXED && type != VHD_DYNAMIC)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VHD disk type %u is not supported", type);
    /* QEMU opens a file with the footer only at its end as a fixed disk,
     * and one with a copy at its start by the footer's type. */
    if (!at_start && type != VHD_FIXED)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHD dynamic disk without its footer copy");
    uint64_t vsize = vhd_virtual_size(f);
    if (vsize / 512 > VHD_MAX_SECTORS)
        return fmt_refuse(c, IMS_FORMAT_R_TOO_LARGE, "VHD disk is larger than the format allows");
    enum ims_rc rc = fmt_check_virtual(c, "VHD", vsize);
    if (rc != IMS_OK)
        return rc;
    if (type == VHD_FIXED) {
        if (c->size < 512 || c->size - 512 < vsize)
            return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VHD fixed disk is shorter than its size");
    } else if ((rc = inspect_dynamic(c, f, vsize, info)) != IMS_OK) {
        return rc;
    }
    info->virtual_size = vsize;
    snprintf(info->variant, sizeof(info->variant), "%s", type == VHD_FIXED ? "fixed" : "dynamic");
    return IMS_OK;
}
