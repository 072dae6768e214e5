/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the api handlers. */
#ifndef IMS_API_INT_H
#define IMS_API_INT_H

#include <jansson.h>

#include "ims/api.h"
#include "ims/compute_admin.h"
#include "ims/iam_admin.h"
#include "ims/identity.h"
#include "ims/json_writer.h"
#include "ims/query.h"

/* core result → HTTP status */
int api_status(enum ims_rc rc);
/* Answers with Glance's error shape for rc and err->msg. */
void api_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err);
/* The message a client may see for rc: err's own below 500, otherwise a
 * pointer to the request id in the log (the detail is logged here). */
const char *api_client_message(struct ims_request *req, enum ims_rc rc, const struct ims_err *err);
/* Parses the buffered body as a JSON value; on failure answers 400 and
 * returns NULL. */
json_t *api_json_body(struct ims_request *req);
/* Content-Type without parameters equals `type` (case-insensitive). */
bool api_content_type_is(struct ims_request *req, const char *type);
/* Starts the JSON answer {"key": [ with status; the caller writes the items,
 * ends the array and adds the members that follow (links, schema). */
void api_json_list_begin(struct ims_request *req, struct ims_jw *w, int status, const char *key);

/* Request-body parsers (fuzzed: fuzz/fuzz_api_bodies.c). */
/* POST /v3/auth/tokens → what to authenticate; strings borrowed from body. */
enum ims_rc api_parse_auth(json_t *body, struct ims_auth_request *ar, struct ims_err *err);
/* POST /v2/images → a draft image, validated by the JSON-patch rules. */
enum ims_rc api_image_draft(json_t *body, const struct ims_principal *p, struct ims_image *img, struct ims_err *err);

/* Percent-encodes s onto b (RFC 3986 unreserved characters, ':' and ','
 * as they are). */
void api_url_encode(struct ims_buf *b, const char *s);
/* The query string without `marker`, re-encoded for the first/next links
 * of a list ("?a=1&b=2", nothing when there is no other parameter). */
void api_link_query(struct ims_buf *b, const struct ims_kvlist *params);

/* Glance v2 image document. */
/* glance_req: the native API's request (its switches and caller decide on
 * locations and direct_url); NULL for the IMS documents. */
void api_image_json(struct ims_jw *w, const struct ims_image *img, const struct ims_request *glance_req);
/* The items of img's locations array, Glance's {"url", "metadata"} each
 * (lib/api/image_json.c): the image documents' and GET
 * /v2/images/{id}/locations'. */
void api_location_items(struct ims_jw *w, const struct ims_request *req, const struct ims_image *img);
/* Rendered documents kept per thread under (id, revision, kind)
 * (image_cache.c). An image has one document per kind: the native one, the
 * IMS one (its __imagetype as the caller sees it: for an image that is not
 * public that depends only on whether the caller owns it) and the v1 one. */
enum api_doc_kind { API_DOC_NATIVE, API_DOC_IMS_OWN, API_DOC_IMS_OTHER, API_DOC_V1 };
/* The IMS kind of an image owned by owner, for a caller of caller_project. */
enum api_doc_kind api_ims_doc_kind(const char *caller_project, const char *owner);
/* Writes the document kept for exactly this state of img in kind: false
 * (nothing written) when none is. */
bool api_image_cache_emit(struct ims_jw *w, const struct ims_config *cfg, enum api_doc_kind kind,
                          const struct ims_image *img);
/* What api_image_defaults_json wrote last on this thread: from off to the
 * end of out, the shown defaults of an image holding the mask held of its
 * own. The document kept next leaves those bytes to one shared copy. */
void api_image_cache_defaults_written(const struct ims_buf *out, size_t off, uint64_t held);
/* The shown defaults' members an image holding the mask held of its own
 * shows, as a kept document's render wrote them (no comma before them):
 * false until one was kept. */
bool api_image_cache_shared_defaults(uint64_t held, const char **ret, size_t *ret_len);
/* Keeps a copy of the document of img written to w since start (within
 * [images] document_cache_kib). */
