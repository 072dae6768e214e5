/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/upload.c): image data in (the upload) and out (the
 * download's blob reader). */
#ifndef IMS_UPLOAD_H
#define IMS_UPLOAD_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/service.h"
#include "ims/store.h"

/* ---- image data (lib/core/upload.c) ---- */
struct ims_upload;
/* Moves the image queued → saving and opens a temporary blob.
 * expected_size < 0: unknown. */
enum ims_rc ims_upload_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             int64_t expected_size, struct ims_upload **ret, struct ims_err *err);
enum ims_rc ims_upload_write(struct ims_upload *u, const void *data, size_t n, struct ims_err *err);
/* The bytes write takes now without waiting on the store; none: wake(arg)
 * is called once, from another thread, when some are (lib/core/hash_pipe.c). */
size_t ims_upload_room(struct ims_upload *u, void (*wake)(void *arg), void *arg);
/* Commits data and metadata together; the upload is freed. */
enum ims_rc ims_upload_finish(struct ims_upload *u, struct ims_image *ret, struct ims_err *err);
/* Discards the data and returns the image to queued; the upload is freed. */
void ims_upload_abort(struct ims_upload *u);

enum ims_rc ims_images_open_data(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                 struct ims_image *ret_img, struct ims_blob_reader *ret, struct ims_err *err);

#endif
