/* SPDX-License-Identifier: Apache-2.0
 * http: requests and responses over libmicrohttpd, and the route table.
 * Knows requests, headers and bodies, never images. */
#ifndef IMS_HTTP_H
#define IMS_HTTP_H

#include "ims/base.h"
#include "ims/kv.h"

enum ims_method {
    IMS_GET = 1 << 0,
    IMS_HEAD = 1 << 1,
    IMS_POST = 1 << 2,
    IMS_PUT = 1 << 3,
    IMS_PATCH = 1 << 4,
    IMS_DELETE = 1 << 5,
    IMS_OPTIONS = 1 << 6,
    IMS_METHOD_OTHER = 1 << 7,
};

#define IMS_MAX_PATH_PARAMS 4
#define IMS_MAX_JSON_BODY (1024 * 1024)
#define IMS_MAX_QUERY_PARAMS 256

struct ims_request;
struct ims_route;

/* Response: either an in-memory body, or the range [range_offset,
 * range_offset + range_length) of a file (sent with sendfile) or of a reader
 * callback's data. The handler fills it; the server sends it. */
typedef ssize_t (*ims_reader_fn)(void *ctx, uint64_t pos, char *buf, size_t max);
struct ims_response {
    int status;
    struct ims_buf body;
    struct ims_kvlist headers;
    const char *content_type;   /* static string; NULL = none */
    int fd;                     /* >= 0: the range is sent from this file */
    ims_reader_fn reader;       /* non-NULL: the range is read from this */
    void *reader_ctx;
    void (*reader_free)(void *ctx);
    uint64_t range_offset, range_length;
};

/* Streaming request bodies (uploads): called instead of buffering. */
struct ims_body_sink {
    /* Called once after the route matched and before any data is read.
     * Returning non-OK answers with the response already filled. */
    enum ims_rc (*begin)(struct ims_request *req);
    enum ims_rc (*data)(struct ims_request *req, const char *p, size_t n);
    /* Optional: the bytes data() takes now without waiting (it is given no
     * more); none: wake(arg) is called once, from another thread, when some
     * are. The connection is suspended meanwhile, not the event loop. */
    size_t (*room)(struct ims_request *req, void (*wake)(void *arg), void *arg);
    /* Called once when the whole body was received: fill req->resp. It may
     * wait (on the store): it runs on a handler pool when there is one. */
    void (*end)(struct ims_request *req);
    /* Called when the request ends without end() (client gone, error). */
    void (*abort)(struct ims_request *req);
};

typedef void (*ims_handler_fn)(struct ims_request *req);

enum ims_route_flags {
    IMS_ROUTE_PUBLIC = 1 << 0,     /* no token needed */
    IMS_ROUTE_IMS_ERRORS = 1 << 1, /* errors in the IMS shape {"error": {"code": "IMG.xxxx", ...}} */
    IMS_ROUTE_UNLISTED = 1 << 2,   /* not in the permission table (identity, version aliases, extras) */
    IMS_ROUTE_DEFERRED = 1 << 3,   /* the handler runs on the deferred pool (password hashing), off the
                                    * event loop; 429 when its queue is full */
    IMS_ROUTE_EXACT = 1 << 4,      /* no trailing slash tolerated: Glance's routes (Python Routes) match
                                    * the path exactly, so "/v2/images/" is no image route (404) */
    IMS_ROUTE_KEYSTONE_ERRORS = 1 << 5, /* identity routes: every error in Keystone's shape */
    IMS_ROUTE_READS = 1 << 6,      /* changes nothing whatever the method (a query sent as POST, revoking
                                    * one's own token): read-only tokens may call it */
    IMS_ROUTE_SHARED_COMMIT = 1 << 7, /* while handlers run on the event loop, the handler runs on the
                                       * commit pool (commit_threads): its write waits there with others
                                       * for one commit (lib/db/shared_commit.c) */
    IMS_ROUTE_REMOTE_IO = 1 << 8, /* the handler may wait on the image store or object storage (an S3
                                   * answer): while handlers run on the event loop, it runs on the
                                   * remote pool (remote_threads) when those are remote */
};