void api_image_cache_keep(const struct ims_config *cfg, enum api_doc_kind kind, const struct ims_image *img,
                          const struct ims_jw *w, size_t start);
/* Whole answers of image reads kept per HTTP thread (lib/api/answer_cache.c,
 * [images] answer_cache_kib): answers req with what this thread kept for
 * the same request, caller and decision while no write has committed since;
 * else runs handler and keeps its answer if it is a plain 200. handler must
 * decide on nothing but the request, the caller, the hook's decision
 * (req->principal->authz) and the repository. */
void api_answer_kept(struct ims_request *req, void (*handler)(struct ims_request *req));
/* A list page's kept documents, copied as the repository reads the rows
 * (struct ims_image_query.known): those rows come back as stubs, and
 * rendering the page's other images cannot evict their documents. init is
 * false when documents of that kind are not kept (then nothing to
 * release); an IMS page is initialized with API_DOC_IMS_OWN and takes
 * each row's kind from its owner. */
struct api_page_docs {
    const struct ims_config *cfg;
    enum api_doc_kind kind;
    const char *project; /* the caller's */
    struct ims_buf bytes;
    struct {
        char id[IMS_UUID_LEN + 1];
        size_t off, len;
    } *docs;
    size_t n, cap, next;
};
bool api_page_docs_init(struct api_page_docs *p, const struct ims_request *req, enum api_doc_kind kind);
bool api_page_docs_known(void *ctx, const char *id, int64_t revision, const char *owner);
/* Writes a stub's kept document: false (nothing written) for a row read
 * whole. */
bool api_page_doc_emit(struct ims_jw *w, struct api_page_docs *p, const struct ims_image *img);
void api_page_docs_release(struct api_page_docs *p);
/* The shown defaults (ims_image_shown_defaults) props hold no value for, as
 * members of the open object. */
void api_image_defaults_json(struct ims_jw *w, const struct ims_kvlist *props);
/* The 200 response's body, with room for a page of n images. */
struct ims_buf *api_image_page_buf(struct ims_request *req, size_t n);
/* Answers {"images": [...]}: the images a list query (req's params, in
 * dialect d) selects for the caller, each its document of kind as kept
 * (rows whose documents are kept are read as stubs) or as render writes
 * it, then what links (if any) adds to the object after the list; or the
 * query's refusal. */
struct api_page_render {
    void (*image)(struct ims_jw *w, const struct ims_request *req, struct ims_image *img);
    void (*links)(struct ims_jw *w, const struct ims_request *req, const struct ims_image_query *q,
                  const struct ims_image *imgs, size_t n);
};
void api_images_page(struct ims_request *req, const struct ims_query_limits *lim, enum ims_query_dialect d,
                     enum api_doc_kind kind, const struct api_page_render *render);

/* Handlers */
void api_versions(struct ims_request *req);
void api_keystone_version(struct ims_request *req);
void api_tokens_create(struct ims_request *req);
void api_tokens_show(struct ims_request *req);
void api_tokens_delete(struct ims_request *req);

void api_images_create(struct ims_request *req);
void api_images_list(struct ims_request *req);
void api_images_show(struct ims_request *req);
void api_images_update(struct ims_request *req);
void api_images_delete(struct ims_request *req);
void api_images_deactivate(struct ims_request *req);
void api_images_reactivate(struct ims_request *req);
void api_images_download(struct ims_request *req);
extern const struct ims_body_sink api_images_upload;
void api_tags_add(struct ims_request *req);
void api_tags_delete(struct ims_request *req);
/* The body of POST /v2/images/{id}/members ("member") or PUT .../members/{m}
 * ("status"): a JSON object whose member `key` is a string without NUL,
 * returned in *ret (the caller frees); else IMS_E_BADREQ saying why. Pure
 * (fuzz/fuzz_member_bodies.c); core checks the value itself. */
