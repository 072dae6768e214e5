/* SPDX-License-Identifier: Apache-2.0
 * The object-storage calls: names checked once here, then the backend;
 * result names; files in and out through any backend. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obs-int.h"

const char *ims_obs_rc_name(enum ims_obs_rc rc)
{
    switch (rc) {
    case IMS_OBS_OK: return "ok";
    case IMS_OBS_NO_BUCKET: return "no such bucket";
    case IMS_OBS_NO_OBJECT: return "no such object";
    case IMS_OBS_DENIED: return "access denied";
    case IMS_OBS_BAD_NAME: return "invalid name";
    case IMS_OBS_EXISTS: return "already exists";
    case IMS_OBS_BAD_RANGE: return "range not satisfiable";
    case IMS_OBS_TOO_LARGE: return "too large";
    case IMS_OBS_UNSUPPORTED: return "not supported by this backend";
    case IMS_OBS_IO: return "object storage error";
    }
    return "unknown";
}

enum ims_rc ims_obs_rc_to_ims(enum ims_obs_rc rc)
{
    switch (rc) {
    case IMS_OBS_OK: return IMS_OK;
    case IMS_OBS_NO_BUCKET:
    case IMS_OBS_NO_OBJECT: return IMS_E_NOTFOUND;
    case IMS_OBS_DENIED: return IMS_E_FORBIDDEN;
    case IMS_OBS_BAD_NAME: return IMS_E_BADREQ;
    case IMS_OBS_EXISTS: return IMS_E_CONFLICT;
    case IMS_OBS_BAD_RANGE: return IMS_E_RANGE;
    case IMS_OBS_TOO_LARGE: return IMS_E_TOOLARGE;
    case IMS_OBS_UNSUPPORTED: return IMS_E_NOTIMPL;
    case IMS_OBS_IO: return IMS_E_IO;
    }
    return IMS_E_INTERNAL;
}

enum ims_obs_rc ims_obs_fail(struct ims_err *err, enum ims_obs_rc rc, const char *fmt, ...)
{
    if (err) {
        char msg[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ims_fail(err, IMS_E_INTERNAL, "%s", msg); /* the message as ims_fail makes it: valid text */
    }
    return rc;
}

void ims_obs_listing_release(struct ims_obs_listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].key);
    free(l->items);
    free(l->next);
    memset(l, 0, sizeof(*l));
}

static enum ims_obs_rc check_bucket(const char *bucket, struct ims_err *err)
{
    enum ims_obs_name_rc rc = ims_obs_bucket_check(bucket);
    return rc == IMS_OBS_NAME_OK ? IMS_OBS_OK : ims_obs_fail(err, IMS_OBS_BAD_NAME, "%s", ims_obs_name_problem(rc));
}

static enum ims_obs_rc check_names(const char *bucket, const char *key, struct ims_err *err)
{
    if (check_bucket(bucket, err) != IMS_OBS_OK)
        return IMS_OBS_BAD_NAME;
    enum ims_obs_name_rc rc = ims_obs_key_check(key);
    return rc == IMS_OBS_NAME_OK ? IMS_OBS_OK : ims_obs_fail(err, IMS_OBS_BAD_NAME, "%s", ims_obs_name_problem(rc));
}

enum ims_obs_rc ims_obs_bucket_create(struct ims_obs *o, const char *bucket, struct ims_err *err)
{
    enum ims_obs_rc rc = check_bucket(bucket, err);
    return rc ? rc : o->ops->bucket_create(o, bucket, err);
}

enum ims_obs_rc ims_obs_bucket_exists(struct ims_obs *o, const char *bucket, struct ims_err *err)
{
    enum ims_obs_rc rc = check_bucket(bucket, err);
    return rc ? rc : o->ops->bucket_exists(o, bucket, err);
}

enum ims_obs_rc ims_obs_head(struct ims_obs *o, const char *bucket, const char *key, struct ims_obs_info *ret,
                             struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(bucket, key, err);
    return rc ? rc : o->ops->head(o, bucket, key, ret, err);
}

enum ims_obs_rc ims_obs_open_read(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                  uint64_t length, struct ims_obs_reader **ret, struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(bucket, key, err);
    return rc ? rc : o->ops->open_read(o, bucket, key, offset, length, ret, err);
}

enum ims_obs_rc ims_obs_read(struct ims_obs_reader *r, char *buf, size_t max, size_t *ret_n, struct ims_err *err)
{
    return r->obs->ops->read(r, buf, max, ret_n, err);
}

void ims_obs_reader_close(struct ims_obs_reader *r)
{
    if (r)
        r->obs->ops->reader_close(r);
}

