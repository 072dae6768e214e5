/* SPDX-License-Identifier: Apache-2.0
 * A thread of the service that runs one step at once and then every period
 * until stopped (the upload lease keeper, the image cache's prefetcher);
 * stop wakes it from its wait and joins it. */
#include <pthread.h>
#include <time.h>

#include "core-int.h"

struct ims_ticker {
    void (*step)(void *arg);
    void *arg;
    int64_t period_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
};

static void *ticker_main(void *p)
{
    struct ims_ticker *t = p;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        pthread_mutex_unlock(&t->lock);
        t->step(t->arg);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += t->period_ms / 1000;
        until.tv_nsec += (t->period_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&t->lock);
        while (!t->stopping && pthread_cond_timedwait(&t->cond, &t->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

enum ims_rc ims_ticker_start(const char *what, void (*step)(void *arg), void *arg, int64_t period_ms,
                             struct ims_ticker **ret, struct ims_err *err)
{
    struct ims_ticker *t = ims_xcalloc(1, sizeof(*t));
    t->step = step;
    t->arg = arg;
    t->period_ms = period_ms;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->cond);
        free(t);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the %s", what);
    }
    *ret = t;
    return IMS_OK;
}

void ims_ticker_stop(struct ims_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    free(t);
}