enum ims_rc api_member_body_parse(const char *data, size_t len, const char *key, char **ret, struct ims_err *err);
void api_members_create(struct ims_request *req);
void api_members_list(struct ims_request *req);
void api_members_show(struct ims_request *req);
void api_members_update(struct ims_request *req);
void api_members_delete(struct ims_request *req);
void api_schema_image(struct ims_request *req);
void api_schema_images(struct ims_request *req);
void api_schema_member(struct ims_request *req);
void api_schema_members(struct ims_request *req);
/* Interoperable import and tasks (lib/api/glance_import.c, glance_tasks.c). */
void api_info_import(struct ims_request *req);
void api_info_stores(struct ims_request *req);
void api_store_image_delete(struct ims_request *req);
/* lib/api/glance_locations.c */
void api_image_location_add(struct ims_request *req);
void api_image_locations_get(struct ims_request *req);
extern const struct ims_body_sink api_images_stage;
void api_images_import(struct ims_request *req);
void api_image_tasks(struct ims_request *req);
void api_tasks_list(struct ims_request *req);
void api_cache_list(struct ims_request *req);
void api_cache_queue(struct ims_request *req);
void api_cache_delete(struct ims_request *req);
void api_cache_clear(struct ims_request *req);
void api_tasks_show(struct ims_request *req);
void api_schema_task(struct ims_request *req);
void api_schema_tasks(struct ims_request *req);
void api_legacy_images_detail(struct ims_request *req);
void api_legacy_image_head(struct ims_request *req);
void api_legacy_image_delete(struct ims_request *req);
/* IMS authorization beyond the route's up-front actions (lib/api/ims_authz.c):
 * the action an "a|b" route's request selects, the target's enterprise
 * project, and the deferred actions when the table's condition holds. */
enum ims_rc api_ims_authorize(struct ims_request *req, json_t *body, struct ims_err *err);
/* The object-storage action the route's file needs (read to import or
 * register, write to export), when the body names a "bucket:object"
 * (IMG.0001 when it is not of that shape); 403 naming the action and the
 * bucket. */
enum ims_rc api_ims_authorize_obs(struct ims_request *req, json_t *body, struct ims_err *err);
/* Both over the request's body as JSON (obs: the object-storage action too);
 * a body that is not JSON is authorized as none (its parser then says what
 * is wrong). false after answering the refusal. */
bool api_ims_admitted(struct ims_request *req, bool obs);
/* The bodies of the IMS calls that run as jobs, pure (lib/api/ims_bodies.c;
 * fuzzed by fuzz/fuzz_ims_bodies.c); a refusal carries its IMS error code.
 * Batch sharing (POST adds, PUT answers, DELETE removes): the job type and
 * its input (json_decref it). */
enum ims_rc api_ims_members_parse(const char *data, size_t len, enum ims_method m, const char *caller_project,
                                  const char **ret_type, json_t **ret_input, struct ims_err *err);
/* Replication within a region: the copy's name, description and
 * enterprise project, borrowed from body. */
struct ims_copy_spec;
enum ims_rc api_ims_copy_parse(json_t *body, struct ims_copy_spec *ret, struct ims_err *err);
/* Jobs and the IMS calls that run as jobs (lib/api/ims_jobs.c). */
void api_ims_job_show(struct ims_request *req);
void api_ims_members_batch(struct ims_request *req);
void api_ims_copy(struct ims_request *req);
/* Submits a job of `type` with input (taken) and answers {"job_id": ...}. */
struct ims_job_alone;
void api_ims_submit(struct ims_request *req, const char *type, json_t *input);
/* The same on conditions checked where the job is recorded (ims_job_submit_alone). */
void api_ims_submit_alone(struct ims_request *req, const char *type, json_t *input, const struct ims_job_alone *alone,
                          size_t n_alone);
/* Images from object-storage files and exports (lib/api/ims_import.c). */
void api_ims_create_image(struct ims_request *req);
void api_ims_server_image(struct ims_request *req);
void api_ims_whole_image(struct ims_request *req);
void api_ims_quick_import(struct ims_request *req);
void api_ims_data_import(struct ims_request *req);
void api_ims_register(struct ims_request *req);
void api_ims_export(struct ims_request *req);

