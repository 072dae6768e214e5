/* SPDX-License-Identifier: Apache-2.0
 * Connection guard against slowloris: a deadline for every request head and
 * for every small (buffered) request body, a cap of open connections per
 * client address and one for all of them.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client sending a
 * byte every few seconds keeps a connection forever, and its own caps
 * refuse by closing silently. So the guard counts connections itself (one
 * table for every event-loop thread), and a reaper thread cuts the
 * connections whose head or body is late: it writes a 408 (nothing else is
 * written on a connection whose head or body has not arrived) and shuts the
 * socket down, which MHD sees as the client leaving and cleans up in its
 * own thread. The socket is only shut down, never closed, while the guard
 * holds it: MHD reports the close (guard_close) before it closes the
 * descriptor, under the same lock, so the descriptor cannot have been
 * reused. Connections over a cap are answered 503 as soon as their head is
 * read, or by the reaper when the head is not complete within REFUSE_GRACE
 * (the wait lets a client's head arrive, so the answer is not lost to a
 * reset for unread data). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include "http-int.h"

#define NBUCKETS 4096
#define REFUSE_GRACE_US 1000000

struct addr_count {
    struct addr_count *next;
    unsigned char key[16];
    unsigned n;
};

/* The deadline lists: every deadline of one list is "listed at + its
 * timeout", so each list is in deadline order when appended to. */
enum { L_HEAD, L_REFUSED, L_BODY, NLISTS };

struct guard_conn {
    struct guard_conn *prev, *next; /* in lists[list] while a deadline runs */
    struct addr_count *addr;
    int fd;
    int list; /* -1: none */
    int64_t deadline_us;
    bool first, line_seen, expired;
    enum guard_refusal refusal;
};

struct dlist {
    struct guard_conn *head, *tail;
    int64_t timeout_us;
};

struct ims_conn_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t reaper;
    bool stop;
    unsigned per_address, total_cap, total;
    struct dlist lists[NLISTS];
    struct addr_count *buckets[NBUCKETS];
};

static const char *const refusal_message[] = {
    [GUARD_REFUSE_ADDRESS] = "Too many open connections from your address; close some and retry.",
    [GUARD_REFUSE_TOTAL] = "The server has too many open connections; retry later.",
};

const char *guard_refusal_message(enum guard_refusal r)
{
    return r == GUARD_ACCEPT ? NULL : refusal_message[r];
}

/* A final answer written on a connection nothing else writes to (its head
 * or body has not arrived), in webob's error shape, then the connection is
 * closed. */
