/* SPDX-License-Identifier: Apache-2.0
 * A reader response's bytes fetched off the event loop. A reader callback
 * reads a remote store (an S3 GET): run on the loop, a slow answer would
 * stall every other connection the loop serves. The pump's thread calls the
 * reader into a bounded ring; the loop's content callback only copies what
 * is there, and when nothing is, suspends the connection, which the thread
 * resumes once bytes arrive, the range is complete or the read failed
 * (docs/DESIGN.md, "Serving while waiting"). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http-int.h"

/* what one download holds at most, and reads from the store at once (the
 * size of libmicrohttpd's callback block) */
#define PUMP_RING (1024 * 1024)
#define PUMP_CHUNK (256 * 1024)

struct http_pump {
    pthread_mutex_t mu;
    pthread_cond_t space; /* the loop took bytes, or the request ended */
    struct MHD_Connection *conn;
    ims_reader_fn read;
    void *ctx;
    void (*close)(void *ctx);
    uint64_t offset, length, fetched; /* fetched: bytes of the range put into the ring so far */
    char *ring;
    size_t head, fill;
    bool failed;    /* the reader failed, or ended before the range did */
    bool suspended; /* the loop found nothing and suspended the connection */
    bool stopped;   /* the request is over: fetch nothing more */
    bool cut;       /* the server stops: end the response now */
    int refs;       /* the request's and the thread's */
    struct http_pumps *set; /* the server's, while the request holds the pump */
    struct http_pump *prev, *next;
};

static atomic_uint live_pumps;

static void unref(struct http_pump *p)
{
    pthread_mutex_lock(&p->mu);
    bool last = --p->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->space);
    free(p->ring);
    free(p);
}

/* With mu held: the loop waits for what just changed (a request that
 * is over has no connection to resume). */
static void wake_loop(struct http_pump *p)
{
    if (p->suspended && !p->stopped) {
        p->suspended = false;
        MHD_resume_connection(p->conn);
    }
}

/* The ring's free bytes after its data, up to its end (or its head):
 * only the pump's thread writes there, so it reads into them unlocked. */
static size_t free_run(const struct http_pump *p, size_t *tail)
{
    *tail = (p->head + p->fill) % PUMP_RING;
    if (p->fill == PUMP_RING)
        return 0;
    return *tail < p->head ? p->head - *tail : PUMP_RING - *tail;
}

static void *pump_run(void *arg)
{
    struct http_pump *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopped && !p->cut && p->fetched < p->length) {
        size_t tail = 0, want = 0;
        while (!p->stopped && !p->cut && (want = free_run(p, &tail)) == 0)
            pthread_cond_wait(&p->space, &p->mu);
        if (p->stopped || p->cut)
            break;
        if (want > PUMP_CHUNK)
            want = PUMP_CHUNK;
        if (want > p->length - p->fetched)
            want = (size_t)(p->length - p->fetched);
        uint64_t pos = p->offset + p->fetched;
        pthread_mutex_unlock(&p->mu);
        ssize_t n = p->read(p->ctx, pos, p->ring + tail, want);
        pthread_mutex_lock(&p->mu);
        if (n <= 0) { /* 0: the data ended before the range did */
            p->failed = true;
            wake_loop(p);
            break;
        }
        p->fill += (size_t)n;
        p->fetched += (uint64_t)n;
        wake_loop(p);
    }
    pthread_mutex_unlock(&p->mu);
    if (p->close)
        p->close(p->ctx);
    unref(p);
    atomic_fetch_sub(&live_pumps, 1);
    return NULL;
}

void http_pumps_init(struct http_pumps *set)
{
    pthread_mutex_init(&set->mu, NULL);
    set->first = NULL;
}

void http_pumps_cut(struct http_pumps *set)
{
    pthread_mutex_lock(&set->mu);
    for (struct http_pump *p = set->first; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        p->cut = true;
        pthread_cond_signal(&p->space);
        wake_loop(p);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&set->mu);
}

struct http_pump *http_pump_start(struct http_pumps *set, struct MHD_Connection *conn, struct ims_response *r)
{
    struct http_pump *p = ims_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->space, NULL);
    p->conn = conn;
    p->read = r->reader;
    p->ctx = r->reader_ctx;
    p->close = r->reader_free;
    p->offset = r->range_offset;
    p->length = r->range_length;
    p->ring = ims_xmalloc(PUMP_RING);
    p->refs = 2;
    atomic_fetch_add(&live_pumps, 1);
    if (ims_thread_start_detached(pump_run, p) != 0) { /* the loop reads, as without a pump */
        atomic_fetch_sub(&live_pumps, 1);
        p->refs = 1;
        unref(p);
        return NULL;
    }
    r->reader_free = NULL; /* the pump's thread closes the reader, after its last read */
    pthread_mutex_lock(&set->mu);
    p->set = set;
    p->next = set->first;
    if (set->first)
        set->first->prev = p;
    set->first = p;
    pthread_mutex_unlock(&set->mu);
    return p;
}

ssize_t http_pump_take(struct http_pump *p, char *buf, size_t max)
{
    pthread_mutex_lock(&p->mu);
    ssize_t ret;
    if (p->cut) {
        ret = -1;
    } else if (p->fill) {
        size_t n = p->fill < max ? p->fill : max;
        size_t first = PUMP_RING - p->head < n ? PUMP_RING - p->head : n;
        memcpy(buf, p->ring + p->head, first);
        memcpy(buf + first, p->ring, n - first);
        p->head = (p->head + n) % PUMP_RING;
        p->fill -= n; /* (head stays where it is: the thread may be reading into the bytes after it) */
        pthread_cond_signal(&p->space);
        ret = (ssize_t)n;
    } else if (p->failed) {
        ret = -1;
    } else {
        /* nothing yet: the thread resumes the connection when there is
         * (suspending in a content callback is allowed; returning 0 alone
         * would make libmicrohttpd call again at once, a busy loop) */
        p->suspended = true;
        MHD_suspend_connection(p->conn);
        ret = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return ret;
}

void http_pump_stop(struct http_pump *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->set->mu);
    if (p->prev)
        p->prev->next = p->next;
    else
        p->set->first = p->next;
    if (p->next)
        p->next->prev = p->prev;
    pthread_mutex_unlock(&p->set->mu);
    pthread_mutex_lock(&p->mu);
    p->stopped = true;
    p->suspended = false;
    pthread_cond_signal(&p->space);
    pthread_mutex_unlock(&p->mu);
    unref(p);
}

void http_pumps_wait(void)
{
    while (atomic_load(&live_pumps) > 0)
        usleep(10000);
}
