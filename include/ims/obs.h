/* SPDX-License-Identifier: Apache-2.0
 * obs: object storage, where users keep image files to import and receive
 * exports ("bucket:object" in the IMS API). Separate from the blob store
 * (store.h), which holds imsd's own image data: an object store is the
 * user's, its names come from requests, and it may be remote.
 *
 * An interface (struct ims_obs_ops) with one file per implementation:
 * lib/obs/embedded.c (a directory per bucket under the data dir, the
 * default) and lib/obs/s3.c (any S3-compatible service, SigV4 through
 * libcurl). src/ chooses one from [obs] in the configuration.
 *
 * Names are validated here, before any backend sees them (lib/obs/name.c,
 * pure): every ims_obs_* call refuses an invalid bucket or key with
 * IMS_OBS_BAD_NAME. Results are enum ims_obs_rc, which tells a missing
 * bucket from a missing object from a refusal; err->msg says more, for
 * logs (it may name the server's error code, never a credential). */
#ifndef IMS_OBS_H
#define IMS_OBS_H

#include <sys/types.h>

#include "ims/base.h"
#include "ims/kv.h"

/* ---- names (pure) ---- */

#define IMS_OBS_BUCKET_MAX 63
#define IMS_OBS_KEY_MAX 1024

/* What is wrong with a name; the IMS API answers each with its own code. */
enum ims_obs_name_rc {
    IMS_OBS_NAME_OK = 0,
    IMS_OBS_NAME_NO_SEPARATOR,  /* "bucket:object" without the ':' */
    IMS_OBS_NAME_BUCKET_EMPTY,
    IMS_OBS_NAME_BUCKET_INVALID, /* S3's rules: see ims_obs_bucket_check */
    IMS_OBS_NAME_KEY_EMPTY,
    IMS_OBS_NAME_KEY_TOO_LONG,   /* more than IMS_OBS_KEY_MAX bytes */
    IMS_OBS_NAME_KEY_INVALID,
};
/* A sentence for a log or an error message. */
const char *ims_obs_name_problem(enum ims_obs_name_rc rc);

/* A bucket name by S3's rules: 3 to 63 characters of a-z, 0-9, '.' and
 * '-', starting and ending with a letter or digit, no "..", ".-" or "-.",
 * not shaped like an IPv4 address, no "xn--" prefix or "-s3alias" suffix.
 * Such a name is also a safe single directory name. */
enum ims_obs_name_rc ims_obs_bucket_check(const char *bucket);

/* An object key both backends can hold: 1 to IMS_OBS_KEY_MAX bytes of
 * valid UTF-8 without control characters, '/' separating segments that are
 * neither empty (no leading or trailing '/', no "//") nor "." or "..". So a
 * key names one file below its bucket's directory and never escapes it,
 * and two different keys never name the same file. */
enum ims_obs_name_rc ims_obs_key_check(const char *key);

/* Whether two S3 endpoints (http(s)://host[:port][/path]) name one
 * service: scheme and host compared without case, the scheme's default port
 * written or not, trailing '/' of the path ignored. Hosts are not resolved
 * (localhost and 127.0.0.1 differ). */
bool ims_obs_endpoints_same(const char *a, const char *b);

/* Splits "bucket:object" (len bytes, not necessarily NUL-terminated) at its
 * first ':' into bucket (capacity bucket_cap, at least IMS_OBS_BUCKET_MAX+1
 * for every valid name) and key (key_cap, IMS_OBS_KEY_MAX+1), both checked.
 * Nothing is written unless the result is IMS_OBS_NAME_OK. */
enum ims_obs_name_rc ims_obs_url_parse(const char *url, size_t len, char *bucket, size_t bucket_cap, char *key,
                                       size_t key_cap);

/* ---- results ---- */

