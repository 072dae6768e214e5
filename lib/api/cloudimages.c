/* SPDX-License-Identifier: Apache-2.0
 * The IMS image calls over the same images as Glance (reference
 * ims-api/ims_apis/): GET /v2/cloudimages (the shared list query in its IMS
 * dialect), PATCH /v2/cloudimages/{image_id}, GET /v1/cloudimages/os_version
 * and GET /v1/cloudimages/quota. Errors take the IMS shape (route flag
 * IMS_ROUTE_IMS_ERRORS) with the codes the core names. */
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/image.h"
#include "ims/images.h"
#include "ims/os_version.h"
#include "ims/patch.h"
#include "ims/query.h"
#include "ims/quotas.h"

#define IMS_LIST_LIMIT_DEFAULT 500 /* the reference's default page */

/* The image document: Glance's, with __imagetype as the caller sees it:
 * gold for public images, shared for another project's image shared with
 * the caller, else the stored value (private by default). Kept per thread
 * under the image's state and whether the caller owns it (all that
 * decides __imagetype besides the image). */
static void cloudimage_json(struct ims_jw *w, const struct ims_request *req, struct ims_image *img)
{
    const struct ims_principal *p = req->principal;
    enum api_doc_kind kind = api_ims_doc_kind(p->project_id, img->owner);
    if (api_image_cache_emit(w, req->svc->cfg, kind, img))
        return;
    size_t start = w->out->len;
    if (ims_streq(img->visibility, "public"))
        ims_image_prop_show(img, "__imagetype", "gold");
    else if (kind == API_DOC_IMS_OTHER)
        ims_image_prop_show(img, "__imagetype", "shared");
    else if (!ims_kvlist_get(&img->props, "__imagetype"))
        ims_image_prop_show(img, "__imagetype", "private");
    api_image_json(w, img, NULL);
    api_image_cache_keep(req->svc->cfg, kind, img, w, start);
}

static void cloudimages_list(struct ims_request *req)
{
    int64_t max = req->svc->cfg->list_limit_max;
    struct ims_query_limits lim = {.default_limit = IMS_LIST_LIMIT_DEFAULT < max ? IMS_LIST_LIMIT_DEFAULT : max,
                                   .max_limit = max};
    static const struct api_page_render ims = {cloudimage_json, NULL};
    api_images_page(req, &lim, IMS_QUERY_IMS, API_DOC_IMS_OWN, &ims);
}

void api_cloudimages_list(struct ims_request *req) { api_answer_kept(req, cloudimages_list); }

void api_cloudimages_update(struct ims_request *req)
{
    struct ims_err err = {0};
    const char *data = req->body.data ? req->body.data : "";
    /* Authorization first: the image's enterprise project, and where a move
     * of /enterprise_project_id goes (the route's deferred action). */
    json_error_t je;
    json_t *body = req->body.len ? json_loadb(data, req->body.len, 0, &je) : NULL;
    enum ims_rc rc = api_ims_authorize(req, body, &err);
    json_decref(body);
    struct ims_patch patch = {0};
    char *move_to = NULL;
    if (rc == IMS_OK)
        rc = ims_cloudimage_patch_parse(data, req->body.len, &patch, &move_to, &err);
    struct ims_image img;
    if (rc == IMS_OK)
        rc = ims_cloudimages_update(req->svc, req->principal, ims_req_param(req, 0), &patch, move_to, &img, &err);
    ims_patch_release(&patch);
    free(move_to);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    cloudimage_json(&w, req, &img);
    ims_image_release(&img);
}

void api_cloudimages_os_versions(struct ims_request *req)
{
    static const char *const tags[] = {"bms", "uefi", "arm", "x86"};
    const char *tag = ims_kvlist_get(&req->query, "tag");
    if (tag) {
        bool known = false;
        for (size_t i = 0; i < IMS_ARRAY_SIZE(tags); i++)
            known = known || !strcmp(tag, tags[i]);
        if (!known) {
            struct ims_err err;
            ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "Invalid tag '%s': it must be bms, uefi, arm or x86.", tag);
            api_fail(req, IMS_E_BADREQ, &err);
            return;
        }
    }
    const struct ims_os_table *t = ims_os_table_builtin();
    bool *done = ims_xcalloc(t->n + 1, sizeof(*done));
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_arr_begin(&w);
    /* One element per platform, in the table's order. */
    for (size_t i = 0; i < t->n; i++) {
        if (done[i])
            continue;
        const char *platform = t->v[i].platform;
        bool open = false;
        for (size_t j = i; j < t->n; j++) {
            const struct ims_os_version *v = &t->v[j];
            if (strcmp(v->platform, platform) != 0)
                continue;
            done[j] = true;
            if (tag && !ims_os_version_has_tag(v, tag))
                continue;
            if (!open) {
                ims_jw_obj_begin(&w);
                ims_jw_kstr(&w, "platform", platform);
                ims_jw_key(&w, "version_list");
                ims_jw_arr_begin(&w);
                open = true;
            }
            ims_jw_obj_begin(&w);
            ims_jw_kstr(&w, "platform", v->platform);
            ims_jw_kstr(&w, "os_version_key", v->os_version);
            ims_jw_kstr(&w, "os_version", v->os_version);
            ims_jw_kint(&w, "os_bit", v->os_bit);
            ims_jw_kstr(&w, "os_type", v->os_type);
            ims_jw_obj_end(&w);
        }
        if (open) {
            ims_jw_arr_end(&w);
            ims_jw_obj_end(&w);
        }
    }
    ims_jw_arr_end(&w);
    free(done);
}

void api_cloudimages_quota(struct ims_request *req)
{
    struct ims_err err = {0};
    const char *project = req->principal->project_id;
    if (!project[0]) {
        ims_fail_code(&err, IMS_E_BADREQ, "IMG.0030", "A project-scoped token is required to query quotas.");
        api_fail(req, IMS_E_BADREQ, &err);
        return;
    }
    struct ims_quota_usage u;
    enum ims_rc rc = ims_quota_get(req->svc, project, &u, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "quotas");
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "resources");
    ims_jw_arr_begin(&w);
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "type", "image");
    ims_jw_kint(&w, "used", u.used);
    ims_jw_kint(&w, "quota", u.quota);
    ims_jw_kint(&w, "min", u.min);
    ims_jw_kint(&w, "max", u.max);
    ims_jw_obj_end(&w);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_jw_obj_end(&w);
}
