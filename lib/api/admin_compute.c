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

static void volume_json(struct ims_jw *w, const void *rec)
{
    const struct ims_volume *v = rec;
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

/* "key": [records], each written by fn. */
static void records_json(struct ims_jw *w, const char *key, void (*fn)(struct ims_jw *, const void *),
                         const void *arr, size_t n, size_t size)
{
    ims_jw_key(w, key);
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        fn(w, (const char *)arr + i * size);
    ims_jw_arr_end(w);
}

static void server_json(struct ims_jw *w, const void *rec)
{
    const struct ims_server *s = rec;
    char t[21];
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", s->id);
    ims_jw_kstr(w, "name", s->name);
    ims_jw_kstr(w, "project_id", s->project_id);
    ims_jw_kstr(w, "os_version", s->os_version);
    ims_jw_kstr(w, "state", ims_server_state_name(s->state));
    ims_jw_kstr(w, "firmware", ims_firmware_name(s->firmware));
    ims_jw_kint(w, "ram", s->ram_mb);
    records_json(w, "volumes", volume_json, s->volumes, s->nvolumes, sizeof(*s->volumes));
    ims_time_iso(s->created_at, t);
    ims_jw_kstr(w, "created_at", t);
    ims_time_iso(s->updated_at, t);
    ims_jw_kstr(w, "updated_at", t);
    ims_jw_obj_end(w);
}

static void backup_json(struct ims_jw *w, const void *rec)
{
    const struct ims_backup *b = rec;
    char t[21];
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", b->id);
    ims_jw_kstr(w, "server_id", b->server_id);
    ims_jw_kstr(w, "project_id", b->project_id);
    ims_jw_kstr(w, "server_name", b->server_name);
    ims_jw_kstr(w, "os_version", b->os_version);
    ims_jw_kstr(w, "firmware", ims_firmware_name(b->firmware));
    records_json(w, "volumes", volume_json, b->volumes, b->nvolumes, sizeof(*b->volumes));
    ims_time_iso(b->created_at, t);
    ims_jw_kstr(w, "created_at", t);
    ims_jw_obj_end(w);
}

/* The answer of a call that gives one record: {"key": record}, or the error. */
static void answer_one(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int status,
                       const char *key, void (*fn)(struct ims_jw *, const void *), const void *rec)
{
    if (rc != IMS_OK) {
        api_fail(req, rc, err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, status));
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, key);
    fn(&w, rec);
    ims_jw_obj_end(&w);
}

/* The answer of a list: {"key": [records]}, or the error. */
static void answer_list(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, const char *key,
                        void (*fn)(struct ims_jw *, const void *), const void *arr, size_t n, size_t size)
{
    if (rc != IMS_OK) {
        api_fail(req, rc, err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    ims_jw_obj_begin(&w);
    records_json(&w, key, fn, arr, n, size);
    ims_jw_obj_end(&w);
}

static void answer_deleted(struct ims_request *req, enum ims_rc rc, const struct ims_err *err)
{
    if (rc == IMS_OK)
        ims_resp_empty(req, 204);
    else
        api_fail(req, rc, err);
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
    if (req->method == IMS_POST) {
        json_t *body = NULL;
        struct ims_server_spec spec;
        const char *disks[IMS_SERVER_DISKS_MAX];
        struct ims_server s;
        enum ims_rc rc = api_compute_server_parse(body_data(req), req->body.len, &body, &spec, disks, &err);
        if (rc == IMS_OK)
            rc = ims_compute_server_add(req->svc, req->principal, &spec, &s, &err);
        json_decref(body);
        answer_one(req, rc, &err, 201, "server", server_json, &s);
        if (rc == IMS_OK)
            ims_server_release(&s);
        return;
    }
    const char *project = NULL;
    if (!list_project(req, &project))
        return;
    struct ims_server *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_server_list(req->svc, req->principal, project, &list, &n, &err);
    answer_list(req, rc, &err, "servers", server_json, list, n, sizeof(*list));
    if (rc == IMS_OK)
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
        answer_deleted(req, ims_compute_server_remove(req->svc, req->principal, id, &err), &err);
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
    answer_one(req, rc, &err, 200, "server", server_json, &s);
    if (rc == IMS_OK)
        ims_server_release(&s);
}

void api_admin_volumes(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    if (req->method == IMS_POST) {
        json_t *body = NULL;
        struct ims_volume_spec spec;
        struct ims_volume v;
        enum ims_rc rc = api_compute_volume_parse(body_data(req), req->body.len, &body, &spec, &err);
        if (rc == IMS_OK)
            rc = ims_compute_volume_add(req->svc, req->principal, &spec, &v, &err);
        json_decref(body);
        answer_one(req, rc, &err, 201, "volume", volume_json, &v);
        if (rc == IMS_OK)
            ims_volume_release(&v);
        return;
    }
    const char *project = NULL;
    if (!list_project(req, &project))
        return;
    struct ims_volume *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_volume_list(req->svc, req->principal, project, &list, &n, &err);
    answer_list(req, rc, &err, "volumes", volume_json, list, n, sizeof(*list));
    if (rc == IMS_OK)
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
        answer_deleted(req, ims_compute_volume_remove(req->svc, req->principal, id, &err), &err);
        return;
    }
    struct ims_volume v;
    enum ims_rc rc = ims_compute_volume_get(req->svc, req->principal, id, &v, &err);
    answer_one(req, rc, &err, 200, "volume", volume_json, &v);
    if (rc == IMS_OK)
        ims_volume_release(&v);
}

void api_admin_backups(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_err err = {0};
    if (req->method == IMS_POST) {
        json_t *body = NULL;
        const char *server_id = NULL;
        struct ims_backup b;
        enum ims_rc rc = api_compute_backup_parse(body_data(req), req->body.len, &body, &server_id, &err);
        if (rc == IMS_OK)
            rc = ims_compute_backup_create(req->svc, req->principal, server_id, &b, &err);
        json_decref(body);
        answer_one(req, rc, &err, 201, "backup", backup_json, &b);
        if (rc == IMS_OK)
            ims_backup_release(&b);
        return;
    }
    const char *project = NULL;
    if (!list_project(req, &project))
        return;
    struct ims_backup *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_backup_list(req->svc, req->principal, project, &list, &n, &err);
    answer_list(req, rc, &err, "backups", backup_json, list, n, sizeof(*list));
    if (rc == IMS_OK)
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
        answer_deleted(req, ims_compute_backup_remove(req->svc, req->principal, id, &err), &err);
        return;
    }
    struct ims_backup b;
    enum ims_rc rc = ims_compute_backup_get(req->svc, req->principal, id, &b, &err);
    answer_one(req, rc, &err, 200, "backup", backup_json, &b);
    if (rc == IMS_OK)
        ims_backup_release(&b);
}
