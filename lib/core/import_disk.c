/* SPDX-License-Identifier: Apache-2.0
 * An image's data from a server's disk, through the import pipeline of
 * object-storage files (include/ims/imports.h): the image is claimed like
 * an upload, the disk inspected where it is before anything else reads it,
 * converted to raw by qemu-img into the store's temporary area when it is
 * in another format (qemu-img reads the disk itself: no intermediate copy),
 * else copied there (a reflink where the file system allows: no byte
 * moved; else md5 and sha512 of the bytes as the copy reads them, so the
 * disk is read once), and the store adopts the file (rename). A disk in
 * object storage ("bucket:object") is imported exactly as a file is. Whatever fails, the
 * image is queued again and the temporary file removed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/compute.h"
#include "ims/convert.h"
#include "ims/imports.h"
#include "ims/obs.h"
#include "ims/server_images.h"

/* The largest disk an image is made from (the reference's 1 TB for data
 * disks; system disks stop at 1024 GB). */
#define DISK_MAX (1LL << 40)

struct disk_job {
    const char *id;
    bool share; /* the disk never changes (a backup's copy): link it instead of copying */
    const struct ims_import_progress *prog;
    bool stop;
};

static bool report(struct disk_job *j, int percent)
{
    if (!j->stop && j->prog && j->prog->report && !j->prog->report(j->prog->ctx, percent))
        j->stop = true;
    return !j->stop;
}

static void convert_progress(void *ctx, unsigned percent)
{
    report(ctx, (int)percent);
}

static bool convert_cancelled(void *ctx)
{
    return ((struct disk_job *)ctx)->stop;
}