enum ims_obs_rc {
    IMS_OBS_OK = 0,
    IMS_OBS_NO_BUCKET,   /* the bucket does not exist */
    IMS_OBS_NO_OBJECT,   /* the bucket exists, the object does not */
    IMS_OBS_DENIED,      /* refused: credentials, signature, permissions, or a symlink on the way */
    IMS_OBS_BAD_NAME,    /* the bucket or key is invalid (ims_obs_*_check), or too long for the backend */
    IMS_OBS_EXISTS,      /* creating a bucket that exists; a key whose folder is an object */
    IMS_OBS_BAD_RANGE,   /* a read that starts past the object's end */
    IMS_OBS_TOO_LARGE,   /* larger than the backend takes */
    IMS_OBS_UNSUPPORTED, /* the backend has no such operation (a local path on S3) */
    IMS_OBS_IO,          /* transport, server or file-system failure; err->msg says which */
};
const char *ims_obs_rc_name(enum ims_obs_rc rc);
/* The service's result for an object-storage result (NO_BUCKET and
 * NO_OBJECT: IMS_E_NOTFOUND, DENIED: IMS_E_FORBIDDEN, ...). */
enum ims_rc ims_obs_rc_to_ims(enum ims_obs_rc rc);

/* ---- objects ---- */

/* An ETag as the backend gives it, without quotes: S3's MD5 (or
 * "<md5 of part md5s>-<parts>" after a multipart upload); the embedded
 * store's is made of the file's identity and time. It changes whenever the
 * object does. */
#define IMS_OBS_ETAG_MAX 80
/* A put may mark its object with a tag of its own (letters, digits, '-'
 * and '_', at most IMS_OBS_TAG_MAX): S3 user metadata x-amz-meta-ims-tag,
 * the extended attribute user.ims.tag on the embedded store (none where
 * the file system keeps no user attributes). An export tags its object with
 * its job's id, so a job resumed after a crash knows the object it finds
 * is its own. */
#define IMS_OBS_TAG_MAX 64
struct ims_obs_info {
    uint64_t size;
    int64_t mtime; /* seconds since the epoch */
    char etag[IMS_OBS_ETAG_MAX];
    char tag[IMS_OBS_TAG_MAX + 1]; /* "" when the object has none */
};
/* Whether tag is one a put takes. */
bool ims_obs_tag_valid(const char *tag);

struct ims_obs_entry {
    char *key;
    uint64_t size;
    int64_t mtime;
};
/* One page of a listing, keys in byte order. */
struct ims_obs_listing {
    struct ims_obs_entry *items;
    size_t n;
    bool truncated; /* more keys follow: ask again with `next` */
    char *next;     /* the token for the next page (NULL when not truncated) */
};
void ims_obs_listing_release(struct ims_obs_listing *l);

#define IMS_OBS_LIST_MAX 1000 /* keys per page at most (S3's max-keys) */

/* Where a put's bytes come from: fills buf with up to max bytes and
 * returns how many, 0 at the end, -1 on failure (the put then fails with
 * IMS_OBS_IO and leaves nothing behind). */
typedef ssize_t (*ims_obs_source_fn)(void *ctx, char *buf, size_t max);

struct ims_obs;

struct ims_obs_put_answer;
/* How a file is put (ims_obs_put_file_with). */
struct ims_obs_put_opts {
    const char *tag; /* NULL, or a tag to mark the object with (ims_obs_tag_valid) */
    /* The file is never written again (an image's blob, a conversion's
     * output): the embedded store may make the object a hard link of it
     * instead of a copy. Never for a user's file, which the user may still
     * change in place. */
    bool may_link;
    /* S3: a file of at most this many bytes goes up as one PUT (at most
     * 5 GiB; 0: only a file that fits in a part does, the rest in parts) */
    uint64_t single_put_max;
    /* S3 (may be NULL): the answer of the one PUT that stored the file; all
     * "" when it went in parts (an ETag that is no md5) */
    struct ims_obs_put_answer *answer;
};

