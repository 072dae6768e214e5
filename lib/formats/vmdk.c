/* SPDX-License-Identifier: Apache-2.0
 * VMDK, after VMware's Virtual Disk Format 1.1: hosted sparse extents
 * ("KDMV": monolithicSparse, streamOptimized, with the footer that
 * streamOptimized files may carry at their end) and their embedded text
 * descriptor, and descriptor files alone. The descriptor is what makes
 * VMDK dangerous: its extent lines name files a reader then opens. So
 * every line must be one this parser understands, an embedded descriptor
 * must describe exactly the one sparse extent that is the file itself (a
 * bare name, no path), and a descriptor file may name no file at all
 * (only ZERO extents). Parents (parentCID, parentFileNameHint) refuse. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "formats-int.h"

#define VMDK4_MAGIC 0x564d444bu /* "KDMV" little-endian */
#define VMDK3_MAGIC 0x44574f43u /* "COWD" */
#define GD_AT_END 0xffffffffffffffffull
#define MARKER_EOS 0u
#define MARKER_FOOTER 3u
#define DESC_MAX (64u * 1024) /* descriptors are a few hundred bytes */
#define MAX_CAPACITY (1ull << 54)

/* QEMU's probe of a descriptor file: after comments and blank lines, the
 * first line is "version=1", "=2" or "=3". "# Disk DescriptorFile" opens
 * the ones VMware and qemu-img write. */
static bool looks_like_descriptor(const uint8_t *p, size_t n)
{
    static const char banner[] = "# Disk DescriptorFile";
    if (n >= sizeof(banner) - 1 && memcmp(p, banner, sizeof(banner) - 1) == 0)
        return true;
    size_t i = 0;
    while (i < n) {
        if (p[i] == '#') {
            while (i < n && p[i] != '\n')
                i++;
            i++;
            continue;
        }
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
            i++;
        if (i < n && p[i] == '\n') {
            i++;
            continue;
        }
        break;
    }
    return i < n && n - i >= 10 && memcmp(p + i, "version=", 8) == 0 && p[i + 8] >= '1' && p[i + 8] <= '3' &&
           (p[i + 9] == '\n' || p[i + 9] == '\r');
}

bool fmt_vmdk_detect(const struct fmt_head *h)
{
    if (h->head_len >= 4 && (fmt_le32(h->head) == VMDK4_MAGIC || fmt_le32(h->head) == VMDK3_MAGIC))
        return true;
    return looks_like_descriptor(h->head, h->head_len);
}

struct descriptor {
    char create_type[32];
    unsigned extents;      /* extent lines */
    unsigned file_extents; /* of which name a file */
    bool sparse_only;      /* every file extent is SPARSE */
    uint64_t sectors;      /* sum of the extents' sizes */
};

static bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

