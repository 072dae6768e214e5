/* SPDX-License-Identifier: Apache-2.0
 * The inspector's front: bounded reads through the caller's callback,
 * detection over every format (a file carrying two formats' signatures is
 * refused: whichever reader looks at it next could take it for the other),
 * the virtual-size limit, raw files, and the declared-versus-detected
 * check. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "formats-int.h"

enum ims_rc fmt_refuse(struct fmt_ctx *c, enum ims_format_refusal why, const char *fmt, ...)
{
    c->why = why;
    char msg[sizeof(c->err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    enum ims_rc rc = why == IMS_FORMAT_R_READ ? IMS_E_IO : IMS_E_BADREQ;
    const char *code = why == IMS_FORMAT_R_READ       ? ""
                       : why == IMS_FORMAT_R_TOO_LARGE ? "IMG.0059"
                                                       : "IMG.0057";
    if (!*code)
        return ims_fail(c->err, rc, "%s", msg);
    return ims_fail_code(c->err, rc, code, "%s", msg);
}

bool fmt_in_file(const struct fmt_ctx *c, uint64_t off, uint64_t len)
{
    return off <= c->size && len <= c->size - off;
}

enum ims_rc fmt_read_some(struct fmt_ctx *c, uint64_t off, void *buf, size_t len, size_t *got)
{
    *got = 0;
    if (off >= c->size)
        return IMS_OK;
    if (len > c->size - off)
        len = (size_t)(c->size - off);
    if (len > IMS_FORMAT_MAX_READ || len > c->budget)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "image metadata larger than the inspector reads");
    c->budget -= len;
    size_t done = 0;
    while (done < len) {
        long n = c->src->read_at(c->src->ctx, off + done, (uint8_t *)buf + done, len - done);
        if (n < 0 || (size_t)n > len - done)
            return fmt_refuse(c, IMS_FORMAT_R_READ, "the image file could not be read");
        if (n == 0)
            break; /* shorter than the size said: what is there is all there is */
        done += (size_t)n;
    }
    *got = done;
    return IMS_OK;
}

enum ims_rc fmt_read(struct fmt_ctx *c, uint64_t off, void *buf, size_t len, const char *what)
{
    if (!fmt_in_file(c, off, len))
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "%s lies beyond the end of the file", what);
    size_t got;
    enum ims_rc rc = fmt_read_some(c, off, buf, len, &got);
    if (rc != IMS_OK)
        return rc;
    if (got != len)
        return fmt_refuse(c, IMS_FORMAT_R_TRUNCATED, "%s lies beyond the end of the file", what);
    return IMS_OK;
}

enum ims_rc fmt_check_virtual(struct fmt_ctx *c, const char *fmt_name, uint64_t vsize)
{
    if (vsize == 0)
        return fmt_refuse(c, IMS_FORMAT_R_INCONSISTENT, "%s image with a virtual size of 0", fmt_name);
    if (vsize > c->max_virtual)
        return fmt_refuse(c, IMS_FORMAT_R_TOO_LARGE,
                          "%s image's virtual size %llu bytes exceeds the limit of %llu bytes", fmt_name,
                          (unsigned long long)vsize, (unsigned long long)c->max_virtual);
    return IMS_OK;
}

long ims_format_mem_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    const struct ims_format_mem *m = ctx;
    if (offset >= m->len)
        return 0;
    size_t n = m->len - (size_t)offset < len ? m->len - (size_t)offset : len;
    memcpy(buf, m->data + offset, n);
    return (long)n;
}

static const struct fmt_kind {
    enum ims_image_format format;
    bool (*detect)(const struct fmt_head *h);
    enum ims_rc (*inspect)(struct fmt_ctx *c, const struct fmt_head *h, struct ims_format_info *info);
} kinds[] = {
    { IMS_FORMAT_QCOW2, fmt_qcow2_detect, fmt_qcow2_inspect },
    { IMS_FORMAT_QED, fmt_qed_detect, fmt_qed_inspect },
    { IMS_FORMAT_VDI, fmt_vdi_detect, fmt_vdi_inspect },
    { IMS_FORMAT_VHDX, fmt_vhdx_detect, fmt_vhdx_inspect },
    { IMS_FORMAT_VHD, fmt_vhd_detect, fmt_vhd_inspect },
    { IMS_FORMAT_VMDK, fmt_vmdk_detect, fmt_vmdk_inspect },
    { IMS_FORMAT_ISO, fmt_iso_detect, fmt_iso_inspect },
};

enum ims_rc ims_format_inspect(const struct ims_format_source *src, const struct ims_format_limits *limits,
                               struct ims_format_info *info, enum ims_format_refusal *why, struct ims_err *err)
{
    struct fmt_ctx c = {
        .src = src,
        .size = src->size,
        .max_virtual = limits && limits->max_virtual_size ? limits->max_virtual_size
                                                          : IMS_FORMAT_DEFAULT_MAX_VIRTUAL,
        .budget = IMS_FORMAT_READ_BUDGET,
        .err = err,
    };
    struct fmt_head *h = ims_xcalloc(1, sizeof(*h));
    struct ims_format_info out = { 0 };
    enum ims_rc rc;
    if (c.size == 0) {
        rc = fmt_refuse(&c, IMS_FORMAT_R_EMPTY, "the image file is empty");
        goto done;
    }
    rc = fmt_read_some(&c, 0, h->head, sizeof(h->head), &h->head_len);
    if (rc == IMS_OK && c.size >= sizeof(h->tail)) {
        rc = fmt_read(&c, c.size - sizeof(h->tail), h->tail, sizeof(h->tail), "the last sector");
        h->have_tail = rc == IMS_OK;
    }
    if (rc != IMS_OK)
        goto done;

