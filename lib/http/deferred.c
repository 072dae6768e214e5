/* SPDX-License-Identifier: Apache-2.0
 * A bounded pool of worker threads for handlers too slow for an event loop
 * (argon2 password hashing, ~30 ms): a fixed ring of queued jobs, so a
 * flood of logins waits in a queue of known size or is refused, and never
 * stalls the requests the event-loop threads serve meanwhile.
 *
 * Off the event loop is not enough when the hashes keep every core busy:
 * the event-loop threads then wait for a time slice behind them. So the
 * workers may run at a lower priority (a nice value of their own, or
 * SCHED_IDLE), and the scheduler lets an event-loop thread that wakes up
 * preempt them. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "http-int.h"

struct job {
    void (*fn)(void *arg);
    void *arg;
};

struct ims_deferred {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *ring;
    size_t cap, head, n;
    bool stopping;
    pthread_t *threads;
    unsigned nthreads;
    void (*thread_start)(void *);
    void *thread_arg;
    int priority;
};

/* Lowers the calling thread's priority (never raises it). SCHED_IDLE
 * falls back to nice 19 where the kernel refuses it. */
static void lower_priority(int priority)
{
    if (priority >= IMS_DEFERRED_IDLE) {
        struct sched_param sp = {0};
        if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0)
            return;
        priority = 19;
    }
    if (priority <= 0)
        return;
    id_t tid = (id_t)gettid();
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) {
        nice = nice + priority > 19 ? 19 : nice + priority;
        if (setpriority(PRIO_PROCESS, tid, nice) != 0)
            ims_warn("deferred pool: cannot lower a worker's priority to nice %d", nice);
    }
}

static void *worker(void *p)
{
    struct ims_deferred *d = p;
    lower_priority(d->priority);
    if (d->thread_start)
        d->thread_start(d->thread_arg);
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (d->n == 0 && !d->stopping)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->n == 0)
            break; /* stopping, and the queue is drained */
        struct job j = d->ring[d->head];
        d->head = (d->head + 1) % d->cap;
        d->n--;
        pthread_mutex_unlock(&d->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static struct ims_deferred *start(unsigned nthreads, size_t max_queued, void (*thread_start)(void *), void *arg,
                                  int priority)
{
    struct ims_deferred *d = ims_xcalloc(1, sizeof(*d));
    d->thread_start = thread_start;
    d->thread_arg = arg;
    d->priority = priority;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->cap = max_queued ? max_queued : 1;
    d->ring = ims_xcalloc(d->cap, sizeof(*d->ring));
    d->threads = ims_xcalloc(nthreads ? nthreads : 1, sizeof(*d->threads));
    for (unsigned i = 0; i < (nthreads ? nthreads : 1); i++) {
        if (pthread_create(&d->threads[i], NULL, worker, d) != 0)
            break;
        d->nthreads++;
    }
    if (d->nthreads == 0) {
        ims_deferred_stop(d);
        return NULL;
    }
    return d;
}

struct ims_deferred *ims_deferred_start(unsigned nthreads, size_t max_queued, int priority)
{
    return start(nthreads, max_queued, NULL, NULL, priority);
}

struct ims_deferred *ims_deferred_start_with(unsigned nthreads, size_t max_queued, void (*thread_start)(void *),
                                             void *arg)
{
    return start(nthreads, max_queued, thread_start, arg, 0);
}

bool ims_deferred_submit(struct ims_deferred *d, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&d->mu);
    bool ok = !d->stopping && d->n < d->cap;
    if (ok) {
        d->ring[(d->head + d->n) % d->cap] = (struct job){fn, arg};
        d->n++;
        pthread_cond_signal(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return ok;
}

void ims_deferred_stop(struct ims_deferred *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    for (unsigned i = 0; i < d->nthreads; i++)
        pthread_join(d->threads[i], NULL);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->threads);
    free(d->ring);
    free(d);
}
