/* SPDX-License-Identifier: Apache-2.0
 * Glance's interoperable import with Glance 25's rules: the methods and
 * stores on offer, the import lock (os_glance_import_task), and the task's
 * steps: the image "importing" with os_glance_importing_to_stores, the data
 * inspected where it is, in the store (the staged blob, or the blob a
 * download streamed into), the image "active"; or, on failure,
 * "queued" again with the store in os_glance_failed_import. Every change is
 * an image edit (lib/core/image_edit.c) that checks the lock is still the
 * task's against the row as it is then. */
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/backends.h"
#include "ims/compute.h"
#include "ims/config.h"
#include "ims/convert.h"
#include "ims/formats.h"
#include "ims/glance_import.h"
#include "ims/image_stores.h"
#include "ims/images.h"
#include "ims/imports.h"
#include "ims/obs.h"
#include "ims/store.h"

const char *const *ims_glance_import_methods(const struct ims_service *svc)
{
    /* copy-image copies an image between stores, so Glance offers it where
     * several are configured (enabled_backends: [stores] enabled). */
    static const char *const one[] = {"glance-direct", "web-download", NULL};
    static const char *const several[] = {"glance-direct", "web-download", "copy-image", NULL};
    return svc->backends && svc->backends->nnamed > 1 ? several : one;
}

bool ims_glance_import_method_enabled(const struct ims_service *svc, const char *method)
{
    for (const char *const *m = ims_glance_import_methods(svc); *m; m++)
        if (ims_streq(*m, method))
            return true;
    return false;
}

size_t ims_glance_stores(const struct ims_service *svc, const char **ret, size_t cap)
{
    /* Without [stores], only the first store takes new blobs
     * (lib/store/router.c); the stores behind it are read for older
     * locations, so nothing imports into them. */
    const struct ims_backends *be = svc->backends;
    if (!be || !be->nstores) {
        if (cap)
            ret[0] = ims_store_id(svc->store);
        return cap ? 1 : 0;
    }
    size_t n = be->nnamed ? be->nnamed : 1;
    for (size_t i = 0; i < n && i < cap; i++)
        ret[i] = ims_store_id(be->stores[i]);
    return n < cap ? n : cap;
}

void ims_glance_import_task_release(struct ims_glance_import_task *t)
{
    if (t)
        ims_strlist_release(&t->stores);
}

static bool store_known(const struct ims_service *svc, const char *id)
{
    const char *ids[IMS_STORES_MAX];
    size_t n = ims_glance_stores(svc, ids, IMS_ARRAY_SIZE(ids));
    for (size_t i = 0; i < n; i++)
        if (ims_streq(ids[i], id))
            return true;
    return false;
}

/* The stores the import goes to: every store, the body's (each known: 409
 * otherwise, as Glance's UnknownScheme), or the default. copy-image skips
 * the stores holding the image's data with all_stores (none left: nothing
 * to do, *ret_nothing) and refuses them when named (400), as Glance. */
static enum ims_rc choose_stores(const struct ims_service *svc, const struct ims_image *img,
                                 struct ims_glance_import_task *t, bool *ret_nothing, struct ims_err *err)
{
    const struct ims_glance_import_body *b = t->body;
    const char *ids[IMS_STORES_MAX];
    size_t n = ims_glance_stores(svc, ids, IMS_ARRAY_SIZE(ids));
    bool copy = ims_streq(b->method, "copy-image");
    *ret_nothing = false;
    if (!b->all_stores_must_succeed && !ims_stores_named(svc))
        return ims_fail(err, IMS_E_BADREQ, "%s", "All_stores_must_succeed can only be set with enabled_backends");
    if (b->all_stores) {
        for (size_t i = 0; i < n; i++)
            if (!(copy && ims_image_location_in(svc, img, ids[i])))
                ims_strlist_add(&t->stores, ids[i]);
        *ret_nothing = copy && t->stores.n == 0;
        return IMS_OK;
    }
    if (b->stores_given) {
        for (size_t i = 0; i < b->stores.n; i++) {
            if (!store_known(svc, b->stores.items[i]))
                return ims_fail(err, IMS_E_CONFLICT, "Unknown scheme '%s' found in URI", b->stores.items[i]);
            if (!ims_strlist_contains(&t->stores, b->stores.items[i]))
                ims_strlist_add(&t->stores, b->stores.items[i]);
        }
    }
    if (t->stores.n == 0 && n)
        ims_strlist_add(&t->stores, ids[0]);
    for (size_t i = 0; copy && i < t->stores.n; i++)
        if (ims_image_location_in(svc, img, t->stores.items[i]))
            return ims_fail(err, IMS_E_BADREQ, "Image is already present at store '%s'", t->stores.items[i]);
    return IMS_OK;
}

