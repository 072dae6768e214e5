/* SPDX-License-Identifier: Apache-2.0
 * The compute admin API: the servers, volumes and backups of the compute
 * source, for cloud administrators (the admin role; anyone else 403):
 *   GET|POST /v1/admin/servers          GET|PATCH|DELETE /v1/admin/servers/{id}
 *   GET|POST /v1/admin/volumes          GET|DELETE /v1/admin/volumes/{id}
 *   GET|POST /v1/admin/backups          GET|DELETE /v1/admin/backups/{id}
 * Lists take ?project_id=. Not IMS routes (not in the permission table);
 * errors take the IMS shape with the codes the source names. */
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/kv.h"

static void volume_json(struct ims_jw *w, const struct ims_volume *v)
{
    char t[21];
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", v->id);
    ims_jw_kstr(w, "project_id", v->project_id);
    ims_jw_kstr(w, "server_id", v->server_id);
    ims_jw_key(w, "position");
    if (v->position >= 0)
        ims_jw_int(w, v->position);
    else
        ims_jw_null(w);
    ims_jw_kint(w, "size", (int64_t)v->size);
    ims_jw_kstr(w, "format", v->format);
    ims_jw_kstr(w, "disk", v->disk);
    ims_time_iso(v->created_at, t);
    ims_jw_kstr(w, "created_at", t);
    ims_jw_obj_end(w);
}

static void volumes_json(struct ims_jw *w, const struct ims_volume *v, size_t n)
{
    ims_jw_key(w, "volumes");
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        volume_json(w, &v[i]);
    ims_jw_arr_end(w);
}

static void server_json(struct ims_jw *w, const struct ims_server *s)
{
    char t[21];
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", s->id);
    ims_jw_kstr(w, "name", s->name);
    ims_jw_kstr(w, "project_id", s->project_id);
    ims_jw_kstr(w, "os_version", s->os_version);
    ims_jw_kstr(w, "state", ims_server_state_name(s->state));
    ims_jw_kstr(w, "firmware", ims_firmware_name(s->firmware));
    ims_jw_kint(w, "ram", s->ram_mb);
    volumes_json(w, s->volumes, s->nvolumes);
    ims_time_iso(s->created_at, t);
    ims_jw_kstr(w, "created_at", t);
    ims_time_iso(s->updated_at, t);
    ims_jw_kstr(w, "updated_at", t);
    ims_jw_obj_end(w);
}

static void backup_json(struct ims_jw *w, const struct ims_backup *b)
{
    char t[21];
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", b->id);
    ims_jw_kstr(w, "server_id", b->server_id);
    ims_jw_kstr(w, "project_id", b->project_id);
    ims_jw_kstr(w, "server_name", b->server_name);
    ims_jw_kstr(w, "os_version", b->os_version);
    ims_jw_kstr(w, "firmware", ims_firmware_name(b->firmware));
    volumes_json(w, b->volumes, b->nvolumes);
    ims_time_iso(b->created_at, t);
    ims_jw_kstr(w, "created_at", t);
    ims_jw_obj_end(w);
}

/* Cloud administrators only, before anything of the request is read. */
static bool admitted(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_compute_admin_check(req->principal, &err);
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return rc == IMS_OK;
}

/* ?project_id= of a list: a project id, or absent (every project). */
static bool list_project(struct ims_request *req, const char **ret)
{
    const char *p = ims_kvlist_get(&req->query, "project_id");
    if (p && !ims_project_id_valid(p)) {
        api_ims_fail(req, 400, "IMG.0001", "project_id must be a project id (32 hexadecimal digits).");
        return false;
    }
    *ret = p;
    return true;
}

/* {id} of the path: a UUID (the ids every source gives). */
static const char *path_id(struct ims_request *req, const char *what)
{
    const char *id = ims_req_param(req, 0);
    if (!ims_uuid_valid(id)) {
        struct ims_err err;
        ims_fail_code(&err, IMS_E_BADREQ, "IMG.0001", "The %s id must be a UUID.", what);
        api_fail(req, IMS_E_BADREQ, &err);
        return NULL;
    }
    return id;
}

static const char *body_data(struct ims_request *req) { return req->body.data ? req->body.data : ""; }

void api_admin_servers(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_jw w;
    if (req->method == IMS_POST) {
        json_t *body = NULL;
        struct ims_server_spec spec;
        const char *disks[IMS_SERVER_DISKS_MAX];
        struct ims_server s;
        enum ims_rc rc = api_compute_server_parse(body_data(req), req->body.len, &body, &spec, disks, &err);
        if (rc == IMS_OK)
            rc = ims_compute_server_add(req->svc, req->principal, &spec, &s, &err);
        json_decref(body);
        if (rc != IMS_OK) {
            api_fail(req, rc, &err);
            return;
        }
        ims_jw_init(&w, ims_resp_json_buf(req, 201));
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, "server");
        server_json(&w, &s);
        ims_jw_obj_end(&w);
        ims_server_release(&s);
        return;
    }
    const char *project = NULL;
    if (!list_project(req, &project))
        return;
    struct ims_server *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_server_list(req->svc, req->principal, project, &list, &n, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "servers");
    ims_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        server_json(&w, &list[i]);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_server_array_free(list, n);
}

