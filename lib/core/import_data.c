/* SPDX-License-Identifier: Apache-2.0
 * The data of an image made from a file: the job claims the image as an
 * upload does (queued -> saving, leased to this process, so recovery after
 * a crash gives it back), has a file made in the store's temporary area
 * (fetched, converted or linked there), and commits it: the store adopts
 * the file (fsync, rename: no second copy) and one edit records the blob,
 * sizes, checksums and format and makes the image active, on condition
 * that the claim still holds. Any failure leaves the image queued and no
 * data behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/imports.h"
#include "ims/store.h"

enum ims_rc ims_import_claim(struct ims_service *svc, const char *id, char upload_id[IMS_UUID_LEN + 1],
                             struct ims_err *err)
{
    ims_uuid_new(upload_id);
    enum ims_rc rc = ims_repo_image_upload_claim(ims_db_conn(svc->db), id, upload_id, ims_process_owner(),
                                                 ims_now() + svc->cfg->upload_lease_seconds, err);
    if (rc == IMS_E_CONFLICT)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0046", "Image %s is no longer queued: it cannot take a file.",
                             id);
    return rc;
}

void ims_import_giveback(struct ims_service *svc, const char *id, const char *upload_id)
{
    struct ims_err err;
    if (ims_repo_image_upload_end(ims_db_conn(svc->db), id, upload_id, &err) != IMS_OK)
        ims_error("image %s: could not return to queued: %s (recovered at next start)", id, err.msg);
}

enum ims_rc ims_import_temp_path(struct ims_service *svc, char **ret_path, struct ims_err *err)
{
    if (!svc->store->ops->temp_path)
        return ims_fail(err, IMS_E_NOTIMPL, "the image store keeps no local files");
    return svc->store->ops->temp_path(svc->store, ret_path, err);
}

#define DIGEST_BLOCK (1u << 20)

enum ims_rc ims_file_digests(const char *path, int64_t *ret_size, char md5_hex[33], char sha_hex[129],
                             struct ims_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ims_fail(err, IMS_E_IO, "cannot open %s: %s", path, strerror(errno));
    struct ims_hash_pipe *h = ims_hash_pipe_new_digests(NULL, NULL, md5_hex != NULL, true);
    if (!h) {
        close(fd);
        return ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    char *buf = ims_xmalloc(DIGEST_BLOCK);
    int64_t size = 0;
    enum ims_rc rc = IMS_OK;
    for (;;) {
        ssize_t n = read(fd, buf, DIGEST_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ims_fail(err, IMS_E_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (!ims_hash_pipe_update(h, buf, (size_t)n)) {
            rc = ims_hash_pipe_error(h, err);
            break;
        }
        size += n;
    }
    if (rc == IMS_OK && !ims_hash_pipe_final(h, md5_hex, sha_hex))
        rc = ims_hash_pipe_error(h, err);
    ims_hash_pipe_free(h);
    free(buf);
    close(fd);
    if (rc == IMS_OK)
        *ret_size = size;
    return rc;
}

enum ims_rc ims_image_checksums_fill(struct ims_service *svc, const char *id, const char *blob,
                                     struct ims_err *err)
{
    if (!svc->store->ops->local_path)
        return ims_fail(err, IMS_E_NOTIMPL, "the image store keeps no local files");
    char *path = NULL;
    bool copy = false; /* a remote store's download: removed here */
    enum ims_rc rc = svc->store->ops->local_path(svc->store, blob, &path, &copy, err);
    char md5[33], sha[129];
    int64_t size = 0, started = ims_mono_us();
    if (rc == IMS_OK)
        rc = ims_file_digests(path, &size, md5, sha, err);
    if (path && copy)
        unlink(path);
    free(path);
    if (rc == IMS_E_IO || rc == IMS_E_NOTFOUND) {
        /* the blob went with its image meanwhile: nothing to record */
        struct ims_image img;
        if (ims_repo_image_get(ims_db_conn(svc->db), id, &img, NULL) != IMS_OK)
            return IMS_OK;
        bool same = ims_streq(img.blob, blob);
        ims_image_release(&img);
        if (!same)
            return IMS_OK;
    }
    if (rc != IMS_OK)
        return rc;
    struct ims_image_edit e;
    rc = ims_image_edit_begin_internal(svc, id, &e, err);
    if (rc == IMS_E_NOTFOUND)
        return IMS_OK;
    if (rc != IMS_OK)
        return rc;
    struct ims_image *img = &e.image;
    if (!ims_streq(img->blob, blob) || img->checksum || img->size != size) {
        ims_image_edit_abort(&e);
        return IMS_OK;
    }
    ims_set_str(&img->checksum, md5);
    ims_set_str(&img->os_hash_algo, "sha512");
    ims_set_str(&img->os_hash_value, sha);
    rc = ims_image_edit_commit(&e, NULL, err);
    if (rc == IMS_OK)
        ims_info("image %s: checksums of %lld bytes in %.2f s", id, (long long)size,
                 (double)(ims_mono_us() - started) / 1e6);
    return rc;
}

enum ims_rc ims_import_commit(struct ims_service *svc, const char *id, const char *upload_id,
                              struct ims_import_data *d, struct ims_err *err)
{
    char *location = NULL;
    d->md5_from = "";
    /* an md5 left out of a pass that hashed sha512: the store's, or read back */
    enum ims_rc rc = ims_blob_adopt(svc, d->temp_path, &location, d->sha512[0] ? d->md5 : NULL, &d->md5_from, err);
    if (rc != IMS_OK) {
        unlink(d->temp_path); /* adopt removes it on failure; a refusal leaves it */
        return rc;
    }
    struct ims_image_edit e;
    rc = ims_image_edit_begin_internal(svc, id, &e, err);
    if (rc == IMS_OK) {
        bool owned = false;
        rc = ims_repo_image_upload_owned(e.c, id, upload_id, &owned, err);
        if (rc == IMS_OK && !owned)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0061", "Image %s was changed or deleted during the import.",
                               id);
        struct ims_image *img = &e.image;
        if (rc == IMS_OK) {
            ims_image_mark_active(img, ims_now());
            img->size = d->size;
            img->virtual_size = d->virtual_size;
            ims_set_str(&img->checksum, d->md5[0] ? d->md5 : NULL);
            ims_set_str(&img->os_hash_algo, d->sha512[0] ? "sha512" : NULL);
            ims_set_str(&img->os_hash_value, d->sha512[0] ? d->sha512 : NULL);
            ims_set_str(&img->blob, location);
            ims_set_str(&img->disk_format, d->disk_format);
            if (!img->container_format)
                ims_set_str(&img->container_format, "bare");
            char size_str[24];
            snprintf(size_str, sizeof(size_str), "%lld", (long long)d->size);
            ims_kvlist_set(&img->props, "__image_size", size_str);
            if (d->data_origin)
                ims_kvlist_set(&img->props, "__data_origin", d->data_origin);
            rc = ims_image_edit_commit(&e, NULL, err);
        } else {
            ims_image_edit_end(&e, rc, NULL);
        }
    }
    if (rc != IMS_OK)
        ims_blob_unclaim(svc, location); /* no image took it */
    free(location);
    return rc;
}
