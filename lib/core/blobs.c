/* SPDX-License-Identifier: Apache-2.0
 * Blobs shared by every process on one database and one store: each is
 * registered in the blobs table (repo_blobs.c) by its writer, with the
 * writer's lease, before any of its data is stored; image writes count
 * references; a blob is collected (row deleted, then data removed) only
 * when no image references it and no live writer holds it. So no process
 * removes data another process still references or is still writing,
 * whatever the store (the file store on a shared file system, S3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/formats.h"
#include "ims/service.h"
#include "ims/store.h"

static int64_t lease_until(const struct ims_service *svc) { return ims_now() + svc->cfg->upload_lease_seconds; }

enum ims_rc ims_blob_writer_open_in(struct ims_service *svc, struct ims_store *store, int64_t size,
                                    struct ims_store_writer **ret, struct ims_err *err)
{
    struct ims_store_writer *w;
    enum ims_rc rc = store->ops->writer_open(store, size, &w, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_repo_blob_register(ims_db_conn(svc->db), w->location, ims_process_owner(), lease_until(svc), err);
    if (rc != IMS_OK) {
        store->ops->abort(w);
        return rc;
    }
    *ret = w;
    return IMS_OK;
}

enum ims_rc ims_blob_writer_open(struct ims_service *svc, int64_t size, struct ims_store_writer **ret,
                                 struct ims_err *err)
{
    return ims_blob_writer_open_in(svc, svc->store, size, ret, err);
}

enum ims_rc ims_blob_writer_commit(struct ims_service *svc, struct ims_store_writer *w, char **ret_location,
                                   char ret_md5[33], struct ims_err *err)
{
    char registered[IMS_BLOB_LOCATION_MAX];
    snprintf(registered, sizeof(registered), "%s", w->location);
    enum ims_rc rc = svc->store->ops->commit(w, ret_location, ret_md5, err);
    if (rc != IMS_OK)
        ims_blob_unclaim(svc, registered); /* the commit discarded the data */
    return rc;
}

/* The md5 of a blob just stored at *location: the producer's (md5_hex
 * given), else the store's (stored), else read back; on a failure to read
 * it the blob is unclaimed and *location freed. */
static enum ims_rc settle_md5(struct ims_service *svc, char **location, const char stored[33], char md5_hex[33],
                              const char **ret_from, struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    bool hashed = md5_hex[0] != 0;
    const char *from = hashed ? "hashed" : stored[0] ? "from the store's answer" : "read back from the store";
    if (!hashed && stored[0])
        memcpy(md5_hex, stored, 33);
    else if (!hashed && (rc = ims_blob_md5(svc, *location, md5_hex, err)) != IMS_OK) {
        /* the store did not vouch for its md5 and it cannot be read back: no image data without one */
        ims_blob_unclaim(svc, *location);
        free(*location);
        *location = NULL;
        return rc;
    }
    if (ret_from)
        *ret_from = from;
    return IMS_OK;
}

enum ims_rc ims_blob_writer_commit_md5(struct ims_service *svc, struct ims_store_writer *w, char **ret_location,
                                       char md5_hex[33], const char **ret_from, struct ims_err *err)
{
    char stored[33] = "";
    enum ims_rc rc = ims_blob_writer_commit(svc, w, ret_location, stored, err);
    return rc != IMS_OK ? rc : settle_md5(svc, ret_location, stored, md5_hex, ret_from, err);
}

void ims_blob_writer_abort(struct ims_service *svc, struct ims_store_writer *w)
{
    if (!w)
        return;
    char location[IMS_BLOB_LOCATION_MAX];
    snprintf(location, sizeof(location), "%s", w->location);
    svc->store->ops->abort(w);
    ims_blob_unclaim(svc, location);
}

void ims_blob_unclaim(struct ims_service *svc, const char *location)
{
    struct ims_err err;
    /* no reference added, the writer's claim ended: collectable at once */
    if (ims_repo_blob_ref(ims_db_conn(svc->db), location, 0, &err) != IMS_OK)
        ims_warn("blob %s: could not end its writer's claim: %s (collected once its lease runs out)", location,
                 err.msg);
    ims_blob_release(svc, location);
}

