/* SPDX-License-Identifier: Apache-2.0
 * QED, after QEMU's QED specification: a little-endian header with the
 * cluster and table sizes, the L1 table offset and the disk size. Refused:
 * a backing file, unknown features, sizes the tables cannot map. */
#include <stdio.h>

#include "formats-int.h"

#define QED_MAGIC 0x00444551u /* "QED\0" */
#define QED_F_BACKING_FILE (1u << 0)
#define QED_F_KNOWN 0x07u /* backing file, needs check, backing format not probed */

bool fmt_qed_detect(const struct fmt_head *h)
{
    return h->head_len >= 4 && fmt_le32(h->head) == QED_MAGIC;
}

enum ims_rc fmt_qed_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    const uint8_t *p = h->head;
    if (h->head_len < 64)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "QED header is truncated");
    uint32_t cluster = fmt_le32(p + 4), table_size = fmt_le32(p + 8), header_size = fmt_le32(p + 12);
    uint64_t features = fmt_le64(p + 16);
    uint64_t l1_off = fmt_le64(p + 40), size = fmt_le64(p + 48);
    uint32_t backing_len = fmt_le32(p + 60);
    if ((features & QED_F_BACKING_FILE) || backing_len)
        return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "QED image has a backing file");
    if (features & ~(uint64_t)QED_F_KNOWN)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "QED image has unknown features (0x%llx)",
                          (unsigned long long)(features & ~(uint64_t)QED_F_KNOWN));
    if (!fmt_pow2(cluster) || cluster < 4096 || cluster > (64u << 20))
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "QED cluster size %u is invalid", cluster);
    if (!fmt_pow2(table_size) || table_size > 16)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "QED table size %u is invalid", table_size);
    if (header_size == 0 || header_size > 1024)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "QED header size %u is invalid", header_size);
    enum ims_rc rc = fmt_check_virtual(c, "QED", size);
    if (rc != IMS_OK)
        return rc;
    /* Two levels of tables of table_size clusters of 8-byte entries. */
    uint64_t entries = (uint64_t)table_size * cluster / 8;
    __uint128_t max = (__uint128_t)entries * entries * cluster;
    if (size % 512 || (__uint128_t)size > max)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "QED disk size does not fit its tables");
    if (l1_off % cluster || !fmt_in_file(c, l1_off, (uint64_t)table_size * cluster))
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "QED L1 table offset is invalid");
    if (!fmt_in_file(c, 0, (uint64_t)header_size * cluster))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "QED header lies beyond the end of the file");
    info->virtual_size = size;
    info->cluster_bits = fmt_log2(cluster);
    return IMS_OK;
}
