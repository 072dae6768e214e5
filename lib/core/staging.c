/* SPDX-License-Identifier: Apache-2.0
 * Glance's staging area: PUT /v2/images/{id}/stage. The image goes queued
 * -> uploading (as Glance, before the data arrives), the data streams
 * through the upload's pipe (md5 and sha512 on threads of their own) into
 * <data_dir>/staging/.<id>.<random>.part, which is fsynced and renamed to
 * <data_dir>/staging/<id> with "<size> <md5> <sha512>" in <id>.digests
 * beside it, so an import after a restart finds both. Then the image
 * records the size and os_glance_stage_host. Any failure removes the data
 * and gives the image back to queued. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/glance_import.h"
#include "ims/images.h"

struct ims_stage {
    struct ims_service *svc;
    char id[IMS_UUID_LEN + 1];
    char *part; /* the temporary file */
    int fd;
    struct ims_hash_pipe *hashes;
    int64_t expected, received, max;
};

static char *staging_dir(const struct ims_service *svc)
{
    return ims_xasprintf("%s/staging", svc->cfg->data_dir);
}

static char *staged_path(const struct ims_service *svc, const char *id, const char *suffix)
{
    return ims_xasprintf("%s/staging/%s%s", svc->cfg->data_dir, id, suffix);
}

enum ims_rc ims_write_all(int fd, const void *p, size_t n, struct ims_err *err)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ims_fail(err, errno == ENOSPC ? IMS_E_TOOLARGE : IMS_E_IO, "write failed: %s", strerror(errno));
        c += w;
        n -= (size_t)w;
    }
    return IMS_OK;
}

static enum ims_rc fd_sink(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct ims_stage *s = ctx;
    return ims_write_all(s->fd, p, n, err);
}

