/* SPDX-License-Identifier: Apache-2.0
 * imsctl metadefs (ctl_metadefs.c). */
#ifndef IMSCTL_CTL_METADEFS_H
#define IMSCTL_CTL_METADEFS_H

#include <stdio.h>

#include "ims/config.h"

void imsctl_metadefs_usage(FILE *out);
/* argv[0] is the verb; returns the exit status. */
int imsctl_metadefs(const struct ims_config *cfg, int argc, char **argv);

#endif
