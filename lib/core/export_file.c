/* SPDX-License-Identifier: Apache-2.0
 * An image's data to an object-storage file: converted with qemu-img into
 * the image store's temporary area (the stored file is inspected first,
 * like any file qemu-img reads), or as it is stored for a quick export, and
 * put to the bucket (object storage makes it visible whole or not at all:
 * a rename on the embedded store, a multipart upload completed or aborted
 * on S3). The target must not exist: nothing a user kept is overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/backends.h"
#include "ims/convert.h"
#include "ims/db.h"
#include "ims/imports.h"
#include "ims/obs.h"
#include "ims/store.h"

struct export {
    const struct ims_import_progress *prog;
    bool stop;
};

static void convert_progress(void *ctx, unsigned percent)
{
    struct export *x = ctx;
    /* conversion is most of the work; the put follows */
    if (!x->stop && x->prog && x->prog->report && !x->prog->report(x->prog->ctx, (int)percent * 9 / 10))
        x->stop = true;
}

static bool convert_cancelled(void *ctx)
{
    return ((struct export *)ctx)->stop;
}

/* IMS_OK when t can be written; IMS_E_CONFLICT (no message) when it is
 * there already with tag, so this export made it. */
static enum ims_rc target_free(struct ims_service *svc, const struct ims_obs_url *t, const char *tag,
                               struct ims_err *err)
{
    struct ims_obs *obs = svc->backends->obs;
    enum ims_obs_name_rc nrc = ims_obs_bucket_check(t->bucket);
    if (nrc != IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0109", "Invalid bucket name %.64s: %s", t->bucket,
                             ims_obs_name_problem(nrc));
    if (ims_obs_bucket_usable(svc, t->bucket, err) != IMS_OK)
        return IMS_E_BADREQ;
    if ((nrc = ims_obs_key_check(t->object)) != IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0075", "Invalid file name: %s", ims_obs_name_problem(nrc));
    struct ims_obs_info info;
    enum ims_obs_rc orc = ims_obs_head(obs, t->bucket, t->object, &info, err);
    switch (orc) {
    case IMS_OBS_OK:
        if (tag && ims_streq(info.tag, tag))
            return IMS_E_CONFLICT;
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0070", "The file %s:%s already exists.", t->bucket, t->object);
    case IMS_OBS_NO_OBJECT:
        return IMS_OK;
    case IMS_OBS_NO_BUCKET:
    case IMS_OBS_DENIED:
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0069", "The bucket %s does not exist or cannot be accessed.",
                             t->bucket);
    default:
        ims_error("object storage: %s:%s: %s: %s", t->bucket, t->object, ims_obs_rc_name(orc), err->msg);
        return ims_fail(err, IMS_E_IO, "object storage failed (%s)", ims_obs_rc_name(orc));
    }
}

static enum ims_rc put(struct ims_obs *obs, const struct ims_obs_url *t, const char *path, const char *tag,
                       struct ims_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ims_fail(err, IMS_E_IO, "cannot open %s: %s", path, strerror(errno));
    /* the stored blob and the conversion's output are never written again:
     * the embedded store may link them instead of copying */
    struct ims_obs_put_opts opts = {.tag = tag, .may_link = true};
    enum ims_obs_rc orc = ims_obs_put_file_with(obs, t->bucket, t->object, fd, &opts, err);
    close(fd);
    if (orc == IMS_OBS_OK)
        return IMS_OK;
    ims_error("object storage: put %s:%s: %s: %s", t->bucket, t->object, ims_obs_rc_name(orc), err->msg);
    if (orc == IMS_OBS_NO_BUCKET || orc == IMS_OBS_DENIED)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0069", "The bucket %s cannot be accessed.", t->bucket);
    if (orc == IMS_OBS_TOO_LARGE)
        return ims_fail_code(err, IMS_E_TOOLARGE, "IMG.0061",
                             "The object storage has no room for the exported file (no space left, or too large).");
    return ims_fail(err, IMS_E_IO, "object storage failed (%s)", ims_obs_rc_name(orc));
}

enum ims_rc ims_export_target_check(struct ims_service *svc, const struct ims_obs_url *target, struct ims_err *err)
{
    struct ims_obs *obs = svc->backends ? svc->backends->obs : NULL;
    if (!obs)
        return ims_fail(err, IMS_E_NOTIMPL, "no object storage is configured");
    return target_free(svc, target, NULL, err);
}