/* One row of the route table. `actions` and the scope flags are the IAM
 * requirements of the route (api-permissions.tsv). */
struct ims_route {
    unsigned methods;
    const char *pattern; /* "/v2/images/{image_id}/file" */
    ims_handler_fn handler;
    const struct ims_body_sink *sink; /* non-NULL: streamed body */
    unsigned flags;
    const char *actions;              /* IAM actions as the permission table writes them: "a+b" all
                                       * required, "a|b" one of them chosen by the request; NULL = N/A */
    const char *deferred;             /* those of `actions` the handler checks, only when the table's
                                       * condition applies (e.g. a patch moving the enterprise project) */
    bool iam_project, enterprise_project;
};

struct ims_principal;
struct ims_service;

struct ims_request {
    enum ims_method method;
    const char *method_name;
    char *path;                   /* decoded path, no query */
    struct ims_kvlist query;      /* decoded query parameters, in order */
    const struct ims_route *route;
    char *params[IMS_MAX_PATH_PARAMS]; /* decoded {…} captures, in pattern order */
    size_t nparams;
    struct ims_buf body;          /* buffered body (non-streaming routes) */
    struct ims_response resp;
    struct ims_service *svc;
    struct ims_principal *principal; /* NULL on public routes */
    void *conn;                   /* the MHD connection */
    void *sink_state;             /* owned by the route's sink */
    char request_id[41];
    char base_url[256];           /* filled by ims_req_base_url */
    int64_t started_us;
};

const char *ims_req_header(struct ims_request *req, const char *name);
const char *ims_req_param(struct ims_request *req, size_t i);
/* The client's address as text ("127.0.0.1", "::1"); "" if unknown. */
void ims_req_peer(struct ims_request *req, char *out, size_t cap);
/* The base URL clients used ("http://host:port"), from config or Host. */
const char *ims_req_base_url(struct ims_request *req);

void ims_resp_header(struct ims_request *req, const char *name, const char *value);
/* Sets status and a JSON body (copied). */
void ims_resp_json(struct ims_request *req, int status, const char *json, size_t len);
/* Sets status, content type application/json, and returns the body buffer to write into. */
struct ims_buf *ims_resp_json_buf(struct ims_request *req, int status);
void ims_resp_empty(struct ims_request *req, int status);
/* An error body: webob's JSON shape {"code": "404 Not Found", "title",
 * "message"}, or on IMS_ROUTE_KEYSTONE_ERRORS routes Keystone's. */
void ims_http_error(struct ims_request *req, int status, const char *message);
/* Keystone's error body {"error": {"code": 401, "title": "Unauthorized",
 * "message"}}, which keystoneauth and openstacksdk read the message from. */
void ims_http_keystone_error(struct ims_request *req, int status, const char *message);
const char *ims_http_reason(int status);

/* Route table lookup. Returns the route and fills captures, or NULL with
 * *ret_allowed set to the methods the path supports (0 = no such path). */
const struct ims_route *ims_route_match(const struct ims_route *table, size_t n, enum ims_method m, const char *path,
                                        char **captures, size_t *ncaptures, unsigned *ret_allowed);
enum ims_method ims_method_parse(const char *s);
const char *ims_method_name(enum ims_method m);

/* Parses a Range header against a body of `size` bytes (single range only,
 * RFC 9110 "bytes=a-b", "bytes=a-", "bytes=-n"). Returns IMS_OK with the
 * inclusive range, IMS_E_RANGE when unsatisfiable, IMS_E_NOTFOUND when the
 * header should be ignored (syntactically invalid or several ranges: the
 * whole body is sent, as RFC 9110 allows). */
enum ims_rc ims_range_parse(const char *header, uint64_t size, uint64_t *ret_first, uint64_t *ret_last);

/* Checks a request head for what makes its framing or target ambiguous
 * (RFC 9112): two different Content-Length values, Content-Length with
 * Transfer-Encoding, no Host (or several) in HTTP/1.1. Returns NULL when the
 * head is acceptable, else the message of a 400. */
