/* SPDX-License-Identifier: Apache-2.0
 * IMS key/value image tags (reference ims-api/ims_apis/image_tagging/) over
 * the native tag list: an IMS tag (key, value) is the native tag
 * "key=value" ("key" for the empty value), so the native API and the IMS
 * API always show the same tags. Changes are read-modify-write of the image
 * in one transaction. */
#include <stdlib.h>
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/db.h"
#include "ims/image.h"
#include "ims/image_tags.h"
#include "ims/images.h"
#include "ims/service.h"
#include "ims/tags.h"

enum ims_rc ims_image_tags_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               struct ims_kvlist *ret, struct ims_err *err)
{
    struct ims_image img;
    enum ims_rc rc = ims_images_get(svc, p, id, &img, err);
    if (rc != IMS_OK)
        return rc;
    ims_tags_to_pairs(&img.tags, ret);
    ims_image_release(&img);
    return IMS_OK;
}

static size_t distinct_keys(const struct ims_strlist *tags)
{
    size_t n = 0;
    for (size_t i = 0; i < tags->n; i++) {
        char *k, *v;
        ims_tag_split(tags->items[i], &k, &v);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = ims_tag_has_key(tags->items[j], k);
        n += !seen;
        free(k);
        free(v);
    }
    return n;
}

/* Removes the native tags carrying key (and value, unless NULL). Returns
 * how many went. */
static size_t drop(struct ims_strlist *tags, const char *key, const char *value)
{
    size_t gone = 0;
    for (size_t i = 0; i < tags->n;) {
        const char *t = tags->items[i];
        bool hit = ims_tag_has_key(t, key);
        if (hit && value) {
            const char *tv = t[strlen(key)] == '=' ? t + strlen(key) + 1 : "";
            hit = strcmp(tv, value) == 0;
        }
        if (!hit) {
            i++;
            continue;
        }
        free(tags->items[i]);
        memmove(&tags->items[i], &tags->items[i + 1], (tags->n - i - 1) * sizeof(*tags->items));
        tags->n--;
        gone++;
    }
    return gone;
}

typedef enum ims_rc (*tag_edit_fn)(struct ims_image *img, const struct ims_kvlist *pairs, bool flag, bool *changed,
                                   struct ims_err *err);

static enum ims_rc edit_set(struct ims_image *img, const struct ims_kvlist *pairs, bool flag, bool *changed,
                            struct ims_err *err)
{
    size_t before = distinct_keys(&img->tags);
    for (size_t i = 0; i < pairs->n; i++) {
        const char *k = pairs->items[i].key, *v = pairs->items[i].value ? pairs->items[i].value : "";
        char *native = ims_tag_join(k, v);
        /* Same key and value already there, alone: nothing to do. */
        size_t with_key = 0;
        for (size_t j = 0; j < img->tags.n; j++)
            with_key += ims_tag_has_key(img->tags.items[j], k);
        if (with_key == 1 && ims_strlist_contains(&img->tags, native)) {
            free(native);
            continue;
        }
        drop(&img->tags, k, NULL);
        ims_strlist_add(&img->tags, native);
        free(native);
        *changed = true;
    }
    size_t after = distinct_keys(&img->tags);
    if (after > IMS_TAGS_PER_IMAGE_MAX && after > before)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0116", "An image can have at most %d tags (image %s).",
                             IMS_TAGS_PER_IMAGE_MAX, img->id);
    if (img->tags.n > IMS_IMAGE_TAGS_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0116", "An image can have at most %d tags (image %s).",
                             IMS_IMAGE_TAGS_MAX, img->id);
    return IMS_OK;
}

static enum ims_rc edit_remove(struct ims_image *img, const struct ims_kvlist *pairs, bool must_exist, bool *changed,
                               struct ims_err *err)
{
    for (size_t i = 0; i < pairs->n; i++) {
        size_t gone = drop(&img->tags, pairs->items[i].key, pairs->items[i].value);
        if (!gone && must_exist)
            return ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0115", "Image %s has no tag with key %.200s.", img->id,
                                 pairs->items[i].key);
        *changed = *changed || gone;
    }
    return IMS_OK;
}