static enum ims_rc status_allows(const struct ims_image *img, const char *method, struct ims_err *err)
{
    bool copy = ims_streq(method, "copy-image");
    if (ims_streq(img->status, "active") && !copy)
        return ims_fail(err, IMS_E_CONFLICT, "Image with status active cannot be target for import");
    if (!ims_streq(img->status, "active") && copy)
        return ims_fail(err, IMS_E_CONFLICT, "Only images with status active can be targeted for copying");
    if (!ims_streq(img->status, "queued") && ims_streq(method, "web-download"))
        return ims_fail(err, IMS_E_CONFLICT, "Image needs to be in 'queued' state to use '%s' method", method);
    if (!ims_streq(img->status, "uploading") && ims_streq(method, "glance-direct"))
        return ims_fail(err, IMS_E_CONFLICT, "Image needs to be staged before 'glance-direct' method can be used");
    if (!img->container_format)
        return ims_fail(err, IMS_E_CONFLICT, "'container_format' needs to be set before import");
    if (!img->disk_format)
        return ims_fail(err, IMS_E_CONFLICT, "'disk_format' needs to be set before import");
    return IMS_OK;
}

enum ims_rc ims_glance_import_lock(struct ims_service *svc, const struct ims_principal *p,
                                   struct ims_glance_import_task *t,
                                   bool (*stale_ok)(void *ctx, const char *task_id), void *ctx,
                                   struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, t->image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    rc = status_allows(&e.image, t->body->method, err);
    /* Glance's copy_image policy is the admin role's; the other methods
     * need the right to modify the image */
    if (rc == IMS_OK && ims_streq(t->body->method, "copy-image") && !p->is_admin)
        rc = ims_fail(err, IMS_E_FORBIDDEN, "%s", "You are not authorized to complete copy_image action.");
    else if (rc == IMS_OK && !ims_streq(t->body->method, "copy-image") && !ims_images_can_modify(p, &e.image))
        rc = ims_fail(err, IMS_E_FORBIDDEN, "You are not permitted to modify image %s.", t->image_id);
    const char *holder = ims_kvlist_get(&e.image.props, IMS_PROP_IMPORT_TASK);
    if (rc == IMS_OK && holder && !(stale_ok && stale_ok(ctx, holder)))
        rc = ims_fail(err, IMS_E_CONFLICT, "Image has active task");
    if (rc == IMS_OK)
        rc = choose_stores(svc, &e.image, t, &t->nothing_to_do, err);
    if (rc == IMS_OK && t->nothing_to_do) { /* Glance: "image is available in all configured stores" */
        ims_image_edit_abort(&e);
        return IMS_OK;
    }
    if (rc != IMS_OK) {
        ims_image_edit_abort(&e);
        return rc;
    }
    if (holder)
        ims_warn("image %s: import task %s's lock is stale; taken over by task %s", t->image_id, holder, t->task_id);
    ims_kvlist_set(&e.image.props, IMS_PROP_IMPORT_TASK, t->task_id);
    return ims_image_edit_commit(&e, NULL, err);
}

/* list_key's comma-separated stores plus (add) or minus the given ones,
 * sorted, as Glance's merge_store_list writes them ("" when none). */
