/* SPDX-License-Identifier: Apache-2.0
 * Glance's staging area: PUT /v2/images/{id}/stage. The image goes queued
 * -> uploading (as Glance, before the data arrives), the data streams
 * through the upload's pipe (md5 and sha512 on threads of their own) into a
 * registered blob of the image store, as an upload's does. At the end the
 * image references that blob (its location) while it stays "uploading",
 * with the size, os_glance_stage_host and the digests (a hidden property)
 * beside it. So the staged data lives where every node reads it (the
 * shared file store or the S3 bucket): an import asked of any node finds
 * it, and it goes with the image's last reference (a DELETE, a failed or
 * abandoned import) through the blobs' reference counts, collected on every
 * node by the blob collector. Any failure removes the data and gives the
 * image back to queued. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/glance_import.h"
#include "ims/images.h"
#include "ims/store.h"

struct ims_stage {
    struct ims_service *svc;
    char id[IMS_UUID_LEN + 1];
    struct ims_store_writer *w;
    struct ims_hash_pipe *hashes;
    int64_t expected, received, max;
};

/* The pipe's sink, on its md5 thread: the store sees the blocks in order. */
static enum ims_rc store_sink(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct ims_stage *s = ctx;
    return s->svc->store->ops->write(s->w, p, n, err);
}

/* The image back to queued if it is still uploading without staged data. */
static void back_to_queued(struct ims_service *svc, const char *id)
{
    struct ims_image_edit e;
    struct ims_err err = {0};
    if (ims_image_edit_begin_internal(svc, id, &e, &err) != IMS_OK)
        return;
    if (!ims_streq(e.image.status, "uploading") || e.image.blob) {
        ims_image_edit_abort(&e);
        return;
    }
    snprintf(e.image.status, sizeof(e.image.status), "queued");
    ims_kvlist_remove(&e.image.props, IMS_PROP_STAGE_HOST);
    if (ims_image_edit_commit(&e, NULL, &err) != IMS_OK)
        ims_error("image %s: could not return to queued after staging: %s", id, err.msg);
}

static void stage_free(struct ims_stage *s)
{
    ims_hash_pipe_free(s->hashes);
    free(s);
}

enum ims_rc ims_stage_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                            int64_t expected_size, struct ims_stage **ret, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_images_can_modify(p, &e.image))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "You are not permitted to modify image %s.", id);
    else if (!ims_streq(e.image.status, "queued"))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image status transition from %s to uploading is not allowed",
                      e.image.status);
    else if (expected_size > svc->cfg->max_image_size)
        rc = ims_fail(err, IMS_E_TOOLARGE, "The incoming image is too large: %lld bytes is more than the %lld "
                                           "allowed.", (long long)expected_size, (long long)svc->cfg->max_image_size);
    if (rc != IMS_OK) {
        ims_image_edit_abort(&e);
        return rc;
    }
    snprintf(e.image.status, sizeof(e.image.status), "uploading");
    /* leased to this process as an upload is (upload_leases.c renews it):
     * a stage a crash cuts gives the image back to queued at recovery */
    rc = ims_repo_image_stage_lease(e.c, id, ims_process_owner(), ims_now() + svc->cfg->upload_lease_seconds, err);
    if (rc != IMS_OK) {
        ims_image_edit_end(&e, rc, NULL);
        return rc;
    }
    if ((rc = ims_image_edit_commit(&e, NULL, err)) != IMS_OK)
        return rc;

    struct ims_stage *s = ims_xcalloc(1, sizeof(*s));
    s->svc = svc;
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->expected = expected_size;
    s->max = svc->cfg->max_image_size;
    rc = ims_blob_writer_open(svc, expected_size, &s->w, err);
    /* md5 left to the store's commit where it may know it, as an upload's */
    if (rc == IMS_OK && !(s->hashes = ims_hash_pipe_new_digests(store_sink, s, !s->w->md5_at_commit, true))) {
        rc = ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
        ims_blob_writer_abort(svc, IMS_TAKE_PTR(s->w));
    }
    if (rc != IMS_OK) {
        stage_free(s);
        back_to_queued(svc, id);
        return rc;
    }
    *ret = s;
    return IMS_OK;
}

enum ims_rc ims_stage_write(struct ims_stage *s, const void *data, size_t n, struct ims_err *err)
{
    s->received += (int64_t)n;
    if (s->received > s->max)
        return ims_fail(err, IMS_E_TOOLARGE, "The incoming image is too large: more than %lld bytes.",
                        (long long)s->max);
    if (s->expected >= 0 && s->received > s->expected)
        return ims_fail(err, IMS_E_BADREQ, "Image data is larger than the declared size %lld.",
                        (long long)s->expected);
    if (!ims_hash_pipe_update(s->hashes, data, n))
        return ims_hash_pipe_error(s->hashes, err);
    return IMS_OK;
}

