/* SPDX-License-Identifier: Apache-2.0
 * Change signals: counters in a small file the engine names (SQLite: beside
 * the database file, ims_sql_ops.signals_path), mapped shared by every process that opens it (imsd, imsctl), bumped after
 * a commit that changed what per-thread caches hold (IAM data, revoked
 * tokens). A cache compares one counter per request instead of reading the
 * database: an atomic load instead of a statement and a read transaction.
 * A server engine (PostgreSQL, several hosts) has no shared file: its
 * counters live in each process's memory (ims_signals_new), bumped by the
 * process's own commits and by the engine's listener as the other nodes'
 * notifications arrive; while the listener is not listening every read
 * reports "unknown" and callers go to SQL. */
#include <errno.h>
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
    bool mapped;       /* the shared file's map, else this process's memory */
    _Atomic bool live; /* reads are trustworthy */
};

/* Without the file a process keeps nothing it would need a signal to drop:
 * every cache of it asks the database each time (ims_signals_read says
 * "unknown"), the answer cache keeps nothing. Said once, when the database
 * is opened: the other processes on the database learn of this one's
 * writes only as their caches expire (a second at most), so the file must
 * be made openable. */
static struct ims_signals *unmapped(const char *path, const char *why)
{
    ims_warn("change signals: %s cannot be mapped (%s): this process's caches ask the database every time and its "
             "answer cache is off; other processes on the database see its writes only once their caches expire "
             "(a second at most)",
             path, why);
    return NULL;
}

struct ims_signals *ims_signals_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return unmapped(path, strerror(errno));
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (st.st_size >= SIGNALS_BYTES || ftruncate(fd, SIGNALS_BYTES) == 0))
        map = mmap(NULL, SIGNALS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED)
        return unmapped(path, strerror(saved));
    struct ims_signals *s = ims_xcalloc(1, sizeof(*s));
    s->map = map;
    s->mapped = true;
    atomic_store(&s->live, true);
    uint64_t zero = 0; /* a new file is all zeros: counters start at 0 */
    atomic_compare_exchange_strong(&s->map->magic, &zero, SIGNALS_MAGIC);
    if (atomic_load(&s->map->magic) != SIGNALS_MAGIC) {
        ims_signals_close(s);
        return unmapped(path, "not a signals file");
    }
    return s;
}

struct ims_signals *ims_signals_new(void)
{
    struct ims_signals *s = ims_xcalloc(1, sizeof(*s));
    s->map = ims_xcalloc(1, sizeof(*s->map));
    return s;
}

void ims_signals_set_live(struct ims_signals *s, bool live)
{
    if (live) /* before going live: a cache filled before now is stale */
        ims_signals_bump(s, (1u << IMS_NSIGNALS) - 1);
    atomic_store(&s->live, live);
}

void ims_signals_close(struct ims_signals *s)
{
    if (!s)
        return;
    if (s->mapped)
        munmap(s->map, SIGNALS_BYTES);
    else
        free(s->map);
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
    if (!s || !atomic_load_explicit(&s->live, memory_order_acquire))
        return false;
    /* Only a shared file has every process's writes in it the moment they
     * commit; another node's notification arrives when it arrives. */
    if (which == IMS_SIGNAL_DATA && !s->mapped)
        return false;
    *ret = atomic_load_explicit(&s->map->counters[which], memory_order_acquire);
    return true;
}
