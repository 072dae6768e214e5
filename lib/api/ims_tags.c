/* SPDX-License-Identifier: Apache-2.0
 * The IMS image tag calls (reference ims-api/ims_apis/image_tagging/):
 *   PUT  /v1/cloudimages/tags                              add or modify a tag
 *   GET  /v1/cloudimages/tags                              tags of the images a list query selects
 *   POST /v2/{project_id}/images/resource_instances/action query images by tag (filter | count)
 *   POST /v2/{project_id}/images/{image_id}/tags/action    batch create | delete
 *   POST /v2/{project_id}/images/{image_id}/tags           add one
 *   DELETE /v2/{project_id}/images/{image_id}/tags/{key}   delete one (404 when missing)
 *   GET  /v2/{project_id}/images/{image_id}/tags           tags of an image
 *   GET  /v2/{project_id}/images/tags                      all tags of the project
 * Tags are the native ones, read as key=value (include/ims/tags.h). The
 * route table authorizes before these run; {project_id} must be the
 * caller's project (400 IMG.0030). */
#include <stdlib.h>
#include <string.h>

#include "api-int.h"
#include "ims/config.h"
#include "ims/image.h"
#include "ims/image_tags.h"
#include "ims/images.h"
#include "ims/query.h"
#include "ims/tags.h"

#define V1_TAGS_LIMIT_DEFAULT 500 /* the reference's default page of images */

/* The IMS checks beyond the route's actions (none apply to these routes
 * today; kept so a table change reaches them), then the path's project. */
static bool admit(struct ims_request *req, bool project_in_path)
{
    if (!api_ims_admitted(req, false))
        return false;
    if (project_in_path && !ims_streq(ims_req_param(req, 0), req->principal->project_id)) {
        struct ims_err err = {0};
        ims_fail_code(&err, IMS_E_BADREQ, "IMG.0030", "The project ID %.80s in the URL is not the project of the token.",
                      ims_req_param(req, 0));
        api_fail(req, IMS_E_BADREQ, &err);
        return false;
    }
    return true;
}

static const char *body_of(struct ims_request *req)
{
    return req->body.data ? req->body.data : "";
}

static void done(struct ims_request *req, enum ims_rc rc, struct ims_err *err)
{
    if (rc == IMS_OK)
        ims_resp_empty(req, 204);
    else if (rc == IMS_E_NOTFOUND && err->code[0]) /* a tag, not the image, is missing */
        api_ims_fail(req, 404, err->code, err->msg);
    else
        api_fail(req, rc, err);
}

void api_ims_tags_v1_put(struct ims_request *req)
{
    if (!admit(req, false))
        return;
    struct ims_err err = {0};
    char *id = NULL, *k = NULL, *v = NULL;
    enum ims_rc rc = ims_tag_v1_parse(body_of(req), req->body.len, &id, &k, &v, &err);
    if (rc == IMS_OK) {
        struct ims_kvlist pairs = {0};
        ims_kvlist_add(&pairs, k, v);
        rc = ims_image_tags_set(req->svc, req->principal, id, &pairs, &err);
        ims_kvlist_release(&pairs);
    }
    free(id);
    free(k);
    free(v);
    done(req, rc, &err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void api_ims_tags_v1_list(struct ims_request *req)
{
    if (!admit(req, false))
        return;
    int64_t max = req->svc->cfg->list_limit_max;
    struct ims_query_limits lim = {.default_limit = V1_TAGS_LIMIT_DEFAULT < max ? V1_TAGS_LIMIT_DEFAULT : max,
                                   .max_limit = max};
    /* "page" (the reference's example) is not an image attribute. */
    struct ims_kvlist params = {0};
    for (size_t i = 0; i < req->query.n; i++)
        if (strcmp(req->query.items[i].key, "page"))
            ims_kvlist_add(&params, req->query.items[i].key, req->query.items[i].value);
    struct ims_image_query q;
    struct ims_err err = {0};
    enum ims_rc rc = ims_image_query_parse_dialect(&params, &lim, IMS_QUERY_IMS, &q, &err);
    ims_kvlist_release(&params);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_image *imgs = NULL;
    size_t n = 0;
    rc = ims_images_list(req->svc, req->principal, &q, &imgs, &n, &err);
    ims_image_query_release(&q);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_strlist all = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < imgs[i].tags.n; j++)
            if (!ims_strlist_contains(&all, imgs[i].tags.items[j]))
                ims_strlist_add(&all, imgs[i].tags.items[j]);
    ims_image_array_free(imgs, n);
    if (all.n)
        qsort(all.items, all.n, sizeof(*all.items), cmp_str);
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_kstrlist(&w, "tags", &all);
    ims_jw_obj_end(&w);
    ims_strlist_release(&all);
}

static void pair_json(struct ims_jw *w, const char *key, const char *value)
{
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "key", key);
    ims_jw_kstr(w, "value", value ? value : "");
    ims_jw_obj_end(w);
}

