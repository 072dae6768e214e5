/* SPDX-License-Identifier: Apache-2.0
 * qcow2 (versions 2 and 3), after QEMU's docs/interop/qcow2.txt: the
 * header, its incompatible features and the header extensions up to the
 * end of the first cluster. Refused: a backing file, an external data file
 * (feature bit or extension), encryption, unknown incompatible features,
 * the corrupt bit, tables outside the file or smaller than the disk.
 * Version 1 (QEMU's original qcow, same magic) has a simpler header with
 * the same dangers: a backing file and encryption. */
#include <stdio.h>
#include <string.h>

#include "formats-int.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */
#define INCOMPAT_DIRTY (1u << 0)
#define INCOMPAT_CORRUPT (1u << 1)
#define INCOMPAT_DATA_FILE (1u << 2)
#define INCOMPAT_COMPRESSION (1u << 3)
#define INCOMPAT_EXTL2 (1u << 4)
#define INCOMPAT_KNOWN 0x1fu
#define AUTOCLEAR_DATA_FILE_RAW (1u << 1)
#define EXT_END 0u
#define EXT_DATA_FILE 0x44415441u
#define EXT_CRYPTO 0x0537be77u
#define MAX_L1_BYTES (32u << 20)     /* QEMU's limit on the L1 table */
#define MAX_REFTABLE_BYTES (8u << 20) /* and on the refcount table */
#define MAX_SNAPSHOTS 65536u

bool fmt_qcow2_detect(const struct fmt_head *h)
{
    return h->head_len >= 4 && fmt_be32(h->head) == QCOW2_MAGIC;
}

/* A table of `bytes` at `off`: cluster aligned and inside the file. */
static enum ims_rc table_ok(struct fmt_ctx *c, uint64_t off, uint64_t bytes, uint64_t cluster, const char *what)
{
    if (off % cluster)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 %s offset is not cluster aligned", what);
    if (!fmt_in_file(c, off, bytes))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "qcow2 %s lies beyond the end of the file", what);
    return IMS_OK;
}

/* Walks the header extensions between the header and the end of the first
 * cluster: an external data file name or an encryption header refuses. */
static enum ims_rc walk_extensions(struct fmt_ctx *c, const struct fmt_head *h, uint64_t off, uint64_t cluster)
{
    uint64_t end = cluster < c->size ? cluster : c->size;
    while (off + 8 <= end) {
        uint8_t eh[8];
        if (off + 8 <= h->head_len) {
            memcpy(eh, h->head + off, 8);
        } else {
            enum ims_rc rc = fmt_read(c, off, eh, 8, "qcow2 header extension");
            if (rc != IMS_OK)
                return rc;
        }
        uint32_t type = fmt_be32(eh), len = fmt_be32(eh + 4);
        if (type == EXT_END)
            return IMS_OK;
        if (type == EXT_DATA_FILE)
            return fmt_refuse(c, IMS_FORMAT_R_DATA_FILE, "qcow2 image names an external data file");
        if (type == EXT_CRYPTO)
            return fmt_refuse(c, IMS_FORMAT_R_ENCRYPTED, "qcow2 image is encrypted");
        uint64_t next = off + 8 + (((uint64_t)len + 7) & ~7ull);
        if (next > end)
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 header extension runs past the first cluster");
        off = next;
    }
    return IMS_OK;
}

/* qcow v1: magic, version, backing file offset and size, mtime, size,
 * cluster_bits, l2_bits, crypt method, L1 table offset (48 bytes). */
static enum ims_rc inspect_v1(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    const uint8_t *p = h->head;
    if (h->head_len < 48)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "qcow header is truncated");
    uint64_t backing_off = fmt_be64(p + 8), size = fmt_be64(p + 24), l1_off = fmt_be64(p + 40);
    uint32_t backing_len = fmt_be32(p + 16), crypt = fmt_be32(p + 36);
    unsigned cluster_bits = p[32], l2_bits = p[33];
    if (backing_off != 0 || backing_len != 0)
        return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "qcow image has a backing file");
    if (crypt != 0)
        return fmt_refuse(c, IMS_FORMAT_R_ENCRYPTED, "qcow image is encrypted");
    if (cluster_bits < 9 || cluster_bits > 16 || l2_bits < 6 || l2_bits > 16)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow cluster or L2 table size is invalid");
    enum ims_rc rc = fmt_check_virtual(c, "qcow", size);
    if (rc != IMS_OK)
        return rc;
    unsigned shift = cluster_bits + l2_bits;
    uint64_t l1_size = (size >> shift) + ((size & ((1ull << shift) - 1)) != 0);
    if (l1_size * 8 > MAX_L1_BYTES || !fmt_in_file(c, l1_off, l1_size * 8))
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow L1 table is invalid or outside the file");
    info->format = IMS_FORMAT_QCOW;
    info->virtual_size = size;
    info->cluster_bits = cluster_bits;
    snprintf(info->variant, sizeof(info->variant), "v1");
    return IMS_OK;
}