static enum ims_rc edit(struct ims_service *svc, const struct ims_principal *p, const char *id,
                        const struct ims_kvlist *pairs, tag_edit_fn fn, bool flag, struct ims_err *err)
{
    struct ims_image_edit e;
    enum ims_rc rc = ims_image_edit_begin(svc, p, id, &e, err);
    if (rc != IMS_OK)
        return rc;
    bool changed = false;
    if (!ims_images_can_modify(p, &e.image))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0047",
                           "This operation can be performed only by the image owner (image %s).", id);
    if (rc == IMS_OK)
        rc = fn(&e.image, pairs, flag, &changed, err);
    if (rc != IMS_OK || !changed)
        return ims_image_edit_end(&e, rc, err);
    return ims_image_edit_commit(&e, NULL, err);
}

enum ims_rc ims_image_tags_set(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               const struct ims_kvlist *pairs, struct ims_err *err)
{
    return edit(svc, p, id, pairs, edit_set, false, err);
}

enum ims_rc ims_image_tags_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                  const struct ims_kvlist *pairs, bool must_exist, struct ims_err *err)
{
    return edit(svc, p, id, pairs, edit_remove, must_exist, err);
}

static int cmp_kv(const void *a, const void *b)
{
    const struct ims_kv *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : strcmp(x->value, y->value);
}

enum ims_rc ims_project_tags(struct ims_service *svc, const char *project_id, struct ims_kvlist *ret,
                             struct ims_err *err)
{
    struct ims_tagged_image *v;
    size_t n;
    enum ims_rc rc = ims_repo_owner_tagged_images(ims_db_conn(svc->db), project_id, &v, &n, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_kvlist all = {0};
    for (size_t i = 0; i < n; i++)
        ims_tags_to_pairs(&v[i].tags, &all);
    ims_tagged_image_array_free(v, n);
    if (all.n)
        qsort(all.items, all.n, sizeof(*all.items), cmp_kv);
    for (size_t i = 0; i < all.n; i++)
        if (i == 0 || cmp_kv(&all.items[i - 1], &all.items[i]))
            ims_kvlist_add(ret, all.items[i].key, all.items[i].value);
    ims_kvlist_release(&all);
    return IMS_OK;
}

enum ims_rc ims_images_by_tag(struct ims_service *svc, const char *project_id, const struct ims_tag_query *q,
                              struct ims_tagged_image **ret, size_t *ret_n, int64_t *ret_total,
                              struct ims_err *err)
{
    struct ims_tagged_image *v;
    size_t n;
    enum ims_rc rc = ims_repo_owner_tagged_images(ims_db_conn(svc->db), project_id, &v, &n, err);
    if (rc != IMS_OK)
        return rc;
    /* Keep the matches, in order, at the front. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (ims_tag_query_match(q, v[i].id, v[i].name, &v[i].tags)) {
            if (kept != i)
                v[kept] = v[i];
            kept++;
        } else {
            free(v[i].name);
            ims_strlist_release(&v[i].tags);
        }
    }
    *ret_total = (int64_t)kept;
    /* The page. */
    size_t from = q->count ? kept : (size_t)(q->offset < (int64_t)kept ? q->offset : (int64_t)kept);
    size_t to = q->count ? kept : (size_t)(kept - from > (size_t)q->limit ? from + (size_t)q->limit : kept);
    for (size_t i = 0; i < kept; i++) {
        if (i >= from && i < to)
            continue;
        free(v[i].name);
        ims_strlist_release(&v[i].tags);
    }
    if (from)
        memmove(v, v + from, (to - from) * sizeof(*v));
    *ret = v;
    *ret_n = to - from;
    return IMS_OK;
}
