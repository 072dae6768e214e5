/* SPDX-License-Identifier: Apache-2.0
 * Keystone v3 token API (password method): enough for keystoneauth, the
 * openstack CLI and openstacksdk to log in and find the image endpoint. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/identity.h"

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void domain_ref(json_t *obj, const char **id, const char **name)
{
    json_t *d = json_object_get(obj, "domain");
    *id = jstr(d, "id");
    *name = jstr(d, "name");
}

static void write_domain(struct ims_jw *w, const char *key, const struct ims_domain *d)
{
    ims_jw_key(w, key);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", d->id);
    ims_jw_kstr(w, "name", d->name);
    ims_jw_obj_end(w);
}

static void write_endpoint(struct ims_jw *w, const char *iface, const char *region, const char *url,
                           const char *service)
{
    char id[80];
    snprintf(id, sizeof(id), "%s-%s", service, iface);
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", id);
    ims_jw_kstr(w, "interface", iface);
    ims_jw_kstr(w, "region", region);
    ims_jw_kstr(w, "region_id", region);
    ims_jw_kstr(w, "url", url);
    ims_jw_obj_end(w);
}

static void write_service(struct ims_jw *w, const char *type, const char *name, const char *region, const char *url)
{
    static const char *const ifaces[] = {"public", "internal", "admin"};
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", name);
    ims_jw_kstr(w, "type", type);
    ims_jw_kstr(w, "name", name);
    ims_jw_key(w, "endpoints");
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ifaces); i++)
        write_endpoint(w, ifaces[i], region, url, name);
    ims_jw_arr_end(w);
    ims_jw_obj_end(w);
}

static void write_token(struct ims_request *req, int status, const struct ims_principal *p,
                        const struct ims_token_info *ti)
{
    char issued[28], expires[28], audit[23];
    ims_time_iso_us(p->issued_at, issued);
    ims_time_iso_us(p->expires_at, expires);
    ims_b64url_encode((const unsigned char *)p->token_id, 16, audit, sizeof(audit));
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "token");
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "methods");
    ims_jw_arr_begin(&w);
    ims_jw_str(&w, "password");
    ims_jw_arr_end(&w);
    ims_jw_key(&w, "user");
    ims_jw_obj_begin(&w);
    ims_jw_kstr(&w, "id", ti->user.id);
    ims_jw_kstr(&w, "name", ti->user.name);
    write_domain(&w, "domain", &ti->user_domain);
    ims_jw_knull(&w, "password_expires_at");
    ims_jw_obj_end(&w);
    ims_jw_key(&w, "audit_ids");
    ims_jw_arr_begin(&w);
    ims_jw_str(&w, audit);
    ims_jw_arr_end(&w);
    ims_jw_kstr(&w, "issued_at", issued);
    ims_jw_kstr(&w, "expires_at", expires);
    bool scoped = false;
    if (ti->project.id) {
        scoped = true;
        ims_jw_key(&w, "project");
        ims_jw_obj_begin(&w);
        ims_jw_kstr(&w, "id", ti->project.id);
        ims_jw_kstr(&w, "name", ti->project.name);
        write_domain(&w, "domain", &ti->project_domain);
        ims_jw_obj_end(&w);
        ims_jw_kbool(&w, "is_domain", false);
    } else if (ti->scope_domain.id) {
        scoped = true;
        write_domain(&w, "domain", &ti->scope_domain);
    }
    if (scoped) {
        ims_jw_key(&w, "roles");
        ims_jw_arr_begin(&w);
        for (size_t i = 0; i < ti->roles.n; i++) {
            ims_jw_obj_begin(&w);
            ims_jw_kstr(&w, "id", ti->roles.items[i]);
            ims_jw_kstr(&w, "name", ti->roles.items[i]);
            ims_jw_obj_end(&w);
        }
        ims_jw_arr_end(&w);
        const char *base = ims_req_base_url(req);
        char identity[300];
        snprintf(identity, sizeof(identity), "%s/v3", base);
        const char *region = ti->project.region ? ti->project.region : req->svc->cfg->region;
        ims_jw_key(&w, "catalog");
        ims_jw_arr_begin(&w);
        write_service(&w, "image", "glance", region, base);
        write_service(&w, "identity", "keystone", region, identity);
        ims_jw_arr_end(&w);
    }
    ims_jw_obj_end(&w);
    ims_jw_obj_end(&w);
}

enum ims_rc api_parse_auth(json_t *body, struct ims_auth_request *ar, struct ims_err *err)
{
    json_t *auth = json_object_get(body, "auth");
    json_t *identity = json_object_get(auth, "identity");
    json_t *methods = json_object_get(identity, "methods");
    if (!json_is_object(auth) || !json_is_object(identity) || !json_is_array(methods))
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'identity': 'methods' is a required property.");
    bool password = false;
    size_t i;
    json_t *m;
    json_array_foreach(methods, i, m) password = password || ims_streq(json_string_value(m), "password");
    if (!password)
        return ims_fail(err, IMS_E_UNAUTH, "Only the password authentication method is supported.");
    json_t *user = json_object_get(json_object_get(identity, "password"), "user");
    if (!json_is_object(user))
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'identity/password/user'.");
    ar->user_id = jstr(user, "id");
    ar->user_name = jstr(user, "name");
    ar->password = jstr(user, "password");
    domain_ref(user, &ar->user_domain_id, &ar->user_domain_name);
    json_t *scope = json_object_get(auth, "scope");
    if (json_is_object(scope)) {
        json_t *project = json_object_get(scope, "project");
        json_t *domain = json_object_get(scope, "domain");
        if (json_is_object(project)) {
            ar->project_id = jstr(project, "id");
            ar->project_name = jstr(project, "name");
            domain_ref(project, &ar->project_domain_id, &ar->project_domain_name);
            if (!ar->project_id && !ar->project_name)
                return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'scope/project'.");
        } else if (json_is_object(domain)) {
            ar->domain_id = jstr(domain, "id");
            ar->domain_name = jstr(domain, "name");
            if (!ar->domain_id && !ar->domain_name)
                return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'scope/domain'.");
        } else if (!json_is_null(scope)) {
            return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'scope'.");
        }
    } else if (scope && !json_is_string(scope)) { /* "unscoped" */
        return ims_fail(err, IMS_E_BADREQ, "Invalid input for field 'scope'.");
    }
    /* The names and ids are looked up and logged (a failed login names its
     * user): a newline in one would forge log lines. */
    const char *const names[] = {ar->user_id,          ar->user_name,    ar->user_domain_id, ar->user_domain_name,
                                 ar->project_id,       ar->project_name, ar->project_domain_id,
                                 ar->project_domain_name, ar->domain_id, ar->domain_name};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (names[k] && !ims_text_valid(names[k]))
            return ims_fail(err, IMS_E_BADREQ,
                            "Invalid input for field 'auth': a name or id is not valid text (control character).");
    return IMS_OK;
}

