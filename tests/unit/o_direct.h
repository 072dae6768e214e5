/* SPDX-License-Identifier: Apache-2.0
 * For the unit tests whose expectations depend on whether a directory's
 * file system takes O_DIRECT (ext4, xfs, btrfs do; tmpfs only since Linux
 * 6.6): a probe file opened with it, removed again. */
#ifndef TESTS_UNIT_O_DIRECT_H
#define TESTS_UNIT_O_DIRECT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static inline bool dir_takes_o_direct(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/o-direct-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd >= 0)
        close(fd);
    unlink(path);
    return fd >= 0;
}

#endif
