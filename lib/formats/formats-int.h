/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the format inspectors (one file per format). Each
 * format offers a detect function (does the content carry this format's
 * signature?) and an inspect function (validate its headers, fill the
 * info) that runs only on a detected file. */
#ifndef IMS_FORMATS_INT_H
#define IMS_FORMATS_INT_H

#include <stdarg.h>

#include "ims/formats.h"

/* What every inspector sees first: the file's first 64 KiB (enough for the
 * fixed headers, a VMDK descriptor file's text and the ISO 9660 volume
 * descriptors at 32 KiB) and its last 512 bytes (the VHD footer). */
#define FMT_HEAD_MAX (64u * 1024)
struct fmt_head {
    uint8_t head[FMT_HEAD_MAX];
    size_t head_len;
    uint8_t tail[512];
    bool have_tail; /* file at least 512 bytes long */
};

struct fmt_ctx {
    const struct ims_format_source *src;
    uint64_t size;          /* the file's length */
    uint64_t max_virtual;   /* the limit, never 0 */
    uint64_t budget;        /* bytes the inspector may still read */
    struct ims_err *err;
    enum ims_format_refusal why;
};

/* Reads exactly len bytes at off; a range past the end of the file is a
 * TRUNCATED refusal naming `what` (a structure, never a path). */
enum ims_rc fmt_read(struct fmt_ctx *c, uint64_t off, void *buf, size_t len, const char *what);
/* Reads up to len bytes at off into buf; *got says how many (short at the
 * end of the file). */
enum ims_rc fmt_read_some(struct fmt_ctx *c, uint64_t off, void *buf, size_t len, size_t *got);
/* Records why and fills err; returns IMS_E_BADREQ. */
enum ims_rc fmt_refuse(struct fmt_ctx *c, enum ims_format_refusal why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The virtual size against the limit (TOO_LARGE) and against 0. */
enum ims_rc fmt_check_virtual(struct fmt_ctx *c, const char *fmt_name, uint64_t vsize);
/* Whether [off, off+len) lies inside the file (no overflow). */
bool fmt_in_file(const struct fmt_ctx *c, uint64_t off, uint64_t len);

static inline uint16_t fmt_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t fmt_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t fmt_be64(const uint8_t *p) { return (uint64_t)fmt_be32(p) << 32 | fmt_be32(p + 4); }
static inline uint16_t fmt_le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }
static inline uint32_t fmt_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint64_t fmt_le64(const uint8_t *p) { return (uint64_t)fmt_le32(p + 4) << 32 | fmt_le32(p); }
static inline bool fmt_pow2(uint64_t x) { return x && !(x & (x - 1)); }
static inline unsigned fmt_log2(uint64_t x)
{
    unsigned n = 0;
    while (x > 1) {
        x >>= 1;
        n++;
    }
    return n;
}

/* One per format (lib/formats/<format>.c). */
bool fmt_qcow2_detect(const struct fmt_head *h);
enum ims_rc fmt_qcow2_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
bool fmt_qed_detect(const struct fmt_head *h);
enum ims_rc fmt_qed_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
bool fmt_vdi_detect(const struct fmt_head *h);
enum ims_rc fmt_vdi_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
bool fmt_vhd_detect(const struct fmt_head *h);
enum ims_rc fmt_vhd_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
bool fmt_vhdx_detect(const struct fmt_head *h);
enum ims_rc fmt_vhdx_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
bool fmt_vmdk_detect(const struct fmt_head *h);
enum ims_rc fmt_vmdk_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
bool fmt_iso_detect(const struct fmt_head *h);
enum ims_rc fmt_iso_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);

#endif