/* ---- the compute admin API (lib/api/admin_compute.c) ---- */
void api_admin_servers(struct ims_request *req); /* GET, POST /v1/admin/servers */
void api_admin_server(struct ims_request *req);  /* GET, PATCH, DELETE /v1/admin/servers/{server_id} */
void api_admin_volumes(struct ims_request *req);
void api_admin_volume(struct ims_request *req);
void api_admin_backups(struct ims_request *req);
void api_admin_backup(struct ims_request *req);
/* Its bodies, pure (lib/api/compute_bodies.c; fuzzed by
 * fuzz/fuzz_compute_bodies.c): strings borrowed from *ret_body (json_decref
 * it after use); refusals IMS_E_BADREQ with IMG.0001 naming the member.
 * POST /v1/admin/servers: {"name", "project_id", "os_version", "disks": [...],
 * "state"?, "firmware"?, "ram"?}; spec->disks points into disks. */
enum ims_rc api_compute_server_parse(const char *data, size_t len, json_t **ret_body, struct ims_server_spec *spec,
                                     const char *disks[IMS_SERVER_DISKS_MAX], struct ims_err *err);
/* POST /v1/admin/volumes: {"disk", "project_id", "server_id"?}. */
enum ims_rc api_compute_volume_parse(const char *data, size_t len, json_t **ret_body, struct ims_volume_spec *spec,
                                     struct ims_err *err);
/* POST /v1/admin/backups: {"server_id"}. */
enum ims_rc api_compute_backup_parse(const char *data, size_t len, json_t **ret_body, const char **ret_server_id,
                                     struct ims_err *err);
/* PATCH /v1/admin/servers/{id}: {"state": "stopped"|"running"}. */
enum ims_rc api_compute_state_parse(const char *data, size_t len, enum ims_server_state *ret, struct ims_err *err);

/* Answers with the IMS error shape {"error": {"code", "message"}}. */
void api_ims_fail(struct ims_request *req, int status, const char *code, const char *message);

/* IMS image calls (lib/api/cloudimages.c) */
void api_cloudimages_list(struct ims_request *req);
void api_cloudimages_update(struct ims_request *req);
void api_cloudimages_os_versions(struct ims_request *req);
void api_cloudimages_quota(struct ims_request *req);

/* ---- IAM management API (lib/api/iam_*.c) ---- */
/* Keystone's error shape {"error": {"code": 403, "title": "Forbidden",
 * "message": ...}}: the IAM routes answer with it, not with Glance's. */
void api_keystone_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err);
/* The caller's account (the domain every IAM call is confined to). */
const char *api_iam_domain(struct ims_request *req);
/* True if the caller may perform `action` on its account's IAM objects;
 * otherwise answers 403 and returns false. */
bool api_iam_admit(struct ims_request *req, const char *action);
/* ims_iam_cloud_roles_guard for the target named by id; false after
 * answering its refusal. */
bool api_iam_guarded(struct ims_request *req, enum ims_iam_holder holder, const char *id);
/* Parses the body and returns its object member `key` ({"user": {...}});
 * *ret_body owns both (json_decref it). NULL after answering 400. */
json_t *api_iam_body(struct ims_request *req, const char *key, json_t **ret_body);

/* ---- IAM request bodies, pure (lib/api/iam_bodies.c; fuzzed by
 * fuzz/fuzz_iam_bodies.c). Each fills its outputs with strings borrowed
 * from the body, or returns IMS_E_BADREQ / false with err naming the field. */
/* The body as JSON with its object member `key` (key NULL: the body itself
 * must be an object); *ret_body owns both. */
enum ims_rc api_iam_body_parse(const char *data, size_t len, const char *key, json_t **ret_body, json_t **ret_obj,
                               struct ims_err *err);
/* Optional members of the body object `obj` (named `what` in messages):
 * absent leaves *ret alone; a wrong type is refused. */