/* A streamed read of [offset, offset + length) of one object, opened by
 * ims_obs_open_read: read it with ims_obs_read, free it with
 * ims_obs_reader_close. */
struct ims_obs_reader {
    struct ims_obs *obs;
    uint64_t offset, length; /* the range it delivers */
    struct ims_obs_info info; /* the whole object's */
    /* The embedded store's reader has the object's file open (read-only,
     * reached without following any symlink): a caller may pread() the range
     * itself, reflink (FICLONE) or copy_file_range() it, or hard-link the
     * very file it opened (linkat of "/proc/self/fd/<fd>" with
     * AT_SYMLINK_FOLLOW). -1 for remote backends. Closed with the reader. */
    int fd;
};

struct ims_obs_ops {
    const char *name; /* "embedded", "s3" */
    enum ims_obs_rc (*bucket_create)(struct ims_obs *o, const char *bucket, struct ims_err *err);
    /* IMS_OBS_OK when it exists, IMS_OBS_NO_BUCKET when not. */
    enum ims_obs_rc (*bucket_exists)(struct ims_obs *o, const char *bucket, struct ims_err *err);
    enum ims_obs_rc (*head)(struct ims_obs *o, const char *bucket, const char *key, struct ims_obs_info *ret,
                            struct ims_err *err);
    /* length UINT64_MAX: to the end; a range past the end is cut there. */
    enum ims_obs_rc (*open_read)(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                 uint64_t length, struct ims_obs_reader **ret, struct ims_err *err);
    /* *ret_n == 0 only at the end of the range. */
    enum ims_obs_rc (*read)(struct ims_obs_reader *r, char *buf, size_t max, size_t *ret_n, struct ims_err *err);
    void (*reader_close)(struct ims_obs_reader *r);
    /* Exactly `size` bytes from src under key, replacing what was there;
     * nobody sees a partial object, and a failure leaves the old one. tag:
     * NULL, or a valid tag to mark the object with. */
    enum ims_obs_rc (*put)(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                           ims_obs_source_fn src, void *src_ctx, const char *tag, struct ims_err *err);
    /* Optional (NULL: put from a source reading fd): the same from a
     * regular file, without copying where the backend can (a hard link when
     * opts->may_link, else a reflink). */
    enum ims_obs_rc (*put_file)(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                const struct ims_obs_put_opts *opts, struct ims_err *err);
    /* Optional (NULL: a put leaves nothing behind when its process dies):
     * removes the unfinished multipart uploads to exactly this key, the
     * parts a put killed midway left in the service. */
    enum ims_obs_rc (*abort_uploads)(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err);
    /* A missing object is not an error (S3's DeleteObject); a missing
     * bucket is. */
    enum ims_obs_rc (*remove)(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err);
    /* Keys that start with prefix ("" = all) and sort after the page that
     * `token` (NULL = the first page) ended; at most max (1..IMS_OBS_LIST_MAX). */
    enum ims_obs_rc (*list)(struct ims_obs *o, const char *bucket, const char *prefix, const char *token,
                            size_t max, struct ims_obs_listing *ret, struct ims_err *err);
    /* A copy made by the backend itself, no byte through imsd where it can:
     * S3's CopyObject (up to [obs] server_copy_max, else streamed through
     * imsd), a reflink (or an in-kernel copy) on the embedded store. */
    enum ims_obs_rc (*copy)(struct ims_obs *o, const char *src_bucket, const char *src_key,
                            const char *dst_bucket, const char *dst_key, struct ims_err *err);
    /* The object's file, for a quick import by hard link or reflink
     * (caller frees): checked to be a regular file reached without a
     * symlink at the time of the call. IMS_OBS_UNSUPPORTED on S3. */
    enum ims_obs_rc (*local_path)(struct ims_obs *o, const char *bucket, const char *key, char **ret,
                                  struct ims_err *err);
    void (*close)(struct ims_obs *o);
};

