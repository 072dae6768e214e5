/* SPDX-License-Identifier: Apache-2.0
 * For the unit tests that open a SQLite database in a file: the file and
 * the ones SQLite and imsd keep beside it (the WAL, its index, the change
 * signals of lib/db/signals.c) removed, so the next run starts afresh. */
#ifndef TESTS_UNIT_DB_FILES_H
#define TESTS_UNIT_DB_FILES_H

#include <stdio.h>
#include <unistd.h>

static inline void db_files_remove(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-signals"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

#endif
