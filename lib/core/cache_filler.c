/* SPDX-License-Identifier: Apache-2.0
 * A cache fill's own thread (core-int.h, used by cache_fill.c's reader):
 * the download copies each block it reads into a slot and goes on; the
 * thread writes the slots to the fill's file in order and, after the last
 * byte, ends the fill (the file's md5 against the image's checksum, sync,
 * rename: image_cache.c) while the client is already served. Slots are
 * taken as needed, SLOTS at most, from one budget all fills of the process
 * share ([cache] fill_memory_mib), so N first downloads of N images hold
 * no more than the budget together: a download never waits for the disk
 * or the hash; when the fill's slots are all taken, or the budget has none
 * left, the fill is given up (logged) and a later download fills. The
 * prefetcher, which has no client, waits instead (patient). The thread
 * gives its written slots back to the budget once it has written the last
 * one (before the md5's read back). The thread and the download each hold
 * a reference; the last one out frees. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core-int.h"
#include "ims/service.h"
#include "ims/store.h"

#define SLOT (1u << 20)
#define SLOTS 32 /* 32 MiB: a filler behind by more gives up */

static atomic_int test_delay_ms;

/* The slots all fills may hold together; the prefetcher waits on freed. */
static pthread_mutex_t budget_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t budget_freed = PTHREAD_COND_INITIALIZER;
static long budget_left = 64;

void ims_cache_fillers_budget(long slots)
{
    pthread_mutex_lock(&budget_mu);
    budget_left = slots; /* at the service's open, before any fill */
    pthread_mutex_unlock(&budget_mu);
}

static bool budget_take(bool wait)
{
    pthread_mutex_lock(&budget_mu);
    while (wait && budget_left <= 0)
        pthread_cond_wait(&budget_freed, &budget_mu);
    bool took = budget_left > 0;
    budget_left -= took;
    pthread_mutex_unlock(&budget_mu);
    return took;
}

static void budget_give(long slots)
{
    if (!slots)
        return;
    pthread_mutex_lock(&budget_mu);
    budget_left += slots;
    pthread_cond_broadcast(&budget_freed);
    pthread_mutex_unlock(&budget_mu);
}

void ims_cache_filler_test_delay(int ms)
{
    atomic_store(&test_delay_ms, ms);
}

struct ims_cache_filler {
    struct ims_cache_fill *fill; /* the thread's */
    uint64_t size;
    bool patient;
    bool waited; /* patient, and found the budget all taken (logged once) */
    pthread_mutex_t mu;
    pthread_cond_t changed;
    char *slots[SLOTS]; /* allocated as needed */
    size_t nslots;
    size_t lens[SLOTS];
    size_t queue[SLOTS], qhead, qlen; /* filled slots, in order: the thread's to write */
    size_t spare[SLOTS], nspare;      /* written slots, to fill again */
    /* the download's side */
    long cur; /* the slot being filled, -1: none */
    uint64_t offered;
    /* both */
    bool left;     /* the download sent its last block or went away */
    bool given_up; /* not the next bytes, no slot free, or a write failed */
    bool done;     /* the thread ended (patient waits for it) */
    int refs;
    /* what a give-up reports: the thread's progress */
    uint64_t written;
    int64_t slowest_write_us;
};