struct ims_obs {
    const struct ims_obs_ops *ops;
};

/* The calls, each checking the names first (IMS_OBS_BAD_NAME) and then
 * handing over to the backend. Thread-safe: one ims_obs serves every
 * thread; a reader belongs to one thread at a time. */
enum ims_obs_rc ims_obs_bucket_create(struct ims_obs *o, const char *bucket, struct ims_err *err);
enum ims_obs_rc ims_obs_bucket_exists(struct ims_obs *o, const char *bucket, struct ims_err *err);
enum ims_obs_rc ims_obs_head(struct ims_obs *o, const char *bucket, const char *key, struct ims_obs_info *ret,
                             struct ims_err *err);
enum ims_obs_rc ims_obs_open_read(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                  uint64_t length, struct ims_obs_reader **ret, struct ims_err *err);
enum ims_obs_rc ims_obs_read(struct ims_obs_reader *r, char *buf, size_t max, size_t *ret_n, struct ims_err *err);
void ims_obs_reader_close(struct ims_obs_reader *r);
enum ims_obs_rc ims_obs_put(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                            ims_obs_source_fn src, void *src_ctx, struct ims_err *err);
/* Puts the regular file open at fd (its whole content, from offset 0). */
enum ims_obs_rc ims_obs_put_file(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                 struct ims_err *err);
/* The same as opts say (a tag that is not valid: IMS_OBS_BAD_NAME). */
enum ims_obs_rc ims_obs_put_file_with(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                      const struct ims_obs_put_opts *opts, struct ims_err *err);
/* Removes what puts to key killed midway left in the service (S3's
 * unfinished multipart uploads to exactly that key); IMS_OBS_OK where a
 * backend leaves nothing (the embedded store's next start removes its
 * temporary files). */
enum ims_obs_rc ims_obs_abort_uploads(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err);
/* Writes [offset, offset+length) of the object to fd at fd's position. */
enum ims_obs_rc ims_obs_get_file(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                 uint64_t length, int fd, struct ims_err *err);
enum ims_obs_rc ims_obs_remove(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err);
/* prefix must be valid UTF-8 without control characters, at most
 * IMS_OBS_KEY_MAX bytes (it need not be a whole key). */
enum ims_obs_rc ims_obs_list(struct ims_obs *o, const char *bucket, const char *prefix, const char *token,
                             size_t max, struct ims_obs_listing *ret, struct ims_err *err);
enum ims_obs_rc ims_obs_copy(struct ims_obs *o, const char *src_bucket, const char *src_key,
                             const char *dst_bucket, const char *dst_key, struct ims_err *err);
enum ims_obs_rc ims_obs_local_path(struct ims_obs *o, const char *bucket, const char *key, char **ret,
                                   struct ims_err *err);
/* Whether objects are files on this machine (the embedded store): a file
 * put with may_link then becomes the object without being read; elsewhere
 * (S3) a put reads the file once more. */
bool ims_obs_has_local_files(const struct ims_obs *o);
void ims_obs_close(struct ims_obs *o);

/* ---- web-download: files users import from HTTP(S) servers ----
 * Glance's [import_filtering_opts] (lib/obs/web_filter.c, pure but for
 * libcurl's URL parser; fuzzed) and the fetch (lib/obs/web.c, libcurl):
 * every URL, the first and each redirect's, passes the scheme, host and
 * port rules; its host is resolved and the first address that may be
 * reached is the only one connected to (CURLOPT_RESOLVE pins it, and the
 * socket callback refuses any other). Loopback, link-local, private,
 * unspecified and multicast addresses are refused unless the host is listed
 * in allowed_hosts (private ranges also with allow_private_networks). */
struct ims_web_filter {
    struct ims_strlist allowed_schemes, disallowed_schemes;
    struct ims_strlist allowed_hosts, disallowed_hosts; /* normalized: lower case, IPv6 without brackets */
    struct ims_strlist allowed_ports, disallowed_ports; /* decimal */
    bool allow_private_networks;
};
/* Fills f from comma-separated lists (NULL or "": empty). IMS_E_BADREQ
 * naming the item a list cannot hold (a port that is no port, ...). */
