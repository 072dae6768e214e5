/* SPDX-License-Identifier: Apache-2.0
 * The service an imsctl command works on: the backends the configuration
 * names, opened, and the service over them (migrations run), failures
 * reported as imsctl reports them. */
#include "ctl_service.h"

#include <stdio.h>

int ctl_service_open(const struct ims_config *cfg, struct ctl_service *ret)
{
    char err[512];
    if (ims_backends_open(cfg, &ret->be, err, sizeof(err))) {
        fprintf(stderr, "imsctl: %s\n", err);
        return 1;
    }
    struct ims_err e = {0};
    if (ims_service_open(cfg, &ret->be, &ret->svc, &e) != IMS_OK) {
        ims_backends_close(&ret->be);
        fprintf(stderr, "imsctl: %s\n", e.msg);
        return 1;
    }
    return 0;
}

void ctl_service_close(struct ctl_service *s)
{
    ims_service_close(s->svc);
    ims_backends_close(&s->be);
}
