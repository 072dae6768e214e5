/* SPDX-License-Identifier: Apache-2.0
 * formats: the disk-image format inspector. Pure (base only, no I/O): it
 * reads the untrusted file through the caller's read-at callback, only
 * headers and metadata tables, in bounded reads, and says which format the
 * file is, its virtual size, or why it is refused. It runs before any other
 * tool (qemu-img) touches the file: a refused file is never converted.
 *
 * Formats: raw, qcow2 (v2, v3), qcow (v1), vhd (fixed, dynamic), vhdx, vmdk
 * (monolithicSparse, streamOptimized, descriptor files), vdi, qed, iso.
 * Refused: anything that makes a reader open another file (qcow2/qed
 * backing files, qcow2 external data files, VMDK extents in other files or
 * parent disks, VHD/VHDX/VDI differencing disks), encrypted images,
 * unknown incompatible features, headers whose sizes or offsets disagree
 * with each other or with the file, virtual sizes over the limit, content
 * that matches two formats at once, and (ims_format_check_declared)
 * content that is not the format the user declared.
 *
 * Typical use (the convert module has a file-backed wrapper,
 * ims_image_inspect_file):
 *
 *     struct ims_format_info info;
 *     enum ims_format_refusal why;
 *     rc = ims_format_inspect(&src, &limits, &info, &why, err);
 *     if (rc == IMS_OK)
 *         rc = ims_format_check_declared("qcow2", &info, &why, err);
 */
#ifndef IMS_FORMATS_H
#define IMS_FORMATS_H

#include "ims/base.h"

enum ims_image_format {
    IMS_FORMAT_UNKNOWN = 0,
    IMS_FORMAT_RAW,
    IMS_FORMAT_QCOW2,
    IMS_FORMAT_VHD,
    IMS_FORMAT_VHDX,
    IMS_FORMAT_VMDK,
    IMS_FORMAT_VDI,
    IMS_FORMAT_QED,
    IMS_FORMAT_ISO,
    IMS_FORMAT_QCOW, /* QEMU's original qcow (version 1) */
};

/* Why a file was refused; IMS_FORMAT_ACCEPTED when it was not. Every
 * refusal also fills err (message without paths, IMS error code). */
enum ims_format_refusal {
    IMS_FORMAT_ACCEPTED = 0,
    IMS_FORMAT_R_READ,             /* the reader failed (IMS_E_IO) */
    IMS_FORMAT_R_EMPTY,            /* zero-length file */
    IMS_FORMAT_R_TRUNCATED,        /* a header or table lies past the end of the file */
    IMS_FORMAT_R_INCONSISTENT,     /* sizes, offsets, checksums or versions that disagree */
    IMS_FORMAT_R_TOO_LARGE,        /* virtual size over the limit (IMG.0059) */
    IMS_FORMAT_R_BACKING_FILE,     /* backing file, parent or differencing disk */
    IMS_FORMAT_R_DATA_FILE,        /* qcow2 external data file */
    IMS_FORMAT_R_EXTERNAL_EXTENT,  /* VMDK extent in another file, or a path */
    IMS_FORMAT_R_ENCRYPTED,        /* encrypted image: nothing can read it without its key */
    IMS_FORMAT_R_UNSUPPORTED,      /* unknown incompatible features, unsupported variants */
    IMS_FORMAT_R_AMBIGUOUS,        /* content matches two formats at once */
    IMS_FORMAT_R_MISMATCH,         /* detected format is not the declared one */
    IMS_FORMAT_R_UNKNOWN_DECLARED, /* the declared name is no format imsd knows (IMG.0072) */
};

/* The file, read through read_at(ctx, offset, buf, len): returns how many
 * bytes it put in buf (fewer than len only at the end of the file; it is
 * called again for the rest) or -1 on an I/O error. size is the file's
 * length in bytes. The inspector never asks for more than
 * IMS_FORMAT_MAX_READ bytes in one call, nor more than
 * IMS_FORMAT_READ_BUDGET bytes in all. It reads the first 64 KiB and the
 * last 512 bytes, then a few small structures where the headers point
 * (VHDX: ~200 KiB in all), so a source may be an object store's ranged
 * GETs: a file need not be downloaded to be refused. */
struct ims_format_source {
    long (*read_at)(void *ctx, uint64_t offset, void *buf, size_t len);
    void *ctx;
    uint64_t size;
};
#define IMS_FORMAT_MAX_READ (1u << 20)
#define IMS_FORMAT_READ_BUDGET (8u << 20)

/* max_virtual_size: the largest disk the caller accepts, in bytes; 0 means
 * IMS_FORMAT_DEFAULT_MAX_VIRTUAL (2 TiB). */
struct ims_format_limits {
    uint64_t max_virtual_size;
};
#define IMS_FORMAT_DEFAULT_MAX_VIRTUAL (2ULL << 40)

struct ims_format_info {
    enum ims_image_format format;
    uint64_t virtual_size; /* bytes of disk the image holds (what qemu-img reports) */
    /* "v1" (qcow), "v2"/"v3" (qcow2), "fixed"/"dynamic" (vhd, vdi), "monolithicSparse",
     * "streamOptimized" or "descriptor" (vmdk), "" otherwise. */
    char variant[32];
    /* qcow2, qcow and qed: log2 of the cluster size; vhdx, vhd dynamic, vdi:
     * log2 of the block size; 0 otherwise. */
    unsigned cluster_bits;
};

/* Inspects the file. On success fills *info; on refusal returns
 * IMS_E_BADREQ (IMS_E_IO when the reader failed), sets *why (when why is
 * not NULL) and err (message fit for the user: no paths; code IMG.0057,
 * IMG.0059 for sizes over the limit). limits may be NULL (defaults). */
enum ims_rc ims_format_inspect(const struct ims_format_source *src, const struct ims_format_limits *limits,
                               struct ims_format_info *info, enum ims_format_refusal *why,
                               struct ims_err *err);

/* Whether what the inspector found is what the user declared (a Glance
 * disk_format or IMS file format name: raw, qcow2, qcow, vhd, vhdx, vmdk,
 * vdi, qed, iso, zvhd, zvhd2, ami/ari/aki (raw)). raw also accepts an ISO (its
 * sectors are a disk as they are). zvhd and zvhd2 accept the
 * container formats qemu-img reads (vhd, vhdx, qcow2, qcow, vmdk, vdi): imsd
 * converts from the format it detected, never from the declared name.
 * IMS_E_BADREQ with IMS_FORMAT_R_MISMATCH (IMG.0057) or
 * IMS_FORMAT_R_UNKNOWN_DECLARED (IMG.0072) otherwise. */
enum ims_rc ims_format_check_declared(const char *declared, const struct ims_format_info *info,
                                      enum ims_format_refusal *why, struct ims_err *err);

/* "raw", "qcow2", "qcow", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso" ("" for unknown). */
const char *ims_format_name(enum ims_image_format f);
/* The name qemu-img's -f takes for the format: vhd is "vpc", iso is "raw". */
const char *ims_format_qemu_name(enum ims_image_format f);
/* A short stable name for a refusal ("backing_file", ...), for logs and tests. */
const char *ims_format_refusal_name(enum ims_format_refusal r);

/* A source over bytes in memory (tests, fuzzing): ctx is a struct
 * ims_format_mem. */
struct ims_format_mem {
    const uint8_t *data;
    size_t len;
};
long ims_format_mem_read(void *ctx, uint64_t offset, void *buf, size_t len);

#endif