/* The image back to queued if it is still uploading. */
static void back_to_queued(struct ims_service *svc, const char *id)
{
    struct ims_image_edit e;
    struct ims_err err = {0};
    if (ims_image_edit_begin_internal(svc, id, &e, &err) != IMS_OK)
        return;
    if (!ims_streq(e.image.status, "uploading")) {
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
    if (s->fd >= 0)
        close(s->fd);
    if (s->part)
        unlink(s->part);
    free(s->part);
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
    if ((rc = ims_image_edit_commit(&e, NULL, err)) != IMS_OK)
        return rc;

    struct ims_stage *s = ims_xcalloc(1, sizeof(*s));
    s->svc = svc;
    s->fd = -1;
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->expected = expected_size;
    s->max = svc->cfg->max_image_size;
    char *dir = staging_dir(svc);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        rc = ims_fail(err, IMS_E_IO, "cannot create the staging area %s: %s", dir, strerror(errno));
    free(dir);
    char rnd[17];
    ims_hexid_new(rnd, 8);
    if (rc == IMS_OK) {
        char *suffix = ims_xasprintf(".%s.part", rnd);
        s->part = ims_xasprintf("%s/staging/.%s%s", svc->cfg->data_dir, id, suffix);
        free(suffix);
        s->fd = open(s->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (s->fd < 0) {
            rc = ims_fail(err, IMS_E_IO, "cannot create %s: %s", s->part, strerror(errno));
            free(IMS_TAKE_PTR(s->part));
        }
    }
    if (rc == IMS_OK && !(s->hashes = ims_hash_pipe_new(fd_sink, s)))
        rc = ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
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

void ims_stage_abort(struct ims_stage *s)
{
    if (!s)
        return;
    ims_hash_pipe_free(IMS_TAKE_PTR(s->hashes)); /* its threads write through s->fd */
    struct ims_service *svc = s->svc;
    char id[IMS_UUID_LEN + 1];
    snprintf(id, sizeof(id), "%s", s->id);
    ims_info("image %s: staging aborted after %lld bytes, back to queued", id, (long long)s->received);
    stage_free(s);
    back_to_queued(svc, id);
}

static enum ims_rc write_digests(struct ims_service *svc, const char *id, int64_t size, const char *md5,
                                 const char *sha, struct ims_err *err)
{
    char *final = staged_path(svc, id, ".digests");
    char *tmp = staged_path(svc, id, ".digests.tmp");
    enum ims_rc rc = IMS_OK;
    FILE *f = fopen(tmp, "we");
    if (!f) {
        rc = ims_fail(err, IMS_E_IO, "cannot write %s: %s", tmp, strerror(errno));
    } else {
        fprintf(f, "%lld %s %s\n", (long long)size, md5, sha);
        bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, final) != 0)
            rc = ims_fail(err, IMS_E_IO, "cannot write %s: %s", final, strerror(errno));
    }
    if (rc != IMS_OK)
        unlink(tmp);
    free(tmp);
    free(final);
    return rc;
}

static void sync_dir(const struct ims_service *svc)
{
    char *dir = staging_dir(svc);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
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
    else if (fsync(s->fd) != 0)
        rc = ims_fail(err, IMS_E_IO, "cannot sync %s: %s", s->part, strerror(errno));
    if (rc != IMS_OK) {
        ims_stage_abort(s);
        return rc;
    }
    char *final = staged_path(svc, s->id, "");
    ims_staged_remove(svc, s->id); /* digests of an older staging must not describe this data */
    if (rename(s->part, final) != 0)
        rc = ims_fail(err, IMS_E_IO, "cannot rename %s: %s", s->part, strerror(errno));
    else
        free(IMS_TAKE_PTR(s->part));
    free(final);
    if (rc == IMS_OK)
        rc = write_digests(svc, s->id, s->received, md5, sha, err);
    if (rc == IMS_OK)
        sync_dir(svc);
    if (rc != IMS_OK) {
        ims_staged_remove(svc, s->id);
        ims_stage_abort(s);
        return rc;
    }
    /* The image records the staged size and where the data waits, if it is
     * still uploading (a DELETE meanwhile makes the data go). */
    struct ims_image_edit e;
    rc = ims_image_edit_begin_internal(svc, s->id, &e, err);
    if (rc == IMS_OK) {
        if (!ims_streq(e.image.status, "uploading")) {
            rc = ims_fail(err, IMS_E_CONFLICT, "Image %s was changed during staging (status %s).", s->id,
                          e.image.status);
            ims_image_edit_abort(&e);
        } else {
            e.image.size = s->received;
            const char *self = svc->cfg->public_url && *svc->cfg->public_url ? svc->cfg->public_url : NULL;
            char *host = self ? ims_xstrdup(self) : ims_xasprintf("http://%s", svc->cfg->listen);
            ims_kvlist_set(&e.image.props, IMS_PROP_STAGE_HOST, host);
            free(host);
            rc = ims_image_edit_commit(&e, NULL, err);
        }
    }
    if (rc != IMS_OK)
        ims_staged_remove(svc, s->id);
    else
        ims_info("image %s: %lld bytes staged", s->id, (long long)s->received);
    stage_free(s);
    return rc;
}

enum ims_rc ims_staged_get(struct ims_service *svc, const char *id, struct ims_staged *ret, struct ims_err *err)
{
    char *digests = staged_path(svc, id, ".digests");
    FILE *f = fopen(digests, "re");
    free(digests);
    if (!f)
        return ims_fail(err, IMS_E_NOTFOUND, "No data is staged for image %s.", id);
    struct ims_staged s = {0};
    long long size = -1;
    int n = fscanf(f, "%lld %32s %128s", &size, s.md5, s.sha512);
    fclose(f);
    if (n != 3 || size < 0 || strlen(s.md5) != 32 || strlen(s.sha512) != 128)
        return ims_fail(err, IMS_E_NOTFOUND, "The data staged for image %s is incomplete.", id);
    s.size = size;
    s.path = staged_path(svc, id, "");
    struct stat st;
    if (stat(s.path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != s.size) {
        ims_staged_release(&s);
        return ims_fail(err, IMS_E_NOTFOUND, "The data staged for image %s is missing.", id);
    }
    *ret = s;
    return IMS_OK;
}

void ims_staged_release(struct ims_staged *s)
{
    if (s)
        free(IMS_TAKE_PTR(s->path));
}

void ims_staged_remove(struct ims_service *svc, const char *id)
{
    static const char *const suffixes[] = {".digests", ""};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(suffixes); i++) {
        char *p = staged_path(svc, id, suffixes[i]);
        unlink(p);
        free(p);
    }
}
