/* SPDX-License-Identifier: Apache-2.0
 * imsctl's object-storage commands (obs.c). */
#ifndef IMS_CTL_OBS_H
#define IMS_CTL_OBS_H

#include <stdio.h>

#include "ims/config.h"

/* The commands' lines of --help. */
void imsctl_obs_usage(FILE *out);
/* Runs `obs VERB ARGS...` (argv starts at VERB); returns the exit status. */
int imsctl_obs(const struct ims_config *cfg, int argc, char **argv);

#endif
