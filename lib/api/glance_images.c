/* SPDX-License-Identifier: Apache-2.0
 * Glance v2 image calls: create, show, list, update (JSON patch), delete,
 * deactivate/reactivate, tags. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/patch.h"
#include "ims/query.h"

static void reply_image(struct ims_request *req, int status, const struct ims_image *img)
{
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    api_image_json(&w, img, req);
}

/* A create body is validated by the same rules as a patch: each attribute
 * becomes an "add" applied to a fresh image. Only `id` is create-only. */
enum ims_rc api_image_draft(json_t *body, const struct ims_principal *p, struct ims_image *img,
                            struct ims_err *err)
{
    if (!json_is_object(body))
        return ims_fail(err, IMS_E_BADREQ, "Request body must be a JSON object.");
    json_t *id = json_object_get(body, "id");
    if (id) {
        if (!json_is_string(id) || !ims_uuid_valid(json_string_value(id)))
            return ims_fail(err, IMS_E_BADREQ, "Invalid image id: must be a UUID.");
        snprintf(img->id, sizeof(img->id), "%s", json_string_value(id));
        for (char *c = img->id; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
    }
    json_t *ep = json_object_get(body, "enterprise_project_id");
    if (ep) {
        const char *v = json_string_value(ep);
        if (!v || (strcmp(v, "0") && !ims_uuid_valid(v)))
            return ims_fail(err, IMS_E_BADREQ, "Invalid enterprise_project_id: must be \"0\" or a UUID.");
        ims_set_str(&img->enterprise_project_id, v);
    }
    struct ims_patch patch = {0};
    patch.ops = ims_xcalloc(json_object_size(body) + 1, sizeof(*patch.ops));
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value)
    {
        /* Naming one's own project as owner is allowed at create (Glance). */
        if (ims_streq(key, "id") || ims_streq(key, "enterprise_project_id") ||
            (ims_streq(key, "owner") && ims_streq(json_string_value(value), p->project_id)))
            continue;
        patch.ops[patch.n++] = (struct ims_patch_op){.op = IMS_PATCH_ADD, .path = (char *)key, .value = value};
    }
    enum ims_rc rc = ims_patch_apply(&patch, img, p->is_admin, err);
    free(patch.ops); /* paths and values are borrowed from body */
    return rc;
}

void api_images_create(struct ims_request *req)
{
    json_t *body = api_json_body(req);
    if (!body)
        return;
    struct ims_image img;
    ims_image_init(&img);
    struct ims_err err = {0};
    enum ims_rc rc = api_image_draft(body, req->principal, &img, &err);
    json_decref(body);
    if (rc == IMS_OK)
        rc = ims_images_create(req->svc, req->principal, &img, &err);
    if (rc == IMS_OK)
        reply_image(req, 201, &img);
    else
        api_fail(req, rc, &err);
    ims_image_release(&img);
}

