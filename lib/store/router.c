/* SPDX-License-Identifier: Apache-2.0
 * The store a service uses: several stores behind one interface. New blobs
 * go to the first; a blob is read or removed by the store its location's
 * scheme names, so locations of different stores can sit side by side in
 * the repository while data moves from one store to another. */
#include <stdio.h>
#include <string.h>

#include "store-int.h"

struct router {
    struct ims_store base;
    struct ims_store *stores[IMS_STORES_MAX];
    size_t n;
};

static const struct ims_store_ops router_ops;

const char *ims_store_id(const struct ims_store *s)
{
    return s->id[0] ? s->id : s->ops->name;
}

enum ims_rc ims_store_id_check(const char *id, struct ims_err *err)
{
    size_t n = strlen(id);
    if (n == 0 || n > IMS_STORE_ID_MAX || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')) ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
        return ims_fail(err, IMS_E_BADREQ,
                        "store id '%s': 1 to %d letters, digits and '-', a letter first (it is the scheme of the "
                        "store's locations)",
                        id, IMS_STORE_ID_MAX);
    /* the schemes of locations that are not ours (Glance's http store, web-download) */
    if (ims_streq(id, "http") || ims_streq(id, "https"))
        return ims_fail(err, IMS_E_BADREQ, "store id '%s' is a web scheme", id);
    return IMS_OK;
}

enum ims_rc ims_store_set_id(struct ims_store *s, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_store_id_check(id, err);
    if (rc == IMS_OK)
        snprintf(s->id, sizeof(s->id), "%s", id);
    return rc;
}

bool ims_store_is_local(const struct ims_store *s)
{
    return ims_streq(s->ops->name, "file");
}

const char *ims_store_location_key(const struct ims_store *s, const char *location)
{
    const char *id = ims_store_id(s);
    size_t n = strlen(id);
    if (!location || strncmp(location, id, n) != 0 || strncmp(location + n, "://", 3) != 0)
        return NULL;
    return location + n + 3;
}

static struct ims_store *store_of(const struct router *r, const char *location)
{
    for (size_t i = 0; i < r->n; i++)
        if (ims_store_location_key(r->stores[i], location))
            return r->stores[i];
    return NULL;
}

struct ims_store *ims_store_router_find(const struct ims_store *router, const char *location)
{
    if (router->ops != &router_ops) /* a single store */
        return ims_store_location_key(router, location) ? (struct ims_store *)router : NULL;
    return store_of((const struct router *)router, location);
}

struct ims_store *ims_store_router_first(const struct ims_store *router)
{
    if (router->ops != &router_ops) /* a single store */
        return (struct ims_store *)router;
    return ((const struct router *)router)->stores[0];
}

static enum ims_rc rt_writer_open(struct ims_store *s, int64_t size, struct ims_store_writer **ret,
                                  struct ims_err *err)
{
    struct ims_store *first = ((struct router *)s)->stores[0];
    return first->ops->writer_open(first, size, ret, err);
}

/* A writer's calls go to the store that opened it. */
static enum ims_rc rt_write(struct ims_store_writer *w, const void *p, size_t n, struct ims_err *err)
{
    return w->store->ops->write(w, p, n, err);
}

static enum ims_rc rt_commit(struct ims_store_writer *w, char **ret_location, char ret_md5[33], struct ims_err *err)
{
    return w->store->ops->commit(w, ret_location, ret_md5, err);
}

static void rt_abort(struct ims_store_writer *w)
{
    if (w)
        w->store->ops->abort(w);
}

/* Files to adopt belong to the store that takes new blobs. */
static enum ims_rc rt_temp_path(struct ims_store *s, char **ret_path, struct ims_err *err)
{
    struct ims_store *first = ((struct router *)s)->stores[0];
    if (!first->ops->temp_path)
        return ims_fail(err, IMS_E_NOTIMPL, "the %s store keeps no local files", first->ops->name);
    return first->ops->temp_path(first, ret_path, err);
}

static enum ims_rc rt_adopt(struct ims_store *s, const char *path, char **ret_location, char ret_md5[33],
                            struct ims_err *err)
{
    struct ims_store *first = ((struct router *)s)->stores[0];
    if (!first->ops->adopt)
        return ims_fail(err, IMS_E_NOTIMPL, "the %s store keeps no local files", first->ops->name);
    return first->ops->adopt(first, path, ret_location, ret_md5, err);
}

static bool rt_adopt_gives_md5(struct ims_store *s, uint64_t size)
{
    struct ims_store *first = ((struct router *)s)->stores[0];
    return first->ops->adopt_gives_md5 && first->ops->adopt_gives_md5(first, size);
}

static enum ims_rc rt_local_path(struct ims_store *s, const char *location, char **ret_path, bool *ret_copy,
                                 struct ims_err *err)
{
    struct ims_store *to = store_of((struct router *)s, location);
    if (!to)
        return ims_fail(err, IMS_E_IO, "no configured store holds %s", location);
    if (!to->ops->local_path)
        return ims_fail(err, IMS_E_NOTIMPL, "the %s store keeps no local files", to->ops->name);
    return to->ops->local_path(to, location, ret_path, ret_copy, err);
}

static enum ims_rc rt_open_read(struct ims_store *s, const char *location, struct ims_blob_reader *ret,
                                struct ims_err *err)
{
    struct ims_store *to = store_of((struct router *)s, location);
    if (!to)
        return ims_fail(err, IMS_E_IO, "no configured store holds this blob location");
    return to->ops->open_read(to, location, ret, err);
}

static enum ims_rc rt_remove(struct ims_store *s, const char *location, struct ims_err *err)
{
    struct ims_store *to = store_of((struct router *)s, location);
    if (!to)
        return ims_fail(err, IMS_E_IO, "no configured store holds this blob location");
    return to->ops->remove(to, location, err);
}

/* Every store recovers its own objects; each ignores the references to
 * other stores' locations. */
static enum ims_rc rt_recover(struct ims_store *s, const struct ims_blob_known *known, int64_t grace_seconds,
                              int64_t *ret_temp, int64_t *ret_orphans, struct ims_err *err)
{
    struct router *r = (struct router *)s;
    *ret_temp = *ret_orphans = 0;
    for (size_t i = 0; i < r->n; i++) {
        int64_t temp = 0, orphans = 0;
        enum ims_rc rc = r->stores[i]->ops->recover(r->stores[i], known, grace_seconds, &temp, &orphans, err);
        if (rc != IMS_OK)
            return rc;
        *ret_temp += temp;
        *ret_orphans += orphans;
    }
    return IMS_OK;
}

static void rt_close(struct ims_store *s)
{
    free(s); /* the stores are the caller's */
}

static const struct ims_store_ops router_ops = {
    .name = "router",
    .writer_open = rt_writer_open,
    .write = rt_write,
    .commit = rt_commit,
    .abort = rt_abort,
    .temp_path = rt_temp_path,
    .adopt = rt_adopt,
    .adopt_gives_md5 = rt_adopt_gives_md5,
    .local_path = rt_local_path,
    .open_read = rt_open_read,
    .remove = rt_remove,
    .recover = rt_recover,
    .close = rt_close,
};

enum ims_rc ims_store_router_open(struct ims_store *const *stores, size_t n, struct ims_store **ret,
                                  struct ims_err *err)
{
    if (n == 0 || n > IMS_STORES_MAX)
        return ims_fail(err, IMS_E_INTERNAL, "between 1 and %d blob stores are needed, not %zu",
                        IMS_STORES_MAX, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (ims_streq(ims_store_id(stores[i]), ims_store_id(stores[j])))
                return ims_fail(err, IMS_E_INTERNAL, "two blob stores claim the scheme %s://",
                                ims_store_id(stores[i]));
    struct router *r = ims_xcalloc(1, sizeof(*r));
    r->base.ops = &router_ops;
    memcpy(r->stores, stores, n * sizeof(*stores));
    r->n = n;
    *ret = &r->base;
    return IMS_OK;
}
