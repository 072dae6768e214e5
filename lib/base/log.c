/* SPDX-License-Identifier: Apache-2.0
 * One line per event on stderr: time, level, message. The daemon decides
 * where stderr goes. A message quotes names, URLs and errors that came from
 * the network: its control characters are written as \xNN, so a CR or LF in
 * one can never start a line that looks like the daemon's own. */
#include "ims/base.h"

#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static enum ims_log_level min_level = IMS_LOG_INFO;

void ims_log_set_level(enum ims_log_level lvl) { min_level = lvl; }

void ims_log(enum ims_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
    if (lvl < min_level)
        return;
    char line[2048], ts[32];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    char safe[4 * sizeof(line)];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(safe + n, sizeof(safe) - n, "\\x%02x", *p);
        else
            safe[n++] = (char)*p;
    }
    safe[n] = 0;
    fprintf(stderr, "%s.%03ld %s %s\n", ts, (long)(tv.tv_usec / 1000), names[lvl], safe);
}