static void images_show(struct ims_request *req)
{
    struct ims_image img;
    struct ims_err err = {0};
    enum ims_rc rc = ims_images_get(req->svc, req->principal, ims_req_param(req, 0), &img, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    reply_image(req, 200, &img);
    ims_image_release(&img);
}

void api_images_show(struct ims_request *req) { api_answer_kept(req, images_show); }

static struct ims_query_limits limits(struct ims_request *req)
{
    return (struct ims_query_limits){.default_limit = req->svc->cfg->list_limit_default,
                                     .max_limit = req->svc->cfg->list_limit_max};
}

void api_url_encode(struct ims_buf *b, const char *s)
{
    static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~:,";
    for (; s && *s; s++) {
        if (strchr(unreserved, *s))
            ims_buf_addc(b, *s);
        else
            ims_buf_printf(b, "%%%02X", (unsigned char)*s);
    }
}

void api_link_query(struct ims_buf *b, const struct ims_kvlist *params)
{
    for (size_t i = 0; i < params->n; i++) {
        if (ims_streq(params->items[i].key, "marker"))
            continue;
        ims_buf_addc(b, b->len ? '&' : '?');
        api_url_encode(b, params->items[i].key);
        ims_buf_addc(b, '=');
        api_url_encode(b, params->items[i].value);
    }
}

void api_images_page(struct ims_request *req, const struct ims_query_limits *lim, enum ims_query_dialect d,
                     enum api_doc_kind kind, const struct api_page_render *render)
{
    struct ims_image_query q;
    struct ims_err err = {0};
    enum ims_rc rc = ims_image_query_parse_dialect(&req->query, lim, d, &q, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct api_page_docs docs;
    bool kept = api_page_docs_init(&docs, req, kind);
    if (kept) {
        q.known = api_page_docs_known;
        q.known_ctx = &docs;
    }
    struct ims_image *imgs = NULL;
    size_t n = 0;
    rc = ims_images_list(req->svc, req->principal, &q, &imgs, &n, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
    } else {
        struct ims_jw w;
        ims_jw_init(&w, api_image_page_buf(req, n));
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, "images");
        ims_jw_arr_begin(&w);
        for (size_t i = 0; i < n; i++)
            if (!(kept && api_page_doc_emit(&w, &docs, &imgs[i]))) /* a stub always has its document */
                render->image(&w, req, &imgs[i]);
        ims_jw_arr_end(&w);
        if (render->links)
            render->links(&w, req, &q, imgs, n);
        ims_jw_obj_end(&w);
        ims_image_array_free(imgs, n);
    }
    ims_image_query_release(&q);
    if (kept)
        api_page_docs_release(&docs);
}

static void native_json(struct ims_jw *w, const struct ims_request *req, struct ims_image *img)
{
    api_image_json(w, img, req);
}

/* Glance's first, next (a full page may have a successor: linked with its
 * last id) and schema. */
static void native_links(struct ims_jw *w, const struct ims_request *req, const struct ims_image_query *q,
                         const struct ims_image *imgs, size_t n)
{
    struct ims_buf qs;
    ims_buf_init(&qs, 64 * 1024);
    api_link_query(&qs, &req->query);
    struct ims_buf link;
    ims_buf_init(&link, 128 * 1024);
    ims_buf_printf(&link, "/v2/images%s", qs.len ? qs.data : "");
    ims_jw_kstr(w, "first", link.data);
    if (q->limit > 0 && n == (size_t)q->limit) {
        ims_buf_printf(&link, "%smarker=%s", qs.len ? "&" : "?", imgs[n - 1].id);
        ims_jw_kstr(w, "next", link.data);
    }
    ims_jw_kstr(w, "schema", "/v2/schemas/images");
    ims_buf_release(&link);
    ims_buf_release(&qs);
}

static void images_list(struct ims_request *req)
{
    struct ims_query_limits lim = limits(req);
    static const struct api_page_render native = {native_json, native_links};
    api_images_page(req, &lim, IMS_QUERY_GLANCE, API_DOC_NATIVE, &native);
}

void api_images_list(struct ims_request *req) { api_answer_kept(req, images_list); }

void api_images_update(struct ims_request *req)
{
    const char *ct = ims_req_header(req, "Content-Type");
    struct ims_patch patch;
    struct ims_err err = {0};
    char media[128] = "";
    if (ct)
        snprintf(media, sizeof(media), "%.*s", (int)strcspn(ct, "; \t"), ct);
    enum ims_rc rc = ims_patch_parse(media, req->body.data ? req->body.data : "", req->body.len, &patch, &err);
    if (rc != IMS_OK) {
        if (rc == IMS_E_MEDIA)
            ims_resp_header(req, "Accept-Patch", IMS_PATCH_MEDIA_V21 ", " IMS_PATCH_MEDIA_V20);
        api_fail(req, rc, &err);
        return;
    }
    struct ims_image img;
    rc = ims_images_patch(req->svc, req->principal, ims_req_param(req, 0), &patch, &img, &err);
    ims_patch_release(&patch);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    reply_image(req, 200, &img);
    ims_image_release(&img);
}

static void reply_rc(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int ok_status)
{
    if (rc == IMS_OK)
        ims_resp_empty(req, ok_status);
    else
        api_fail(req, rc, err);
}

void api_images_delete(struct ims_request *req)
{
    struct ims_err err = {0};
    reply_rc(req, ims_images_delete(req->svc, req->principal, ims_req_param(req, 0), &err), &err, 204);
}

void api_images_deactivate(struct ims_request *req)
{
    struct ims_err err = {0};
    reply_rc(req, ims_images_deactivate(req->svc, req->principal, ims_req_param(req, 0), true, &err), &err, 204);
}

void api_images_reactivate(struct ims_request *req)
{
    struct ims_err err = {0};
    reply_rc(req, ims_images_deactivate(req->svc, req->principal, ims_req_param(req, 0), false, &err), &err, 204);
}

void api_tags_add(struct ims_request *req)
{
    struct ims_err err = {0};
    reply_rc(req, ims_images_tag(req->svc, req->principal, ims_req_param(req, 0), ims_req_param(req, 1), true, &err),
             &err, 204);
}

void api_tags_delete(struct ims_request *req)
{
    struct ims_err err = {0};
    reply_rc(req, ims_images_tag(req->svc, req->principal, ims_req_param(req, 0), ims_req_param(req, 1), false, &err),
             &err, 204);
}
