/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the compute sources: reading a local disk's format
 * and size, and copying a disk file for a backup. */
#ifndef IMS_COMPUTE_INT_H
#define IMS_COMPUTE_INT_H

#include <string.h>

#include "ims/compute.h"

/* s as messages echo it: whole when short, else a placeholder (a cut
 * could split a UTF-8 sequence; messages reach API clients). */
static inline const char *ims_compute_shown(const char *s)
{
    return s && strlen(s) <= 256 ? s : "(too long to show)";
}

/* A local disk file: its format (ims_format_name; owned) and virtual size,
 * through the format inspector. IMS_E_BADREQ with IMG.0057 (naming the
 * path: the caller is an administrator) when the file is missing, not a
 * regular file, unreadable, or refused by the inspector. */
enum ims_rc ims_compute_disk_inspect(const char *path, char **ret_format, uint64_t *ret_size, struct ims_err *err);

struct ims_obs;
/* The same for an object in object storage ("bucket:object"), read in
 * ranges through obs: IMG.0057 when it does not exist or is refused. */
enum ims_rc ims_compute_obs_disk_inspect(struct ims_obs *obs, const char *ref, char **ret_format, uint64_t *ret_size,
                                         struct ims_err *err);
/* Copies the object "bucket:object" to dst (created; must not exist),
 * fsynced. */
enum ims_rc ims_compute_copy_obs(struct ims_obs *obs, const char *ref, const char *dst, struct ims_err *err);

#endif
