/* SPDX-License-Identifier: Apache-2.0
 * imsImageChecksumJob: the md5 and sha512 of an image imported from object
 * storage, read from its blob after the image became active. An import
 * that links the object's file into the store (raw) or converts it there
 * (qemu-img) would otherwise read the whole image once more before the
 * image could be used; the digests (about 550-590 MB/s each on one core)
 * cost more than the import itself. Until the job ends the image has no
 * checksum (as a quick import's never has); a download works all along.
 * The job's input is the image's id and blob: it records nothing if the
 * image's data changed or went meanwhile. Resumed after a crash, it reads
 * the file again. */
#include "jobs-int.h"
#include "ims/db.h"
#include "ims/imports.h"

enum ims_rc ims_job_checksum_run(struct ims_job_ctx *ctx)
{
    const char *id = json_string_value(json_object_get(ctx->input, "image_id"));
    const char *blob = json_string_value(json_object_get(ctx->input, "blob"));
    if (!id || !blob)
        return ims_job_failf(ctx, "IMG.0001", "The job's request is damaged.");
    json_object_set_new(ctx->entities, "image_id", json_string(id));
    struct ims_err err = {0};
    enum ims_rc rc = ims_image_checksums_fill(ctx->svc, id, blob, &err);
    if (rc != IMS_OK)
        return ims_job_failf(ctx, "IMG.0061", "%s", ims_job_err_msg(ctx, rc, &err));
    json_object_set_new(ctx->entities, "process_percent", json_integer(100));
    return IMS_OK;
}

void ims_job_checksum_later(struct ims_job_ctx *ctx, const char *id)
{
    struct ims_image img;
    if (ims_repo_image_get(ims_db_conn(ctx->svc->db), id, &img, NULL) != IMS_OK)
        return;
    if (ims_streq(img.status, "active") && img.blob && !img.checksum) {
        json_t *in = json_pack("{s:s,s:s}", "image_id", id, "blob", img.blob);
        char *s = in ? json_dumps(in, JSON_COMPACT) : NULL;
        char job_id[65];
        struct ims_err err = {0};
        if (!s || ims_job_submit(ctx->svc, &ctx->principal, IMS_JOB_IMAGE_CHECKSUM, s, job_id, &err) != IMS_OK)
            ims_error("image %s: the checksum job could not be queued: %s", id, s ? err.msg : "no memory");
        else
            ims_info("image %s: checksums by job %s", id, job_id);
        free(s);
        json_decref(in);
    }
    ims_image_release(&img);
}
