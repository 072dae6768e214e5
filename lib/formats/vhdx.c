/* SPDX-License-Identifier: Apache-2.0
 * VHDX, after Microsoft's [MS-VHDX]: the two headers at 64 and 128 KiB
 * (the valid one with the higher sequence number counts), the region table
 * at 192 KiB (CRC-32C checked), the metadata table and its items (block
 * size, virtual disk size, sector sizes), and the block allocation table's
 * size. Refused: a parent (differencing disk), a log to replay, unknown
 * required regions or metadata items, tables outside the file. */
#include <string.h>

#include "formats-int.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define HEADER_SIZE (4 * KiB)
#define TABLE_SIZE (64 * KiB)
#define MAX_ENTRIES 2047u
#define MAX_VIRTUAL (64ull << 40) /* 64 TiB, the format's limit */

/* GUIDs as stored: the first three fields little-endian. */
static const uint8_t GUID_BAT[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
                                      0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
static const uint8_t GUID_METADATA[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
                                           0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
static const uint8_t GUID_FILE_PARAMS[16] = { 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
                                              0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b };
static const uint8_t GUID_VDISK_SIZE[16] = { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
                                             0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 };
static const uint8_t GUID_PAGE83[16] = { 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45,
                                         0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46 };
static const uint8_t GUID_LOGICAL_SECTOR[16] = { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
                                                 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f };
static const uint8_t GUID_PHYSICAL_SECTOR[16] = { 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44,
                                                  0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 };
static const uint8_t GUID_PARENT_LOCATOR[16] = { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
                                                 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c };

bool fmt_vhdx_detect(const struct fmt_head *h)
{
    return h->head_len >= 8 && memcmp(h->head, "vhdxfile", 8) == 0;
}

/* CRC-32C over p with the 4 bytes at `skip` counted as zero. Bitwise:
 * VHDX checks three structures of at most 64 KiB, once per file. */
static uint32_t crc32c_skip(const uint8_t *p, size_t n, size_t skip)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (i >= skip && i < skip + 4) ? 0 : p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static bool guid_eq(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, 16) == 0; }

static bool guid_null(const uint8_t *a)
{
    static const uint8_t zero[16];
    return memcmp(a, zero, 16) == 0;
}

/* The current header: the valid one of the two with the higher sequence. */
static enum ims_rc pick_header(struct fmt_ctx *c, uint8_t *hdr)
{
    uint8_t *a = ims_xmalloc(HEADER_SIZE), *b = ims_xmalloc(HEADER_SIZE);
    enum ims_rc rc = fmt_read(c, 64 * KiB, a, HEADER_SIZE, "VHDX header");
    if (rc == IMS_OK)
        rc = fmt_read(c, 128 * KiB, b, HEADER_SIZE, "VHDX header");
    if (rc == IMS_OK) {
        bool va = !memcmp(a, "head", 4) && crc32c_skip(a, HEADER_SIZE, 4) == fmt_le32(a + 4);
        bool vb = !memcmp(b, "head", 4) && crc32c_skip(b, HEADER_SIZE, 4) == fmt_le32(b + 4);
        if (!va && !vb)
            rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX has no valid header");
        else if (va && (!vb || fmt_le64(a + 8) >= fmt_le64(b + 8)))
            memcpy(hdr, a, HEADER_SIZE);
        else
            memcpy(hdr, b, HEADER_SIZE);
    }
    free(a);
    free(b);
    return rc;
}

struct region {
    uint64_t off, len;
};

static enum ims_rc read_regions(struct fmt_ctx *c, struct region *bat, struct region *meta)
{
    uint8_t *t = ims_xmalloc(TABLE_SIZE);
    enum ims_rc rc = fmt_read(c, 192 * KiB, t, TABLE_SIZE, "VHDX region table");
    if (rc != IMS_OK)
        goto out;
    if (memcmp(t, "regi", 4) != 0 || crc32c_skip(t, TABLE_SIZE, 4) != fmt_le32(t + 4)) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX region table signature or checksum is wrong");
        goto out;
    }
    uint32_t count = fmt_le32(t + 8);
    if (count > MAX_ENTRIES) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX region table has too many entries");
        goto out;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = t + 16 + (size_t)i * 32;
        uint64_t off = fmt_le64(e + 16), len = fmt_le32(e + 24);
        bool required = fmt_le32(e + 28) & 1;
        struct region *r = guid_eq(e, GUID_BAT) ? bat : guid_eq(e, GUID_METADATA) ? meta : NULL;
        if (!r) {
            if (required) {
                rc = fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VHDX has an unknown required region");
                goto out;
            }
            continue;
        }
        if (r->len) {
            rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX region table lists a region twice");
            goto out;
        }
        if (off < MiB || off % MiB || len == 0 || len % MiB) {
            rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX region offset or length is invalid");
            goto out;
        }
        if (!fmt_in_file(c, off, len)) {
            rc = fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VHDX region lies beyond the end of the file");
            goto out;
        }
        r->off = off;
        r->len = len;
    }
    if (!bat->len || !meta->len)
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX lacks its block table or metadata region");
    else if (bat->off < meta->off + meta->len && meta->off < bat->off + bat->len)
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX regions overlap");
out:
    free(t);
    return rc;
}