void api_ims_tags_query(struct ims_request *req)
{
    if (!admit(req, true))
        return;
    struct ims_err err = {0};
    struct ims_tag_query q;
    enum ims_rc rc = ims_tag_query_parse(body_of(req), req->body.len, &q, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_tagged_image *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    rc = ims_images_by_tag(req->svc, req->principal->project_id, &q, &v, &n, &total, &err);
    bool count = q.count;
    ims_tag_query_release(&q);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_kint(&w, "total_count", total);
    if (!count) {
        ims_jw_key(&w, "resources");
        ims_jw_arr_begin(&w);
        for (size_t i = 0; i < n; i++) {
            ims_jw_obj_begin(&w);
            ims_jw_kstr(&w, "resource_id", v[i].id);
            ims_jw_key(&w, "resource_detail");
            ims_jw_obj_begin(&w);
            ims_jw_kstr(&w, "status", v[i].status);
            ims_jw_obj_end(&w);
            ims_jw_key(&w, "tags");
            ims_jw_arr_begin(&w);
            struct ims_kvlist pairs = {0};
            ims_tags_to_pairs(&v[i].tags, &pairs);
            for (size_t j = 0; j < pairs.n; j++)
                pair_json(&w, pairs.items[j].key, pairs.items[j].value);
            ims_kvlist_release(&pairs);
            ims_jw_arr_end(&w);
            ims_jw_kstr(&w, "resource_name", v[i].name ? v[i].name : "");
            ims_jw_obj_end(&w);
        }
        ims_jw_arr_end(&w);
    }
    ims_jw_obj_end(&w);
    ims_tagged_image_array_free(v, n);
}

void api_ims_tags_batch(struct ims_request *req)
{
    if (!admit(req, true))
        return;
    struct ims_err err = {0};
    struct ims_tag_batch b;
    enum ims_rc rc = ims_tag_batch_parse(body_of(req), req->body.len, &b, &err);
    if (rc == IMS_OK) {
        const char *id = ims_req_param(req, 1);
        rc = b.create ? ims_image_tags_set(req->svc, req->principal, id, &b.tags, &err)
                      : ims_image_tags_remove(req->svc, req->principal, id, &b.tags, false, &err);
        ims_tag_batch_release(&b);
    }
    done(req, rc, &err);
}

void api_ims_tags_add(struct ims_request *req)
{
    if (!admit(req, true))
        return;
    struct ims_err err = {0};
    char *k = NULL, *v = NULL;
    enum ims_rc rc = ims_tag_one_parse(body_of(req), req->body.len, &k, &v, &err);
    if (rc == IMS_OK) {
        struct ims_kvlist pairs = {0};
        ims_kvlist_add(&pairs, k, v);
        rc = ims_image_tags_set(req->svc, req->principal, ims_req_param(req, 1), &pairs, &err);
        ims_kvlist_release(&pairs);
    }
    free(k);
    free(v);
    done(req, rc, &err);
}

void api_ims_tags_delete(struct ims_request *req)
{
    if (!admit(req, true))
        return;
    struct ims_err err = {0};
    /* The key is not checked (remaining tags of any form must go). */
    struct ims_kvlist pairs = {0};
    ims_kvlist_add(&pairs, ims_req_param(req, 2), NULL);
    enum ims_rc rc = ims_image_tags_remove(req->svc, req->principal, ims_req_param(req, 1), &pairs, true, &err);
    ims_kvlist_release(&pairs);
    done(req, rc, &err);
}

void api_ims_tags_show(struct ims_request *req)
{
    if (!admit(req, true))
        return;
    struct ims_err err = {0};
    struct ims_kvlist pairs = {0};
    enum ims_rc rc = ims_image_tags_get(req->svc, req->principal, ims_req_param(req, 1), &pairs, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "tags");
    ims_jw_arr_begin(&w);
    for (size_t i = 0; i < pairs.n; i++)
        pair_json(&w, pairs.items[i].key, pairs.items[i].value);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_kvlist_release(&pairs);
}

void api_ims_tags_project(struct ims_request *req)
{
    if (!admit(req, true))
        return;
    struct ims_err err = {0};
    struct ims_kvlist pairs = {0};
    enum ims_rc rc = ims_project_tags(req->svc, req->principal->project_id, &pairs, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    /* Sorted by key: one element per key with its values. */
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "tags");
    ims_jw_arr_begin(&w);
    for (size_t i = 0; i < pairs.n;) {
        size_t j = i;
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "key", pairs.items[i].key);
        ims_jw_key(&w, "values");
        ims_jw_arr_begin(&w);
        for (; j < pairs.n && !strcmp(pairs.items[j].key, pairs.items[i].key); j++)
            ims_jw_str(&w, pairs.items[j].value);
        ims_jw_arr_end(&w);
        ims_jw_obj_end(&w);
        i = j;
    }
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_kvlist_release(&pairs);
}
