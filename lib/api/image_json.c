/* SPDX-License-Identifier: Apache-2.0
 * The Glance v2 image document: core attributes (null when unset), links,
 * tags, then every extra property as a top-level string. Every field the
 * IMS reference documents for it (spec/image-fields.tsv) is a core
 * attribute here or a property every image gets when it is made
 * (lib/core/images.c). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/image.h"
#include "ims/image_stores.h"
#include "ims/service.h"

/* About what an image without custom properties takes in any of the APIs. */
#define IMAGE_JSON_SIZE 1536

/* One allocation for the page instead of doubling from 256 bytes: each
 * growth past 1 KiB made glibc consolidate its fast bins (2.6 % of a list
 * request's cycles). */
struct ims_buf *api_image_page_buf(struct ims_request *req, size_t n)
{
    struct ims_buf *b = ims_resp_json_buf(req, 200);
    ims_buf_reserve(b, (n + 1) * IMAGE_JSON_SIZE);
    return b;
}

void api_location_items(struct ims_jw *w, const struct ims_request *req, const struct ims_image *img)
{
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(req->svc, img, locs, IMS_ARRAY_SIZE(locs));
    for (size_t i = 0; i < n; i++) {
        ims_jw_obj_begin(w);
        ims_jw_kstr(w, "url", locs[i].url);
        ims_jw_key(w, "metadata");
        char key[64];
        snprintf(key, sizeof(key), "%s%s", IMS_PROP_META_PREFIX, locs[i].store);
        const char *meta = locs[i].store[0] ? ims_kvlist_get(&img->props, key) : NULL;
        if (meta) {
            ims_jw_raw(w, meta, strlen(meta)); /* a JSON object, checked when written */
        } else {
            ims_jw_obj_begin(w);
            if (locs[i].store[0] && ims_stores_named(req->svc))
                ims_jw_kstr(w, "store", locs[i].store);
            ims_jw_obj_end(w);
        }
        ims_jw_obj_end(w);
    }
}

/* Glance's locations and direct_url, behind its switches: the image's
 * locations in imsd's stores (<store id>://<key>, relative to the store: no
 * host path; its own first, then its copies in other stores), each with
 * its metadata (kept as written, else {"store": id} where stores are
 * named, as Glance's multi-store writes it), shown as Glance's
 * get_image_location rule allows (admin, or the image's project); anyone
 * else sees an empty list and no direct_url, as Glance answers them. */
static void locations_json(struct ims_jw *w, const struct ims_image *img, const struct ims_request *req)
{
    const struct ims_config *cfg = req->svc->cfg;
    const struct ims_principal *p = req->principal;
    struct ims_image_location locs[IMS_STORES_MAX + 1];
    size_t n = ims_image_locations(req->svc, img, locs, IMS_ARRAY_SIZE(locs));
    bool visible = n && p && (p->is_admin || (p->project_id[0] && ims_streq(img->owner, p->project_id)));
    if (cfg->show_multiple_locations) {
        ims_jw_key(w, "locations");
        ims_jw_arr_begin(w);
        if (visible)
            api_location_items(w, req, img);
        ims_jw_arr_end(w);
    }
    if (cfg->show_image_direct_url && visible)
        ims_jw_kstr(w, "direct_url", locs[0].url);
}

/* Glance's `stores` with several stores configured: the ids of those
 * holding the image's data, comma-separated (an image without data has
 * none). */
static void stores_json(struct ims_jw *w, const struct ims_image *img, const struct ims_request *req)
{
    char *list = ims_image_stores_list(req->svc, img);
    if (*list)
        ims_jw_kstr(w, "stores", list);
    free(list);
}

