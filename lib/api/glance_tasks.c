/* SPDX-License-Identifier: Apache-2.0
 * Glance v2 tasks: GET /v2/tasks and /v2/tasks/{task_id} (Glance 25's
 * tasks_api_access: admins only) and GET /v2/images/{image_id}/tasks
 * (whoever sees the image), in Glance's documents. A task is an import
 * job (lib/jobs/glance_tasks.c). */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/config.h"
#include "ims/images.h"
#include "ims/jobs.h"

static const char *task_status(const char *job_status)
{
    if (ims_streq(job_status, "INIT"))
        return "pending";
    if (ims_streq(job_status, "RUNNING"))
        return "processing";
    if (ims_streq(job_status, "SUCCESS"))
        return "success";
    return "failure";
}

static const char *job_status(const char *task_status)
{
    static const char *const map[][2] = {
        {"pending", "INIT"}, {"processing", "RUNNING"}, {"success", "SUCCESS"}, {"failure", "FAIL"}};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(map); i++)
        if (ims_streq(map[i][0], task_status))
            return map[i][1];
    return NULL;
}

static int64_t updated_ms(const struct ims_job *j)
{
    return j->end_time ? j->end_time : j->begin_time ? j->begin_time : j->created_at;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (Glance's isotime) or, in the image's task list,
 * Python's isoformat of a naive UTC time ("YYYY-MM-DDTHH:MM:SS.ffffff"). */
static void when(int64_t ms, bool isoformat, char out[32])
{
    char iso[21];
    ims_time_iso(ms / 1000, iso);
    if (!isoformat) {
        snprintf(out, 32, "%s", iso);
        return;
    }
    iso[19] = 0; /* drop the Z */
    snprintf(out, 32, "%s.%06lld", iso, (long long)(ms % 1000) * 1000);
}

struct task_view {
    json_t *req, *input, *entities;
};

static void view_open(const struct ims_job *j, struct task_view *v)
{
    v->req = json_loads(j->request ? j->request : "{}", 0, NULL);
    v->input = json_object_get(v->req, "input");
    v->entities = json_loads(j->entities ? j->entities : "{}", 0, NULL);
}

static void view_close(struct task_view *v)
{
    json_decref(v->req);
    json_decref(v->entities);
}

static void raw_json(struct ims_jw *w, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (s)
        ims_jw_raw(w, s, strlen(s));
    else
        ims_jw_null(w);
    free(s);
}

/* Glance's task input: what the job's input holds of it. */
static void write_input(struct ims_jw *w, json_t *input)
{
    ims_jw_obj_begin(w);
    static const char *const keys[] = {"image_id", "import_req", "backend"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
        json_t *v = json_object_get(input, keys[i]);
        if (v) {
            ims_jw_key(w, keys[i]);
            raw_json(w, v);
        }
    }
    ims_jw_obj_end(w);
}

enum view_kind { VIEW_FULL, VIEW_STUB, VIEW_DB };

static void write_task(struct ims_jw *w, struct ims_request *req, const struct ims_job *j, enum view_kind kind)
{
    struct task_view v;
    view_open(j, &v);
    bool db = kind == VIEW_DB;
    char created[32], updated[32], expires[32], self[80];
    when(j->created_at, db, created);
    when(updated_ms(j), db, updated);
    bool finished = ims_streq(j->status, "SUCCESS") || ims_streq(j->status, "FAIL");
    if (finished)
        when(j->end_time + req->svc->cfg->job_retention_seconds * 1000, db, expires);
    snprintf(self, sizeof(self), "/v2/tasks/%s", j->id);
    const char *image_id = json_string_value(json_object_get(v.input, "image_id"));
    const char *user_id = json_string_value(json_object_get(json_object_get(v.req, "principal"), "user_id"));
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "id", j->id);
    ims_jw_kstr(w, "type", j->type);
    ims_jw_kstr(w, "status", task_status(j->status));
    ims_jw_kstr(w, "owner", j->project_id);
    if (kind != VIEW_STUB) {
        ims_jw_key(w, "input");
        write_input(w, v.input);
        ims_jw_key(w, "result");
        if (ims_streq(j->status, "SUCCESS")) {
            ims_jw_obj_begin(w);
            ims_jw_kstr(w, "image_id", image_id);
            ims_jw_obj_end(w);
        } else {
            ims_jw_null(w);
        }
        ims_jw_kstr(w, "message", j->fail_reason ? j->fail_reason : "");
        if (image_id)
            ims_jw_kstr(w, "image_id", image_id);
        if (user_id)
            ims_jw_kstr(w, "user_id", user_id);
    }
    if (finished)
        ims_jw_kstr(w, "expires_at", expires);
    else if (db)
        ims_jw_knull(w, "expires_at");
    ims_jw_kstr(w, "created_at", created);
    ims_jw_kstr(w, "updated_at", updated);
    if (db) {
        ims_jw_knull(w, "deleted_at");
        ims_jw_kbool(w, "deleted", false);
        ims_jw_knull(w, "request_id");
    } else {
        ims_jw_kstr(w, "self", self);
        ims_jw_kstr(w, "schema", "/v2/schemas/task");
    }
    ims_jw_obj_end(w);
    view_close(&v);
}

static bool admitted(struct ims_request *req)
{
    if (req->principal->is_admin)
        return true;
    ims_http_error(req, 403, "You are not authorized to complete tasks_api_access action.");
    return false;
}

void api_tasks_show(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_job j;
    struct ims_err err = {0};
    enum ims_rc rc = ims_task_get(req->svc, req->principal, ims_req_param(req, 0), &j, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    ims_jw_init(&w, ims_resp_json_buf(req, 200));
    write_task(&w, req, &j, VIEW_FULL);
    ims_job_release(&j);
}

/* Answers 400 with Glance's message (what, then the value if any). */
static bool bad(struct ims_request *req, const char *what, const char *v)
{
    struct ims_err err = {0};
    ims_fail(&err, IMS_E_BADREQ, "%s%s%s", what, v ? ": " : "", v ? v : "");
    api_fail(req, IMS_E_BADREQ, &err);
    return false;
}

/* Glance's task list parameters: limit, marker (a UUID), sort_key
 * (created_at, updated_at, id, type, status), sort_dir, and the status and type filters. */
static bool list_query(struct ims_request *req, struct ims_job_list_query *lq)
{
    *lq = (struct ims_job_list_query){.limit = req->svc->cfg->list_limit_default};
    for (size_t i = 0; i < req->query.n; i++) {
        const char *k = req->query.items[i].key, *v = req->query.items[i].value;
        if (ims_streq(k, "limit")) {
            int64_t n;
            if (!ims_parse_i64(v, INT64_MIN, INT64_MAX, &n))
                return bad(req, "limit param must be an integer", NULL);
            if (n < 0)
                return bad(req, "limit param must be positive", NULL);
            lq->limit = n < req->svc->cfg->list_limit_max ? n : req->svc->cfg->list_limit_max;
        } else if (ims_streq(k, "marker")) {
            if (!ims_uuid_valid(v))
                return bad(req, "Invalid marker format", NULL);
            lq->marker = v;
        } else if (ims_streq(k, "sort_dir")) {
            if (!ims_streq(v, "asc") && !ims_streq(v, "desc"))
                return bad(req, "Invalid sort direction", v);
            lq->ascending = ims_streq(v, "asc");
        } else if (ims_streq(k, "sort_key")) {
            static const char *const keys[] = {[IMS_JOB_SORT_CREATED] = "created_at",
                                               [IMS_JOB_SORT_UPDATED] = "updated_at", [IMS_JOB_SORT_ID] = "id",
                                               [IMS_JOB_SORT_TYPE] = "type", [IMS_JOB_SORT_STATUS] = "status"};
            size_t s = 0;
            while (s < IMS_ARRAY_SIZE(keys) && !ims_streq(keys[s], v))
                s++;
            if (s == IMS_ARRAY_SIZE(keys))
                return bad(req, "Unsupported sort_key", v);
            lq->sort = (enum ims_job_sort)s;
        } else if (ims_streq(k, "status")) {
            if (!(lq->status = job_status(v)))
                return bad(req, "Invalid status value", v);
        } else if (ims_streq(k, "type")) {
            if (!ims_streq(v, "import"))
                return bad(req, "Invalid type value", v);
            lq->type = "import"; /* Glance's legacy task type: imsd runs none */
        }
    }
    return true;
}

/* A 200 answer's {"tasks": [...]} in view; the caller adds its members and
 * closes the object. */
static void tasks_begin(struct ims_jw *w, struct ims_request *req, const struct ims_job *jobs, size_t n,
                        enum view_kind kind)
{
    api_json_list_begin(req, w, 200, "tasks");
    for (size_t i = 0; i < n; i++)
        write_task(w, req, &jobs[i], kind);
    ims_jw_arr_end(w);
}

static void jobs_free(struct ims_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_job_release(&jobs[i]);
    free(jobs);
}

void api_tasks_list(struct ims_request *req)
{
    if (!admitted(req))
        return;
    struct ims_job_list_query lq;
    if (!list_query(req, &lq))
        return;
    struct ims_job *jobs = NULL;
    size_t n = 0;
    struct ims_err err = {0};
    enum ims_rc rc = ims_tasks_list(req->svc, req->principal, &lq, &jobs, &n, &err);
    if (rc == IMS_E_NOTFOUND) /* the marker */
        rc = IMS_E_BADREQ;
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    tasks_begin(&w, req, jobs, n, VIEW_STUB);
    struct ims_buf q;
    ims_buf_init(&q, 128);
    api_link_query(&q, &req->query);
    ims_buf_addc(&q, 0);
    char *first = ims_xasprintf("/v2/tasks%s", q.data);
    ims_jw_kstr(&w, "first", first);
    free(first);
    ims_jw_kstr(&w, "schema", "/v2/schemas/tasks");
    if (n && (int64_t)n == lq.limit) {
        char *next = ims_xasprintf("/v2/tasks%s%smarker=%s", q.data, q.data[0] ? "&" : "?", jobs[n - 1].id);
        ims_jw_kstr(&w, "next", next);
        free(next);
    }
    ims_jw_obj_end(&w);
    ims_buf_release(&q);
    jobs_free(jobs, n);
}

void api_image_tasks(struct ims_request *req)
{
    struct ims_image img;
    struct ims_err err = {0};
    const char *id = ims_req_param(req, 0);
    enum ims_rc rc = ims_images_get(req->svc, req->principal, id, &img, &err);
    if (rc != IMS_OK) { /* Glance: 404 whether missing or forbidden */
        ims_http_error(req, 404, "The resource could not be found.");
        return;
    }
    ims_image_release(&img);
    struct ims_job *jobs = NULL;
    size_t n = 0;
    rc = ims_tasks_of_image(req->svc, req->principal, id, &jobs, &n, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    struct ims_jw w;
    tasks_begin(&w, req, jobs, n, VIEW_DB);
    ims_jw_obj_end(&w);
    jobs_free(jobs, n);
}