enum ims_rc ims_blob_adopt(struct ims_service *svc, const char *path, char **ret_location, char md5_hex[33],
                           const char **ret_from, struct ims_err *err)
{
    char *location = NULL, stored[33] = "";
    enum ims_rc rc = svc->store->ops->adopt(svc->store, path, &location, stored, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_repo_blob_register(ims_db_conn(svc->db), location, ims_process_owner(), lease_until(svc), err);
    if (rc != IMS_OK) {
        struct ims_err ignored;
        svc->store->ops->remove(svc->store, location, &ignored);
        free(location);
        return rc;
    }
    if (md5_hex && (rc = settle_md5(svc, &location, stored, md5_hex, ret_from, err)) != IMS_OK)
        return rc;
    *ret_location = location;
    return IMS_OK;
}

bool ims_blob_adopt_gives_md5(struct ims_service *svc, int64_t size)
{
    const struct ims_store_ops *ops = svc->store->ops;
    return size >= 0 && ops->adopt_gives_md5 && ops->adopt_gives_md5(svc->store, (uint64_t)size);
}

void ims_blob_release(struct ims_service *svc, const char *blob)
{
    bool collected = false;
    struct ims_err err;
    if (!blob || ims_repo_blob_collect(ims_db_conn(svc->db), blob, ims_now(), &collected, &err) != IMS_OK ||
        !collected)
        return;
    if (svc->store->ops->remove(svc->store, blob, &err) != IMS_OK)
        ims_warn("could not remove blob %s: %s (removed by a later recovery)", blob, err.msg);
}

int64_t ims_blobs_collect(struct ims_service *svc)
{
    int64_t n = 0;
    for (int round = 0; round < 100; round++) {
        struct ims_strlist todo = {0};
        struct ims_err err;
        if (ims_repo_blobs_collectable(ims_db_conn(svc->db), ims_now(), 100, &todo, &err) != IMS_OK) {
            ims_warn("blobs: listing collectable blobs failed: %s", err.msg);
            ims_strlist_release(&todo);
            break;
        }
        for (size_t i = 0; i < todo.n; i++)
            ims_blob_release(svc, todo.items[i]);
        n += (int64_t)todo.n;
        size_t got = todo.n;
        ims_strlist_release(&todo);
        if (got < 100)
            break;
    }
    return n;
}

int64_t ims_blobs_unclaim_gone_writers(struct ims_service *svc)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_strlist writers = {0};
    struct ims_err err;
    int64_t n = 0;
    if (ims_repo_blob_writers(c, &writers, &err) != IMS_OK)
        ims_warn("blobs: listing writers failed: %s", err.msg);
    for (size_t i = 0; i < writers.n; i++) {
        int64_t freed = 0;
        if (!ims_owner_gone(writers.items[i]))
            continue;
        if (ims_repo_blobs_unclaim_writer(c, writers.items[i], &freed, &err) != IMS_OK)
            ims_warn("blobs: ending the claims of %s failed: %s (collected once its lease runs out)",
                     writers.items[i], err.msg);
        n += freed;
    }
    ims_strlist_release(&writers);
    return n;
}

/* The inspector's reads of a stored blob: pread on the file store's
 * descriptor, the store's reader otherwise (ranged GETs on S3). */
static long blob_read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct ims_blob_reader *r = ctx;
    for (;;) {
        ssize_t n = r->fd >= 0 ? pread(r->fd, buf, len, (off_t)off) : r->read(r->ctx, off, buf, len);
        if (n >= 0 || errno != EINTR)
            return (long)n;
    }
}

enum ims_rc ims_blob_md5(struct ims_service *svc, const char *location, char md5[33], struct ims_err *err)
{
    struct ims_blob_reader r = {.fd = -1};
    enum ims_rc rc = svc->store->ops->open_read(svc->store, location, &r, err);
    if (rc != IMS_OK)
        return ims_fail(err, IMS_E_IO, "the stored data %s could not be read: %s", location, err->msg);
    rc = ims_blob_digests(&r, md5, NULL, NULL, NULL, err);
    if (r.fd >= 0)
        close(r.fd);
    if (r.close)
        r.close(r.ctx);
    return rc;
}

enum ims_rc ims_blob_inspect(struct ims_service *svc, const char *location, const struct ims_format_limits *limits,
                             const char *declared, struct ims_format_info *info, enum ims_format_refusal *why,
                             struct ims_err *err)
{
    struct ims_blob_reader r = {.fd = -1};
    enum ims_rc rc = svc->store->ops->open_read(svc->store, location, &r, err);
    if (rc != IMS_OK)
        return ims_fail(err, IMS_E_IO, "the stored data %s could not be read: %s", location, err->msg);
    struct ims_format_source src = {.read_at = blob_read_at, .ctx = &r, .size = r.size};
    struct ims_format_info found;
    enum ims_format_refusal refusal = IMS_FORMAT_ACCEPTED;
    rc = ims_format_inspect(&src, limits, &found, &refusal, err);
    if (r.fd >= 0)
        close(r.fd);
    if (r.close)
        r.close(r.ctx);
    if (rc == IMS_OK && declared)
        rc = ims_format_check_declared(declared, &found, &refusal, err);
    if (why)
        *why = refusal;
    if (rc == IMS_OK)
        *info = found;
    return rc;
}
