/* SPDX-License-Identifier: Apache-2.0
 * core: image operations with Glance's rules (lib/core/images.c) and the
 * IMS image update (lib/core/cloudimages.c). */
#ifndef IMS_IMAGES_H
#define IMS_IMAGES_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/patch.h"
#include "ims/query.h"
#include "ims/service.h"

/* ---- images (lib/core/images.c) ---- */
/* Creates from a client-supplied draft: owner, status, timestamps, defaults
 * are set here. */
enum ims_rc ims_images_create(struct ims_service *svc, const struct ims_principal *p, struct ims_image *draft,
                              struct ims_err *err);
/* The count of commits to the repository by every process, read before an
 * answer reads the repository: while it stays the same no write has
 * committed since, so that answer is still current. false when no such
 * count is shared by every process (PostgreSQL): answers must be read. */
bool ims_images_data_version(struct ims_service *svc, uint64_t *ret);
/* NOT_FOUND unless visible to p. */
enum ims_rc ims_images_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                           struct ims_image *ret, struct ims_err *err);
enum ims_rc ims_images_list(struct ims_service *svc, const struct ims_principal *p, const struct ims_image_query *q,
                            struct ims_image **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_images_patch(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             const struct ims_patch *patch, struct ims_image *ret, struct ims_err *err);
enum ims_rc ims_images_delete(struct ims_service *svc, const struct ims_principal *p, const char *id,
                              struct ims_err *err);
/* Deactivation and reactivation (Glance 25): the image's project or an admin;
 * active <-> deactivated, the other way a no-op, any other status 403. */
enum ims_rc ims_images_deactivate(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                  bool deactivate, struct ims_err *err);
enum ims_rc ims_images_tag(struct ims_service *svc, const struct ims_principal *p, const char *id, const char *tag,
                           bool add, struct ims_err *err);
bool ims_images_can_modify(const struct ims_principal *p, const struct ims_image *img);

/* ---- IMS image update (lib/core/cloudimages.c) ----
 * PATCH /v2/cloudimages/{id}: the image must be visible (else NOTFOUND),
 * the caller's (IMG.0047) and active (IMG.0046); patch comes from
 * ims_cloudimage_patch_parse. move_to_ep (NULL: no move) must name an
 * enabled enterprise project of the caller's account (IMG.0155); the
 * caller's right to create there is the API's check (the route's deferred
 * action). */
enum ims_rc ims_cloudimages_update(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   const struct ims_patch *patch, const char *move_to_ep, struct ims_image *ret,
                                   struct ims_err *err);

#endif
