/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the disk-image format inspector. The input is a sparse
 * file, so that small inputs can stand for the large files whose tables
 * sit megabytes in (VHDX regions, VMDK footers, VHD footers at the end):
 *   8 bytes  file size, little-endian (taken modulo 2^42)
 *   then records: 4 bytes sector (x 512), 2 bytes length, that many bytes
 * Bytes no record covers read as zero; later records win. The reader
 * answers in short pieces to exercise the inspector's read loop.
 * fuzz/format_seed.py turns a real image into this form (the corpus).
 * Checks: an accepted file has a format and a virtual size within the
 * limit; a refused one has a reason and a message; the declared check
  * never accepts raw for a container format (an ISO is a raw disk). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/formats.h"

struct sparse {
    const uint8_t *rec;
    size_t rec_len;
    uint64_t size;
};

static long sparse_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct sparse *s = ctx;
    if (off >= s->size)
        return 0;
    if (len > s->size - off)
        len = (size_t)(s->size - off);
    if (len > 3000)
        len = 3000 + (size_t)(off % 7); /* short reads on purpose */
    memset(buf, 0, len);
    size_t i = 0;
    while (i + 6 <= s->rec_len) {
        uint64_t at = (uint64_t)(s->rec[i] | s->rec[i + 1] << 8 | s->rec[i + 2] << 16 |
                                 (uint32_t)s->rec[i + 3] << 24) * 512;
        size_t n = (size_t)(s->rec[i + 4] | s->rec[i + 5] << 8);
        i += 6;
        if (n > s->rec_len - i)
            n = s->rec_len - i;
        const uint8_t *d = s->rec + i;
        i += n;
        /* overlap of [at, at+n) with [off, off+len) */
        uint64_t lo = at > off ? at : off, hi = at + n < off + len ? at + n : off + len;
        if (lo < hi)
            memcpy((uint8_t *)buf + (lo - off), d + (lo - at), (size_t)(hi - lo));
    }
    return (long)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t fsize = 0;
    for (int i = 7; i >= 0; i--)
        fsize = fsize << 8 | data[i];
    struct sparse s = { data + 8, size - 8, fsize % (1ull << 42) };
    struct ims_format_source src = { sparse_read, &s, s.size };
    struct ims_format_limits lim = { .max_virtual_size = 1ull << 40 };
    struct ims_format_info info;
    memset(&info, 0xa5, sizeof(info));
    enum ims_format_refusal why = IMS_FORMAT_ACCEPTED;
    struct ims_err err = { 0 };
    enum ims_rc rc = ims_format_inspect(&src, &lim, &info, &why, &err);
    if (rc == IMS_OK) {
        if (why != IMS_FORMAT_ACCEPTED || info.format == IMS_FORMAT_UNKNOWN || info.virtual_size == 0 ||
            info.virtual_size > lim.max_virtual_size || !*ims_format_name(info.format) ||
            memchr(info.variant, 0, sizeof(info.variant)) == NULL)
            abort();
        static const char *names[] = { "raw", "qcow2", "qcow", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "zvhd", "zvhd2" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            enum ims_format_refusal w;
            struct ims_err e2 = { 0 };
            enum ims_rc r2 = ims_format_check_declared(names[i], &info, &w, &e2);
            bool raw_decl = strcmp(names[i], "raw") == 0;
            if (r2 == IMS_OK && raw_decl && info.format != IMS_FORMAT_RAW && info.format != IMS_FORMAT_ISO)
                abort();
            if (r2 != IMS_OK && (w != IMS_FORMAT_R_MISMATCH || !e2.msg[0]))
                abort();
        }
    } else {
        if (why == IMS_FORMAT_ACCEPTED || !err.msg[0] || memchr(err.msg, 0, sizeof(err.msg)) == NULL)
            abort();
    }
    return 0;
}
