/* SPDX-License-Identifier: Apache-2.0
 * For the unit tests that make their fixtures with shell commands
 * (qemu-img, dd, rm -rf): the command made by printf and run by system().
 * Include after <cmocka.h> (sh_ok fails the test through it). */
#ifndef TESTS_UNIT_SHELL_H
#define TESTS_UNIT_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The command's status as system() returns it (0: it succeeded). */
static inline int sh_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh_status(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* The command, which must succeed (the test fails naming it otherwise). */
#define sh_ok(fmt, ...)                                                              \
    do {                                                                             \
        if (sh_status(fmt, ##__VA_ARGS__) != 0)                                      \
            fail_msg("command failed: " fmt, ##__VA_ARGS__);                         \
    } while (0)

#endif
