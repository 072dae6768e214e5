/* SPDX-License-Identifier: Apache-2.0
 * The deprecated Glance v1/v1.1 calls the reference keeps: image details
 * list, metadata in x-image-meta-* headers, delete. Same core, v1 shapes:
 * is_public instead of visibility, properties in their own object. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/config.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/query.h"

static void v1_time(int64_t t, char out[28])
{
    char iso[21];
    ims_time_iso(t, iso);
    snprintf(out, 28, "%.19s.000000", iso);
}

static void render_v1(struct ims_jw *w, const struct ims_image *img)
{
    char created[28], updated[28];
    v1_time(img->created_at, created);
    v1_time(img->updated_at, updated);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", img->id);
    ims_jw_kstr(w, "name", img->name);
    ims_jw_kstr(w, "status", img->status);
    ims_jw_kbool(w, "deleted", false);
    ims_jw_knull(w, "deleted_at");
    ims_jw_kstr(w, "container_format", img->container_format);
    ims_jw_kstr(w, "disk_format", img->disk_format);
    ims_jw_kstr(w, "created_at", created);
    ims_jw_kstr(w, "updated_at", updated);
    ims_jw_kint(w, "min_disk", img->min_disk);
    ims_jw_kint(w, "min_ram", img->min_ram);
    ims_jw_kbool(w, "protected", img->protected_);
    ims_jw_kstr(w, "checksum", img->checksum);
    ims_jw_kstr(w, "owner", img->owner);
    ims_jw_kbool(w, "is_public", ims_streq(img->visibility, "public"));
    ims_jw_key(w, "virtual_size");
    if (img->virtual_size >= 0)
        ims_jw_int(w, img->virtual_size);
    else
        ims_jw_null(w);
    ims_jw_key(w, "size");
    ims_jw_int(w, img->size >= 0 ? img->size : 0);
    ims_jw_key(w, "properties");
    ims_jw_obj_begin(w);
    for (size_t i = 0; i < img->props.n; i++)
        if (!ims_image_prop_hidden(img->props.items[i].key))
            ims_jw_kstr(w, img->props.items[i].key, img->props.items[i].value);
    api_image_defaults_json(w, &img->props);
    ims_jw_obj_end(w);
    ims_jw_obj_end(w);
}

/* Kept per thread under the image's state, as the native one. */
static void image_v1_json(struct ims_jw *w, const struct ims_request *req, struct ims_image *img)
{
    const struct ims_config *cfg = req->svc->cfg;
    if (api_image_cache_emit(w, cfg, API_DOC_V1, img))
        return;
    size_t start = w->out->len;
    render_v1(w, img);
    api_image_cache_keep(cfg, API_DOC_V1, img, w, start);
}

static void legacy_images_detail(struct ims_request *req)
{
    struct ims_query_limits lim = {.default_limit = req->svc->cfg->list_limit_default,
                                   .max_limit = req->svc->cfg->list_limit_max};
    static const struct api_page_render v1 = {image_v1_json, NULL};
    api_images_page(req, &lim, IMS_QUERY_GLANCE_V1, API_DOC_V1, &v1);
}

void api_legacy_images_detail(struct ims_request *req) { api_answer_kept(req, legacy_images_detail); }

/* Header names as Glance v1 writes them: X-Image-Meta-<Capitalized_name>. */
static void meta(struct ims_request *req, const char *prefix, const char *key, const char *value)
{
    char name[300];
    snprintf(name, sizeof(name), "%s%s", prefix, key);
    size_t plen = strlen(prefix);
    if (name[plen] >= 'a' && name[plen] <= 'z')
        name[plen] = (char)(name[plen] - 'a' + 'A');
    /* Header values cannot carry line breaks: such a property is left out. */
    if (value && !strpbrk(value, "\r\n"))
        ims_resp_header(req, name, value);
}

void api_legacy_image_head(struct ims_request *req)
{
    struct ims_image img;
    struct ims_err err = {0};
    enum ims_rc rc = ims_images_get(req->svc, req->principal, ims_req_param(req, 0), &img, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    static const char p[] = "X-Image-Meta-";
    char created[28], updated[28], num[24];
    v1_time(img.created_at, created);
    v1_time(img.updated_at, updated);
    meta(req, p, "id", img.id);
    meta(req, p, "name", img.name);
    meta(req, p, "status", img.status);
    meta(req, p, "deleted", "False");
    meta(req, p, "container_format", img.container_format);
    meta(req, p, "disk_format", img.disk_format);
    meta(req, p, "checksum", img.checksum);
    meta(req, p, "protected", img.protected_ ? "True" : "False");
    meta(req, p, "is_public", ims_streq(img.visibility, "public") ? "True" : "False");
    meta(req, p, "owner", img.owner);
    meta(req, p, "created_at", created);
    meta(req, p, "updated_at", updated);
    snprintf(num, sizeof(num), "%lld", (long long)img.min_disk);
    meta(req, p, "min_disk", num);
    snprintf(num, sizeof(num), "%lld", (long long)img.min_ram);
    meta(req, p, "min_ram", num);
    snprintf(num, sizeof(num), "%lld", (long long)(img.size >= 0 ? img.size : 0));
    meta(req, p, "size", num);
    for (size_t i = 0; i < img.props.n; i++)
        if (!ims_image_prop_hidden(img.props.items[i].key))
            meta(req, "X-Image-Meta-Property-", img.props.items[i].key, img.props.items[i].value);
    uint64_t held = ims_image_defaults_held(&img.props);
    for (size_t i = 0; i < ims_image_nshown_defaults; i++)
        if (!(held & UINT64_C(1) << i))
            meta(req, "X-Image-Meta-Property-", ims_image_shown_defaults[i].key, ims_image_shown_defaults[i].value);
    if (img.checksum)
        ims_resp_header(req, "ETag", img.checksum);
    ims_resp_empty(req, 200);
    req->resp.content_type = "text/html; charset=UTF-8";
    ims_image_release(&img);
}

void api_legacy_image_delete(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_images_delete(req->svc, req->principal, ims_req_param(req, 0), &err);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    else
        ims_resp_empty(req, 204);
}