static void render(struct ims_jw *w, const struct ims_image *img, const struct ims_request *glance_req)
{
    char created[21], updated[21], link[64];
    ims_time_iso(img->created_at, created);
    ims_time_iso(img->updated_at, updated);
    ims_jw_obj_begin(w);
    ims_jw_kstr_lit(w, "id", img->id);
    ims_jw_kstr_lit(w, "name", img->name);
    ims_jw_kstr_lit(w, "status", img->status);
    ims_jw_kstr_lit(w, "visibility", img->visibility);
    ims_jw_kbool_lit(w, "protected", img->protected_);
    ims_jw_kbool_lit(w, "os_hidden", img->os_hidden);
    ims_jw_kstr_lit(w, "checksum", img->checksum);
    ims_jw_kstr_lit(w, "os_hash_algo", img->os_hash_algo);
    ims_jw_kstr_lit(w, "os_hash_value", img->os_hash_value);
    ims_jw_kstr_lit(w, "owner", img->owner);
    ims_jw_key_lit(w, "size");
    if (img->size >= 0)
        ims_jw_int(w, img->size);
    else
        ims_jw_null(w);
    ims_jw_key_lit(w, "virtual_size");
    if (img->virtual_size >= 0)
        ims_jw_int(w, img->virtual_size);
    else
        ims_jw_null(w);
    ims_jw_kint_lit(w, "min_ram", img->min_ram);
    ims_jw_kint_lit(w, "min_disk", img->min_disk);
    ims_jw_kstr_lit(w, "container_format", img->container_format);
    ims_jw_kstr_lit(w, "disk_format", img->disk_format);
    ims_jw_kstr_lit(w, "created_at", created);
    ims_jw_kstr_lit(w, "updated_at", updated);
    ims_jw_kstrlist(w, "tags", &img->tags);
    /* "/v2/images/<id>" and ".../file" without snprintf (two per image in a list) */
    size_t idlen = strlen(img->id);
    memcpy(link, "/v2/images/", 11);
    memcpy(link + 11, img->id, idlen);
    memcpy(link + 11 + idlen, "/file", 6);
    ims_jw_kstrn_lit(w, IMS_JW_LIT("self"), link, 11 + idlen);
    ims_jw_kstr_lit(w, "file", link);
    ims_jw_kstr_lit(w, "schema", "/v2/schemas/image");
    const char *ep = img->enterprise_project_id ? img->enterprise_project_id : "0";
    ims_jw_kstr_lit(w, "enterprise_project_id", ep);
    /* The native list's name for it (spec/image-fields.tsv); read-only, so
     * no property of that name exists to repeat it. */
    ims_jw_kstr_lit(w, "_sys_enterprise_project_id", ep);
    bool named = glance_req && ims_stores_named(glance_req->svc);
    if (glance_req)
        locations_json(w, img, glance_req);
    if (named)
        stores_json(w, img, glance_req);
    for (size_t i = 0; i < img->props.n; i++) {
        if (ims_image_prop_hidden(img->props.items[i].key))
            continue;
        if (named && ims_streq(img->props.items[i].key, "stores")) /* an older property of that name */
            continue;
        ims_jw_kstr(w, img->props.items[i].key, img->props.items[i].value);
    }
    api_image_defaults_json(w, &img->props);
    ims_jw_obj_end(w);
}

void api_image_json(struct ims_jw *w, const struct ims_image *img, const struct ims_request *glance_req)
{
    const struct ims_config *cfg = glance_req ? glance_req->svc->cfg : NULL;
    if (api_image_cache_emit(w, cfg, API_DOC_NATIVE, img))
        return;
    size_t start = w->out->len;
    render(w, img, glance_req);
    api_image_cache_keep(cfg, API_DOC_NATIVE, img, w, start);
}

/* Every shown default as object members, serialized once: thirty keys
 * and values escaped and written per image were a fifth of a list
 * request's cycles. */
static struct ims_buf all_defaults;
static pthread_once_t all_defaults_once = PTHREAD_ONCE_INIT;

static void all_defaults_build(void)
{
    struct ims_jw w;
    ims_buf_init(&all_defaults, 1 << 16);
    ims_jw_init(&w, &all_defaults);
    ims_jw_obj_begin(&w);
    for (size_t i = 0; i < ims_image_nshown_defaults; i++)
        ims_jw_kstr(&w, ims_image_shown_defaults[i].key, ims_image_shown_defaults[i].value);
    ims_jw_obj_end(&w);
}

void api_image_defaults_json(struct ims_jw *w, const struct ims_kvlist *props)
{
    uint64_t held = ims_image_defaults_held(props);
    size_t off = w->out->len;
    const char *shared;
    size_t shared_len;
    if (!held) {
        pthread_once(&all_defaults_once, all_defaults_build);
        /* the members between the object's braces */
        ims_jw_members_raw(w, all_defaults.data + 1, all_defaults.len - 2);
    } else if (api_image_cache_shared_defaults(held, &shared, &shared_len)) {
        /* the bytes the loop below wrote for an earlier image lacking the
         * same defaults (an active image holds active_at: most of a
         * catalogue) */
        ims_jw_members_raw(w, shared, shared_len);
    } else {
        for (size_t i = 0; i < ims_image_nshown_defaults; i++)
            if (!(held & UINT64_C(1) << i))
                ims_jw_kstr(w, ims_image_shown_defaults[i].key, ims_image_shown_defaults[i].value);
    }
    api_image_cache_defaults_written(w->out, off, held); /* kept once, not per document */
}
