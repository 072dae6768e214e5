/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/image_tags.c): the IMS key/value tag operations on images.
 * The tags' formats, request bodies and queries are the query module's
 * (tags.h, pure); these are the operations on the repository. */
#ifndef IMS_IMAGE_TAGS_H
#define IMS_IMAGE_TAGS_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/kv.h"
#include "ims/service.h"
#include "ims/tags.h"

/* ---- IMS key/value tags (lib/core/image_tags.c) ----
 * Over the native tag list (include/ims/tags.h says how). A missing or
 * invisible image is IMS_E_NOTFOUND; an image the caller sees but does not
 * own is IMS_E_BADREQ IMG.0047. */
/* The tags of an image the caller can see, as (key, value) pairs. */
enum ims_rc ims_image_tags_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               struct ims_kvlist *ret, struct ims_err *err);
/* Adds or replaces (by key) every pair, all or none, in one transaction. An
 * image carries at most IMS_TAGS_PER_IMAGE_MAX keys (IMG.0116). */
enum ims_rc ims_image_tags_set(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               const struct ims_kvlist *pairs, struct ims_err *err);
/* Removes every pair (value NULL: whatever the key's value). must_exist:
 * IMS_E_NOTFOUND with err->code IMG.0115 when a key is not on the image
 * (nothing removed); otherwise a missing tag counts as removed. */
enum ims_rc ims_image_tags_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                  const struct ims_kvlist *pairs, bool must_exist, struct ims_err *err);
/* The distinct (key, value) tags of project_id's images, sorted by key and
 * value. */
enum ims_rc ims_project_tags(struct ims_service *svc, const char *project_id, struct ims_kvlist *ret,
                             struct ims_err *err);
/* project_id's images meeting q, newest first: *ret_total of them, and the
 * page [offset, offset + limit) in *ret (nothing for a count). */
enum ims_rc ims_images_by_tag(struct ims_service *svc, const char *project_id, const struct ims_tag_query *q,
                              struct ims_tagged_image **ret, size_t *ret_n, int64_t *ret_total,
                              struct ims_err *err);

#endif