struct vhdx_meta {
    uint32_t block_size, flags, logical_sector, physical_sector;
    uint64_t vsize;
};

static enum ims_rc read_item(struct fmt_ctx *c, const struct region *meta, const uint8_t *e, void *buf, size_t need,
                             const char *what)
{
    uint32_t off = fmt_le32(e + 16), len = fmt_le32(e + 20);
    if (len < need || off < 64 * KiB || (uint64_t)off + len > meta->len)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX %s item lies outside the metadata region", what);
    return fmt_read(c, meta->off + off, buf, need, what);
}

static enum ims_rc read_metadata(struct fmt_ctx *c, const struct region *meta, struct vhdx_meta *m)
{
    uint8_t *t = ims_xmalloc(TABLE_SIZE);
    enum ims_rc rc = fmt_read(c, meta->off, t, TABLE_SIZE, "VHDX metadata table");
    if (rc != IMS_OK)
        goto out;
    if (memcmp(t, "metadata", 8) != 0) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX metadata table signature is missing");
        goto out;
    }
    uint16_t count = fmt_le16(t + 10);
    if (count > MAX_ENTRIES) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX metadata table has too many entries");
        goto out;
    }
    unsigned seen = 0;
    for (uint16_t i = 0; i < count && rc == IMS_OK; i++) {
        const uint8_t *e = t + 32 + (size_t)i * 32;
        bool required = fmt_le32(e + 24) & 4;
        uint8_t v[8];
        if (guid_eq(e, GUID_PARENT_LOCATOR)) {
            rc = fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "VHDX image is a differencing disk with a parent");
        } else if (guid_eq(e, GUID_FILE_PARAMS)) {
            if ((rc = read_item(c, meta, e, v, 8, "file parameters")) == IMS_OK) {
                m->block_size = fmt_le32(v);
                m->flags = fmt_le32(v + 4);
                seen |= 1;
            }
        } else if (guid_eq(e, GUID_VDISK_SIZE)) {
            if ((rc = read_item(c, meta, e, v, 8, "virtual disk size")) == IMS_OK) {
                m->vsize = fmt_le64(v);
                seen |= 2;
            }
        } else if (guid_eq(e, GUID_LOGICAL_SECTOR)) {
            if ((rc = read_item(c, meta, e, v, 4, "logical sector size")) == IMS_OK) {
                m->logical_sector = fmt_le32(v);
                seen |= 4;
            }
        } else if (guid_eq(e, GUID_PHYSICAL_SECTOR)) {
            if ((rc = read_item(c, meta, e, v, 4, "physical sector size")) == IMS_OK) {
                m->physical_sector = fmt_le32(v);
                seen |= 8;
            }
        } else if (!guid_eq(e, GUID_PAGE83) && required) {
            rc = fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VHDX has an unknown required metadata item");
        }
    }
    if (rc == IMS_OK && seen != 15)
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX lacks a required metadata item");
out:
    free(t);
    return rc;
}

enum ims_rc fmt_vhdx_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    uint8_t *hdr = ims_xmalloc(HEADER_SIZE);
    struct region bat = { 0 }, meta = { 0 };
    struct vhdx_meta m = { 0 };
    enum ims_rc rc = pick_header(c, hdr);
    if (rc != IMS_OK)
        goto out;
    if (fmt_le16(hdr + 66) != 1) {
        rc = fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VHDX version %u is not supported", fmt_le16(hdr + 66));
        goto out;
    }
    /* A log to replay means the tables on disk are not yet the disk. */
    if (!guid_null(hdr + 48)) {
        rc = fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VHDX image has a log that must be replayed");
        goto out;
    }
    if ((rc = read_regions(c, &bat, &meta)) != IMS_OK || (rc = read_metadata(c, &meta, &m)) != IMS_OK)
        goto out;
    if (m.flags & 2) {
        rc = fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "VHDX image is a differencing disk with a parent");
        goto out;
    }
    if (!fmt_pow2(m.block_size) || m.block_size < MiB || m.block_size > 256 * MiB ||
        (m.logical_sector != 512 && m.logical_sector != 4096) ||
        (m.physical_sector != 512 && m.physical_sector != 4096)) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX block or sector size is invalid");
        goto out;
    }
    if (m.vsize > MAX_VIRTUAL) {
        rc = fmt_refuse(c, IMS_FORMAT_R_TOO_LARGE, "VHDX disk is larger than the format allows");
        goto out;
    }
    if ((rc = fmt_check_virtual(c, "VHDX", m.vsize)) != IMS_OK)
        goto out;
    if (m.vsize % m.logical_sector) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX disk size is not a multiple of its sector size");
        goto out;
    }
    /* The block table: one entry per data block, plus one sector-bitmap
     * entry after every chunk of data blocks. */
    uint64_t chunk_ratio = (8 * MiB * m.logical_sector) / m.block_size;
    uint64_t blocks = m.vsize / m.block_size + (m.vsize % m.block_size != 0);
    uint64_t entries = blocks + (blocks - 1) / chunk_ratio;
    if (entries * 8 > bat.len) {
        rc = fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VHDX block table is too small for the disk size");
        goto out;
    }
    info->virtual_size = m.vsize;
    info->cluster_bits = fmt_log2(m.block_size);
out:
    free(hdr);
    return rc;
}