static enum ims_rc obs_disk(struct ims_service *svc, const char *id, const struct ims_volume *disk,
                            const struct ims_import_progress *prog, struct ims_err *err)
{
    char bucket[IMS_OBS_BUCKET_MAX + 1], key[IMS_OBS_KEY_MAX + 1];
    if (ims_obs_url_parse(disk->disk, strlen(disk->disk), bucket, sizeof(bucket), key, sizeof(key)) !=
        IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0022", "The disk %s cannot be read.", disk->id);
    struct ims_obs_url url = {.bucket = bucket, .object = key};
    struct ims_import_opts o = {0};
    return ims_import_file(svc, id, &url, &o, prog, err);
}

static bool hash_tap(void *ctx, const void *p, size_t n)
{
    return ims_hash_pipe_update(ctx, p, n);
}

/* Copies a raw disk to tmp; the digests in the copy's pass unless it was
 * reflinked (nothing read: *ret_hashed false, the caller reads it); md5
 * only when the store's adopt will not give it (d->md5 "" then). */
static enum ims_rc copy_raw(const char *path, const char *tmp, bool md5, struct ims_import_data *d,
                            bool *ret_reflinked, bool *ret_hashed, struct ims_err *err)
{
    struct ims_hash_pipe *h = ims_hash_pipe_new_digests(NULL, NULL, md5, true);
    if (!h)
        return ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    const struct ims_copy_tap tap = {.fn = hash_tap, .ctx = h};
    enum ims_rc rc = ims_compute_copy_file(path, tmp, &tap, ret_reflinked, err);
    if (rc != IMS_OK && ims_hash_pipe_error(h, NULL) != IMS_OK)
        rc = ims_hash_pipe_error(h, err); /* the digests' failure, not the copy's */
    *ret_hashed = false;
    if (rc == IMS_OK && !*ret_reflinked) {
        if (ims_hash_pipe_final(h, d->md5, d->sha512))
            *ret_hashed = true;
        else
            rc = ims_hash_pipe_error(h, err); /* the caller removes tmp */
    }
    ims_hash_pipe_free(h);
    return rc;
}

/* Inspects the disk, makes the raw file in the store's temporary area.
 * A linked file is read by nobody: like a quick import's, it gets no
 * checksums (reading 1 GiB to hash it costs more than the rest). */
static enum ims_rc local_steps(struct ims_service *svc, struct disk_job *j, const char *path, const char *format,
                               char **tmp, struct ims_import_data *d, struct ims_err *err)
{
    bool linked = false, hashed = false;
    struct ims_format_info fi;
    struct ims_format_limits limits = {.max_virtual_size = (uint64_t)DISK_MAX};
    enum ims_format_refusal why;
    /* as the disk's format says (the hypervisor's, the administrator's or
     * the backup's): a raw disk is copied as it is, never converted */
    enum ims_rc rc = ims_image_inspect_disk(path, &limits, format, &fi, &why, err);
    if (rc != IMS_OK)
        return ims_err_default_code(err, IMS_E_BADREQ, "IMG.0022"); /* missing, unreadable or refused */
    if (fi.format == IMS_FORMAT_ISO)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0022", "The disk %s holds an ISO image, not a disk.", j->id);
    if (fi.format == IMS_FORMAT_RAW) {
        if ((rc = ims_import_temp_path(svc, tmp, err)) != IMS_OK)
            return rc;
        bool reflinked = false;
        /* a hard link shares the file itself: the file system counts its
         * names, so the data stays until both the backup and the blob let go */
        linked = j->share && link(path, *tmp) == 0;
        bool md5 = !ims_blob_adopt_gives_md5(svc, (int64_t)fi.virtual_size); /* a raw file's size */
        if (!linked && (rc = copy_raw(path, *tmp, md5, d, &reflinked, &hashed, err)) != IMS_OK)
            return rc == IMS_E_BADREQ ? ims_err_default_code(err, rc, "IMG.0022") : rc;
        ims_info("image %s: disk %s %s", j->id, path, linked ? "linked" : reflinked ? "reflinked" : "copied");
    } else {
        char dir[PATH_MAX];
        char *probe = NULL;
        if ((rc = ims_import_temp_path(svc, &probe, err)) != IMS_OK)
            return rc;
        const char *slash = strrchr(probe, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - probe) : 1, slash ? probe : ".");
        free(probe);
        struct ims_convert_request req = {
            .input = path, .input_format = fi.format, .output_format = IMS_CONVERT_RAW, .tmp_dir = dir,
            .limits = {.max_output_size = fi.virtual_size + (1 << 20)},
            .progress = convert_progress, .cancelled = convert_cancelled, .ctx = j,
        };
        struct ims_convert_outcome out;
        rc = ims_convert(&req, tmp, &out, err);
        if (rc != IMS_OK) {
            ims_error("image %s: qemu-img convert from %s failed (%d, exit %d, signal %d): %s", j->id,
                      ims_format_name(fi.format), (int)out.end, out.exit_status, out.signal, out.stderr_tail);
            if (j->stop)
                return ims_fail(err, IMS_E_BUSY, "stopped");
            return rc == IMS_E_BADREQ || rc == IMS_E_TOOLARGE
                       ? ims_fail_code(err, IMS_E_BADREQ, "IMG.0022", "The disk could not be converted.")
                       : rc;
        }
    }
    if (!report(j, 99))
        return ims_fail(err, IMS_E_BUSY, "stopped");
    if (linked || hashed) {
        struct stat st;
        if (stat(*tmp, &st) != 0)
            return ims_fail(err, IMS_E_IO, "cannot stat %s: %s", *tmp, strerror(errno));
        d->size = st.st_size;
        if (linked)
            d->md5[0] = d->sha512[0] = 0;
    } else {
        struct stat st; /* md5 left to the store's adopt where it gives it */
        bool md5 = !(stat(*tmp, &st) == 0 && ims_blob_adopt_gives_md5(svc, st.st_size));
        if ((rc = ims_file_digests(*tmp, &d->size, md5 ? d->md5 : NULL, d->sha512, err)) != IMS_OK)
            return rc;
    }
    d->temp_path = *tmp;
    d->virtual_size = (int64_t)fi.virtual_size;
    d->disk_format = "raw";
    return IMS_OK;
}

enum ims_rc ims_disk_import(struct ims_service *svc, const char *id, const struct ims_volume *disk, bool share,
                            const char *data_origin, const struct ims_import_progress *prog, struct ims_err *err)
{
    if (!disk->disk)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0022", "The disk %s has no data.", disk->id);
    if (ims_disk_ref_is_obs(disk->disk))
        return obs_disk(svc, id, disk, prog, err);
    char upload_id[IMS_UUID_LEN + 1];
    enum ims_rc rc = ims_import_claim(svc, id, upload_id, err);
    if (rc != IMS_OK)
        return rc;
    struct disk_job j = {.id = id, .share = share, .prog = prog};
    struct ims_import_data d = {.data_origin = data_origin};
    char *tmp = NULL;
    int64_t started = ims_mono_us();
    rc = local_steps(svc, &j, disk->disk, disk->format, &tmp, &d, err);
    if (rc == IMS_OK)
        rc = ims_import_commit(svc, id, upload_id, &d, err); /* adopts the file, or removes it */
    if (rc == IMS_OK) {
        report(&j, 100);
        ims_info("image %s: disk %s taken (%lld bytes, virtual %lld) in %.2f s%s%s", id, disk->id, (long long)d.size,
                 (long long)d.virtual_size, (double)(ims_mono_us() - started) / 1e6, d.md5_from[0] ? "; md5 " : "",
                 d.md5_from);
    } else {
        ims_import_giveback(svc, id, upload_id);
    }
    if (tmp)
        unlink(tmp);
    free(tmp);
    return rc;
}
