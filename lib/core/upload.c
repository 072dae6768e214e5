/* SPDX-License-Identifier: Apache-2.0
 * Image upload: queued → saving → active, with md5 and sha512 computed in
 * the same pass as the write (core-int.h's pipe: both digests and the write
 * off the event-loop thread); md5 left to the store when its writer says
 * commit will know it (an S3 PUT's proved ETag), and read back from the
 * stored blob if commit then does not. Data goes to a temporary blob; commit makes
 * it durable, then one transaction records it and flips the status, so a
 * failure at any point leaves the image queued and no data behind. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/convert.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/service.h"
#include "ims/store.h"
#include "ims/upload.h"

struct ims_upload {
    struct ims_service *svc;
    char id[IMS_UUID_LEN + 1];
    char upload_id[IMS_UUID_LEN + 1]; /* this upload's claim on the image's saving */
    struct ims_store_writer *w;
    struct ims_hash_pipe *hashes;
    int64_t expected, received, max;
    int64_t started_us; /* monotonic, for the log line at commit */
};

static void upload_free(struct ims_upload *u)
{
    ims_hash_pipe_free(u->hashes);
    free(u);
}

/* The pipe's sink, on its md5 thread: the store sees the blocks in order. */
static enum ims_rc store_sink(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct ims_upload *u = ctx;
    return u->svc->store->ops->write(u->w, p, n, err);
}

/* Gives the image back to queued if it is still in this upload's saving
 * (it may have been deleted meanwhile). */
static void back_to_queued(struct ims_upload *u)
{
    struct ims_err err;
    if (ims_repo_image_upload_end(ims_db_conn(u->svc->db), u->id, u->upload_id, &err) != IMS_OK)
        ims_error("image %s: could not return to queued: %s (recovered at next start)", u->id, err.msg);
}

enum ims_rc ims_upload_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             int64_t expected_size, struct ims_upload **ret, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_images_can_modify(p, &img))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "You are not permitted to upload data for image %s.", id);
    else if (!ims_streq(img.status, "queued"))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image status transition from %s to saving is not allowed", img.status);
    else if (expected_size > svc->cfg->max_image_size)
        rc = ims_fail(err, IMS_E_TOOLARGE, "Image exceeds the storage quota: %lld bytes is more than the %lld "
                                           "allowed.", (long long)expected_size, (long long)svc->cfg->max_image_size);
    ims_image_release(&img);
    if (rc != IMS_OK)
        return rc;
    struct ims_upload *u = ims_xcalloc(1, sizeof(*u));
    u->svc = svc;
    snprintf(u->id, sizeof(u->id), "%s", id);
    ims_uuid_new(u->upload_id);
    /* leased to this process: other processes' recovery leaves it alone (upload_leases.c renews the lease) */
    if ((rc = ims_repo_image_upload_claim(ims_db_conn(svc->db), id, u->upload_id, ims_process_owner(),
                                          ims_now() + svc->cfg->upload_lease_seconds, err)) != IMS_OK) {
        upload_free(u);
        return rc;
    }
    u->expected = expected_size;
    u->max = svc->cfg->max_image_size;
    u->started_us = ims_mono_us();
    rc = ims_blob_writer_open(svc, expected_size, &u->w, err);
    /* md5 left to the store's commit where it may know it (an S3 PUT's ETag): one digest less per byte */
    if (rc == IMS_OK && !(u->hashes = ims_hash_pipe_new_digests(store_sink, u, !u->w->md5_at_commit, true)))
        rc = ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    if (rc != IMS_OK) {
        ims_blob_writer_abort(svc, u->w);
        back_to_queued(u);
        upload_free(u);
        return rc;
    }
    *ret = u;
    return IMS_OK;
}

enum ims_rc ims_upload_write(struct ims_upload *u, const void *data, size_t n, struct ims_err *err)
{
    u->received += (int64_t)n;
    if (u->received > u->max)
        return ims_fail(err, IMS_E_TOOLARGE, "Image exceeds the maximum image size of %lld bytes.",
                        (long long)u->max);
    if (u->expected >= 0 && u->received > u->expected)
        return ims_fail(err, IMS_E_BADREQ, "Image data is larger than the declared size %lld.",
                        (long long)u->expected);
    if (!ims_hash_pipe_update(u->hashes, data, n))
        return ims_hash_pipe_error(u->hashes, err);
    return IMS_OK;
}