enum ims_rc ims_web_filter_init(struct ims_web_filter *f, const char *allowed_schemes, const char *disallowed_schemes,
                                const char *allowed_hosts, const char *disallowed_hosts, const char *allowed_ports,
                                const char *disallowed_ports, bool allow_private_networks, struct ims_err *err);
void ims_web_filter_release(struct ims_web_filter *f);

#define IMS_WEB_URI_MAX 2048
/* A URL as the filter sees it. */
struct ims_web_target {
    char url[IMS_WEB_URI_MAX + 1]; /* as libcurl normalized it */
    char scheme[8];                /* http or https */
    char host[256];                /* normalized */
    unsigned port;                 /* given, or the scheme's */
    char addr[64];                 /* ims_web_resolve: the address to connect to */
};
/* Parses uri (absolute http(s) URL, no user info) and applies f's scheme,
 * host and port rules, as Glance's get_validated_address does (an allowed
 * list, when given, makes the disallowed one moot). IMS_E_BADREQ saying
 * which rule refused it. */
enum ims_rc ims_web_check_uri(const struct ims_web_filter *f, const char *uri, struct ims_web_target *t,
                              struct ims_err *err);
/* Whether the address addr (text) may be connected to for host under f. */
bool ims_web_address_allowed(const struct ims_web_filter *f, const char *host, const char *addr);
/* Resolves t->host (an address literal stays itself) and puts the first
 * address f allows into t->addr; IMS_E_BADREQ when there is none. */
enum ims_rc ims_web_resolve(const struct ims_web_filter *f, struct ims_web_target *t, struct ims_err *err);

struct ims_web_get {
    const char *uri;
    const struct ims_web_filter *filter;
    int64_t max_size;         /* a body larger than this fails (IMS_E_TOOLARGE) */
    int64_t timeout_ms;       /* the whole fetch, redirects included (IMS_E_BADREQ: timed out) */
    unsigned max_redirects;
    /* Called once, before sink, when the final 2xx answer begins (an
     * empty body too), with the length its Content-Length announces, -1
     * when it announces none (chunked, or closed at its end): a sink that
     * writes to a store opens its writer here, sized when it can be. A
     * body that ends short of the length announced fails the fetch. NULL:
     * not called. */
    enum ims_rc (*start)(void *sink_ctx, int64_t announced, struct ims_err *err);
    /* The body of the final 2xx answer, in order. */
    enum ims_rc (*sink)(void *sink_ctx, const void *p, size_t n, struct ims_err *err);
    void *sink_ctx;
    /* false: stop now (IMS_E_BUSY). NULL: never. */
    bool (*keep_going)(void *stop_ctx);
    void *stop_ctx;
};
/* GETs g->uri, following redirects only to URLs the filter allows (each
 * resolved and pinned), and hands the body to g->sink. An answer other than
 * 2xx after the redirects is IMS_E_BADREQ naming its status. */
enum ims_rc ims_web_fetch(const struct ims_web_get *g, int64_t *ret_size, struct ims_err *err);

/* ---- backends ---- */

/* The embedded store: bucket B is the directory dir/B, object K the file
 * dir/B/K (its '/' are subdirectories). Every path is walked one segment at
 * a time with O_NOFOLLOW, so no symlink inside the tree is ever followed
 * (dir itself may be one). Puts write dir/.tmp/ first, fsync and rename.
 * dir is created if missing, with its parents. */
enum ims_obs_rc ims_obs_embedded_open(const char *dir, struct ims_obs **ret, struct ims_err *err);

