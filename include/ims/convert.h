/* SPDX-License-Identifier: Apache-2.0
 * convert: image files on the local file system. A backend-like layer (it
 * does I/O and runs programs) over the pure inspector (formats.h):
 *
 *  - ims_image_inspect_file: the inspector over a file, through pread.
 *    Always first: a file it refuses is never handed to qemu-img.
 *  - ims_convert: qemu-img convert as a child process (fork + execve of an
 *    argument vector, no shell), input format given explicitly (-f, from
 *    the inspector, never probed), CPU, address-space and file-size limits
 *    set in the child, a wall-clock limit and cancellation that kill it,
 *    progress (-p) parsed into a callback, output to a new temporary file
 *    in the caller's directory, which the caller then adopts (rename into
 *    the store) or removes.
 *
 * Typical use by an import job:
 *
 *     struct ims_format_info info;
 *     rc = ims_image_inspect_file(path, &limits, "qcow2", &info, &why, err);
 *     struct ims_convert_request req = {
 *         .input = path, .input_format = info.format,
 *         .output_format = IMS_CONVERT_RAW, .tmp_dir = tmp,
 *         .progress = set_job_percent, .cancelled = job_lost, .ctx = job,
 *     };
 *     char *out = NULL;
 *     rc = ims_convert(&req, &out, &outcome, err);   // out: caller frees
 *
 * Error messages (err->msg) never contain paths or qemu-img's words: they
 * can reach users. qemu-img's stderr is in the outcome and in the log. */
#ifndef IMS_CONVERT_H
#define IMS_CONVERT_H

#include "ims/base.h"
#include "ims/formats.h"

/* Inspects the regular file at path (ims_format_inspect over pread) and,
 * when declared is not NULL, checks it against the declared format
 * (ims_format_check_declared). limits may be NULL. Same results as those. */
enum ims_rc ims_image_inspect_file(const char *path, const struct ims_format_limits *limits, const char *declared,
                                   struct ims_format_info *info, enum ims_format_refusal *why,
                                   struct ims_err *err);
/* The same for a server's disk, which may also be a block device (an
 * administrator or the hypervisor named it; files users send are regular
 * files, and only those are inspected by ims_image_inspect_file).
 * declared is the format the hypervisor reads it in (NULL: unknown, the
 * inspector's). A raw disk's bytes are its guest's to write: declared
 * "raw" is raw, its virtual size its size, whatever its first bytes look
 * like, and is never probed (a guest could otherwise pass its disk off as
 * a qcow2 image, and between the inspection and qemu-img's read give it a
 * backing file on the host); another declared format must be the one the
 * inspector finds. */
enum ims_rc ims_image_inspect_disk(const char *path, const struct ims_format_limits *limits, const char *declared,
                                   struct ims_format_info *info, enum ims_format_refusal *why, struct ims_err *err);

/* What qemu-img writes. */
enum ims_convert_format {
    IMS_CONVERT_RAW,
    IMS_CONVERT_QCOW2,       /* qcow2 v3 */
    IMS_CONVERT_VHD,         /* qemu-img's vpc, dynamic, exact size (force_size) */
    IMS_CONVERT_VHDX,        /* dynamic */
    IMS_CONVERT_VMDK,        /* monolithicSparse */
    IMS_CONVERT_VMDK_STREAM, /* streamOptimized */
};

/* The IMS export names (file_format) and disk_format names to an output
 * format: raw, qcow2, vhd, vhdx, vmdk; zvhd and zvhd2 are written as VHD
 * (see the README). false for anything else. */
bool ims_convert_format_parse(const char *name, enum ims_convert_format *out);
/* The disk_format of what the output format writes: "raw", "qcow2", "vhd",
 * "vhdx", "vmdk". */
const char *ims_convert_format_name(enum ims_convert_format f);

/* 0 takes the default in brackets. */
struct ims_convert_limits {
    unsigned cpu_seconds;     /* RLIMIT_CPU of qemu-img [3600] */
    uint64_t memory_bytes;    /* RLIMIT_AS of qemu-img [2 GiB] */
    unsigned wall_seconds;    /* killed after this long [14400] */
    uint64_t max_output_size; /* RLIMIT_FSIZE: the largest file it may write [none] */
};

struct ims_convert_request {
    const char *input;                  /* absolute path of an inspected file */
    enum ims_image_format input_format; /* what the inspector found */
    enum ims_convert_format output_format;
    const char *tmp_dir;                /* absolute; the output is created here */
    struct ims_convert_limits limits;
    /* Called from the calling thread when the whole percentage moves
     * (0..100); 100 once on success. May be NULL. */
    void (*progress)(void *ctx, unsigned percent);
    /* Polled about ten times a second; true kills qemu-img. May be NULL. */
    bool (*cancelled)(void *ctx);
    void *ctx;
    const char *qemu_img; /* the program; NULL: /usr/bin/qemu-img */
    /* The caller reads the output once, right after, and then removes it
     * (a put to S3, digests before a remote store takes it): qemu-img
     * writes it through the page cache, where that read finds it, instead
     * of past it (-t none), which suits a file that is kept (fsynced and
     * adopted, or linked) but would send the read to the disk. */
    bool read_after;
};

enum ims_convert_end {
    IMS_CONVERT_DONE,
    IMS_CONVERT_FAILED,      /* qemu-img exited with a non-zero status */
    IMS_CONVERT_TIMED_OUT,   /* killed: wall-clock limit */
    IMS_CONVERT_CPU_LIMIT,   /* killed by the kernel: CPU limit */
    IMS_CONVERT_FSIZE_LIMIT, /* killed by the kernel: output size limit */
    IMS_CONVERT_SIGNALLED,   /* died of another signal (memory limit: abort) */
    IMS_CONVERT_CANCELLED,   /* killed: the caller cancelled */
    IMS_CONVERT_KILLED,      /* SIGKILL or SIGTERM from elsewhere (an operator, the OOM killer) before any limit */
    IMS_CONVERT_NOT_RUN,     /* bad request, or the program could not start */
};

/* How the run ended, for the log and the job's record (never for users:
 * stderr may name server paths). */
struct ims_convert_outcome {
    enum ims_convert_end end;
    int exit_status; /* when it exited; -1 otherwise */
    int signal;      /* when it died of a signal; 0 otherwise */
    int64_t elapsed_ms;
    char stderr_tail[1024]; /* the last bytes qemu-img wrote to stderr */
};

/* Runs the conversion. On success *out_path is the new file in tmp_dir
 * ("<uuid>.<owner>.part", the store's temporary-file shape, so a crashed
 * process's output is cleaned up by the store's recovery), owned by the
 * caller. On failure nothing is left in tmp_dir and err says what
 * happened: IMS_E_BADREQ (IMG.0057: qemu-img could not read the image),
 * IMS_E_TOOLARGE (a limit stopped it), IMS_E_CONFLICT (cancelled), IMS_E_IO
 * (cannot create the output; with err->code IMG.0061 and a message for
 * users: no space left, or qemu-img killed from elsewhere), IMS_E_INTERNAL
 * (cannot run qemu-img). outcome may be NULL.
 *
 * qemu-img is killed when the calling thread ends (PR_SET_PDEATHSIG): call
 * it from a thread that lives until it returns (it always waits). */
enum ims_rc ims_convert(const struct ims_convert_request *req, char **out_path, struct ims_convert_outcome *outcome,
                        struct ims_err *err);

#endif
