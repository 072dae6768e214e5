/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the api handlers. */
#ifndef IMS_API_INT_H
#define IMS_API_INT_H

#include <jansson.h>

#include "ims/api.h"
#include "ims/json_writer.h"

/* core result → HTTP status */
int api_status(enum ims_rc rc);
/* Answers with Glance's error shape for rc and err->msg. */
void api_fail(struct ims_request *req, enum ims_rc rc, const struct ims_err *err);
/* Parses the buffered body as a JSON value; on failure answers 400 and
 * returns NULL. */
json_t *api_json_body(struct ims_request *req);
/* Content-Type without parameters equals `type` (case-insensitive). */
bool api_content_type_is(struct ims_request *req, const char *type);

/* Request-body parsers (fuzzed: fuzz/fuzz_api_bodies.c). */
/* POST /v3/auth/tokens → what to authenticate; strings borrowed from body. */
enum ims_rc api_parse_auth(json_t *body, struct ims_auth_request *ar, struct ims_err *err);
/* POST /v2/images → a draft image, validated by the JSON-patch rules. */
enum ims_rc api_image_draft(json_t *body, const struct ims_principal *p, struct ims_image *img, struct ims_err *err);

/* Glance v2 image document. */
void api_image_json(struct ims_jw *w, const struct ims_image *img);

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
void api_members_create(struct ims_request *req);
void api_members_list(struct ims_request *req);
void api_members_show(struct ims_request *req);
void api_members_update(struct ims_request *req);
void api_members_delete(struct ims_request *req);
void api_schema_image(struct ims_request *req);
void api_schema_images(struct ims_request *req);
void api_schema_member(struct ims_request *req);
void api_schema_members(struct ims_request *req);
void api_legacy_images_detail(struct ims_request *req);
void api_legacy_image_head(struct ims_request *req);
void api_legacy_image_delete(struct ims_request *req);
void api_ims_unavailable(struct ims_request *req);

/* Answers with the IMS error shape {"error": {"code", "message"}}. */
void api_ims_fail(struct ims_request *req, int status, const char *code, const char *message);

#endif
