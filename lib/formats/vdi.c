/* SPDX-License-Identifier: Apache-2.0
 * VirtualBox VDI 1.1, as QEMU reads it: a little-endian header after a
 * 64-byte text banner, a block map of 32-bit entries, then the blocks.
 * Refused: differencing images (a parent or link UUID), other versions,
 * block maps that overlap the data or leave the file, disks larger than
 * their block map. */
#include <stdio.h>
#include <string.h>

#include "formats-int.h"

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_TYPE_DYNAMIC 1u
#define VDI_TYPE_STATIC 2u
#define VDI_TYPE_DIFF 4u
#define VDI_BLOCK_SIZE (1u << 20)       /* the only block size QEMU reads */
#define VDI_BLOCKS_MAX 0x3fffffffu

bool fmt_vdi_detect(const struct fmt_head *h)
{
    return h->head_len >= 0x44 && fmt_le32(h->head + 0x40) == VDI_SIGNATURE;
}

static bool uuid_null(const uint8_t *u)
{
    static const uint8_t zero[16];
    return memcmp(u, zero, 16) == 0;
}

enum ims_rc fmt_vdi_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    const uint8_t *p = h->head;
    if (h->head_len < 0x1c8)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VDI header is truncated");
    uint32_t version = fmt_le32(p + 0x44), type = fmt_le32(p + 0x4c);
    uint32_t off_bmap = fmt_le32(p + 0x154), off_data = fmt_le32(p + 0x158);
    uint32_t sector_size = fmt_le32(p + 0x168);
    uint64_t size = fmt_le64(p + 0x170);
    uint32_t block_size = fmt_le32(p + 0x178), blocks = fmt_le32(p + 0x180);
    if (version != VDI_VERSION_1_1)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VDI version 0x%08x is not supported", version);
    if (type == VDI_TYPE_DIFF || !uuid_null(p + 0x1a8) || !uuid_null(p + 0x1b8))
        return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "VDI image is a differencing image with a parent");
    if (type != VDI_TYPE_DYNAMIC && type != VDI_TYPE_STATIC)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VDI image type %u is not supported", type);
    if (sector_size != 512 || block_size != VDI_BLOCK_SIZE)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VDI sector or block size is invalid");
    if (off_bmap % 512 || off_data % 512 || off_bmap < 0x200)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VDI block map or data offset is not sector aligned");
    if (blocks > VDI_BLOCKS_MAX)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VDI block count is too large");
    uint64_t bmap_end = (uint64_t)off_bmap + (uint64_t)blocks * 4;
    if (bmap_end > off_data)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VDI block map overlaps the data");
    if (!fmt_in_file(c, 0, bmap_end))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VDI block map lies beyond the end of the file");
    enum ims_rc rc = fmt_check_virtual(c, "VDI", size);
    if (rc != IMS_OK)
        return rc;
    if (size > (uint64_t)blocks * block_size)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VDI disk size exceeds its block map");
    info->virtual_size = size;
    info->cluster_bits = fmt_log2(block_size);
    snprintf(info->variant, sizeof(info->variant), "%s", type == VDI_TYPE_STATIC ? "fixed" : "dynamic");
    return IMS_OK;
}