void api_admin_server(struct ims_request *req)
{
    if (!admitted(req))
        return;
    const char *id = path_id(req, "server");
    if (!id)
        return;
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    if (req->method == IMS_DELETE) {
        rc = ims_compute_server_remove(req->svc, req->principal, id, &err);
        if (rc == IMS_OK)
            ims_resp_empty(req, 204);
        else
            api_fail(req, rc, &err);
        return;
    }
    if (req->method == IMS_PATCH) {
        enum ims_server_state st;
        rc = api_compute_state_parse(body_data(req), req->body.len, &st, &err);
        if (rc == IMS_OK)
            rc = ims_compute_server_set_state(req->svc, req->principal, id, st, &err);
    }
    struct ims_server s;
    if (rc == IMS_OK)
        rc = ims_compute_server_get(req->svc, req->principal, id, &s, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "server");
    server_json(&w, &s);
    ims_jw_obj_end(&w);
    ims_server_release(&s);
}

void api_admin_volumes(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_jw w;
    if (req->method == IMS_POST) {
        json_t *body = NULL;
        struct ims_volume_spec spec;
        struct ims_volume v;
        enum ims_rc rc = api_compute_volume_parse(body_data(req), req->body.len, &body, &spec, &err);
        if (rc == IMS_OK)
            rc = ims_compute_volume_add(req->svc, req->principal, &spec, &v, &err);
        json_decref(body);
        if (rc != IMS_OK) {
            api_fail(req, rc, &err);
            return;
        }
        ims_jw_init(&w, ims_resp_json_buf(req, 201));
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, "volume");
        volume_json(&w, &v);
        ims_jw_obj_end(&w);
        ims_volume_release(&v);
        return;
    }
    const char *project = NULL;
    if (!list_project(req, &project))
        return;
    struct ims_volume *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_volume_list(req->svc, req->principal, project, &list, &n, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    volumes_json(&w, list, n);
    ims_jw_obj_end(&w);
    ims_volume_array_free(list, n);
}

void api_admin_volume(struct ims_request *req)
{
    if (!admitted(req))
        return;
    const char *id = path_id(req, "volume");
    if (!id)
        return;
    struct ims_err err = {0};
    if (req->method == IMS_DELETE) {
        enum ims_rc rc = ims_compute_volume_remove(req->svc, req->principal, id, &err);
        if (rc == IMS_OK)
            ims_resp_empty(req, 204);
        else
            api_fail(req, rc, &err);
        return;
    }
    struct ims_volume v;
    enum ims_rc rc = ims_compute_volume_get(req->svc, req->principal, id, &v, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "volume");
    volume_json(&w, &v);
    ims_jw_obj_end(&w);
    ims_volume_release(&v);
}

void api_admin_backups(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    struct ims_jw w;
    if (req->method == IMS_POST) {
        json_t *body = NULL;
        const char *server_id = NULL;
        struct ims_backup b;
        enum ims_rc rc = api_compute_backup_parse(body_data(req), req->body.len, &body, &server_id, &err);
        if (rc == IMS_OK)
            rc = ims_compute_backup_create(req->svc, req->principal, server_id, &b, &err);
        json_decref(body);
        if (rc != IMS_OK) {
            api_fail(req, rc, &err);
            return;
        }
        ims_jw_init(&w, ims_resp_json_buf(req, 201));
        ims_jw_obj_begin(&w);
        ims_jw_key(&w, "backup");
        backup_json(&w, &b);
        ims_jw_obj_end(&w);
        ims_backup_release(&b);
        return;
    }
    const char *project = NULL;
    if (!list_project(req, &project))
        return;
    struct ims_backup *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_backup_list(req->svc, req->principal, project, &list, &n, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "backups");
    ims_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        backup_json(&w, &list[i]);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    ims_backup_array_free(list, n);
}

void api_admin_backup(struct ims_request *req)
{
    if (!admitted(req))
        return;
    const char *id = path_id(req, "backup");
    if (!id)
        return;
    struct ims_err err = {0};
    if (req->method == IMS_DELETE) {
        enum ims_rc rc = ims_compute_backup_remove(req->svc, req->principal, id, &err);
        if (rc == IMS_OK)
            ims_resp_empty(req, 204);
        else
            api_fail(req, rc, &err);
        return;
    }
    struct ims_backup b;
    enum ims_rc rc = ims_compute_backup_get(req->svc, req->principal, id, &b, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "backup");
    backup_json(&w, &b);
    ims_jw_obj_end(&w);
    ims_backup_release(&b);
}