const char *ims_http_head_check(const char *version, const struct ims_kvlist *headers);
/* Which of `offers` (media types, most preferred first) an Accept header
 * chooses, as webob does for Glance's error bodies: each offer takes the q
 * of the most specific range matching it, the highest q wins, ties go to
 * the earlier offer. No header or a malformed one: every offer is
 * acceptable, so offers[0]. Returns noffers when none is acceptable.
 * At most 8 offers are considered. Pure. */
size_t ims_http_accept_choose(const char *accept, const char *const *offers, size_t noffers);
/* Writes "http://" + host into out (cap >= 18) when the Host header looks
 * like host[:port] and fits, else "http://localhost". */
void ims_http_host_base_url(const char *host, char *out, size_t cap);

/* ---- server ---- */
struct ims_http_config {
    const char *host;
    unsigned port;
    unsigned threads;          /* one epoll daemon each, SO_REUSEPORT */
    unsigned connection_limit;         /* all threads together; more are answered 503 */
    unsigned address_connection_limit; /* per client address; more are answered 503 (0 = none) */
    size_t connection_memory;          /* each connection's buffer (MHD's pool), bytes; held while it is open */
    unsigned connection_timeout;       /* idle, seconds */
    unsigned head_timeout;             /* a request head must arrive within, seconds (0 = 30) */
    unsigned body_timeout;             /* a buffered (JSON) body must arrive within, seconds, once its head
                                        * did (0 = 30); streamed image data is cut by the idle timeout only */
    unsigned deferred_threads; /* workers of IMS_ROUTE_DEFERRED handlers (0: 1) */
    unsigned deferred_max;     /* requests that may wait for them; more get 429 */
    int deferred_priority;     /* their scheduling: 0 as the event loop, 1-19 a nice value that much
                                * higher, IMS_DEFERRED_IDLE: SCHED_IDLE (run only on an idle core) */
    /* 0: handlers run on the event loop (a local database answers in
     * microseconds). Else every other handler (bodies streamed to a sink
     * aside) runs on a pool of this many threads, its connection
     * suspended meanwhile: a remote database's round trips stall no
     * other connection of the event loop. */
    unsigned handler_threads;
    /* With handlers on the event loop: the threads IMS_ROUTE_SHARED_COMMIT
     * handlers run on (0: on the event loop too), so that writes made at
     * the same time wait for, and share, one commit. */
    unsigned commit_threads;
    /* With handlers on the event loop: the threads IMS_ROUTE_REMOTE_IO
     * handlers run on (0: on the event loop too; set where a store or
     * [obs] is remote), so that an object store's slow answer stalls no
     * other connection. */
    unsigned remote_threads;
};
#define IMS_DEFERRED_IDLE 20

/* The application hook: route table plus dispatch (authentication and the
 * error mapping live above http). */
struct ims_http_app {
    const struct ims_route *routes;
    size_t nroutes;
    struct ims_service *svc;
    /* Called with the route matched, before body handling. Returns false
     * when it already filled req->resp (e.g. 401), true to go on. */
    bool (*before)(struct ims_request *req);
    /* Called for no-route / wrong-method cases to fill an error response. */
    void (*no_route)(struct ims_request *req, unsigned allowed);
    void (*after)(struct ims_request *req); /* logging */
    void (*cleanup)(struct ims_request *req); /* always, last */
    /* Called (with svc) by each handler-pool thread as it starts; NULL: nothing. */
    void (*thread_start)(void *svc);
    const char *public_url; /* NULL: derived from the Host header */
};

struct ims_http_server;
enum ims_rc ims_http_start(const struct ims_http_config *cfg, const struct ims_http_app *app,
                           struct ims_http_server **ret, struct ims_err *err);
unsigned ims_http_port(struct ims_http_server *s);
/* Stops accepting, waits up to timeout_ms for in-flight requests, stops. */
void ims_http_stop(struct ims_http_server *s, unsigned timeout_ms);
unsigned ims_http_inflight(struct ims_http_server *s);

#endif
