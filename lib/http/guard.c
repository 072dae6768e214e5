/* SPDX-License-Identifier: Apache-2.0
 * Connection guard against slowloris: a deadline for every request head,
 * a cap of open connections per client address and one for all of them.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client sending a
 * byte every few seconds keeps a connection forever, and its own caps
 * refuse by closing silently. So the guard counts connections itself (one
 * table for every event-loop thread), and a reaper thread cuts the
 * connections whose head is late: it writes a 408 (nothing else is written
 * on a connection whose head has not arrived) and shuts the socket down,
 * which MHD sees as the client leaving and cleans up in its own thread. The
 * socket is only shut down, never closed, while the guard holds it: MHD
 * reports the close (guard_close) before it closes the descriptor, under
 * the same lock, so the descriptor cannot have been reused. Connections over
 * a cap are answered 503 as soon as their head is read. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include "http-int.h"

#define NBUCKETS 4096

struct addr_count {
    struct addr_count *next;
    unsigned char key[16];
    unsigned n;
};

struct guard_conn {
    struct guard_conn *prev, *next; /* in the deadline list while a head is awaited */
    struct addr_count *addr;
    int fd;
    int64_t deadline_us;
    bool listed, first, line_seen;
    enum guard_refusal refusal;
};

struct ims_conn_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t reaper;
    bool stop;
    int64_t head_timeout_us;
    unsigned per_address, total_cap, total;
    struct guard_conn *head, *tail; /* by deadline: every deadline is now + head_timeout */
    struct addr_count *buckets[NBUCKETS];
};

static const char timeout_answer[] =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 107\r\n\r\n"
    "{\"code\":\"408 Request Timeout\",\"title\":\"Request Timeout\",\"message\":\"The request head did not arrive in time.\"}";

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
    if (!c->listed)
        return;
    *(c->prev ? &c->prev->next : &g->head) = c->next;
    *(c->next ? &c->next->prev : &g->tail) = c->prev;
    c->prev = c->next = NULL;
    c->listed = false;
}

static void list_at_tail(struct ims_conn_guard *g, struct guard_conn *c)
{
    c->deadline_us = ims_mono_us() + g->head_timeout_us;
    c->prev = g->tail;
    *(g->tail ? &g->tail->next : &g->head) = c;
    g->tail = c;
    c->listed = true;
}

static void expire(struct guard_conn *c)
{
    /* An idle keep-alive connection is closed silently (clients expect
     * that); one that started a request is told why. */
    if (c->first || c->line_seen)
        (void)!send(c->fd, timeout_answer, sizeof(timeout_answer) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(c->fd, SHUT_RDWR);
}

static void *reaper_main(void *arg)
{
    struct ims_conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        int64_t now = ims_mono_us();
        while (g->head && g->head->deadline_us <= now) {
            struct guard_conn *c = g->head;
            unlist(g, c);
            expire(c);
        }
        int64_t wait_us = g->head ? g->head->deadline_us - now : 1000000;
        if (wait_us > 1000000)
            wait_us = 1000000;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (wait_us + 1000) * 1000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct ims_conn_guard *guard_start(unsigned head_timeout_s, unsigned per_address, unsigned total_cap)
{
    struct ims_conn_guard *g = ims_xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    g->head_timeout_us = (int64_t)(head_timeout_s ? head_timeout_s : 30) * 1000000;
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
    list_at_tail(g, c);
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

void guard_request_done(struct ims_conn_guard *g, struct guard_conn *c)
{
    pthread_mutex_lock(&g->lock);
    unlist(g, c);
    c->first = c->line_seen = false;
    list_at_tail(g, c);
    pthread_mutex_unlock(&g->lock);
}