enum ims_rc fmt_qcow2_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    const uint8_t *p = h->head;
    if (h->head_len >= 8 && fmt_be32(p + 4) == 1)
        return inspect_v1(c, h, info);
    if (h->head_len < 72)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "qcow2 header is truncated");
    uint32_t version = fmt_be32(p + 4);
    if (version != 2 && version != 3)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "qcow2 version %u is not supported", version);
    uint64_t backing_off = fmt_be64(p + 8);
    uint32_t backing_len = fmt_be32(p + 16);
    uint32_t cluster_bits = fmt_be32(p + 20);
    uint64_t size = fmt_be64(p + 24);
    uint32_t crypt = fmt_be32(p + 32);
    uint32_t l1_size = fmt_be32(p + 36);
    uint64_t l1_off = fmt_be64(p + 40);
    uint64_t rt_off = fmt_be64(p + 48);
    uint32_t rt_clusters = fmt_be32(p + 56);
    uint32_t nb_snapshots = fmt_be32(p + 60);
    uint64_t snap_off = fmt_be64(p + 64);
    uint64_t incompat = 0, autoclear = 0;
    uint32_t refcount_order = 4, header_len = 72;
    if (version == 3) {
        if (h->head_len < 104)
            return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "qcow2 header is truncated");
        incompat = fmt_be64(p + 72);
        autoclear = fmt_be64(p + 88);
        refcount_order = fmt_be32(p + 96);
        header_len = fmt_be32(p + 100);
    }

    /* What makes a reader open another file, first: it decides the answer. */
    if (backing_off != 0 || backing_len != 0)
        return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "qcow2 image has a backing file");
    if ((incompat & INCOMPAT_DATA_FILE) || (autoclear & AUTOCLEAR_DATA_FILE_RAW))
        return fmt_refuse(c, IMS_FORMAT_R_DATA_FILE, "qcow2 image has an external data file");
    if (crypt != 0)
        return fmt_refuse(c, IMS_FORMAT_R_ENCRYPTED, "qcow2 image is encrypted");
    if (incompat & ~(uint64_t)INCOMPAT_KNOWN)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "qcow2 image has unknown incompatible features (0x%llx)",
                          (unsigned long long)(incompat & ~(uint64_t)INCOMPAT_KNOWN));
    if (incompat & INCOMPAT_CORRUPT)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 image is marked corrupt");

    if (cluster_bits < 9 || cluster_bits > 21)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 cluster size 2^%u is out of range", cluster_bits);
    uint64_t cluster = 1ull << cluster_bits;
    if (version == 3) {
        if (header_len < 104 || header_len % 8 || header_len > cluster)
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 header length %u is invalid", header_len);
        if (refcount_order > 6)
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 refcount order %u is invalid", refcount_order);
        uint8_t compression = 0;
        if (header_len > 104) {
            if (h->head_len < 105)
                return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "qcow2 header is truncated");
            compression = p[104];
        }
        if (compression > 1 || (compression != 0) != !!(incompat & INCOMPAT_COMPRESSION))
            return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "qcow2 compression type %u is not supported",
                              compression);
    }
    if (!fmt_in_file(c, 0, header_len))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "qcow2 header is truncated");

    enum ims_rc rc = fmt_check_virtual(c, "qcow2", size);
    if (rc != IMS_OK)
        return rc;
    /* The L1 table must map the whole disk: each entry covers one L2
     * table's worth of clusters. */
    uint64_t l2_entries = cluster / ((incompat & INCOMPAT_EXTL2) ? 16 : 8);
    uint64_t per_l1 = l2_entries * cluster;
    uint64_t need = size / per_l1 + (size % per_l1 != 0);
    if ((uint64_t)l1_size * 8 > MAX_L1_BYTES)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 L1 table is too large");
    if (l1_size < need)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 L1 table is too small for the virtual size");
    if (l1_size && (rc = table_ok(c, l1_off, (uint64_t)l1_size * 8, cluster, "L1 table")) != IMS_OK)
        return rc;
    if (rt_clusters == 0 || (uint64_t)rt_clusters * cluster > MAX_REFTABLE_BYTES)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 refcount table size is invalid");
    if ((rc = table_ok(c, rt_off, (uint64_t)rt_clusters * cluster, cluster, "refcount table")) != IMS_OK)
        return rc;
    if (nb_snapshots > MAX_SNAPSHOTS)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "qcow2 image has too many snapshots");
    if (nb_snapshots && (rc = table_ok(c, snap_off, 40, cluster, "snapshot table")) != IMS_OK)
        return rc;
    if ((rc = walk_extensions(c, h, header_len, cluster)) != IMS_OK)
        return rc;

    info->virtual_size = size;
    info->cluster_bits = cluster_bits;
    snprintf(info->variant, sizeof(info->variant), "v%u", version);
    return IMS_OK;
}
