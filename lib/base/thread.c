/* SPDX-License-Identifier: Apache-2.0
 * A thread nobody joins: work that ends on its own and hands its result
 * back through the struct it was given. */
#include <pthread.h>

#include "ims/base.h"

int ims_thread_start_detached(void *(*run)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int e = pthread_create(&t, &attr, run, arg);
    pthread_attr_destroy(&attr);
    return e;
}
