/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the files of lib/http. */
#ifndef IMS_HTTP_INT_H
#define IMS_HTTP_INT_H

#include <pthread.h>

#include "ims/http.h"
#include "ims/query.h"

/* ---- the deferred pool (deferred.c) ---- */
struct ims_deferred;
/* nthreads workers (at least one) run submitted jobs in order; at most
 * max_queued wait. The workers run at `priority`: 0 as the process, 1-19 a
 * nice value that much higher, IMS_DEFERRED_IDLE under SCHED_IDLE. NULL if
 * no thread could start. */
struct ims_deferred *ims_deferred_start(unsigned nthreads, size_t max_queued, int priority);
/* The same at the process's priority, each thread calling thread_start(arg) first (a handler pool's
 * threads open their database connection before any request waits on it). */
struct ims_deferred *ims_deferred_start_with(unsigned nthreads, size_t max_queued, void (*thread_start)(void *),
                                             void *arg);
/* false (nothing queued) when max_queued jobs already wait. */
bool ims_deferred_submit(struct ims_deferred *d, void (*fn)(void *arg), void *arg);
/* Runs what is queued, then joins the workers and frees d (NULL: no-op). */
void ims_deferred_stop(struct ims_deferred *d);

struct sockaddr;
struct MHD_Connection;

/* ---- sink_wait.c: uploads suspended while their sink is full ---- */
struct http_sink_wait {
    struct http_sink_waits *set;
    struct MHD_Connection *conn;
    struct http_sink_wait *next, **pprev; /* pprev NULL: not suspended by us */
};
struct http_sink_waits {
    pthread_mutex_t mu;
    struct http_sink_wait *first;
    bool cut; /* the server stops: nothing is suspended any more */
};
void http_sink_waits_init(struct http_sink_waits *set);
/* Suspends conn until http_sink_wait_wake(w); false (not suspended) once
 * the set was cut. */
bool http_sink_wait_suspend(struct http_sink_waits *set, struct http_sink_wait *w, struct MHD_Connection *conn);
/* Resumes w's connection if it still waits (any thread; w stays valid
 * until the request's sink is aborted or finished, which ends its wakes). */
void http_sink_wait_wake(void *w);
/* The request ends: w is no longer resumed by anything. */
void http_sink_wait_forget(struct http_sink_wait *w);
/* The server stops: every waiting connection is resumed, and none waits
 * any more. */
void http_sink_waits_cut(struct http_sink_waits *set);

/* ---- pump.c: a reader response's bytes fetched off the event loop ---- */
struct http_pump;
/* A server's pumps, so that its stop can end the downloads still waiting. */
struct http_pumps {
    pthread_mutex_t mu;
    struct http_pump *first;
};
void http_pumps_init(struct http_pumps *set);
/* The server stops: every pump's response ends now (with an error; a
 * suspended connection is resumed, as libmicrohttpd's stop requires). */
void http_pumps_cut(struct http_pumps *set);
/* Starts a thread reading r's range through r's reader into a bounded
 * ring, and takes the reader over (r->reader_free is cleared: the thread
 * closes it). NULL if no thread could start (r is unchanged). */
struct http_pump *http_pump_start(struct http_pumps *set, struct MHD_Connection *conn, struct ims_response *r);
/* The content callback's part, on the event loop: copies up to max bytes
 * that are there; none there: suspends conn (resumed when bytes arrive or
 * the read fails) and returns 0; -1 once the read failed. */
ssize_t http_pump_take(struct http_pump *p, char *buf, size_t max);
/* The request is over: the thread stops after its current read and frees
 * everything. NULL-safe. */
void http_pump_stop(struct http_pump *p);
/* Waits until every pump's thread has ended: after a cut, a thread ends
 * once its current read returns (the store's stall timeout bounds it, as
 * it bounded the event loop's own read before pumps). */
void http_pumps_wait(void);

/* ---- loopback.c ---- */
/* A connection from this host (127.0.0.0/8, ::1, v4-mapped 127/8) is sent
 * unpaced (reno): the kernel's pacing of BBR costs a timer per send there
 * and buys nothing. Best effort; other peers and errors leave fd as is. */
void http_unpace_loopback(int fd, const struct sockaddr *peer);

/* ---- unsent.c ---- */
/* libmicrohttpd's sendfile chunk per event-loop turn (MHD_SENFILE_CHUNK_). */
#define HTTP_UNSENT_LOWAT (128 * 1024)
/* A socket about to carry a file body keeps at most HTTP_UNSENT_LOWAT bytes
 * queued unsent (TCP_NOTSENT_LOWAT): faster downloads from the page cache
 * (bench/README.md, Run NL). Best effort; errors leave fd as is. */
void http_limit_unsent(int fd);

/* ---- guard.c: head and body deadlines, connection caps ---- */
enum guard_refusal { GUARD_ACCEPT, GUARD_REFUSE_ADDRESS, GUARD_REFUSE_TOTAL };
struct ims_conn_guard;
struct guard_conn;
/* Timeouts of 0 mean 30 s, caps of 0 none. Starts the reaper thread; NULL
 * if it cannot. */
struct ims_conn_guard *guard_start(unsigned head_timeout_s, unsigned body_timeout_s, unsigned per_address,
                                   unsigned total_cap);
/* The message of a 503 for a connection over a cap (NULL for GUARD_ACCEPT). */
const char *guard_refusal_message(enum guard_refusal r);
void guard_stop(struct ims_conn_guard *g);
/* A new connection; its first head is due within the head timeout, or,
 * over a cap, within a second (then it is answered 503 and closed). */
struct guard_conn *guard_open(struct ims_conn_guard *g, int fd, const struct sockaddr *peer);
/* Before its descriptor is closed. NULL-safe. */
void guard_close(struct ims_conn_guard *g, struct guard_conn *c);
void guard_line_seen(struct ims_conn_guard *g, struct guard_conn *c);
/* The head arrived: no deadline until the request ends; whether to refuse
 * the connection because it was over a cap when it opened. */
enum guard_refusal guard_head_done(struct ims_conn_guard *g, struct guard_conn *c);
/* The head announced a body that is buffered (not streamed to a sink): it
 * is due in full within the body timeout, else 408 and the connection is
 * closed. */
void guard_body_begin(struct ims_conn_guard *g, struct guard_conn *c);
/* The body arrived: no deadline; false when it was too late (the reaper
 * answered 408 and shut the connection down: write nothing more). */
bool guard_body_done(struct ims_conn_guard *g, struct guard_conn *c);
/* A request ended on a connection kept alive: the next head is due. */
void guard_request_done(struct ims_conn_guard *g, struct guard_conn *c);

#endif
