/* SPDX-License-Identifier: Apache-2.0
 * Change signals: counters in a small file the engine names (SQLite: beside
 * the database file, ims_sql_ops.signals_path), mapped shared by every process that opens it (imsd, imsctl), bumped after
 * a commit that changed what per-thread caches hold (IAM data, revoked
 * tokens). A cache compares one counter per request instead of reading the
 * database: an atomic load instead of a statement and a read transaction.
 * A server engine (PostgreSQL, several hosts) will need its own signal; for
 * now, without the file every read reports "unknown" and callers go to SQL. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db-int.h"

#define SIGNALS_MAGIC 0x696d73645f736967ULL /* "imsd_sig" */
#define SIGNALS_BYTES 4096

struct signals_file {
    _Atomic uint64_t magic;
    _Atomic uint64_t counters[IMS_NSIGNALS];
};

_Static_assert(sizeof(struct signals_file) <= SIGNALS_BYTES, "signals fit the file");

struct ims_signals {
    struct signals_file *map;
};

struct ims_signals *ims_signals_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (st.st_size >= SIGNALS_BYTES || ftruncate(fd, SIGNALS_BYTES) == 0))
        map = mmap(NULL, SIGNALS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return NULL;
    struct ims_signals *s = ims_xcalloc(1, sizeof(*s));
    s->map = map;
    uint64_t zero = 0; /* a new file is all zeros: counters start at 0 */
    atomic_compare_exchange_strong(&s->map->magic, &zero, SIGNALS_MAGIC);
    if (atomic_load(&s->map->magic) != SIGNALS_MAGIC) {
        ims_signals_close(s);
        return NULL;
    }
    return s;
}

void ims_signals_close(struct ims_signals *s)
{
    if (!s)
        return;
    munmap(s->map, SIGNALS_BYTES);
    free(s);
}

void ims_signals_bump(struct ims_signals *s, unsigned mask)
{
    if (!s)
        return;
    for (unsigned i = 0; i < IMS_NSIGNALS; i++)
        if (mask & (1u << i))
            atomic_fetch_add(&s->map->counters[i], 1);
}

bool ims_signals_read(const struct ims_signals *s, enum ims_db_signal which, uint64_t *ret)
{
    if (!s)
        return false;
    *ret = atomic_load_explicit(&s->map->counters[which], memory_order_acquire);
    return true;
}