    const struct fmt_kind *found = NULL;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(kinds); i++) {
        if (!kinds[i].detect(h))
            continue;
        if (found) {
            rc = fmt_refuse(&c, IMS_FORMAT_R_AMBIGUOUS, "the image file carries both %s and %s headers",
                            ims_format_name(found->format), ims_format_name(kinds[i].format));
            goto done;
        }
        found = &kinds[i];
    }
    if (found) {
        out.format = found->format;
        rc = found->inspect(&c, h, &out);
    } else {
        /* Raw: the bytes are the disk. */
        out.format = IMS_FORMAT_RAW;
        out.virtual_size = c.size;
        rc = fmt_check_virtual(&c, "raw", c.size);
    }
    if (rc == IMS_OK)
        *info = out;
done:
    free(h);
    if (why)
        *why = rc == IMS_OK ? IMS_FORMAT_ACCEPTED : c.why;
    return rc;
}

/* The names users declare, and which detected formats each accepts. */
static const struct declared_name {
    const char *name;
    unsigned accepts; /* bit per enum ims_image_format */
} declared_names[] = {
#define F(x) (1u << IMS_FORMAT_##x)
    { "raw", F(RAW) | F(ISO) }, /* an ISO is a sector image: a raw disk */
    { "ami", F(RAW) },
    { "ari", F(RAW) },
    { "aki", F(RAW) },
    { "qcow2", F(QCOW2) },
    { "qcow", F(QCOW) },
    { "vhd", F(VHD) },
    { "vpc", F(VHD) },
    { "vhdx", F(VHDX) },
    { "vmdk", F(VMDK) },
    { "vdi", F(VDI) },
    { "qed", F(QED) },
    { "iso", F(ISO) },
    { "zvhd", F(VHD) | F(VHDX) | F(QCOW2) | F(QCOW) | F(VMDK) | F(VDI) },
    { "zvhd2", F(VHD) | F(VHDX) | F(QCOW2) | F(QCOW) | F(VMDK) | F(VDI) },
#undef F
};

enum ims_rc ims_format_check_declared(const char *declared, const struct ims_format_info *info,
                                      enum ims_format_refusal *why, struct ims_err *err)
{
    const struct declared_name *d = NULL;
    for (size_t i = 0; declared && i < IMS_ARRAY_SIZE(declared_names); i++)
        if (strcasecmp(declared, declared_names[i].name) == 0)
            d = &declared_names[i];
    if (!d) {
        if (why)
            *why = IMS_FORMAT_R_UNKNOWN_DECLARED;
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0072", "unsupported image format");
    }
    if (!(d->accepts & (1u << info->format))) {
        if (why)
            *why = IMS_FORMAT_R_MISMATCH;
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057",
                             "the image file is in %s format, not the declared %s", ims_format_name(info->format),
                             d->name);
    }
    if (why)
        *why = IMS_FORMAT_ACCEPTED;
    return IMS_OK;
}

const char *ims_format_name(enum ims_image_format f)
{
    switch (f) {
    case IMS_FORMAT_RAW: return "raw";
    case IMS_FORMAT_QCOW2: return "qcow2";
    case IMS_FORMAT_VHD: return "vhd";
    case IMS_FORMAT_VHDX: return "vhdx";
    case IMS_FORMAT_VMDK: return "vmdk";
    case IMS_FORMAT_VDI: return "vdi";
    case IMS_FORMAT_QED: return "qed";
    case IMS_FORMAT_ISO: return "iso";
    case IMS_FORMAT_QCOW: return "qcow";
    case IMS_FORMAT_UNKNOWN: break;
    }
    return "";
}

const char *ims_format_qemu_name(enum ims_image_format f)
{
    switch (f) {
    case IMS_FORMAT_VHD: return "vpc";
    case IMS_FORMAT_ISO: return "raw";
    default: return ims_format_name(f);
    }
}

const char *ims_format_refusal_name(enum ims_format_refusal r)
{
    switch (r) {
    case IMS_FORMAT_ACCEPTED: return "accepted";
    case IMS_FORMAT_R_READ: return "read_error";
    case IMS_FORMAT_R_EMPTY: return "empty";
    case IMS_FORMAT_R_TRUNCATED: return "truncated";
    case IMS_FORMAT_R_INCONSISTENT: return "inconsistent";
    case IMS_FORMAT_R_TOO_LARGE: return "too_large";
    case IMS_FORMAT_R_BACKING_FILE: return "backing_file";
    case IMS_FORMAT_R_DATA_FILE: return "data_file";
    case IMS_FORMAT_R_EXTERNAL_EXTENT: return "external_extent";
    case IMS_FORMAT_R_ENCRYPTED: return "encrypted";
    case IMS_FORMAT_R_UNSUPPORTED: return "unsupported";
    case IMS_FORMAT_R_AMBIGUOUS: return "ambiguous";
    case IMS_FORMAT_R_MISMATCH: return "mismatch";
    case IMS_FORMAT_R_UNKNOWN_DECLARED: return "unknown_declared";
    }
    return "unknown";
}
