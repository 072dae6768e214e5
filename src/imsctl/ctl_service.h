/* SPDX-License-Identifier: Apache-2.0
 * The service an imsctl command works on (ctl_service.c). */
#ifndef IMSCTL_CTL_SERVICE_H
#define IMSCTL_CTL_SERVICE_H

#include "../common/backends.h"
#include "ims/service.h"

struct ctl_service {
    struct ims_backends be;
    struct ims_service *svc;
};

/* The configured backends and the service over them: 0, or 1 (the exit
 * status) after saying why on stderr, nothing left open. */
int ctl_service_open(const struct ims_config *cfg, struct ctl_service *ret);
void ctl_service_close(struct ctl_service *s);

#endif
