/* SPDX-License-Identifier: Apache-2.0
 * ISO 9660 (and UDF) images: volume descriptors from sector 16 (32 KiB) on.
 * An ISO is a sector image, converted as raw, so its virtual size is the
 * file's size; the primary volume descriptor's both-endian fields must
 * agree and its volume must fit in the file. */
#include <string.h>

#include "formats-int.h"

#define ISO_SECTOR 2048u
#define ISO_FIRST (16u * ISO_SECTOR)

bool fmt_iso_detect(const struct fmt_head *h)
{
    if (h->head_len < ISO_FIRST + 6)
        return false;
    const uint8_t *id = h->head + ISO_FIRST + 1;
    return memcmp(id, "CD001", 5) == 0 || memcmp(id, "BEA01", 5) == 0;
}

enum ims_rc fmt_iso_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    for (size_t off = ISO_FIRST; off + ISO_SECTOR <= h->head_len; off += ISO_SECTOR) {
        const uint8_t *d = h->head + off;
        if (memcmp(d + 1, "CD001", 5) != 0 || d[0] == 255)
            break; /* the end of the ISO 9660 set (UDF descriptors follow) */
        if (d[0] != 1)
            continue;
        uint16_t block = fmt_le16(d + 128);
        uint32_t blocks = fmt_le32(d + 80);
        if (block != fmt_be16(d + 130) || blocks != fmt_be32(d + 84))
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "ISO volume descriptor fields disagree");
        if (!fmt_pow2(block) || block < 512 || block > ISO_SECTOR)
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "ISO logical block size %u is invalid", block);
        if ((uint64_t)blocks * block > c->size)
            return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "ISO volume is larger than the file");
        break;
    }
    enum ims_rc rc = fmt_check_virtual(c, "ISO", c->size);
    if (rc != IMS_OK)
        return rc;
    info->virtual_size = c->size;
    return IMS_OK;
}
