/* SPDX-License-Identifier: Apache-2.0
 * libmicrohttpd glue: one single-thread epoll daemon per configured thread on
 * a shared SO_REUSEPORT port (balanced, unlike MHD's thread pool), request
 * state from the raw URI, bodies buffered with a cap or streamed to a sink,
 * and a drain on stop. Responses are queued from the second access-handler
 * call on: queuing on the first makes MHD drop keep-alive
 * (docs/DESIGN.md, "Libraries"). */
#include "ims/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http-int.h"

#define MAX_DAEMONS 64

struct ims_http_server {
    struct MHD_Daemon *daemons[MAX_DAEMONS];
    unsigned ndaemons;
    unsigned port;
    const struct ims_http_app *app;
    struct ims_deferred *deferred;
    struct ims_deferred *handlers; /* handler_threads' pool; NULL: on the event loop */
    struct ims_deferred *committers; /* commit_threads' pool (IMS_ROUTE_SHARED_COMMIT); NULL: none */
    struct ims_deferred *remote;     /* remote_threads' pool (IMS_ROUTE_REMOTE_IO); NULL: none */
    struct ims_conn_guard *guard;
    struct http_pumps pumps; /* downloads read off the loop (pump.c) */
    struct http_sink_waits sink_waits; /* uploads waiting for their sink (sink_wait.c) */
    atomic_uint inflight;
};

/* PHASE_DISCARD: the answer is ready (an error found before the body was
 * read), but clients that send the body before reading the answer (python
 * requests does) see a reset if we close on them: read and drop up to
 * DISCARD_MAX bytes first, then answer. */
/* PHASE_DEFERRED: the connection is suspended while a deferred-pool worker
 * runs the handler; the worker sets phase_ready and resumes it, and the
 * next access-handler call sends the answer. */
enum req_phase { PHASE_NEW, PHASE_BODY, PHASE_DISCARD, PHASE_DEFERRED, PHASE_DONE };
#define DISCARD_MAX (64ULL * 1024 * 1024)

struct conn_req {
    struct ims_request req;
    struct ims_http_server *srv;
    char *raw_uri;
    enum req_phase phase;
    bool sink_begun, sink_finished;
    atomic_bool phase_ready; /* set by the deferred worker, read by the event loop */
    bool answer_now; /* refused from its head: answer before reading any body */
    bool body_timed; /* its buffered body is under the guard's body deadline */
    struct guard_conn *gc; /* the connection's entry in the guard */
    struct http_pump *pump; /* a reader response's bytes, fetched off the loop */
    struct http_sink_wait sink_wait; /* suspended while the sink has no room */
    uint64_t discarded;
};