/* An extent line: ACCESS SECTORS TYPE ["NAME" [OFFSET]]. */
static enum ims_rc parse_extent(struct fmt_ctx *c, char *line, struct descriptor *d)
{
    char *save = NULL;
    char *access = strtok_r(line, " \t", &save);
    char *sectors = strtok_r(NULL, " \t", &save);
    char *type = strtok_r(NULL, " \t", &save);
    char *rest = save;
    int64_t n;
    (void)access;
    if (!sectors || !type || !ims_parse_i64(sectors, 0, (int64_t)MAX_CAPACITY, &n))
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor has a malformed extent line");
    d->extents++;
    if (d->extents > 64)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor has too many extents");
    d->sectors += (uint64_t)n;
    if (d->sectors > MAX_CAPACITY)
        return fmt_refuse(c, IMS_FORMAT_R_TOO_LARGE, "VMDK disk is larger than the format allows");
    while (rest && is_space(*rest))
        rest++;
    if (strcmp(type, "ZERO") == 0) {
        if (rest && *rest)
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK ZERO extent names a file");
        return IMS_OK;
    }
    d->file_extents++;
    if (strcmp(type, "SPARSE") != 0)
        d->sparse_only = false;
    if (!rest || *rest != '"')
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor has a malformed extent line");
    char *name = rest + 1, *end = strchr(name, '"');
    if (!end || end == name)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor has a malformed extent line");
    *end = 0;
    if (strpbrk(name, "/\\:") || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return fmt_refuse(c, IMS_FORMAT_R_EXTERNAL_EXTENT, "VMDK descriptor names an extent by a path");
    return IMS_OK;
}

/* Every line is a comment, a key = value or an extent: anything else
 * refuses, as does a parent. */
static enum ims_rc parse_descriptor(struct fmt_ctx *c, char *text, struct descriptor *d)
{
    d->sparse_only = true;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor is not text");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || is_space(line[len - 1])))
            line[--len] = 0;
        while (is_space(*line))
            line++;
        if (!*line || *line == '#')
            continue;
        if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) || !strncmp(line, "NOACCESS ", 9) ||
            !strncmp(line, "RW\t", 3)) {
            enum ims_rc rc = parse_extent(c, line, d);
            if (rc != IMS_OK)
                return rc;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq)
            return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor has a line it cannot parse");
        char *key = line, *val = eq + 1;
        char *k_end = eq;
        while (k_end > key && is_space(k_end[-1]))
            k_end--;
        *k_end = 0;
        while (is_space(*val))
            val++;
        size_t vlen = strlen(val);
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
            val[vlen - 1] = 0;
            val++;
        }
        if (strcasecmp(key, "parentCID") == 0 && strcasecmp(val, "ffffffff") != 0)
            return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "VMDK image has a parent disk");
        if (strcasecmp(key, "parentFileNameHint") == 0)
            return fmt_refuse(c, IMS_FORMAT_R_BACKING_FILE, "VMDK image has a parent disk");
        if (strcasecmp(key, "createType") == 0)
            snprintf(d->create_type, sizeof(d->create_type), "%s", val);
    }
    return IMS_OK;
}

/* A descriptor file alone: it can only describe other files, unless all
 * its extents are ZERO. */
static enum ims_rc inspect_descriptor_file(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    if (c->size > DESC_MAX)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor file is too large");
    char *text = ims_xstrndup((const char *)h->head, h->head_len);
    struct descriptor d = { 0 };
    enum ims_rc rc = parse_descriptor(c, text, &d);
    free(text);
    if (rc != IMS_OK)
        return rc;
    if (d.file_extents)
        return fmt_refuse(c, IMS_FORMAT_R_EXTERNAL_EXTENT, "VMDK descriptor file names extents in other files");
    if (!d.extents)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor has no extents");
    if ((rc = fmt_check_virtual(c, "VMDK", d.sectors * 512)) != IMS_OK)
        return rc;
    info->virtual_size = d.sectors * 512;
    snprintf(info->variant, sizeof(info->variant), "descriptor");
    return IMS_OK;
}

/* The sparse header's fields (offsets relative to the magic). */
struct sparse {
    uint32_t version, flags, gtes;
    uint64_t capacity, grain, desc_off, desc_size, gd_off;
    uint16_t compress;
};

static void parse_sparse(const uint8_t *p, struct sparse *s)
{
    s->version = fmt_le32(p + 4);
    s->flags = fmt_le32(p + 8);
    s->capacity = fmt_le64(p + 12);
    s->grain = fmt_le64(p + 20);
    s->desc_off = fmt_le64(p + 28);
    s->desc_size = fmt_le64(p + 36);
    s->gtes = fmt_le32(p + 44);
    s->gd_off = fmt_le64(p + 56);
    s->compress = fmt_le16(p + 77);
}

/* streamOptimized files may leave the grain directory to a footer: a
 * footer marker, the header again, an end-of-stream marker, in the last
 * three sectors. The footer's fields then count. */
