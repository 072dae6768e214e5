/* SPDX-License-Identifier: Apache-2.0
 * Shared by the object-storage files. */
#ifndef IMS_OBS_INT_H
#define IMS_OBS_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "ims/obs.h"

/* Sets err->msg (clearing code and retry_after) and returns rc. */
enum ims_obs_rc ims_obs_fail(struct ims_err *err, enum ims_obs_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes all n bytes (EINTR retried); false on any failure (errno says). */
bool ims_obs_write_all(int fd, const char *p, size_t n);

#endif
