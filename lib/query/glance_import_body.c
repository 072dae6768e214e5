/* SPDX-License-Identifier: Apache-2.0
 * The body of Glance's POST /v2/images/{image_id}/import, as Glance 25's
 * deserializer reads it (_validate_import_body, get_stores_from_request),
 * with the type and text checks Glance leaves to later failures. Pure. */
#include <jansson.h>
#include <string.h>

#include "ims/import_request.h"

void ims_glance_import_body_release(struct ims_glance_import_body *b)
{
    if (!b)
        return;
    free(b->method);
    free(b->uri);
    ims_strlist_release(&b->stores);
    *b = (struct ims_glance_import_body){0};
}

/* Text of 1..max bytes fit to store and echo (ims_text_valid). */
static bool text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && ims_text_valid(s);
}

static enum ims_rc parse_stores(json_t *stores, struct ims_glance_import_body *b, struct ims_err *err)
{
    if (!json_is_array(stores))
        return ims_fail(err, IMS_E_BADREQ, "'stores' must be a list of store identifiers.");
    if (json_array_size(stores) > IMS_GLANCE_STORES_MAX)
        return ims_fail(err, IMS_E_BADREQ, "'stores' may name at most %d stores.", IMS_GLANCE_STORES_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(stores, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !text_ok(s, IMS_GLANCE_STORE_ID_MAX))
            return ims_fail(err, IMS_E_BADREQ, "'stores' must be a list of store identifiers.");
        if (!ims_strlist_contains(&b->stores, s))
            ims_strlist_add(&b->stores, s);
    }
    b->stores_given = true;
    return IMS_OK;
}

static enum ims_rc parse(json_t *body, struct ims_glance_import_body *b, struct ims_err *err)
{
    if (!json_is_object(body))
        return ims_fail(err, IMS_E_BADREQ, "Import request body must be a JSON object.");
    json_t *method = json_object_get(body, "method");
    if (!method)
        return ims_fail(err, IMS_E_BADREQ, "Import request requires a 'method' field.");
    if (!json_is_object(method))
        return ims_fail(err, IMS_E_BADREQ, "Import request's 'method' must be an object.");
    json_t *name = json_object_get(method, "name");
    if (!name)
        return ims_fail(err, IMS_E_BADREQ, "Import request requires a 'name' field.");
    const char *n = json_string_value(name);
    if (!n || !text_ok(n, 64))
        return ims_fail(err, IMS_E_BADREQ, "Unknown import method name.");
    b->method = ims_xstrdup(n);
    json_t *uri = json_object_get(method, "uri");
    if (uri && !json_is_null(uri)) {
        const char *u = json_string_value(uri);
        if (!u || !text_ok(u, IMS_GLANCE_URI_MAX))
            return ims_fail(err, IMS_E_BADREQ,
                            "URI for web-download does not pass filtering (not text of at most %d characters).",
                            IMS_GLANCE_URI_MAX);
        b->uri = ims_xstrdup(u);
    }
    b->all_stores_must_succeed = true;
    json_t *v = json_object_get(body, "all_stores_must_succeed");
    if (v) {
        if (!json_is_boolean(v))
            return ims_fail(err, IMS_E_BADREQ, "'all_stores_must_succeed' must be boolean value only");
        b->all_stores_must_succeed = json_is_true(v);
    }
    v = json_object_get(body, "all_stores");
    if (v) {
        if (!json_is_boolean(v))
            return ims_fail(err, IMS_E_BADREQ, "'all_stores' must be boolean value only");
        b->all_stores = json_is_true(v);
    }
    v = json_object_get(body, "stores");
    if (v && !json_is_null(v)) {
        enum ims_rc rc = parse_stores(v, b, err);
        if (rc != IMS_OK)
            return rc;
    }
    if (b->all_stores && b->stores_given)
        return ims_fail(err, IMS_E_BADREQ,
                        "All_stores parameter can't be used with x-image-meta-store header or stores parameter");
    return IMS_OK;
}

enum ims_rc ims_glance_import_parse(const char *body, size_t len, struct ims_glance_import_body *ret,
                                    struct ims_err *err)
{
    json_error_t je;
    json_t *root = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!root)
        return ims_fail(err, IMS_E_BADREQ, "Malformed JSON in request body.");
    struct ims_glance_import_body b = {0};
    enum ims_rc rc = parse(root, &b, err);
    json_decref(root);
    if (rc != IMS_OK) {
        ims_glance_import_body_release(&b);
        return rc;
    }
    *ret = b;
    return IMS_OK;
}
