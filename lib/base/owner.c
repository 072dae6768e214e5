/* SPDX-License-Identifier: Apache-2.0
 * Process identity for what several processes share (upload leases,
 * temporary files): who owns it, and whether that owner is known to have
 * stopped, so a restart on the same host recovers at once what its
 * predecessor left, and nothing a live process still uses. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ims/base.h"

static char owner[IMS_OWNER_MAX];
static char host[32];

static void init_owner(void)
{
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
        snprintf(host, sizeof(host), "localhost");
    for (char *p = host; *p; p++) /* ':' separates the fields; '/' and '.' would confuse file names */
        if (*p == ':' || *p == '/')
            *p = '_';
    char rnd[9];
    ims_hexid_new(rnd, 4);
    snprintf(owner, sizeof(owner), "%s:%ld:%s", host, (long)getpid(), rnd);
}

const char *ims_process_owner(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_owner);
    return owner;
}

bool ims_owner_gone(const char *who)
{
    ims_process_owner();
    if (!who)
        return false;
    const char *c1 = strchr(who, ':');
    if (!c1 || (size_t)(c1 - who) != strlen(host) || strncmp(who, host, strlen(host)) != 0)
        return false;
    char *end;
    errno = 0;
    long pid = strtol(c1 + 1, &end, 10);
    if (errno || end == c1 + 1 || *end != ':' || pid <= 0)
        return false;
    if (strcmp(who, owner) == 0)
        return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

bool ims_temp_name_owner(const char *name, char ret[IMS_OWNER_MAX])
{
    size_t n = strlen(name);
    if (n <= IMS_UUID_LEN + 1 + 5 || name[IMS_UUID_LEN] != '.' || strcmp(name + n - 5, ".part") != 0)
        return false;
    size_t len = n - 5 - (IMS_UUID_LEN + 1);
    if (len >= IMS_OWNER_MAX)
        return false;
    memcpy(ret, name + IMS_UUID_LEN + 1, len);
    ret[len] = 0;
    return true;
}