enum ims_rc ims_export_file(struct ims_service *svc, const char *id, const struct ims_export_request *r,
                            const char *tag, bool resumed, const struct ims_import_progress *prog,
                            struct ims_err *err)
{
    struct ims_obs *obs = svc->backends ? svc->backends->obs : NULL;
    if (!obs)
        return ims_fail(err, IMS_E_NOTIMPL, "no object storage is configured");
    if (!svc->store->ops->local_path)
        return ims_fail(err, IMS_E_NOTIMPL, "the image store keeps no local files");
    /* before anything touches the target (a job queued before [obs] moved onto the store's endpoint) */
    if (ims_obs_bucket_usable(svc, r->target.bucket, err) != IMS_OK)
        return IMS_E_BADREQ;
    if (resumed) {
        /* what a put killed midway left: parts nobody sees but the service keeps */
        struct ims_err e = {0};
        enum ims_obs_rc orc = ims_obs_abort_uploads(obs, r->target.bucket, r->target.object, &e);
        if (orc != IMS_OBS_OK)
            ims_warn("image %s: unfinished uploads to %s:%s not removed: %s", id, r->target.bucket,
                     r->target.object, e.msg);
    }
    enum ims_rc rc = target_free(svc, &r->target, tag, err);
    if (rc == IMS_E_CONFLICT) { /* put whole before a crash: the export is done */
        ims_info("image %s: %s:%s was put by this export before a restart", id, r->target.bucket, r->target.object);
        return IMS_OK;
    }
    if (rc != IMS_OK)
        return rc;
    struct ims_image img;
    if ((rc = ims_repo_image_get(ims_db_conn(svc->db), id, &img, err)) != IMS_OK)
        return rc;
    char *blob_path = NULL, *tmp = NULL, *out = NULL;
    bool blob_copy = false; /* a remote store's download, removed here */
    if (!img.blob)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0046", "Image %s has no data.", id);
    else
        rc = svc->store->ops->local_path(svc->store, img.blob, &blob_path, &blob_copy, err);
    int64_t started = ims_mono_us();
    struct export x = {.prog = prog};
    if (rc == IMS_OK && !r->quick) {
        enum ims_convert_format fmt;
        struct ims_format_info fi;
        enum ims_format_refusal why;
        char dir[PATH_MAX];
        /* The stored file is read by qemu-img: inspected like any input
         * (an image uploaded through Glance is the user's file too). */
        if (!ims_convert_format_parse(r->file_format, &fmt))
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0072", "The file format %s is not supported.", r->file_format);
        else if ((rc = ims_image_inspect_file(blob_path, NULL, NULL, &fi, &why, err)) != IMS_OK) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            if (rc != IMS_E_IO)
                rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0071", "Image %s cannot be exported: %s", id, msg);
        } else if (fmt == IMS_CONVERT_RAW && fi.format == IMS_FORMAT_RAW) {
            /* already what was asked: put as stored, nothing to convert */
        } else if ((rc = ims_import_temp_path(svc, &tmp, err)) == IMS_OK) {
            const char *slash = strrchr(tmp, '/');
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - tmp), tmp);
            /* put to S3, the output is read once right after and removed:
             * kept in the page cache for that read (linked into an
             * embedded bucket, it is kept: written past the cache) */
            struct ims_convert_request req = {
                .input = blob_path, .input_format = fi.format, .output_format = fmt, .tmp_dir = dir,
                .progress = convert_progress, .cancelled = convert_cancelled, .ctx = &x,
                .read_after = !ims_obs_has_local_files(obs),
            };
            struct ims_convert_outcome oc;
            rc = ims_convert(&req, &out, &oc, err);
            if (rc != IMS_OK) {
                ims_error("image %s: qemu-img convert to %s failed (%d, exit %d, signal %d): %s", id, r->file_format,
                          (int)oc.end, oc.exit_status, oc.signal, oc.stderr_tail);
                if (x.stop)
                    rc = ims_fail(err, IMS_E_BUSY, "stopped");
            }
        }
    }
    if (rc == IMS_OK)
        rc = put(obs, &r->target, out ? out : blob_path, tag, err);
    if (rc == IMS_OK && prog && prog->report)
        prog->report(prog->ctx, 100); /* the object is whole; stopping now changes nothing */
    if (rc == IMS_OK)
        ims_info("image %s exported to %s:%s (%s) in %.2f s", id, r->target.bucket, r->target.object,
                 r->quick ? "as stored" : r->file_format, (double)(ims_mono_us() - started) / 1e6);
    if (out)
        unlink(out);
    free(out);
    free(tmp);
    if (blob_copy)
        unlink(blob_path);
    free(blob_path);
    ims_image_release(&img);
    return rc;
}