static enum ims_rc read_footer(struct fmt_ctx *c, struct sparse *s)
{
    uint8_t f[1536];
    if (c->size < 2048)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VMDK footer lies beyond the end of the file");
    enum ims_rc rc = fmt_read(c, c->size - sizeof(f), f, sizeof(f), "VMDK footer");
    if (rc != IMS_OK)
        return rc;
    if (fmt_le32(f + 8) != 0 || fmt_le32(f + 12) != MARKER_FOOTER || fmt_le32(f + 512) != VMDK4_MAGIC ||
        fmt_le64(f + 1024) != 0 || fmt_le32(f + 1032) != 0 || fmt_le32(f + 1036) != MARKER_EOS)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK footer is invalid");
    parse_sparse(f + 512, s);
    if (s->gd_off == GD_AT_END)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK footer has no grain directory");
    return IMS_OK;
}

enum ims_rc fmt_vmdk_inspect(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info)
{
    if (h->head_len < 4 || (fmt_le32(h->head) != VMDK4_MAGIC && fmt_le32(h->head) != VMDK3_MAGIC))
        return inspect_descriptor_file(c, h, info);
    if (fmt_le32(h->head) == VMDK3_MAGIC)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VMDK version 3 (COWD) extents are not supported");
    if (h->head_len < 512)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VMDK header is truncated");
    struct sparse s;
    parse_sparse(h->head, &s);
    if (s.version < 1 || s.version > 3)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VMDK version %u is not supported", s.version);
    enum ims_rc rc;
    if (s.gd_off == GD_AT_END && (rc = read_footer(c, &s)) != IMS_OK)
        return rc;
    if (s.compress > 1)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VMDK compression %u is not supported", s.compress);
    if (!fmt_pow2(s.grain) || s.grain > 0x200000 || s.gtes == 0 || s.gtes > 512)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK grain size or grain table size is invalid");
    if (s.capacity > MAX_CAPACITY)
        return fmt_refuse(c, IMS_FORMAT_R_TOO_LARGE, "VMDK disk is larger than the format allows");
    if ((rc = fmt_check_virtual(c, "VMDK", s.capacity * 512)) != IMS_OK)
        return rc;
    /* The grain directory: one 4-byte entry per grain table. */
    uint64_t per_gt = s.grain * s.gtes;
    uint64_t gd_entries = s.capacity / per_gt + (s.capacity % per_gt != 0);
    if (s.gd_off > c->size / 512 || !fmt_in_file(c, s.gd_off * 512, gd_entries * 4))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "VMDK grain directory lies beyond the end of the file");

    /* The embedded descriptor must describe this file alone. */
    if (s.desc_off == 0 || s.desc_size == 0)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VMDK sparse extent without a descriptor");
    if (s.desc_size > DESC_MAX / 512 || s.desc_off > c->size / 512)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor is too large or misplaced");
    size_t dlen = (size_t)s.desc_size * 512;
    char *text = ims_xmalloc(dlen + 1);
    rc = fmt_read(c, s.desc_off * 512, text, dlen, "VMDK descriptor");
    struct descriptor d = { 0 };
    if (rc == IMS_OK) {
        text[dlen] = 0; /* the descriptor ends at its first NUL (padding) */
        rc = parse_descriptor(c, text, &d);
    }
    free(text);
    if (rc != IMS_OK)
        return rc;
    if (d.file_extents != 1 || d.extents != 1 || !d.sparse_only)
        return fmt_refuse(c, IMS_FORMAT_R_EXTERNAL_EXTENT,
                          "VMDK descriptor names extents other than the file itself");
    if (d.sectors != s.capacity)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "VMDK descriptor and header disagree on the disk size");
    if (strcmp(d.create_type, "monolithicSparse") != 0 && strcmp(d.create_type, "streamOptimized") != 0)
        return fmt_refuse(c, IMS_FORMAT_R_UNSUPPORTED, "VMDK create type is not monolithicSparse or streamOptimized");
    info->virtual_size = s.capacity * 512;
    info->cluster_bits = fmt_log2(s.grain * 512);
    snprintf(info->variant, sizeof(info->variant), "%s", d.create_type);
    return IMS_OK;
}
