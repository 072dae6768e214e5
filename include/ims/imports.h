/* SPDX-License-Identifier: Apache-2.0
 * core: images from object-storage files and exports to object storage
 * (reference ims_apis/image/: creating an image from a file, quick import,
 * data-disk images from files, registration, export). The requests come
 * parsed and shape-checked (include/ims/import_request.h); here are the
 * rules that read the repository: enterprise project, quota, the image's
 * owner, status and origin. A refusal is IMS_E_BADREQ with the IMS error
 * code in err->code, or IMS_E_NOTFOUND / IMS_E_FORBIDDEN for an image the
 * caller cannot see or act on. */
#ifndef IMS_IMPORTS_H
#define IMS_IMPORTS_H

#include "ims/auth.h"
#include "ims/image.h"
#include "ims/import_request.h"
#include "ims/service.h"

/* Images larger than this export only quickly (IMG.0160); nothing at or
 * above IMS_EXPORT_MAX exports at all (IMG.0059). */
#define IMS_EXPORT_CONVERT_MAX (128LL << 30)
#define IMS_EXPORT_MAX (1LL << 40)

/* May p make the images r asks for: the enterprise project usable by p's
 * account (IMG.0155), room in the project's quota for all of them
 * (IMG.0015)? */
enum ims_rc ims_import_check(struct ims_service *svc, const struct ims_principal *p,
                             const struct ims_import_request *r, struct ims_err *err);

/* May p register a file into image id: p's own (IMG.0047), queued and not
 * written by a job (IMG.0046)? */
enum ims_rc ims_register_check(struct ims_service *svc, const struct ims_principal *p, const char *id,
                               struct ims_err *err);

/* May p export image id as r says: p's own (IMG.0047), active with data
 * (IMG.0046), not public (IMG.0077), not made from a charged public image
 * (IMG.0079), not a full-ECS image (IMG.0128), not from a backup
 * (IMG.0080), not an ISO image (IMG.0167), within the sizes (IMG.0160,
 * IMG.0059)? */
enum ims_rc ims_export_check(struct ims_service *svc, const struct ims_principal *p, const char *id,
                             const struct ims_export_request *r, struct ims_err *err);

#endif