static void unref_locked(struct ims_cache_filler *f)
{
    bool last = --f->refs == 0;
    pthread_mutex_unlock(&f->mu);
    if (!last)
        return;
    long held = 0;
    for (size_t i = 0; i < f->nslots; i++) {
        held += f->slots[i] != NULL;
        free(f->slots[i]);
    }
    budget_give(held);
    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void give_up_locked(struct ims_cache_filler *f, const char *why)
{
    if (!f->given_up)
        ims_warn("image cache: not cached this time: %s (%llu of %llu bytes written; the slowest 1 MiB write %lld ms)",
                 why, (unsigned long long)f->written, (unsigned long long)f->size,
                 (long long)(f->slowest_write_us / 1000));
    f->given_up = true;
    pthread_cond_broadcast(&f->changed);
}

static void *filler_thread(void *arg)
{
    struct ims_cache_filler *f = arg;
    uint64_t written = 0;
    pthread_mutex_lock(&f->mu);
    while (written < f->size && !f->given_up) {
        if (!f->qlen) {
            if (f->left)
                break; /* the download went away before its last byte */
            pthread_cond_wait(&f->changed, &f->mu);
            continue;
        }
        size_t i = f->queue[f->qhead];
        f->qhead = (f->qhead + 1) % SLOTS;
        f->qlen--;
        pthread_mutex_unlock(&f->mu);
        int delay = atomic_load(&test_delay_ms);
        if (delay)
            nanosleep(&(struct timespec){.tv_sec = delay / 1000, .tv_nsec = delay % 1000 * 1000000L}, NULL);
        int64_t start = ims_mono_us();
        bool ok = ims_image_cache_fill_write(f->fill, written, f->slots[i], f->lens[i]);
        int64_t took = ims_mono_us() - start;
        written += f->lens[i];
        pthread_mutex_lock(&f->mu);
        f->written = written;
        f->slowest_write_us = took > f->slowest_write_us ? took : f->slowest_write_us;
        f->spare[f->nspare++] = i;
        pthread_cond_broadcast(&f->changed);
        if (!ok)
            give_up_locked(f, "cannot write the cache's file");
    }
    bool complete = written == f->size && !f->given_up;
    /* No slot is taken after this (every byte offered, or given up): the
     * written and the queued ones go back to the budget now, not after the
     * md5's read back; the one the download may still hold waits for unref. */
    long freed = 0;
    for (; f->nspare; freed++) {
        size_t i = f->spare[--f->nspare];
        free(f->slots[i]);
        f->slots[i] = NULL;
    }
    for (; f->qlen; f->qlen--, freed++) {
        size_t i = f->queue[f->qhead];
        f->qhead = (f->qhead + 1) % SLOTS;
        free(f->slots[i]);
        f->slots[i] = NULL;
    }
    f->given_up |= !complete; /* never to hand out a freed slot */
    pthread_mutex_unlock(&f->mu);
    budget_give(freed);
    struct ims_err err = {0};
    if (!complete)
        ims_image_cache_fill_abort(f->fill);
    else if (ims_image_cache_fill_end(f->fill, &err) != IMS_OK)
        ims_warn("image cache: not cached: %s", err.msg);
    pthread_mutex_lock(&f->mu);
    f->done = true;
    pthread_cond_broadcast(&f->changed);
    unref_locked(f);
    return NULL;
}

struct ims_cache_filler *ims_cache_filler_start(struct ims_cache_fill *fill, uint64_t size, bool patient)
{
    struct ims_cache_filler *f = ims_xcalloc(1, sizeof(*f));
    f->fill = fill;
    f->size = size;
    f->patient = patient;
    f->cur = -1;
    f->refs = 2;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->changed, NULL);
    if (ims_thread_start_detached(filler_thread, f) != 0) {
        ims_image_cache_fill_abort(fill);
        pthread_cond_destroy(&f->changed);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return NULL;
    }
    return f;
}

/* A slot for the download to fill; -1 when none is free (patient: once
 * given up). Caller holds mu. */
static long take_slot_locked(struct ims_cache_filler *f)
{
    for (;;) {
        if (f->given_up)
            return -1;
        if (f->nspare)
            return (long)f->spare[--f->nspare];
        if (f->nslots < SLOTS) {
            bool took = budget_take(false);
            if (!took && !f->patient) {
                give_up_locked(f, "the cache fills' memory ([cache] fill_memory_mib) is all taken");
                return -1;
            }
            if (!took && !f->waited) /* why a prefetch takes longer than its reads: said once */
                ims_info("image cache: the prefetch waits for the cache fills' memory ([cache] fill_memory_mib), "
                         "%zu MiB of it its own", f->nslots);
            f->waited |= !took;
            if (!took && f->nslots == 0) {
                /* patient with no slot yet: waits for another fill's (its own come back as spares) */
                pthread_mutex_unlock(&f->mu);
                took = budget_take(true);
                pthread_mutex_lock(&f->mu);
            }
            if (took) {
                f->slots[f->nslots] = ims_xaligned_alloc(IMS_DIRECT_IO_ALIGN, SLOT); /* for O_DIRECT writes */
                return (long)f->nslots++;
            }
        } else if (!f->patient) {
            give_up_locked(f, "the cache's writer fell behind the download by 32 MiB (SLOTS)");
            return -1;
        }
        pthread_cond_wait(&f->changed, &f->mu);
    }
}

bool ims_cache_filler_offer(struct ims_cache_filler *f, uint64_t pos, const char *p, size_t n)
{
    if (pos != f->offered || n > f->size - f->offered) { /* a Range, or a read again: not the whole image in order */
        pthread_mutex_lock(&f->mu);
        give_up_locked(f, "the download is not the image from its first byte to its last");
        pthread_mutex_unlock(&f->mu);
        return false;
    }
    while (n) {
        if (f->cur < 0) {
            pthread_mutex_lock(&f->mu);
            f->cur = take_slot_locked(f);
            pthread_mutex_unlock(&f->mu);
            if (f->cur < 0)
                return false;
            f->lens[f->cur] = 0;
        }
        /* the slot being filled is the download's alone: no lock */
        size_t *len = &f->lens[f->cur];
        size_t take = SLOT - *len < n ? SLOT - *len : n;
        memcpy(f->slots[f->cur] + *len, p, take);
        *len += take;
        p += take;
        n -= take;
        f->offered += take;
        if (*len == SLOT || f->offered == f->size) {
            pthread_mutex_lock(&f->mu);
            f->queue[(f->qhead + f->qlen++) % SLOTS] = (size_t)f->cur;
            pthread_cond_broadcast(&f->changed);
            pthread_mutex_unlock(&f->mu);
            f->cur = -1;
        }
    }
    return true;
}

void ims_cache_filler_leave(struct ims_cache_filler *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->left = true;
    pthread_cond_broadcast(&f->changed);
    while (f->patient && !f->done)
        pthread_cond_wait(&f->changed, &f->mu);
    unref_locked(f);
}