static void answer_raw(int fd, int status, const char *reason, const char *extra, const char *message)
{
    char body[256], out[512];
    int nb = snprintf(body, sizeof(body), "{\"code\":\"%d %s\",\"title\":\"%s\",\"message\":\"%s\"}", status, reason,
                      reason, message);
    int n = snprintf(out, sizeof(out),
                     "HTTP/1.1 %d %s\r\nConnection: close\r\n%sContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     status, reason, extra, nb, body);
    if (n > 0 && (size_t)n < sizeof(out))
        (void)!send(fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void addr_key(const struct sockaddr *sa, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        key[10] = key[11] = 0xff; /* IPv4-mapped, so both families share the table */
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

static struct addr_count **addr_slot(struct ims_conn_guard *g, const unsigned char key[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 16777619u;
    struct addr_count **p = &g->buckets[h % NBUCKETS];
    while (*p && memcmp((*p)->key, key, 16) != 0)
        p = &(*p)->next;
    return p;
}

static void unlist(struct ims_conn_guard *g, struct guard_conn *c)
{
    if (c->list < 0)
        return;
    struct dlist *l = &g->lists[c->list];
    *(c->prev ? &c->prev->next : &l->head) = c->next;
    *(c->next ? &c->next->prev : &l->tail) = c->prev;
    c->prev = c->next = NULL;
    c->list = -1;
}

static void list_at_tail(struct ims_conn_guard *g, struct guard_conn *c, int list)
{
    struct dlist *l = &g->lists[list];
    c->deadline_us = ims_mono_us() + l->timeout_us;
    c->prev = l->tail;
    *(l->tail ? &l->tail->next : &l->head) = c;
    l->tail = c;
    c->list = list;
}

static void expire(struct guard_conn *c, int list)
{
    c->expired = true;
    if (list == L_REFUSED)
        answer_raw(c->fd, 503, "Service Unavailable", "Retry-After: 1\r\n", refusal_message[c->refusal]);
    else if (list == L_BODY)
        answer_raw(c->fd, 408, "Request Timeout", "", "The request body did not arrive in time.");
    /* An idle keep-alive connection is closed silently (clients expect
     * that); one that started a request is told why. */
    else if (c->first || c->line_seen)
        answer_raw(c->fd, 408, "Request Timeout", "", "The request head did not arrive in time.");
    shutdown(c->fd, SHUT_RDWR);
}

static void *reaper_main(void *arg)
{
    struct ims_conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        int64_t now = ims_mono_us();
        int64_t wait_us = 1000000;
        for (int i = 0; i < NLISTS; i++) {
            struct dlist *l = &g->lists[i];
            while (l->head && l->head->deadline_us <= now) {
                struct guard_conn *c = l->head;
                unlist(g, c);
                expire(c, i);
            }
            if (l->head && l->head->deadline_us - now < wait_us)
                wait_us = l->head->deadline_us - now;
        }
        struct timespec ts = ims_mono_deadline(wait_us + 1000);
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct ims_conn_guard *guard_start(unsigned head_timeout_s, unsigned body_timeout_s, unsigned per_address,
                                   unsigned total_cap)
{
    struct ims_conn_guard *g = ims_xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    ims_cond_init_monotonic(&g->wake);
    g->lists[L_HEAD].timeout_us = (int64_t)(head_timeout_s ? head_timeout_s : 30) * 1000000;
    g->lists[L_BODY].timeout_us = (int64_t)(body_timeout_s ? body_timeout_s : 30) * 1000000;
    g->lists[L_REFUSED].timeout_us = g->lists[L_HEAD].timeout_us < REFUSE_GRACE_US ? g->lists[L_HEAD].timeout_us
                                                                                 : REFUSE_GRACE_US;
    g->per_address = per_address;
    g->total_cap = total_cap;
    if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    return g;
}

void guard_stop(struct ims_conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->reaper, NULL);
    for (size_t i = 0; i < NBUCKETS; i++)
        while (g->buckets[i]) {
            struct addr_count *a = g->buckets[i];
            g->buckets[i] = a->next;
            free(a);
        }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

struct guard_conn *guard_open(struct ims_conn_guard *g, int fd, const struct sockaddr *peer)
{
    struct guard_conn *c = ims_xcalloc(1, sizeof(*c));
    unsigned char key[16];
    addr_key(peer, key);
    c->fd = fd;
    c->first = true;
    c->list = -1;
    pthread_mutex_lock(&g->lock);
    struct addr_count **p = addr_slot(g, key);
    if (!*p) {
        *p = ims_xcalloc(1, sizeof(**p));
        memcpy((*p)->key, key, 16);
    }
    c->addr = *p;
    c->addr->n++;
    g->total++;
    if (g->total_cap && g->total > g->total_cap)
        c->refusal = GUARD_REFUSE_TOTAL;
    else if (g->per_address && c->addr->n > g->per_address)
        c->refusal = GUARD_REFUSE_ADDRESS;
    list_at_tail(g, c, c->refusal == GUARD_ACCEPT ? L_HEAD : L_REFUSED);
    if (c->refusal != GUARD_ACCEPT)
        pthread_cond_signal(&g->wake); /* its deadline may be the nearest */
    pthread_mutex_unlock(&g->lock);
    return c;
}

void guard_close(struct ims_conn_guard *g, struct guard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    unlist(g, c);
    g->total--;
    if (--c->addr->n == 0) {
        struct addr_count **p = addr_slot(g, c->addr->key);
        *p = c->addr->next;
        free(c->addr);
    }
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void guard_line_seen(struct ims_conn_guard *g, struct guard_conn *c)
{
    pthread_mutex_lock(&g->lock);
    c->line_seen = true;
    pthread_mutex_unlock(&g->lock);
}

enum guard_refusal guard_head_done(struct ims_conn_guard *g, struct guard_conn *c)
{
    pthread_mutex_lock(&g->lock);
    unlist(g, c);
    enum guard_refusal r = c->refusal;
    pthread_mutex_unlock(&g->lock);
    return r;
}

void guard_body_begin(struct ims_conn_guard *g, struct guard_conn *c)
{
    pthread_mutex_lock(&g->lock);
    unlist(g, c);
    list_at_tail(g, c, L_BODY);
    pthread_cond_signal(&g->wake); /* its deadline may be the nearest */
    pthread_mutex_unlock(&g->lock);
}

bool guard_body_done(struct ims_conn_guard *g, struct guard_conn *c)
{
    pthread_mutex_lock(&g->lock);
    unlist(g, c);
    bool in_time = !c->expired;
    pthread_mutex_unlock(&g->lock);
    return in_time;
}

void guard_request_done(struct ims_conn_guard *g, struct guard_conn *c)
{
    pthread_mutex_lock(&g->lock);
    unlist(g, c);
    c->first = c->line_seen = false;
    list_at_tail(g, c, L_HEAD);
    pthread_mutex_unlock(&g->lock);
}