size_t ims_stage_room(struct ims_stage *s, void (*wake)(void *arg), void *arg)
{
    return ims_hash_pipe_room(s->hashes, wake, arg);
}

void ims_stage_abort(struct ims_stage *s)
{
    if (!s)
        return;
    ims_hash_pipe_free(IMS_TAKE_PTR(s->hashes)); /* its threads write through s->w */
    if (s->w)
        ims_blob_writer_abort(s->svc, IMS_TAKE_PTR(s->w));
    ims_info("image %s: staging aborted after %lld bytes, back to queued", s->id, (long long)s->received);
    back_to_queued(s->svc, s->id);
    stage_free(s);
}

/* The staged data becomes the image's (still uploading) if nothing changed
 * the image meanwhile (a DELETE makes the data go). */
static enum ims_rc record_staged(struct ims_stage *s, const char *location, const char *md5, const char *sha,
                                 struct ims_err *err)
{
    struct ims_service *svc = s->svc;
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin_internal(svc, s->id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (!ims_streq(e.image.status, "uploading") || e.image.blob) {
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s was changed during staging (status %s).", s->id, e.image.status);
        ims_image_edit_abort(&e);
        return rc;
    }
    e.image.size = s->received;
    ims_set_str(&e.image.blob, location);
    const char *self = svc->cfg->public_url && *svc->cfg->public_url ? svc->cfg->public_url : NULL;
    char *host = self ? ims_xstrdup(self) : ims_xasprintf("http://%s", svc->cfg->listen);
    ims_kvlist_set(&e.image.props, IMS_PROP_STAGE_HOST, host);
    free(host);
    char *digests = ims_xasprintf("%lld %s %s", (long long)s->received, md5, sha);
    ims_kvlist_set(&e.image.props, IMS_PROP_STAGED_DIGESTS, digests);
    free(digests);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_stage_finish(struct ims_stage *s, struct ims_err *err)
{
    struct ims_service *svc = s->svc;
    char md5[33], sha[129];
    enum ims_rc rc = IMS_OK;
    if (s->expected >= 0 && s->received != s->expected)
        rc = ims_fail(err, IMS_E_BADREQ, "Image data size %lld does not match the declared size %lld.",
                      (long long)s->received, (long long)s->expected);
    else if (!ims_hash_pipe_final(s->hashes, md5, sha))
        rc = ims_hash_pipe_error(s->hashes, err);
    if (rc != IMS_OK) {
        ims_stage_abort(s);
        return rc;
    }
    char *location = NULL;
    const char *md5_from = "";
    rc = ims_blob_writer_commit_md5(svc, IMS_TAKE_PTR(s->w), &location, md5, &md5_from, err);
    if (rc != IMS_OK) {
        ims_stage_abort(s);
        return rc;
    }
    rc = record_staged(s, location, md5, sha, err);
    if (rc != IMS_OK) {
        ims_blob_unclaim(svc, location); /* no image took it */
        back_to_queued(svc, s->id);
    } else {
        ims_info("image %s: %lld bytes staged in %s; md5 %s", s->id, (long long)s->received, location, md5_from);
    }
    free(location);
    stage_free(s);
    return rc;
}

enum ims_rc ims_staged_get(const struct ims_image *img, struct ims_staged *ret, struct ims_err *err)
{
    const char *digests = ims_kvlist_get(&img->props, IMS_PROP_STAGED_DIGESTS);
    if (!img->blob || !digests)
        return ims_fail(err, IMS_E_NOTFOUND, "No data is staged for image %s.", img->id);
    struct ims_staged s = {0};
    long long size = -1;
    char md5[40] = "", sha[140] = "";
    if (sscanf(digests, "%lld %39s %139s", &size, md5, sha) != 3 || size < 0 || strlen(md5) != 32 ||
        strlen(sha) != 128)
        return ims_fail(err, IMS_E_NOTFOUND, "The data staged for image %s is incomplete.", img->id);
    s.size = size;
    memcpy(s.md5, md5, sizeof(s.md5));
    memcpy(s.sha512, sha, sizeof(s.sha512));
    *ret = s;
    return IMS_OK;
}

int64_t ims_staging_sweep_local(struct ims_service *svc)
{
    char *dir = ims_xasprintf("%s/staging", svc->cfg->data_dir);
    int64_t n = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (ims_streq(de->d_name, ".") || ims_streq(de->d_name, ".."))
                continue;
            char *p = ims_xasprintf("%s/%s", dir, de->d_name);
            if (unlink(p) == 0)
                n++;
            free(p);
        }
        closedir(d);
        rmdir(dir);
    }
    free(dir);
    return n;
}
