/* SPDX-License-Identifier: Apache-2.0
 * Configuration for the programs: defaults, then the INI file, then the
 * environment, then command-line flags (each overriding the one before). */
#ifndef IMS_SETTINGS_H
#define IMS_SETTINGS_H

#include <stdio.h>

#include "ims/config.h"

/* One option: where it lives in the INI file and which variable overrides it. */
struct ims_setting {
    const char *section, *key, *env, *help, *def;
};
extern const struct ims_setting ims_settings[];
extern const size_t ims_nsettings;

/* Fills cfg from defaults, config_path (or $IMSD_CONFIG; NULL = none), and
 * the environment. Returns 0, or -1 with a message in err. */
int ims_settings_load(struct ims_config *cfg, const char *config_path, char *err, size_t errlen);
/* Applies one "section.key=value" or key override (for command-line flags). */
int ims_settings_set(struct ims_config *cfg, const char *section, const char *key, const char *value, char *err,
                     size_t errlen);
void ims_settings_release(struct ims_config *cfg);
void ims_settings_print(const struct ims_config *cfg, FILE *out);
void ims_settings_help(FILE *out);
/* "host:port" → parts. */
int ims_listen_split(const char *listen, char *host, size_t hostlen, unsigned *port);

#endif