bool api_iam_str(json_t *obj, const char *what, const char *key, const char **ret, struct ims_err *err);
bool api_iam_bool(json_t *obj, const char *what, const char *key, int *ret, struct ims_err *err);
/* A body's domain_id, if present, must be the caller's. */
bool api_iam_own_domain(json_t *obj, const char *what, const char *domain, struct ims_err *err);
/* The "user" object of POST /v3/users and PATCH /v3/users/{id}. */
bool api_iam_user_parse(json_t *u, const char *domain, struct ims_iam_user_input *in, struct ims_err *err);
/* The "group" object of POST /v3/groups and PATCH /v3/groups/{id}. */
bool api_iam_group_parse(json_t *g, const char *domain, const char **name, const char **description,
                         struct ims_err *err);
/* The "project" object of POST /v3/projects (create) and PATCH /v3/projects/{id}. */
struct api_iam_project_input {
    const char *name, *description, *parent_id;
    int enabled; /* -1: not given */
};
bool api_iam_project_parse(json_t *p, const char *domain, bool create, struct api_iam_project_input *in,
                           struct ims_err *err);
/* The body of POST and PUT /v1.0/enterprise-projects (not wrapped). */
bool api_iam_ep_parse(json_t *b, const char **name, const char **description, const char **type,
                      struct ims_err *err);
/* POST /v1.0/enterprise-projects/{id}/action: 1 enable, 0 disable, -1 neither. */
int api_iam_ep_action_parse(const char *data, size_t len);
/* The "role" object of POST and PATCH /v3.0/OS-ROLE/roles; the policy
 * document re-serialised into *doc (free it), which in->document points to. */
bool api_iam_policy_parse(json_t *role, struct ims_iam_policy_input *in, char **doc, struct ims_err *err);

/* Query parameter `key` as a boolean: -1 when absent; false after 400. */
bool api_iam_query_bool(struct ims_request *req, const char *key, int *ret);
/* A list's domain_id filter names another account: the list is empty. */
bool api_iam_other_domain_filter(struct ims_request *req);
/* "links": {"self": <base><path>} and the list form with previous/next. */
void api_iam_links(struct ims_jw *w, struct ims_request *req, const char *path, const char *id);
void api_iam_list_links(struct ims_jw *w, struct ims_request *req);
/* Writes one IAM object; item is the module's own struct. */
typedef void (*api_iam_writer)(struct ims_jw *w, struct ims_request *req, const void *item);
/* {"<key>": item} with status, or rc's Keystone error (item untouched). */
void api_iam_reply_one(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int status,
                       const char *key, api_iam_writer write, const void *item);
/* {"<key>": [n items of `size` bytes], "links": ...} with 200, or rc's error. */
void api_iam_reply_list(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, const char *key,
                        api_iam_writer write, const void *items, size_t n, size_t size);
/* Answers 204 if rc is OK (200 when status says so), else the error. */
void api_iam_done(struct ims_request *req, enum ims_rc rc, const struct ims_err *err, int status);

/* ---- Keystone role assignments (lib/api/iam_assignments.c) ---- */
/* Writes the Keystone role `id` (admin, member, reader); false if it is none. */
bool api_iam_keystone_role_json(struct ims_jw *w, struct ims_request *req, const char *id);
/* One assignment route (PUT gives, GET/HEAD checks, DELETE takes; 204),
 * admitted by actions[enum ims_iam_op]. */
void api_iam_assign(struct ims_request *req, enum ims_actor_type actor, enum ims_target_type target,
                    const char *target_id, const char *actor_id, const char *role, const char *const actions[3]);
/* The Keystone roles of an actor on a target, added to ret. */
enum ims_rc api_iam_assigned_roles(struct ims_request *req, enum ims_actor_type actor, enum ims_target_type target,
                                   const char *target_id, const char *actor_id, struct ims_strlist *ret,
                                   struct ims_err *err);
void api_iam_assign_user_project(struct ims_request *req);
void api_iam_assign_user_domain(struct ims_request *req);
void api_iam_user_project_roles(struct ims_request *req);
void api_iam_user_domain_roles(struct ims_request *req);
void api_iam_role_assignments(struct ims_request *req);