/* S3-compatible: path-style URLs under endpoint, SigV4 for region. */
struct ims_obs_s3_config {
    const char *endpoint; /* http(s)://host[:port][/path], no trailing '/' needed */
    const char *region;
    const char *access_key;
    const char *secret_key;
    /* Objects larger than this go up in parts of this size (at least
     * 5 MiB, S3's smallest part; raised when 10,000 parts would not hold
     * the object). */
    uint64_t part_size;
    /* Copies of objects up to this size are made by the service
     * (CopyObject, at most 5 GiB); larger ones stream through imsd, since
     * the libcurl of Debian 12 cannot sign UploadPartCopy. */
    uint64_t server_copy_max;
    /* Transient failures are tried again (ims_obs_s3_retry_*); all zero:
     * IMS_OBS_S3_RETRY_DEFAULT. */
    struct ims_obs_s3_retry {
        unsigned attempts;    /* tries of one request at most, the first included (1: never again) */
        int64_t base_ms;      /* the first wait; each next one doubles ... */
        int64_t max_delay_ms; /* ... up to this */
        int64_t total_ms;     /* no retry would start later than this after the first try began */
    } retry;
    /* A transfer that moves no byte for this long, or a connection not
     * made within it (30 s at most), fails as a timeout, which is
     * retried; 0: 120. */
    int64_t stall_seconds;
};
#define IMS_OBS_S3_RETRY_DEFAULT ((struct ims_obs_s3_retry){5, 200, 5000, 60000})
#define IMS_OBS_S3_PART_MIN (5ULL << 20)
enum ims_obs_rc ims_obs_s3_open(const struct ims_obs_s3_config *cfg, struct ims_obs **ret, struct ims_err *err);

/* A streamed upload to S3 of a size not known in advance (the S3 blob
 * store's writer). Bytes are kept in memory one part (part_size, 5 MiB to
 * 1 GiB) at a time: a full part goes up (a multipart upload, created at the
 * first full part) in a thread of its own while the next part fills; two
 * parts go up at once, so at most three parts are held. finish completes it (one PUT when everything
 * fit in one part); nothing is visible before, and abort, or any failure,
 * leaves nothing (the multipart upload is aborted). finish and abort free
 * the upload. At most 10,000 parts: IMS_OBS_TOO_LARGE past them. */
struct ims_obs_upload;
enum ims_obs_rc ims_obs_s3_upload_open(struct ims_obs *o, const char *bucket, const char *key, uint64_t part_size,
                                       struct ims_obs_upload **ret, struct ims_err *err);
enum ims_obs_rc ims_obs_s3_upload_write(struct ims_obs_upload *u, const void *p, size_t n, struct ims_err *err);
/* What S3 answered to a single PUT: its ETag (without quotes) and its
 * encryption headers (every x-amz-server-side-encryption* one as
 * "name=value;", names in lower case; "" when none). */
#define IMS_OBS_SSE_MAX 256
struct ims_obs_put_answer {
    char etag[IMS_OBS_ETAG_MAX];
    char sse[IMS_OBS_SSE_MAX];
};
/* ret (may be NULL): the answer of a streamed PUT (open_sized) that
 * succeeded; all "" otherwise (parts, or one PUT from memory). */
enum ims_obs_rc ims_obs_s3_upload_finish(struct ims_obs_upload *u, struct ims_obs_put_answer *ret,
                                         struct ims_err *err);
void ims_obs_s3_upload_abort(struct ims_obs_upload *u);
/* The same writer for exactly size bytes (at most 5 GiB) as one PUT
 * streamed while the bytes come: no part is held in memory, and S3 stores
 * one object, as a client's own PUT makes. Its one request is tried again
 * only while none of its body was taken (a refusal answered to Expect:
 * 100-continue, a connection that failed first); once bytes went, a
 * failure fails the upload, since they are not kept. write waits until
 * the PUT has taken its bytes; finish with fewer bytes than size fails and
 * leaves nothing, as abort does. */