static void merge_stores(struct ims_image *img, const char *key, const struct ims_strlist *stores, bool add)
{
    struct ims_strlist set = {0};
    const char *cur = ims_kvlist_get(&img->props, key);
    if (cur) {
        char *copy = ims_xstrdup(cur);
        for (char *save = NULL, *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
            if (!ims_strlist_contains(&set, s))
                ims_strlist_add(&set, s);
        free(copy);
    }
    for (size_t i = 0; i < stores->n; i++) {
        if (add && !ims_strlist_contains(&set, stores->items[i]))
            ims_strlist_add(&set, stores->items[i]);
        else if (!add)
            ims_strlist_remove(&set, stores->items[i]);
    }
    /* sorted (a few entries: insertion sort) */
    for (size_t i = 1; i < set.n; i++)
        for (size_t j = i; j > 0 && strcmp(set.items[j - 1], set.items[j]) > 0; j--) {
            char *tmp = set.items[j];
            set.items[j] = set.items[j - 1];
            set.items[j - 1] = tmp;
        }
    struct ims_buf b;
    ims_buf_init(&b, (IMS_STORE_ID_MAX + 1) * (IMS_STORES_MAX + 1));
    for (size_t i = 0; i < set.n; i++) {
        if (i)
            ims_buf_addc(&b, ',');
        ims_buf_adds(&b, set.items[i]);
    }
    ims_kvlist_set(&img->props, key, b.data ? b.data : "");
    ims_buf_release(&b);
    ims_strlist_release(&set);
}

bool ims_glance_import_has_data(const struct ims_image *img)
{
    return ims_streq(img->status, "active") || (ims_streq(img->status, "importing") && img->checksum);
}

static bool holds_lock(const struct ims_image *img, const char *task_id)
{
    return ims_streq(ims_kvlist_get(&img->props, IMS_PROP_IMPORT_TASK), task_id);
}

void ims_glance_import_unlock(struct ims_service *svc, const char *image_id, const char *task_id)
{
    struct ims_image_edit e;
    struct ims_err err = {0};
    if (ims_image_edit_begin_internal(svc, image_id, &e, &err) != IMS_OK)
        return;
    if (!holds_lock(&e.image, task_id)) {
        ims_image_edit_abort(&e);
        return;
    }
    ims_kvlist_remove(&e.image.props, IMS_PROP_IMPORT_TASK);
    if (ims_image_edit_commit(&e, NULL, &err) != IMS_OK)
        ims_error("image %s: could not drop the lock of task %s: %s", image_id, task_id, err.msg);
}

/* An edit of the image whose import lock task_id must still hold (409). */
static enum ims_rc edit_locked(struct ims_service *svc, const char *image_id, const char *task_id,
                               struct ims_image_edit *e, struct ims_err *err)
{
    enum ims_rc rc = ims_image_edit_begin_internal(svc, image_id, e, err);
    if (rc == IMS_OK && !holds_lock(&e->image, task_id)) {
        ims_image_edit_abort(e);
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s import task %s lost its lock.", image_id, task_id);
    }
    return rc;
}

enum ims_rc ims_glance_import_begin(struct ims_service *svc, const char *image_id, const char *task_id,
                                    const struct ims_strlist *stores, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = edit_locked(svc, image_id, task_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (ims_streq(e.image.status, "importing")) { /* a resumed task: done before */
        ims_image_edit_abort(&e);
        return IMS_OK;
    }
    if (!ims_streq(e.image.status, "active")) /* copy-image's image stays active */
        snprintf(e.image.status, sizeof(e.image.status), "importing");
    merge_stores(&e.image, IMS_PROP_IMPORTING_TO, stores, true);
    merge_stores(&e.image, IMS_PROP_FAILED_IMPORT, stores, false);
    ims_kvlist_remove(&e.image.props, IMS_PROP_STAGE_HOST);
    return ims_image_edit_commit(&e, NULL, err);
}

void ims_glance_import_stores_done(struct ims_image *img, const struct ims_strlist *stores)
{
    merge_stores(img, IMS_PROP_IMPORTING_TO, stores, false);
}

enum ims_rc ims_glance_import_store_failed(struct ims_service *svc, const char *image_id, const char *task_id,
                                           const char *store_id, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = edit_locked(svc, image_id, task_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_strlist one = {0};
    ims_strlist_add(&one, store_id);
    merge_stores(&e.image, IMS_PROP_IMPORTING_TO, &one, false);
    merge_stores(&e.image, IMS_PROP_FAILED_IMPORT, &one, true);
    ims_strlist_release(&one);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_glance_import_finish(struct ims_service *svc, const char *image_id, const char *task_id,
                                     struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin_internal(svc, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    if (!holds_lock(&e.image, task_id)) { /* done before (a resumed task), or another task's now */
        ims_image_edit_abort(&e);
        return IMS_OK;
    }
    /* all_stores_must_succeed: active once the last store has the data */
    if (ims_streq(e.image.status, "importing") && ims_glance_import_has_data(&e.image))
        ims_image_mark_active(&e.image, ims_now());
    ims_kvlist_remove(&e.image.props, IMS_PROP_IMPORT_TASK);
    return ims_image_edit_commit(&e, NULL, err);
}

/* The data's edit: the lock still the task's and the image importing,
 * location's data becomes the image's, and the image active unless
 * set_active is false and other stores still wait for the data (Glance's
 * set_active, false for all but the last store with
 * all_stores_must_succeed: ims_glance_import_finish activates it). */
static enum ims_rc activate(struct ims_service *svc, const char *image_id, const char *task_id, const char *location,
                            int64_t size, const char *md5, const char *sha512, const struct ims_format_info *info,
                            bool set_active, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin_internal(svc, image_id, &e, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_image *im = &e.image;
    if (!holds_lock(im, task_id) || !ims_streq(im->status, "importing") || ims_glance_import_has_data(im)) {
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s was changed during the import (status %s).", image_id,
                      im->status);
        ims_image_edit_abort(&e);
        return rc;
    }
    im->size = size;
    im->virtual_size = (int64_t)info->virtual_size;
    ims_set_str(&im->checksum, md5);
    ims_set_str(&im->os_hash_algo, "sha512");
    ims_set_str(&im->os_hash_value, sha512);
    ims_set_str(&im->blob, location);
    char size_str[24];
    snprintf(size_str, sizeof(size_str), "%lld", (long long)size);
    ims_kvlist_set(&im->props, "__image_size", size_str);
    /* the store the data is in is done; the task copies it to the others
     * it names, holding the lock until then */
    struct ims_strlist here = {0};
    const struct ims_store *holder = ims_store_of_location(svc, location);
    ims_strlist_add(&here, holder ? ims_store_id(holder) : ims_store_id(svc->store));
    merge_stores(im, IMS_PROP_IMPORTING_TO, &here, false);
    ims_strlist_release(&here);
    const char *left = ims_kvlist_get(&im->props, IMS_PROP_IMPORTING_TO);
    bool last = !left || !*left;
    if (last || set_active)
        ims_image_mark_active(im, ims_now());
    if (last)
        ims_kvlist_remove(&im->props, IMS_PROP_IMPORT_TASK);
    ims_kvlist_remove(&im->props, IMS_PROP_STAGED_DIGESTS);
    return ims_image_edit_commit(&e, NULL, err);
}

/* An inspector's refusal fails the task as the client's data (400); a
 * store that cannot be read stays an I/O failure. */
static enum ims_rc refusal_rc(enum ims_rc rc) { return rc == IMS_E_IO ? rc : IMS_E_BADREQ; }

/* A blob that holds the image's data (staged or downloaded) becomes the
 * image's: the inspector first, over the blob where it is (nothing else
 * reads data it refuses, and data that is not the image's disk_format does
 * not become the image), then the image active on it. */
static enum ims_rc import_blob(struct ims_service *svc, const char *image_id, const char *task_id,
                               const char *disk_format, const char *location, int64_t size, const char *md5,
                               const char *sha512, bool set_active, struct ims_err *err)
{
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_format_limits limits = {.max_virtual_size = IMS_FORMAT_DEFAULT_MAX_VIRTUAL};
    enum ims_rc rc = ims_blob_inspect(svc, location, &limits, disk_format, &info, &why, err);
    if (rc != IMS_OK)
        return refusal_rc(rc);
    return activate(svc, image_id, task_id, location, size, md5, sha512, &info, set_active, err);
}

enum ims_rc ims_glance_import_staged(struct ims_service *svc, const char *image_id, const char *task_id,
                                     bool set_active, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_repo_image_get(ims_db_conn(svc->db), image_id, &img, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_staged st;
    if (ims_staged_get(&img, &st, err) != IMS_OK) {
        ims_image_release(&img);
        return ims_fail(err, IMS_E_BADREQ, "%s", "No data is staged for the image.");
    }
    /* The staged blob is read where it is, by whichever node runs the task,
     * and becomes the image's data as it is: the image references it since
     * the stage (a DELETE meanwhile collects it). */
    rc = import_blob(svc, image_id, task_id, img.disk_format, img.blob, st.size, st.md5, st.sha512, set_active, err);
    ims_image_release(&img);
    return rc;
}

void ims_glance_import_fail(struct ims_service *svc, const char *image_id, const char *task_id,
                            const struct ims_strlist *stores, bool drop_copies)
{
    struct ims_image_edit e;
    struct ims_err err = {0};
    if (ims_image_edit_begin_internal(svc, image_id, &e, &err) != IMS_OK)
        return;
    if (!holds_lock(&e.image, task_id)) { /* another task's now: not ours to touch */
        ims_image_edit_abort(&e);
        return;
    }
    /* the stores that got the data (the image's, not data still staged)
     * did not fail */
    bool has_data = ims_glance_import_has_data(&e.image);
    struct ims_strlist failed = {0};
    for (size_t i = 0; i < stores->n; i++)
        if (!has_data || !ims_image_location_in(svc, &e.image, stores->items[i]))
            ims_strlist_add(&failed, stores->items[i]);
    char *staged = NULL;
    if (ims_streq(e.image.status, "importing") || ims_streq(e.image.status, "uploading")) {
        snprintf(e.image.status, sizeof(e.image.status), "queued");
        /* the staged or imported data goes: the image no longer references
         * it, nor the digests of data it no longer has */
        staged = IMS_TAKE_PTR(e.image.blob);
        e.image.size = -1;
        e.image.virtual_size = -1;
        ims_set_str(&e.image.checksum, NULL);
        ims_set_str(&e.image.os_hash_algo, NULL);
        ims_set_str(&e.image.os_hash_value, NULL);
        ims_kvlist_set(&e.image.props, "__image_size", "0"); /* as a new image's */
        ims_kvlist_remove(&e.image.props, IMS_PROP_STAGED_DIGESTS);
    }
    merge_stores(&e.image, IMS_PROP_IMPORTING_TO, stores, false);
    merge_stores(&e.image, IMS_PROP_FAILED_IMPORT, &failed, true);
    ims_strlist_release(&failed);
    /* Glance's _ImportToStore.revert: the copies the task made go (an
     * active image's own location is none of them; an importing one's
     * went above), and they are not failures */
    struct ims_strlist dropped = {0};
    for (size_t i = 0; drop_copies && i < stores->n; i++) {
        char *url = ims_image_copy_take(&e.image, stores->items[i]);
        if (url)
            ims_strlist_add(&dropped, url);
        free(url);
    }
    ims_kvlist_remove(&e.image.props, IMS_PROP_IMPORT_TASK);
    ims_kvlist_remove(&e.image.props, IMS_PROP_STAGE_HOST);
    if (ims_image_edit_commit(&e, NULL, &err) != IMS_OK) {
        ims_error("image %s: could not record the failure of import task %s: %s", image_id, task_id, err.msg);
    } else {
        if (staged)
            ims_blob_release(svc, staged);
        for (size_t i = 0; i < dropped.n; i++) /* after the commit: the row no longer references them */
            ims_blob_release(svc, dropped.items[i]);
    }
    ims_strlist_release(&dropped);
    free(staged);
}

/* ---- web-download ---- */
static enum ims_rc filter_of(const struct ims_service *svc, struct ims_web_filter *f, struct ims_err *err)
{
    const struct ims_config *c = svc->cfg;
    enum ims_rc rc = ims_web_filter_init(f, c->import_allowed_schemes, c->import_disallowed_schemes,
                                         c->import_allowed_hosts, c->import_disallowed_hosts, c->import_allowed_ports,
                                         c->import_disallowed_ports, c->import_allow_private_networks, err);
    if (rc != IMS_OK) /* a configuration the settings let through: the operator's to fix */
        return ims_fail(err, IMS_E_INTERNAL, "[import_filtering_opts]: %s", err->msg);
    return IMS_OK;
}

enum ims_rc ims_glance_web_uri_check(struct ims_service *svc, const char *uri, struct ims_err *err)
{
    if (!uri)
        return ims_fail(err, IMS_E_BADREQ, "URI for web-download does not pass filtering: None");
    struct ims_web_filter f;
    enum ims_rc rc = filter_of(svc, &f, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_web_target t;
    rc = ims_web_check_uri(&f, uri, &t, err);
    if (rc == IMS_OK)
        rc = ims_web_resolve(&f, &t, err);
    ims_web_filter_release(&f);
    return rc;
}

/* The download streams as an upload does: libcurl's thread copies into
 * the pipe, the digests and the store's write (O_DIRECT on the file store,
 * the S3 upload) run beside it on the pipe's threads, so the blob is
 * complete when the last byte arrives (no temporary file written through
 * the page cache and synced, then adopted or sent to the store again).
 * The writer opens when the answer begins, sized by its Content-Length:
 * on S3 an answer within single_put_max then goes up as one PUT whose
 * ETag may give the md5, as an upload of known size does; a chunked or
 * larger one goes up in parts, its md5 hashed. */
struct web_blob {
    struct ims_service *svc;
    struct ims_store_writer *w;
    struct ims_hash_pipe *hashes;
};

static enum ims_rc web_store_sink(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct web_blob *b = ctx;
    return b->svc->store->ops->write(b->w, p, n, err);
}

static enum ims_rc web_start(void *ctx, int64_t announced, struct ims_err *err)
{
    struct web_blob *b = ctx;
    enum ims_rc rc = ims_blob_writer_open(b->svc, announced, &b->w, err);
    if (rc != IMS_OK)
        return rc;
    /* md5 left to the store's commit where it may know it (an S3 PUT's ETag) */
    if (!(b->hashes = ims_hash_pipe_new_digests(web_store_sink, b, !b->w->md5_at_commit, true)))
        return ims_fail(err, IMS_E_INTERNAL, "digest initialisation failed");
    return IMS_OK;
}

static enum ims_rc web_body(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct web_blob *b = ctx;
    return ims_hash_pipe_update(b->hashes, p, n) ? IMS_OK : ims_hash_pipe_error(b->hashes, err);
}

/* Fetches uri into a new registered blob of the store: *ret_location
 * (owned), its size and digests. Nothing is left on failure. */
static enum ims_rc web_fetch_blob(struct ims_service *svc, const char *image_id, const char *uri,
                                  const struct ims_web_filter *f, bool (*keep_going)(void *ctx), void *ctx,
                                  char **ret_location, int64_t *ret_size, char md5[33], char sha[129],
                                  struct ims_err *err)
{
    struct web_blob b = {.svc = svc};
    const struct ims_config *c = svc->cfg;
    struct ims_web_get g = {
        .uri = uri,
        .filter = f,
        .max_size = c->web_download_max_size > 0 ? c->web_download_max_size : c->max_image_size,
        .timeout_ms = c->web_download_timeout * 1000,
        .max_redirects = (unsigned)c->web_download_max_redirects,
        .start = web_start,
        .sink = web_body,
        .sink_ctx = &b,
        .keep_going = keep_going,
        .stop_ctx = ctx,
    };
    int64_t started = ims_mono_us(), size = 0;
    enum ims_rc rc = ims_web_fetch(&g, &size, err);
    if (rc == IMS_OK && !ims_hash_pipe_final(b.hashes, md5, sha))
        rc = ims_hash_pipe_error(b.hashes, err);
    ims_hash_pipe_free(IMS_TAKE_PTR(b.hashes)); /* its threads write through b.w: gone before the commit or abort */
    if (rc != IMS_OK) {
        ims_blob_writer_abort(svc, b.w);
        return rc;
    }
    const char *md5_from = "";
    rc = ims_blob_writer_commit_md5(svc, IMS_TAKE_PTR(b.w), ret_location, md5, &md5_from, err);
    if (rc != IMS_OK)
        return rc;
    double secs = (double)(ims_mono_us() - started) / 1e6;
    ims_info("image %s: %lld bytes downloaded into %s in %.2f s (%.0f MB/s); md5 %s", image_id, (long long)size,
             *ret_location, secs, secs > 0 ? (double)size / secs / 1e6 : 0.0, md5_from);
    *ret_size = size;
    return IMS_OK;
}

enum ims_rc ims_glance_import_web(struct ims_service *svc, const char *image_id, const char *task_id, const char *uri,
                                  bool set_active, bool (*keep_going)(void *ctx), void *ctx, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_repo_image_get(ims_db_conn(svc->db), image_id, &img, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_web_filter f;
    rc = filter_of(svc, &f, err);
    char *location = NULL;
    int64_t size = 0;
    char md5[33], sha[129];
    if (rc == IMS_OK) {
        rc = web_fetch_blob(svc, image_id, uri, &f, keep_going, ctx, &location, &size, md5, sha, err);
        ims_web_filter_release(&f);
    }
    if (rc == IMS_OK) {
        rc = import_blob(svc, image_id, task_id, img.disk_format, location, size, md5, sha, set_active, err);
        if (rc != IMS_OK)
            ims_blob_unclaim(svc, location); /* no image took it */
    }
    free(location);
    ims_image_release(&img);
    return rc;
}
