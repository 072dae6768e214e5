/* SPDX-License-Identifier: Apache-2.0
 * imsctl server|volume|backup (ctl_compute.c). */
#ifndef IMSCTL_CTL_COMPUTE_H
#define IMSCTL_CTL_COMPUTE_H

#include <stdbool.h>
#include <stdio.h>

#include "ims/config.h"

bool imsctl_compute_noun(const char *noun);
/* The commands' synopses, for imsctl --help. */
void imsctl_compute_usage(FILE *out);
/* argv[0] is the noun: opens the service over cfg's backends and runs the
 * command; returns the exit status. */
int imsctl_compute(const struct ims_config *cfg, int argc, char **argv);

#endif