enum ims_obs_rc ims_obs_s3_upload_open_sized(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                                             struct ims_obs_upload **ret, struct ims_err *err);
/* Whether this service's single-PUT ETags are the md5 of their data: PUTs
 * key (a small object of random bytes) through ims_obs_s3_upload_open_sized,
 * the writer's own way (the same headers), compares the answer's ETag with
 * the md5 computed here (ims_obs_s3_etag_md5) and removes the object.
 * IMS_OBS_OK with the answer's encryption headers in ret_sse when it is;
 * an error saying why otherwise (a failed request, another ETag). */
enum ims_obs_rc ims_obs_s3_probe_etag_md5(struct ims_obs *o, const char *bucket, const char *key,
                                          char ret_sse[IMS_OBS_SSE_MAX], struct ims_err *err);
/* Aborts the multipart uploads in progress of key (those a process that
 * died left: their parts use space until then); how many in *ret_n. */
enum ims_obs_rc ims_obs_s3_uploads_abort(struct ims_obs *o, const char *bucket, const char *key, size_t *ret_n,
                                         struct ims_err *err);

/* The S3 client's retry rules (pure; public for the unit tests). Whether
 * an answer (HTTP status, S3 error code or NULL) is a transient failure:
 * 408, 429, 500, 502, 503, 504, SlowDown, RequestTimeout, InternalError,
 * ServiceUnavailable. */
bool ims_obs_s3_retry_status(long status, const char *code);
/* How long to wait after `failed` (1, 2, ...) failed tries: the step
 * base_ms * 2^(failed-1), capped at max_delay_ms, of which the first half
 * is waited for sure and the rest is random % (the rest + 1). */
int64_t ims_obs_s3_retry_delay_ms(const struct ims_obs_s3_retry *p, unsigned failed, uint64_t random);
/* Whether one more try may follow `failed` ones that took elapsed_ms, after
 * waiting delay_ms: fewer than `attempts` tries so far, and the next one
 * starts within total_ms. */
bool ims_obs_s3_retry_allowed(const struct ims_obs_s3_retry *p, unsigned failed, int64_t elapsed_ms,
                              int64_t delay_ms);

/* The S3 backend's readers of the XML servers answer with (pure; public
 * for the unit tests and fuzz/fuzz_obs_xml.c). Every value is decoded into
 * the capacity given and must be valid UTF-8 without control characters;
 * one that is not, or does not fit, is refused, never cut. */
/* The text of the first <name> element in xml[0, len). */
bool ims_obs_s3_xml_value(const char *xml, size_t len, const char *name, char *out, size_t cap);
/* An <Error> document's Code (required) and Message ("" when absent). */
bool ims_obs_s3_parse_error(const char *xml, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap);
/* A ListObjectsV2 result: its entries (keys that fail ims_obs_key_check
 * left out), IsTruncated and NextContinuationToken. */
enum ims_obs_rc ims_obs_s3_parse_list(const char *xml, size_t len, struct ims_obs_listing *ret, struct ims_err *err);

/* Whether a single PUT's answer a proves the md5 of the bytes it stored,
 * on a service whose answer to a probe PUT (same headers, md5 checked)
 * carried the encryption headers probe_sse: an ETag of 32 hex digits
 * (no "-": not a multipart one), and encryption headers the probe's, none
 * of SSE-KMS or SSE-C (whose ETags are no md5 on AWS). The md5 in lower
 * case into md5 then (pure; public for the unit tests). */
bool ims_obs_s3_etag_md5(const struct ims_obs_put_answer *a, const char *probe_sse, char md5[33]);
/* The ETag (unquoted) S3 gives an object completed from n parts whose
 * ETags (quoted or not) are etags[0..n) (pure; lib/obs/s3_etag.c): false
 * when one is no md5 in hex. */
bool ims_obs_s3_multipart_etag(const char (*etags)[IMS_OBS_ETAG_MAX], size_t n, char out[IMS_OBS_ETAG_MAX]);

#endif
