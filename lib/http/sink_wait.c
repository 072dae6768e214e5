/* SPDX-License-Identifier: Apache-2.0
 * Uploads whose sink is full (a store behind): their connections wait
 * suspended, not the event loop, until the sink's thread wakes them. The
 * server's list of them lets its stop resume every one (libmicrohttpd's
 * stop requires it) and lets a wake that comes after the cut, or twice,
 * do nothing (resuming a connection that is not suspended is undefined). */
#include <microhttpd.h>

#include "http-int.h"

void http_sink_waits_init(struct http_sink_waits *set)
{
    pthread_mutex_init(&set->mu, NULL);
    set->first = NULL;
    set->cut = false;
}

static void unlink_locked(struct http_sink_wait *w)
{
    *w->pprev = w->next;
    if (w->next)
        w->next->pprev = w->pprev;
    w->pprev = NULL;
    w->next = NULL;
}

bool http_sink_wait_suspend(struct http_sink_waits *set, struct http_sink_wait *w, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&set->mu);
    bool cut = set->cut;
    if (!cut) {
        w->set = set;
        w->conn = conn;
        w->next = set->first;
        w->pprev = &set->first;
        if (set->first)
            set->first->pprev = &w->next;
        set->first = w;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&set->mu);
    return !cut;
}

void http_sink_wait_wake(void *arg)
{
    struct http_sink_wait *w = arg;
    struct http_sink_waits *set = w->set;
    pthread_mutex_lock(&set->mu);
    bool waiting = w->pprev != NULL;
    if (waiting)
        unlink_locked(w);
    pthread_mutex_unlock(&set->mu);
    if (waiting)
        MHD_resume_connection(w->conn);
}

void http_sink_wait_forget(struct http_sink_wait *w)
{
    if (!w->set)
        return;
    pthread_mutex_lock(&w->set->mu);
    if (w->pprev)
        unlink_locked(w);
    pthread_mutex_unlock(&w->set->mu);
}

void http_sink_waits_cut(struct http_sink_waits *set)
{
    pthread_mutex_lock(&set->mu);
    set->cut = true;
    while (set->first) {
        struct http_sink_wait *w = set->first;
        unlink_locked(w);
        MHD_resume_connection(w->conn);
    }
    pthread_mutex_unlock(&set->mu);
}