static struct guard_conn *guard_conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct ims_http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *peer = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        http_unpace_loopback(fd->connect_fd, peer ? peer->client_addr : NULL);
        *socket_context = guard_open(srv->guard, fd->connect_fd, peer ? peer->client_addr : NULL);
    } else {
        guard_close(srv->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct ims_http_server *srv = cls;
    struct conn_req *cr = ims_xcalloc(1, sizeof(*cr));
    cr->srv = srv;
    cr->gc = guard_conn_of(c);
    if (cr->gc)
        guard_line_seen(srv->guard, cr->gc);
    cr->raw_uri = ims_xstrdup(uri);
    /* We parse the query ourselves from raw_uri. MHD would next split it
     * into its connection pool (tens of bytes per parameter) and,
     * with about 1,000 parameters, run out and never answer: end the
     * query it sees here, in its own buffer, which it clobbers anyway. */
    char *qs = strchr(uri, '?');
    if (qs && qs[1])
        qs[1] = 0;
    cr->req.conn = c;
    cr->req.resp.fd = -1;
    cr->req.svc = srv->app->svc;
    cr->req.started_us = ims_mono_us();
    ims_buf_init(&cr->req.body, IMS_MAX_JSON_BODY);
    ims_buf_init(&cr->req.resp.body, SIZE_MAX / 2);
    atomic_fetch_add(&srv->inflight, 1);
    return cr;
}

static void free_request(struct conn_req *cr)
{
    struct ims_request *req = &cr->req;
    free(req->path);
    ims_kvlist_release(&req->query);
    for (size_t i = 0; i < req->nparams; i++)
        free(req->params[i]);
    ims_buf_release(&req->body);
    ims_buf_release(&req->resp.body);
    ims_kvlist_release(&req->resp.headers);
    http_pump_stop(cr->pump);
    if (req->resp.fd >= 0)
        close(req->resp.fd);
    if (req->resp.reader_free)
        req->resp.reader_free(req->resp.reader_ctx);
    if (cr->srv->app->cleanup)
        cr->srv->app->cleanup(req);
    free(cr->raw_uri);
    free(cr);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct ims_http_server *srv = cls;
    struct conn_req *cr = *con_cls;
    if (!cr)
        return;
    http_sink_wait_forget(&cr->sink_wait);
    if (cr->sink_begun && !cr->sink_finished && cr->req.route && cr->req.route->sink->abort)
        cr->req.route->sink->abort(&cr->req);
    if (srv->app->after && cr->phase == PHASE_DONE)
        srv->app->after(&cr->req);
    if (cr->gc && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        guard_request_done(srv->guard, cr->gc);
    free_request(cr);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct ims_response *r = cls;
    ssize_t n = r->reader(r->reader_ctx, r->range_offset + pos, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static ssize_t pump_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    ssize_t n = http_pump_take(cls, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static enum MHD_Result send_response(struct conn_req *cr)
{
    struct ims_request *req = &cr->req;
    struct ims_response *r = &req->resp;
    struct MHD_Response *mr;
    cr->phase = PHASE_DONE;
    if (!r->status)
        r->status = 500;
    if (r->fd >= 0) {
        mr = MHD_create_response_from_fd_at_offset64(r->range_length, r->fd, r->range_offset);
        r->fd = -1; /* MHD closes it */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
            http_limit_unsent(ci->connect_fd);
    } else if (r->reader && r->range_length && req->method != IMS_HEAD && /* a HEAD reads nothing */
               (cr->pump = http_pump_start(&cr->srv->pumps, req->conn, r))) {
        mr = MHD_create_response_from_callback(r->range_length, 256 * 1024, pump_cb, cr->pump, NULL);
    } else if (r->reader) {
        mr = MHD_create_response_from_callback(r->range_length, 256 * 1024, reader_cb, r, NULL);
    } else {
        size_t len;
        char *data = ims_buf_detach(&r->body, &len);
        mr = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    }
    if (!mr)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (size_t i = 0; i < r->headers.n; i++)
        MHD_add_response_header(mr, r->headers.items[i].key, r->headers.items[i].value);
    MHD_add_response_header(mr, "X-Openstack-Request-Id", req->request_id);
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    ims_kvlist_add(cls, key, value ? value : "");
    return MHD_YES;
}

/* Whether the client announced a body it has not sent yet: then a refusal
 * is answered now, without `100 Continue` (it waits for one) or when the body
 * is larger than we drain (answering after it is read would take too long). */
static bool body_waits(struct ims_request *req)
{
    const char *expect = ims_req_header(req, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0)
        return true;
    if (ims_req_header(req, "Transfer-Encoding"))
        return true;
    int64_t length;
    const char *cl = ims_req_header(req, "Content-Length");
    return cl && ims_parse_i64(cl, 0, INT64_MAX, &length) && (uint64_t)length > DISCARD_MAX;
}

/* Whether the head announces a body (a length above 0 or chunks). */
static bool body_announced(struct ims_request *req)
{
    if (ims_req_header(req, "Transfer-Encoding"))
        return true;
    const char *cl = ims_req_header(req, "Content-Length");
    return cl && !ims_streq(cl, "0");
}

/* The body the request was reading is complete (or no longer read): false
 * when it came too late and the guard already answered 408. */
static bool body_in_time(struct conn_req *cr)
{
    if (!cr->body_timed)
        return true;
    cr->body_timed = false;
    return guard_body_done(cr->srv->guard, cr->gc);
}

/* First call: parse, route, authenticate, open the sink. Queues only a
 * refusal that must not wait for the body (answer_now). */
static void setup(struct conn_req *cr, const char *method, const char *version, enum guard_refusal refusal)
{
    struct ims_request *req = &cr->req;
    const struct ims_http_app *app = cr->srv->app;
    char uuid[IMS_UUID_LEN + 1];
    ims_uuid_new(uuid);
    snprintf(req->request_id, sizeof(req->request_id), "req-%s", uuid);
    req->method = ims_method_parse(method);
    req->method_name = ims_method_name(req->method);

    if (refusal != GUARD_ACCEPT) {
        ims_http_error(req, 503, guard_refusal_message(refusal));
        ims_kvlist_add(&req->resp.headers, "Retry-After", "1");
        cr->phase = PHASE_DISCARD;
        cr->answer_now = true;
        return;
    }

    struct ims_kvlist head = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, &head);
    const char *bad_head = ims_http_head_check(version, &head);
    ims_kvlist_release(&head);
    if (bad_head) {
        /* The body's framing is in doubt: never read it, close after. */
        ims_http_error(req, 400, bad_head);
        cr->phase = PHASE_DISCARD;
        cr->answer_now = true;
        return;
    }

    struct ims_err err = {0};
    char *qs = strchr(cr->raw_uri, '?');
    req->path = ims_xstrndup(cr->raw_uri, qs ? (size_t)(qs - cr->raw_uri) : strlen(cr->raw_uri));
    _cleanup_free_ char *decoded = ims_xstrdup(req->path);
    if (!ims_url_decode(decoded, false)) {
        ims_http_error(req, 400,
                       "The request path is not valid text (bad percent-encoding, NUL, control character or invalid "
                       "UTF-8).");
        cr->phase = PHASE_DISCARD;
        return;
    }
    if (qs && ims_query_string_parse(qs + 1, IMS_MAX_QUERY_PARAMS, &req->query, &err) != IMS_OK) {
        ims_http_error(req, 400, err.msg);
        cr->phase = PHASE_DISCARD;
        return;
    }
    unsigned allowed = 0;
    req->route = ims_route_match(app->routes, app->nroutes, req->method, req->path, req->params, &req->nparams,
                                 &allowed);
    if (!req->route) {
        app->no_route(req, allowed);
        cr->phase = PHASE_DISCARD;
        return;
    }
    if (!app->before(req)) {
        cr->phase = PHASE_DISCARD;
        return;
    }
    if (req->route->sink) {
        cr->sink_begun = true;
        if (req->route->sink->begin(req) != IMS_OK) {
            cr->sink_finished = true; /* begin cleaned up after itself */
            cr->phase = PHASE_DISCARD;
            return;
        }
    }
    cr->phase = PHASE_BODY;
}

static void run_deferred(void *arg)
{
    struct conn_req *cr = arg;
    if (cr->req.route->sink) {
        cr->sink_finished = true; /* read by on_completed after the resume below */
        cr->req.route->sink->end(&cr->req);
    } else {
        cr->req.route->handler(&cr->req);
    }
    atomic_store(&cr->phase_ready, true);
    MHD_resume_connection(cr->req.conn);
}

/* Hands the handler to a pool; the connection waits suspended (suspend
 * first: the worker may resume it before we return). A full queue is
 * answered `status` at once. */
static void defer(struct conn_req *cr, struct ims_deferred *pool, int status, const char *busy)
{
    MHD_suspend_connection(cr->req.conn);
    cr->phase = PHASE_DEFERRED;
    if (!ims_deferred_submit(pool, run_deferred, cr)) {
        ims_resp_header(&cr->req, "Retry-After", "1");
        ims_http_error(&cr->req, status, busy);
        atomic_store(&cr->phase_ready, true);
        MHD_resume_connection(cr->req.conn);
    }
}

/* The pool where a finishing sink may wait (an S3 PUT's answer, the
 * commit) without stalling the loop; NULL: on the loop. */
static struct ims_deferred *sink_end_pool(struct ims_http_server *srv)
{
    return srv->handlers ? srv->handlers : srv->remote;
}

/* How much of n bytes the sink takes now. None: the connection is suspended
 * with the bytes left unconsumed (MHD hands them again once resumed) until
 * the sink has room, so a store that is behind never blocks the event
 * loop (libmicrohttpd 0.9.75 keeps unconsumed upload data of a suspended
 * connection). Suspend first, then arm the wake: it may fire before we
 * return. 0 and *cut: the server stops, close. */
static size_t sink_room(struct conn_req *cr, size_t n, bool *cut)
{
    const struct ims_body_sink *sink = cr->req.route->sink;
    *cut = false;
    /* Only where the store is remote (its end() runs on a pool too): a
     * local store's write is not worth a suspension. */
    if (!sink->room || !sink_end_pool(cr->srv))
        return n;
    size_t room = sink->room(&cr->req, NULL, NULL);
    if (room)
        return room < n ? room : n;
    if (!http_sink_wait_suspend(&cr->srv->sink_waits, &cr->sink_wait, cr->req.conn)) {
        *cut = true;
        return 0;
    }
    if (sink->room(&cr->req, http_sink_wait_wake, &cr->sink_wait))
        http_sink_wait_wake(&cr->sink_wait); /* room came meanwhile: no wake is armed */
    return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    struct conn_req *cr = *con_cls;
    struct ims_request *req = &cr->req;
    if (cr->phase == PHASE_NEW) {
        setup(cr, method, version, cr->gc ? guard_head_done(cr->srv->guard, cr->gc) : GUARD_ACCEPT);
        if (cr->phase == PHASE_DISCARD && (cr->answer_now || body_waits(req)))
            return send_response(cr); /* queued this early, MHD closes after it */
        /* A body read into memory (JSON, at most IMS_MAX_JSON_BODY, or one
         * discarded) is due within the body timeout; image data streamed
         * to a sink may be slow and is cut only by the idle timeout. */
        if (cr->gc && !(req->route && req->route->sink) && body_announced(req)) {
            cr->body_timed = true;
            guard_body_begin(cr->srv->guard, cr->gc);
        }
        return MHD_YES;
    }
    if (cr->phase == PHASE_DONE)
        return MHD_YES;
    if (cr->phase == PHASE_DEFERRED) /* called again once resumed */
        return atomic_load(&cr->phase_ready) ? send_response(cr) : MHD_YES;
    if (cr->phase == PHASE_DISCARD) {
        cr->discarded += *upload_data_size;
        if (*upload_data_size && cr->discarded <= DISCARD_MAX) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        return body_in_time(cr) ? send_response(cr) : MHD_NO;
    }

    if (*upload_data_size && req->route->sink) {
        /* Bytes left unconsumed only while suspended: libmicrohttpd calls
         * again for them once resumed, but not otherwise (the client may
         * have sent everything) */
        while (*upload_data_size) {
            bool cut = false;
            size_t n = sink_room(cr, *upload_data_size, &cut);
            if (!n)
                return cut ? MHD_NO : MHD_YES; /* suspended until the sink has room; on_completed aborts a cut one */
            if (req->route->sink->data(req, upload_data, n) != IMS_OK) {
                cr->sink_finished = true; /* data() aborted and filled the response */
                cr->phase = PHASE_DISCARD;
                *upload_data_size = 0;
                return MHD_YES;
            }
            upload_data += n;
            *upload_data_size -= n;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!ims_buf_add(&req->body, upload_data, n)) {
            ims_http_error(req, 413, "Request body too large");
            cr->phase = PHASE_DISCARD;
        }
        return MHD_YES;
    }
    if (!body_in_time(cr))
        return MHD_NO; /* answered 408 by the guard */
    if (req->route->sink && sink_end_pool(cr->srv)) {
        defer(cr, sink_end_pool(cr->srv), 503, "Too many requests are waiting; retry shortly.");
        return MHD_YES; /* a refused one is aborted by on_completed (sink_finished is false) */
    } else if (req->route->sink) {
        cr->sink_finished = true;
        req->route->sink->end(req);
    } else if ((req->route->flags & IMS_ROUTE_DEFERRED) && cr->srv->deferred) {
        defer(cr, cr->srv->deferred, 429, "Too many requests are waiting for password checks; retry shortly.");
        return MHD_YES;
    } else if (cr->srv->handlers) {
        defer(cr, cr->srv->handlers, 503, "Too many requests are waiting; retry shortly.");
        return MHD_YES;
    } else if ((req->route->flags & IMS_ROUTE_REMOTE_IO) && cr->srv->remote) {
        defer(cr, cr->srv->remote, 503, "Too many requests are waiting; retry shortly.");
        return MHD_YES;
    } else if ((req->route->flags & IMS_ROUTE_SHARED_COMMIT) && cr->srv->committers) {
        defer(cr, cr->srv->committers, 503, "Too many requests are waiting; retry shortly.");
        return MHD_YES;
    } else {
        req->route->handler(req);
    }
    return send_response(cr);
}

const char *ims_req_header(struct ims_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void ims_req_peer(struct ims_request *req, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    out[0] = 0;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

const char *ims_req_base_url(struct ims_request *req)
{
    if (req->base_url[0])
        return req->base_url;
    const struct ims_http_app *app = ((struct conn_req *)req)->srv->app;
    if (app->public_url) {
        snprintf(req->base_url, sizeof(req->base_url), "%s", app->public_url);
    } else {
        ims_http_host_base_url(ims_req_header(req, "Host"), req->base_url, sizeof(req->base_url));
    }
    size_t n = strlen(req->base_url);
    while (n && req->base_url[n - 1] == '/')
        req->base_url[--n] = 0;
    return req->base_url;
}

/* MHD refuses beyond its own limit by closing silently: give each thread
 * room for every connection the guard admits plus some to answer 503. */
static unsigned mhd_limit(const struct ims_http_config *cfg)
{
    return cfg->connection_limit + cfg->connection_limit / 8 + 16;
}

static enum MHD_Result start_one(struct ims_http_server *srv, const struct ims_http_config *cfg, unsigned port,
                                 struct MHD_Daemon **ret)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1)
        return MHD_NO;
    *ret = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)port, NULL, NULL, on_access, srv,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_LISTENING_ADDRESS_REUSE,
                            (unsigned)1, MHD_OPTION_CONNECTION_LIMIT, mhd_limit(cfg),
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout, MHD_OPTION_URI_LOG_CALLBACK,
                            on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory, MHD_OPTION_END);
    return *ret ? MHD_YES : MHD_NO;
}

enum ims_rc ims_http_start(const struct ims_http_config *cfg, const struct ims_http_app *app,
                           struct ims_http_server **ret, struct ims_err *err)
{
    struct ims_http_server *srv = ims_xcalloc(1, sizeof(*srv));
    srv->app = app;
    http_pumps_init(&srv->pumps);
    http_sink_waits_init(&srv->sink_waits);
    srv->guard =
        guard_start(cfg->head_timeout, cfg->body_timeout, cfg->address_connection_limit, cfg->connection_limit);
    if (!srv->guard) {
        free(srv);
        return ims_fail(err, IMS_E_IO, "cannot start the connection guard thread");
    }
    if (!(srv->deferred = ims_deferred_start(cfg->deferred_threads, cfg->deferred_max ? cfg->deferred_max : 1,
                                             cfg->deferred_priority))) {
        guard_stop(srv->guard);
        free(srv);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the deferred handler threads");
    }
    unsigned n = cfg->threads ? cfg->threads : 1;
    if (n > MAX_DAEMONS)
        n = MAX_DAEMONS;
    /* one request per connection at a time: a queue as long as the
     * daemons' connection limits together never fills */
    if (cfg->handler_threads && !(srv->handlers = ims_deferred_start_with(cfg->handler_threads, (size_t)mhd_limit(cfg) * n,
                                                                         app->thread_start, app->svc))) {
        ims_deferred_stop(srv->deferred);
        guard_stop(srv->guard);
        free(srv);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the handler threads");
    }
    /* its threads open their connections at their first write: an idle
     * server holds none for them */
    if (!cfg->handler_threads && cfg->commit_threads &&
        !(srv->committers = ims_deferred_start_with(cfg->commit_threads, (size_t)mhd_limit(cfg) * n, NULL, NULL))) {
        ims_deferred_stop(srv->deferred);
        guard_stop(srv->guard);
        free(srv);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the commit threads");
    }
    if (!cfg->handler_threads && cfg->remote_threads &&
        !(srv->remote = ims_deferred_start_with(cfg->remote_threads, (size_t)mhd_limit(cfg) * n, NULL, NULL))) {
        ims_deferred_stop(srv->committers);
        ims_deferred_stop(srv->deferred);
        guard_stop(srv->guard);
        free(srv);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the remote-store threads");
    }
    unsigned port = cfg->port;
    for (unsigned i = 0; i < n; i++) {
        if (start_one(srv, cfg, port, &srv->daemons[i]) != MHD_YES) {
            ims_http_stop(srv, 0);
            return ims_fail(err, IMS_E_IO, "cannot listen on %s:%u (address in use or invalid?)", cfg->host, port);
        }
        srv->ndaemons++;
        if (i == 0) {
            const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemons[0], MHD_DAEMON_INFO_BIND_PORT);
            port = info ? info->port : port;
        }
    }
    srv->port = port;
    *ret = srv;
    return IMS_OK;
}

unsigned ims_http_port(struct ims_http_server *s) { return s->port; }
unsigned ims_http_inflight(struct ims_http_server *s) { return atomic_load(&s->inflight); }

void ims_http_stop(struct ims_http_server *s, unsigned timeout_ms)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->ndaemons; i++) {
        MHD_socket fd = MHD_quiesce_daemon(s->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
    for (unsigned waited = 0; waited < timeout_ms && atomic_load(&s->inflight) > 0; waited += 10)
        usleep(10000);
    /* Every suspended connection is resumed before the daemons stop (MHD
     * requires it): the pool finishes what it holds first. */
    ims_deferred_stop(s->deferred);
    ims_deferred_stop(s->handlers);
    ims_deferred_stop(s->committers);
    ims_deferred_stop(s->remote);
    http_pumps_cut(&s->pumps); /* downloads still waiting for S3 end now */
    http_sink_waits_cut(&s->sink_waits); /* uploads too */
    for (unsigned waited = 0; waited < 1000 && atomic_load(&s->inflight) > 0; waited += 10)
        usleep(10000);
    for (unsigned i = 0; i < s->ndaemons; i++)
        MHD_stop_daemon(s->daemons[i]);
    http_pumps_wait(); /* their readers use the store, which is freed after us */
    guard_stop(s->guard);
    pthread_mutex_destroy(&s->pumps.mu);
    pthread_mutex_destroy(&s->sink_waits.mu);
    free(s);
}