size_t ims_upload_room(struct ims_upload *u, void (*wake)(void *arg), void *arg)
{
    return ims_hash_pipe_room(u->hashes, wake, arg);
}

void ims_upload_abort(struct ims_upload *u)
{
    if (!u)
        return;
    ims_hash_pipe_free(IMS_TAKE_PTR(u->hashes)); /* its threads write through u->w */
    ims_blob_writer_abort(u->svc, u->w);
    back_to_queued(u);
    ims_info("image %s: upload aborted after %lld bytes, back to queued", u->id, (long long)u->received);
    upload_free(u);
}

/* The disk size the stored data holds, as Glance 25 records at upload:
 * the format inspector over the stored blob (bounded reads of headers and
 * tables, never the whole blob, on every store). -1 (null) where the blob
 * cannot be read or the inspector refuses the content: the upload itself
 * stands, as the native API takes any bytes. */
static int64_t stored_virtual_size(struct ims_service *svc, const char *location)
{
    struct ims_format_info info;
    struct ims_err err;
    enum ims_rc rc = ims_blob_inspect(svc, location, NULL, NULL, &info, NULL, &err);
    return rc == IMS_OK && info.virtual_size <= INT64_MAX ? (int64_t)info.virtual_size : -1;
}

enum ims_rc ims_upload_finish(struct ims_upload *u, struct ims_image *ret, struct ims_err *err)
{
    struct ims_service *svc = u->svc;
    if (u->expected >= 0 && u->received != u->expected) {
        enum ims_rc rc = ims_fail(err, IMS_E_BADREQ, "Image data size %lld does not match the declared size %lld.",
                                  (long long)u->received, (long long)u->expected);
        ims_upload_abort(u);
        return rc;
    }
    char md5_hex[33], sha_hex[129];
    if (!ims_hash_pipe_final(u->hashes, md5_hex, sha_hex)) {
        enum ims_rc rc = ims_hash_pipe_error(u->hashes, err);
        ims_upload_abort(u);
        return rc;
    }

    char *location = NULL;
    const char *md5_from = "";
    struct ims_image img_out;
    int64_t received_us = ims_mono_us();
    enum ims_rc rc = ims_blob_writer_commit_md5(svc, IMS_TAKE_PTR(u->w), &location, md5_hex, &md5_from, err);
    int64_t durable_us = ims_mono_us();
    if (rc != IMS_OK) {
        back_to_queued(u);
        upload_free(u);
        return rc;
    }
    int64_t virtual_size = stored_virtual_size(svc, location);
    /* The commit is an edit of the image on condition that it is still in
     * this upload's saving: a PATCH meanwhile is kept, a DELETE meanwhile
     * makes the data go. */
    struct ims_image_edit e;
    rc = ims_image_edit_begin_internal(svc, u->id, &e, err);
    if (rc == IMS_OK) {
        bool owned = false;
        rc = ims_repo_image_upload_owned(e.c, u->id, u->upload_id, &owned, err);
        if (rc == IMS_OK && !owned)
            rc = ims_fail(err, IMS_E_CONFLICT, "Image %s was changed during the upload.", u->id);
        struct ims_image *img = &e.image;
        if (rc == IMS_OK) {
            ims_image_mark_active(img, ims_now());
            img->size = u->received;
            img->virtual_size = virtual_size;
            ims_set_str(&img->checksum, md5_hex);
            ims_set_str(&img->os_hash_algo, "sha512");
            ims_set_str(&img->os_hash_value, sha_hex);
            ims_set_str(&img->blob, location);
            char size_str[24];
            snprintf(size_str, sizeof(size_str), "%lld", (long long)u->received);
            ims_kvlist_set(&img->props, "__image_size", size_str);
            rc = ims_image_edit_commit(&e, &img_out, err);
        } else {
            ims_image_edit_end(&e, rc, NULL);
        }
    }
    if (rc != IMS_OK) {
        ims_blob_unclaim(svc, location); /* no image took it */
        back_to_queued(u);
    } else {
        double secs = (double)(received_us - u->started_us) / 1e6;
        ims_info("image %s: upload of %lld bytes committed; received and hashed in %.2f s (%.0f MB/s), "
                 "made durable in %.3f s; md5 %s",
                 u->id, (long long)u->received, secs, secs > 0 ? (double)u->received / secs / 1e6 : 0.0,
                 (double)(durable_us - received_us) / 1e6, md5_from);
        *ret = img_out;
    }
    free(location);
    upload_free(u);
    return rc;
}