bool ims_obs_tag_valid(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;
    if (n == 0 || n > IMS_OBS_TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

enum ims_obs_rc ims_obs_put(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                            ims_obs_source_fn src, void *src_ctx, struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(bucket, key, err);
    return rc ? rc : o->ops->put(o, bucket, key, size, src, src_ctx, NULL, err);
}

static ssize_t fd_source(void *ctx, char *buf, size_t max)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = read(fd, buf, max);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

enum ims_obs_rc ims_obs_put_file_with(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                      const struct ims_obs_put_opts *opts, struct ims_err *err)
{
    static const struct ims_obs_put_opts none;
    opts = opts ? opts : &none;
    const char *tag = opts->tag;
    enum ims_obs_rc rc = check_names(bucket, key, err);
    if (rc)
        return rc;
    if (tag && !ims_obs_tag_valid(tag))
        return ims_obs_fail(err, IMS_OBS_BAD_NAME, "invalid object tag");
    if (o->ops->put_file)
        return o->ops->put_file(o, bucket, key, fd, opts, err);
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode))
        return ims_obs_fail(err, IMS_OBS_IO, "the source is not a regular file");
    if (lseek(fd, 0, SEEK_SET) < 0)
        return ims_obs_fail(err, IMS_OBS_IO, "cannot seek the source: %s", strerror(errno));
    return o->ops->put(o, bucket, key, (uint64_t)st.st_size, fd_source, &fd, tag, err);
}

enum ims_obs_rc ims_obs_put_file(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                 struct ims_err *err)
{
    return ims_obs_put_file_with(o, bucket, key, fd, NULL, err);
}

enum ims_obs_rc ims_obs_abort_uploads(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(bucket, key, err);
    if (rc || !o->ops->abort_uploads)
        return rc;
    return o->ops->abort_uploads(o, bucket, key, err);
}

bool ims_obs_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

enum ims_obs_rc ims_obs_get_file(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                 uint64_t length, int fd, struct ims_err *err)
{
    struct ims_obs_reader *r;
    enum ims_obs_rc rc = ims_obs_open_read(o, bucket, key, offset, length, &r, err);
    if (rc)
        return rc;
    size_t cap = 1 << 20;
    char *buf = ims_xmalloc(cap);
    for (;;) {
        size_t n;
        rc = ims_obs_read(r, buf, cap, &n, err);
        if (rc || !n)
            break;
        if (!ims_obs_write_all(fd, buf, n)) {
            rc = ims_obs_fail(err, IMS_OBS_IO, "cannot write the output: %s", strerror(errno));
            break;
        }
    }
    free(buf);
    ims_obs_reader_close(r);
    return rc;
}

enum ims_obs_rc ims_obs_remove(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(bucket, key, err);
    return rc ? rc : o->ops->remove(o, bucket, key, err);
}

enum ims_obs_rc ims_obs_list(struct ims_obs *o, const char *bucket, const char *prefix, const char *token,
                             size_t max, struct ims_obs_listing *ret, struct ims_err *err)
{
    enum ims_obs_rc rc = check_bucket(bucket, err);
    if (rc)
        return rc;
    if (!prefix)
        prefix = "";
    if (strlen(prefix) > IMS_OBS_KEY_MAX || !ims_text_valid(prefix))
        return ims_obs_fail(err, IMS_OBS_BAD_NAME, "invalid prefix (UTF-8 without control characters, at most "
                                                   "1024 bytes)");
    if (token && (!*token || strlen(token) > 4 * IMS_OBS_KEY_MAX || !ims_text_valid(token)))
        return ims_obs_fail(err, IMS_OBS_BAD_NAME, "invalid listing token");
    if (max == 0 || max > IMS_OBS_LIST_MAX)
        max = IMS_OBS_LIST_MAX;
    return o->ops->list(o, bucket, prefix, token, max, ret, err);
}

enum ims_obs_rc ims_obs_copy(struct ims_obs *o, const char *src_bucket, const char *src_key,
                             const char *dst_bucket, const char *dst_key, struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(src_bucket, src_key, err);
    if (!rc)
        rc = check_names(dst_bucket, dst_key, err);
    return rc ? rc : o->ops->copy(o, src_bucket, src_key, dst_bucket, dst_key, err);
}

enum ims_obs_rc ims_obs_local_path(struct ims_obs *o, const char *bucket, const char *key, char **ret,
                                   struct ims_err *err)
{
    enum ims_obs_rc rc = check_names(bucket, key, err);
    if (rc)
        return rc;
    if (!o->ops->local_path)
        return ims_obs_fail(err, IMS_OBS_UNSUPPORTED, "the %s object storage has no local files", o->ops->name);
    return o->ops->local_path(o, bucket, key, ret, err);
}

bool ims_obs_has_local_files(const struct ims_obs *o)
{
    return o->ops->local_path != NULL;
}

void ims_obs_close(struct ims_obs *o)
{
    if (o)
        o->ops->close(o);
}