void api_iam_users_create(struct ims_request *req);
void api_iam_users_list(struct ims_request *req);
void api_iam_users_show(struct ims_request *req);
void api_iam_users_update(struct ims_request *req);
void api_iam_users_delete(struct ims_request *req);
void api_iam_user_groups(struct ims_request *req);
void api_iam_groups_create(struct ims_request *req);
void api_iam_groups_list(struct ims_request *req);
void api_iam_groups_show(struct ims_request *req);
void api_iam_groups_update(struct ims_request *req);
void api_iam_groups_delete(struct ims_request *req);
void api_iam_group_users(struct ims_request *req);
void api_iam_group_member(struct ims_request *req);
void api_iam_projects_create(struct ims_request *req);
void api_iam_projects_list(struct ims_request *req);
void api_iam_projects_show(struct ims_request *req);
void api_iam_projects_update(struct ims_request *req);
void api_iam_projects_delete(struct ims_request *req);
void api_iam_eps_create(struct ims_request *req);
void api_iam_eps_list(struct ims_request *req);
void api_iam_eps_show(struct ims_request *req);
void api_iam_eps_update(struct ims_request *req);
void api_iam_eps_action(struct ims_request *req);
void api_iam_custom_create(struct ims_request *req);
void api_iam_custom_list(struct ims_request *req);
void api_iam_custom_show(struct ims_request *req);
void api_iam_custom_update(struct ims_request *req);
void api_iam_custom_delete(struct ims_request *req);
void api_iam_roles_list(struct ims_request *req);
void api_iam_roles_show(struct ims_request *req);
void api_iam_grant_project(struct ims_request *req);
void api_iam_grant_all_projects(struct ims_request *req);
void api_iam_grant_domain(struct ims_request *req);
void api_iam_grant_ep(struct ims_request *req);
void api_iam_grants_project_list(struct ims_request *req);
void api_iam_grants_domain_list(struct ims_request *req);

/* Glance v2 metadata definitions (lib/api/glance_metadefs.c) and their
 * schemas (GET /v2/schemas/metadefs/{name}, data/metadefs_schemas.json). */
void api_md_namespaces(struct ims_request *req);     /* GET, POST /v2/metadefs/namespaces */
void api_md_namespace(struct ims_request *req);      /* GET, PUT, DELETE .../namespaces/{ns} */
void api_md_objects(struct ims_request *req);        /* GET, POST, DELETE .../{ns}/objects */
void api_md_object(struct ims_request *req);         /* GET, PUT, DELETE .../{ns}/objects/{name} */
void api_md_properties(struct ims_request *req);     /* GET, POST, DELETE .../{ns}/properties */
void api_md_property(struct ims_request *req);       /* GET, PUT, DELETE .../{ns}/properties/{name} */
void api_md_tags(struct ims_request *req);           /* GET, POST, DELETE .../{ns}/tags */
void api_md_tag(struct ims_request *req);            /* GET, POST, PUT, DELETE .../{ns}/tags/{name} */
void api_md_resource_types(struct ims_request *req); /* GET /v2/metadefs/resource_types */
void api_md_assocs(struct ims_request *req);         /* GET, POST .../{ns}/resource_types */
void api_md_assoc(struct ims_request *req);          /* DELETE .../{ns}/resource_types/{name} */
void api_schema_metadefs(struct ims_request *req);   /* GET /v2/schemas/metadefs/{name} */

/* IMS image tag calls (lib/api/ims_tags.c) */
void api_ims_tags_v1_put(struct ims_request *req);
void api_ims_tags_v1_list(struct ims_request *req);
void api_ims_tags_query(struct ims_request *req);
void api_ims_tags_batch(struct ims_request *req);
void api_ims_tags_add(struct ims_request *req);
void api_ims_tags_delete(struct ims_request *req);
void api_ims_tags_show(struct ims_request *req);
void api_ims_tags_project(struct ims_request *req);

#endif