void api_tokens_create(struct ims_request *req)
{
    json_t *body = api_json_body(req);
    if (!body)
        return;
    struct ims_auth_request ar = {0};
    struct ims_principal p;
    struct ims_token_info ti;
    struct ims_err err = {0};
    char token[IMS_TOKEN_MAX + 1], source[64];
    ims_req_peer(req, source, sizeof(source));
    ar.source = source;
    enum ims_rc rc = api_parse_auth(body, &ar, &err);
    if (rc == IMS_OK)
        rc = ims_identity_authenticate(req->svc, &ar, &p, &err);
    if (rc == IMS_OK)
        rc = ims_identity_issue(req->svc, &p, token, sizeof(token), &err);
    if (rc == IMS_OK)
        rc = ims_identity_describe(req->svc, &p, &ti, &err);
    json_decref(body);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_resp_header(req, "X-Subject-Token", token);
    write_token(req, 201, &p, &ti);
    ims_token_info_release(&ti);
}

/* Validates X-Subject-Token; Keystone answers 404 for an invalid subject.
 * Only the token's owner and admins may see or revoke it (Keystone's
 * identity:validate_token and identity:revoke_token,
 * "rule:service_admin_or_token_subject"): anyone else gets 403. */
static bool subject(struct ims_request *req, struct ims_principal *ret)
{
    struct ims_err err = {0};
    const char *tok = ims_req_header(req, "X-Subject-Token");
    if (!tok) {
        ims_http_error(req, 400, "X-Subject-Token header is required.");
        return false;
    }
    enum ims_rc rc = ims_identity_validate(req->svc, tok, ret, &err);
    if (rc == IMS_E_UNAUTH) {
        ims_http_error(req, 404, "Could not find token.");
        return false;
    }
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return false;
    }
    const struct ims_principal *caller = req->principal;
    if (!caller || !(caller->is_admin || ims_streq(caller->user_id, ret->user_id))) {
        ims_fail(&err, IMS_E_FORBIDDEN,
                 "You are not authorized to perform the requested action: only the token's owner or an admin may.");
        api_fail(req, IMS_E_FORBIDDEN, &err);
        return false;
    }
    return true;
}

void api_tokens_show(struct ims_request *req)
{
    struct ims_principal p;
    if (!subject(req, &p))
        return;
    struct ims_token_info ti;
    struct ims_err err = {0};
    enum ims_rc rc = ims_identity_describe(req->svc, &p, &ti, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc == IMS_E_UNAUTH ? IMS_E_NOTFOUND : rc, &err);
        return;
    }
    ims_resp_header(req, "X-Subject-Token", ims_req_header(req, "X-Subject-Token"));
    write_token(req, 200, &p, &ti);
    ims_token_info_release(&ti);
}

void api_tokens_delete(struct ims_request *req)
{
    struct ims_principal p;
    if (!subject(req, &p))
        return;
    struct ims_err err = {0};
    enum ims_rc rc = ims_identity_revoke(req->svc, &p, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_resp_empty(req, 204);
}
