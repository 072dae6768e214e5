/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/members.c): image sharing with Glance's member rules and
 * IMS batch sharing. */
#ifndef IMS_MEMBERS_H
#define IMS_MEMBERS_H

#include "ims/auth.h"
#include "ims/db.h"
#include "ims/service.h"

/* ---- members (lib/core/members.c) ---- */
enum ims_rc ims_members_add(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                            const char *member_id, struct ims_member *ret, struct ims_err *err);
enum ims_rc ims_members_list(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                             struct ims_member **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_members_get(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                            const char *member_id, struct ims_member *ret, struct ims_err *err);
enum ims_rc ims_members_update(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               const char *member_id, const char *status, struct ims_member *ret,
                               struct ims_err *err);
enum ims_rc ims_members_delete(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                               const char *member_id, struct ims_err *err);
/* IMS batch sharing: the native rules plus the IMS limits (256 members, 10
 * for full-ECS images; no public images, not with oneself); a private
 * image becomes shared. Sharing again is not an error. *ret_code: the IMS
 * error code (IMG.xxxx) of a refusal. */
enum ims_rc ims_members_share(struct ims_service *svc, const struct ims_principal *p, const char *image_id,
                              const char *member_id, const char **ret_code, struct ims_err *err);

#endif
