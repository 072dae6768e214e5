/* SPDX-License-Identifier: Apache-2.0
 * S3-compatible object storage through libcurl, which signs every request
 * (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"). What libcurl 7.88 leaves to
 * us, and real servers (AWS, Swift's s3api) insist on:
 *   - x-amz-content-sha256: UNSIGNED-PAYLOAD on every request (curl signs
 *     the header and takes its value as the payload hash);
 *   - the query string in canonical form: parameters sorted by name,
 *     RFC 3986-encoded, valueless ones as "name=" (curl signs it as given);
 *   - credentials as CURLOPT_USERNAME/PASSWORD (keys may contain ':');
 *   - the size of every upload (CURLOPT_INFILESIZE_LARGE): no chunked PUTs.
 * Requests are path-style (<endpoint>/<bucket>/<key>), keys encoded once,
 * '/' kept, which is also the canonical URI S3 signs.
 *
 * GETs stream: a reader drives its transfer through a multi handle and
 * pauses it while the caller has not taken what arrived, so memory stays
 * one chunk whatever the object's size. Puts larger than the part size go
 * up as a multipart upload, aborted on any failure so nothing partial
 * stays behind. No message carries a credential. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "obs-int.h"

#define ERROR_BODY_MAX (64 * 1024)
#define LIST_BODY_MAX (8 * 1024 * 1024)
#define MAX_PARTS 10000
#define MAX_OBJECT (5ULL << 40) /* S3's largest object */
#define MAX_SINGLE_PUT (5ULL << 30) /* the largest object one PUT makes */
#define READ_CHUNK (512 * 1024)
#define TAG_HEADER "x-amz-meta-ims-tag" /* an object's tag (ims_obs_tag_valid) as S3 user metadata */

struct s3 {
    struct ims_obs base;
    char *endpoint; /* without a trailing '/' */
    char *sigv4;    /* "aws:amz:<region>:s3" */
    char *region;
    char *access_key, *secret_key;
    uint64_t part_size, server_copy_max;
    struct ims_obs_s3_retry retry;
    long stall_seconds;
};

/* ---- URLs ---- */

/* RFC 3986 percent-encoding of all but the unreserved characters (and '/'
 * when keep_slash): the form SigV4 signs. */
static void encode(struct ims_buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || (c == '/' && keep_slash)) {
            ims_buf_addc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            ims_buf_add(b, esc, 3);
        }
    }
}

/* A query parameter; callers add them in name order (canonical form). */
struct qparam {
    const char *name, *value; /* value NULL: the parameter is left out */
};

static char *make_url(const struct s3 *s, const char *bucket, const char *key, const struct qparam *q, size_t nq)
{
    struct ims_buf b;
    ims_buf_init(&b, 16 * 1024);
    ims_buf_adds(&b, s->endpoint);
    ims_buf_addc(&b, '/');
    if (bucket)
        encode(&b, bucket, false);
    if (key) {
        ims_buf_addc(&b, '/');
        encode(&b, key, true);
    }
    char sep = '?';
    for (size_t i = 0; i < nq; i++) {
        if (!q[i].value)
            continue;
        ims_buf_addc(&b, sep);
        sep = '&';
        encode(&b, q[i].name, false);
        ims_buf_addc(&b, '=');
        encode(&b, q[i].value, false);
    }
    return ims_buf_detach(&b, NULL);
}

/* ---- one request ---- */

struct resp {
    long status;
    struct ims_buf body; /* error documents, listings, upload ids */
    char etag[IMS_OBS_ETAG_MAX];  /* as sent, quotes included */
    char tag[IMS_OBS_TAG_MAX + 1]; /* x-amz-meta-ims-tag */
    char sse[IMS_OBS_SSE_MAX];     /* the x-amz-server-side-encryption* headers, "name=value;" each */
    uint64_t content_length, total; /* total: from Content-Range */
    bool has_length, has_total;
    int64_t mtime;
    char curl_error[CURL_ERROR_SIZE];
};

struct upload_src {
    ims_obs_source_fn fn;
    void *ctx;
    uint64_t left;
    bool failed;
    /* Starts the bytes over, for a retry; NULL: they come once only, and a
     * request that took some is not tried again (one that failed before
     * taking any, as a refusal answered to Expect: 100-continue, is). */
    void (*rewind)(void *ctx);
};

/* Notes an encryption header of the answer (names in lower case, as
 * sent otherwise); one that does not fit marks the whole note so, which
 * no other answer's note equals. */
static void sse_add(struct resp *r, char *name, const char *value)
{
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t have = strlen(r->sse), want = strlen(name) + strlen(value) + 2;
    if (have + want < sizeof(r->sse) && ims_text_valid(value))
        snprintf(r->sse + have, sizeof(r->sse) - have, "%s=%s;", name, value);
    else
        snprintf(r->sse, sizeof(r->sse), "%s", "(unreadable);");
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = size * n;
    char line[512];
    if (len >= sizeof(line))
        return len;
    memcpy(line, p, len);
    line[len] = 0;
    line[strcspn(line, "\r\n")] = 0;
    char *colon = strchr(line, ':');
    if (!strncmp(line, "HTTP/", 5)) { /* a new response (after 100 Continue): forget the last one's headers */
        r->etag[0] = r->tag[0] = r->sse[0] = 0;
        r->has_length = r->has_total = false;
        return len;
    }
    if (!colon)
        return len;
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    int64_t x;
    if (!strcasecmp(line, "ETag")) {
        /* kept only when it is plain text that fits (it goes into XML and messages) */
        bool ok = strlen(v) < sizeof(r->etag) && ims_text_valid(v) && !strpbrk(v, "<>&");
        snprintf(r->etag, sizeof(r->etag), "%s", ok ? v : "");
    } else if (!strncasecmp(line, "x-amz-server-side-encryption", 28)) {
        sse_add(r, line, v);
    } else if (!strcasecmp(line, TAG_HEADER)) {
        snprintf(r->tag, sizeof(r->tag), "%s", strlen(v) <= IMS_OBS_TAG_MAX && ims_obs_tag_valid(v) ? v : "");
    } else if (!strcasecmp(line, "Content-Length") && ims_parse_i64(v, 0, INT64_MAX, &x)) {
        r->content_length = (uint64_t)x;
        r->has_length = true;
    } else if (!strcasecmp(line, "Content-Range")) {
        const char *slash = strrchr(v, '/');
        if (slash && ims_parse_i64(slash + 1, 0, INT64_MAX, &x)) {
            r->total = (uint64_t)x;
            r->has_total = true;
        }
    } else if (!strcasecmp(line, "Last-Modified")) {
        time_t t = curl_getdate(v, NULL);
        if (t > 0)
            r->mtime = t;
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    ims_buf_add(&r->body, p, size * n); /* past the cap: marked overflow, kept short */
    return size * n;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *ud)
{
    struct upload_src *u = ud;
    size_t want = size * n < u->left ? size * n : (size_t)u->left;
    if (!want)
        return 0;
    ssize_t got = u->fn(u->ctx, buf, want);
    if (got <= 0) { /* the source failed or ended before the size it announced */
        u->failed = true;
        return CURL_READFUNC_ABORT;
    }
    u->left -= (uint64_t)got;
    return (size_t)got;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* A handle with the signing, timeouts and the response's sinks set. */
static CURL *easy_new(const struct s3 *s, const char *method, const char *url, struct curl_slist **hdrs,
                      struct resp *r)
{
    CURL *c = curl_easy_init();
    if (!c)
        abort(); /* allocation failure */
    *hdrs = curl_slist_append(*hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret_key);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* a connection that does not come, or a transfer that stalls, ends
     * (CURLE_OPERATION_TIMEDOUT, tried again) instead of hanging a job */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->stall_seconds < 30 ? s->stall_seconds : 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->stall_seconds);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") && strcmp(method, "PUT") && strcmp(method, "POST"))
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    return c;
}

/* What went wrong, from the status and the error document. */
static enum ims_obs_rc s3_error(const struct resp *r, CURLcode cc, const char *what, const char *bucket,
                                const char *key, struct ims_err *err)
{
    const char *sep = key ? ":" : "";
    key = key ? key : "";
    if (cc != CURLE_OK)
        return ims_obs_fail(err, IMS_OBS_IO, "S3 %s %s%s%s: %s", what, bucket, sep, key,
                            r->curl_error[0] ? r->curl_error : curl_easy_strerror(cc));
    char code[64] = "", msg[256] = "";
    if (r->body.data)
        ims_obs_s3_parse_error(r->body.data, r->body.len, code, sizeof(code), msg, sizeof(msg));
    static const struct {
        const char *code;
        enum ims_obs_rc rc;
    } codes[] = {
        {"NoSuchBucket", IMS_OBS_NO_BUCKET},
        {"NoSuchKey", IMS_OBS_NO_OBJECT},
        {"AccessDenied", IMS_OBS_DENIED},
        {"SignatureDoesNotMatch", IMS_OBS_DENIED},
        {"InvalidAccessKeyId", IMS_OBS_DENIED},
        {"AllAccessDisabled", IMS_OBS_DENIED},
        {"AccountProblem", IMS_OBS_DENIED},
        {"ExpiredToken", IMS_OBS_DENIED},
        {"InvalidToken", IMS_OBS_DENIED},
        {"RequestTimeTooSkewed", IMS_OBS_DENIED},
        {"BucketAlreadyOwnedByYou", IMS_OBS_EXISTS},
        {"BucketAlreadyExists", IMS_OBS_EXISTS},
        {"InvalidRange", IMS_OBS_BAD_RANGE},
        {"EntityTooLarge", IMS_OBS_TOO_LARGE},
        {"InvalidBucketName", IMS_OBS_BAD_NAME},
        {"KeyTooLongError", IMS_OBS_BAD_NAME},
    };
    enum ims_obs_rc rc = IMS_OBS_IO;
    bool known = false;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(codes); i++) {
        if (!strcmp(code, codes[i].code)) {
            rc = codes[i].rc;
            known = true;
        }
    }
    if (!known) { /* no document (HEAD) or an unknown code: by status */
        if (r->status == 404)
            rc = IMS_OBS_NO_OBJECT;
        else if (r->status == 401 || r->status == 403)
            rc = IMS_OBS_DENIED;
        else if (r->status == 416)
            rc = IMS_OBS_BAD_RANGE;
    }
    if (!code[0] && rc == IMS_OBS_DENIED) /* a HEAD: no document says why */
        snprintf(msg, sizeof(msg), "credentials, signature or permissions refused");
    return ims_obs_fail(err, rc, "S3 %s %s%s%s: HTTP %ld%s%s%s%s", what, bucket, sep, key, r->status,
                        code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

static void resp_release(struct resp *r) { ims_buf_release(&r->body); }

struct request {
    const char *method, *bucket, *key;
    const struct qparam *query;
    size_t nquery;
    const char *const *headers; /* extra, NULL-terminated */
    struct upload_src *upload;  /* PUT body */
    uint64_t upload_size;
    const char *post;           /* POST body ("" for none) */
    size_t body_max;            /* how much of the response body to keep */
    /* CompleteMultipartUpload and CopyObject answer 200 before they are
     * done, and an <Error> document in that 200 says they failed */
    bool error_after_200;
    unsigned *tries; /* if not NULL: how many tries were made */
};

/* Whether a failed transfer may succeed when tried again: the connection,
 * not our own callbacks (a source or sink that failed fails again). */
static bool curl_transient(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

/* Whether a finished attempt failed in a way another may not. */
static bool transient(const struct resp *r, CURLcode cc)
{
    if (cc != CURLE_OK)
        return curl_transient(cc);
    if (r->status >= 200 && r->status < 300)
        return false;
    char code[64] = "", msg[8];
    if (r->body.data)
        ims_obs_s3_parse_error(r->body.data, r->body.len, code, sizeof(code), msg, sizeof(msg));
    return ims_obs_s3_retry_status(r->status, code);
}

/* A retry's bookkeeping: when the first try began, how many failed. */
struct tries {
    int64_t start_us;
    unsigned failed;
};

/* After a transient failure (why: err->msg): true once the wait before the
 * next try is over, false when the policy allows no more (err stays). */
static bool retry_wait(const struct s3 *s, struct tries *t, const char *what, const struct ims_err *why)
{
    t->failed++;
    uint64_t rnd;
    ims_random_bytes(&rnd, sizeof(rnd));
    int64_t delay = ims_obs_s3_retry_delay_ms(&s->retry, t->failed, rnd);
    int64_t elapsed = (ims_mono_us() - t->start_us) / 1000;
    if (!ims_obs_s3_retry_allowed(&s->retry, t->failed, elapsed, delay)) {
        if (t->failed > 1)
            ims_warn("S3 %s: giving up after %u tries in %lld ms: %s", what, t->failed, (long long)elapsed, why->msg);
        return false;
    }
    ims_warn("S3 %s failed (%s); try %u of %u in %lld ms", what, why->msg, t->failed + 1, s->retry.attempts,
             (long long)delay);
    struct timespec ts = {.tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
    return true;
}

/* Runs one request once; IMS_OBS_OK for a 2xx answer, *ret_transient
 * whether another try may do better. */
static enum ims_obs_rc perform_once(const struct s3 *s, const struct request *q, struct resp *r, const char *what,
                                    bool *ret_transient, struct ims_err *err)
{
    memset(r, 0, sizeof(*r));
    ims_buf_init(&r->body, q->body_max ? q->body_max : ERROR_BODY_MAX);
    char *url = make_url(s, q->bucket, q->key, q->query, q->nquery);
    struct curl_slist *hdrs = NULL;
    for (const char *const *h = q->headers; h && *h; h++)
        hdrs = curl_slist_append(hdrs, *h);
    CURL *c = easy_new(s, q->method, url, &hdrs, r);
    if (q->upload || !strcmp(q->method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->upload_size);
        /* without a body, never curl's default source (stdin) */
        static struct upload_src none;
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(c, CURLOPT_READDATA, q->upload ? q->upload : &none);
    } else if (!strcmp(q->method, "POST")) {
        const char *body = q->post ? q->post : "";
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    free(url);
    *ret_transient = false;
    if (q->upload && q->upload->failed)
        return ims_obs_fail(err, IMS_OBS_IO, "S3 %s %s:%s: reading the data failed or it ended early", what,
                            q->bucket, q->key ? q->key : "");
    if (cc == CURLE_OK && r->status >= 200 && r->status < 300) {
        char code[64], msg[256];
        if (!q->error_after_200 || !r->body.data ||
            !ims_obs_s3_parse_error(r->body.data, r->body.len, code, sizeof(code), msg, sizeof(msg)))
            return IMS_OBS_OK;
        *ret_transient = ims_obs_s3_retry_status(r->status, code);
        return ims_obs_fail(err, IMS_OBS_IO, "S3 %s %s:%s: HTTP %ld %s: %s", what, q->bucket ? q->bucket : "",
                            q->key ? q->key : "", r->status, code, msg);
    }
    *ret_transient = transient(r, cc);
    return s3_error(r, cc, what, q->bucket ? q->bucket : "", q->key, err);
}

/* Runs one request, tried again after transient failures as s->retry
 * allows (a body that cannot start over only while none of it was
 * taken); IMS_OBS_OK for a
 * 2xx answer. r is the caller's to release (ims_buf_release(&r->body)). */
static enum ims_obs_rc perform(const struct s3 *s, const struct request *q, struct resp *r, const char *what,
                               struct ims_err *err)
{
    struct tries t = {.start_us = ims_mono_us()};
    uint64_t size = q->upload ? q->upload->left : 0;
    for (;;) {
        bool again;
        enum ims_obs_rc rc = perform_once(s, q, r, what, &again, err);
        if (q->tries)
            *q->tries = t.failed + 1;
        bool taken = q->upload && q->upload->left != size;
        if (!rc || !again || (taken && !q->upload->rewind) || !retry_wait(s, &t, what, err))
            return rc;
        resp_release(r);
        if (taken) { /* a body that starts over (checked above) */
            q->upload->rewind(q->upload->ctx);
            q->upload->left = size;
        }
    }
}

/* A body held in memory, as an upload source. */
struct mem_src {
    const char *p;
    size_t len, pos;
};

static ssize_t mem_read(void *ctx, char *buf, size_t max)
{
    struct mem_src *m = ctx;
    size_t n = m->len - m->pos < max ? m->len - m->pos : max;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static void mem_rewind(void *ctx) { ((struct mem_src *)ctx)->pos = 0; }

/* ---- buckets ---- */

static enum ims_obs_rc s3_bucket_create(struct ims_obs *o, const char *bucket, struct ims_err *err)
{
    struct s3 *s = (struct s3 *)o;
    struct request q = {.method = "PUT", .bucket = bucket};
    /* outside us-east-1, S3 wants the region named in the body */
    char *conf = NULL;
    struct mem_src m = {0};
    struct upload_src src = {0};
    if (strcmp(s->region, "us-east-1")) {
        conf = ims_xasprintf("<CreateBucketConfiguration><LocationConstraint>%s</LocationConstraint>"
                             "</CreateBucketConfiguration>",
                             s->region);
        m = (struct mem_src){.p = conf, .len = strlen(conf)};
        src = (struct upload_src){.fn = mem_read, .ctx = &m, .left = m.len, .rewind = mem_rewind};
        q.upload = &src;
        q.upload_size = m.len;
    }
    struct resp r;
    enum ims_obs_rc rc = perform(s, &q, &r, "create bucket", err);
    resp_release(&r);
    free(conf);
    return rc;
}

static enum ims_obs_rc s3_bucket_exists(struct ims_obs *o, const char *bucket, struct ims_err *err)
{
    struct request q = {.method = "HEAD", .bucket = bucket};
    struct resp r;
    enum ims_obs_rc rc = perform((struct s3 *)o, &q, &r, "head bucket", err);
    resp_release(&r);
    if (rc == IMS_OBS_NO_OBJECT) /* a HEAD's 404 has no document: here it is the bucket */
        rc = ims_obs_fail(err, IMS_OBS_NO_BUCKET, "no bucket %s", bucket);
    return rc;
}

/* A 404 without a document (HEAD) or a NoSuchKey: is the bucket missing,
 * or the object? One more request tells. */
static enum ims_obs_rc which_missing(struct ims_obs *o, enum ims_obs_rc rc, const char *bucket, const char *key,
                                     struct ims_err *err)
{
    if (rc != IMS_OBS_NO_OBJECT)
        return rc;
    struct ims_err e2 = {0};
    if (s3_bucket_exists(o, bucket, &e2) == IMS_OBS_NO_BUCKET)
        return ims_obs_fail(err, IMS_OBS_NO_BUCKET, "no bucket %s", bucket);
    return ims_obs_fail(err, IMS_OBS_NO_OBJECT, "no object %s:%s", bucket, key);
}

static void info_from(const struct resp *r, struct ims_obs_info *info)
{
    memset(info, 0, sizeof(*info));
    info->size = r->has_total ? r->total : r->content_length;
    info->mtime = r->mtime;
    /* without the quotes S3 puts around it */
    const char *e = r->etag;
    size_t n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
        snprintf(info->etag, sizeof(info->etag), "%.*s", (int)(n - 2), e + 1);
    else
        snprintf(info->etag, sizeof(info->etag), "%s", e);
    snprintf(info->tag, sizeof(info->tag), "%s", r->tag);
}

/* A PUT's answer as the caller sees it: the ETag without its quotes. */
static void answer_from(const struct resp *r, struct ims_obs_put_answer *ret)
{
    struct ims_obs_info info;
    info_from(r, &info);
    snprintf(ret->etag, sizeof(ret->etag), "%s", info.etag);
    snprintf(ret->sse, sizeof(ret->sse), "%s", r->sse);
}

static enum ims_obs_rc s3_head(struct ims_obs *o, const char *bucket, const char *key, struct ims_obs_info *ret,
                               struct ims_err *err)
{
    struct request q = {.method = "HEAD", .bucket = bucket, .key = key};
    struct resp r;
    enum ims_obs_rc rc = perform((struct s3 *)o, &q, &r, "head", err);
    if (!rc && !r.has_length)
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 head %s:%s: no Content-Length", bucket, key);
    if (!rc)
        info_from(&r, ret);
    resp_release(&r);
    return which_missing(o, rc, bucket, key, err);
}

/* ---- streamed reads ---- */

struct s3_reader {
    struct ims_obs_reader base;
    CURLM *multi;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    char *bucket, *key; /* for messages */
    struct resp resp;   /* the answer of the transfer running */
    /* what arrived and the caller has not taken yet: a ring of cap bytes,
     * held of them from off on, wrapping (no byte is moved inside it) */
    char *buf;
    size_t cap, off, held;
    bool paused, done;
    CURLcode result;
    uint64_t pos;      /* bytes handed out */
    uint64_t received; /* bytes of the range that arrived, over every transfer */
    char etag[IMS_OBS_ETAG_MAX]; /* the first answer's, quoted: a resumed GET must match it */
    struct tries tries; /* resumes since the last one that brought bytes */
    uint64_t received_at_resume;
};

static size_t on_stream(char *p, size_t size, size_t n, void *ud)
{
    struct s3_reader *r = ud;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) { /* an error document */
        ims_buf_add(&r->resp.body, p, len);
        return len;
    }
    if (r->cap - r->held < len) {
        if (r->held) { /* full: hold the transfer until the caller takes some */
            r->paused = true;
            return CURL_WRITEFUNC_PAUSE;
        }
        /* one write larger than the buffer (data held over a pause) */
        if (len > 64 * READ_CHUNK)
            return 0; /* fails the transfer: never buffer without bound */
        r->buf = ims_xrealloc(r->buf, len);
        r->cap = len;
        r->off = 0;
    }
    size_t at = (r->off + r->held) % r->cap, first = len < r->cap - at ? len : r->cap - at;
    memcpy(r->buf + at, p, first);
    memcpy(r->buf, p + first, len - first);
    r->held += len;
    r->received += len;
    return len;
}

/* Runs the transfer until data waits (as much as arrives without waiting,
 * up to the buffer) or it ended. Pausing is for a slow caller only: the
 * buffer takes what the network brings between two reads. */
static enum ims_obs_rc pump(struct s3_reader *r, struct ims_err *err)
{
    while (!r->done) {
        size_t before = r->held;
        if (r->paused) {
            if (r->cap - r->held < READ_CHUNK && before)
                break; /* still full */
            r->paused = false;
            curl_easy_pause(r->easy, CURLPAUSE_CONT); /* may deliver at once */
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(r->multi, &running);
        if (mc != CURLM_OK)
            return ims_obs_fail(err, IMS_OBS_IO, "S3 read: %s", curl_multi_strerror(mc));
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(r->multi, &left))) {
            if (m->msg == CURLMSG_DONE) {
                r->done = true;
                r->result = m->data.result;
            }
        }
        size_t avail = r->held;
        if (r->done || r->paused || avail >= READ_CHUNK || (avail && avail == before))
            break;
        /* nothing yet: wait for the network; something: only look again */
        mc = curl_multi_poll(r->multi, NULL, 0, avail ? 0 : 1000, NULL);
        if (mc != CURLM_OK)
            return ims_obs_fail(err, IMS_OBS_IO, "S3 read: %s", curl_multi_strerror(mc));
    }
    return IMS_OBS_OK;
}

static void reader_drop_transfer(struct s3_reader *r)
{
    if (r->easy) {
        curl_multi_remove_handle(r->multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
}

static void reader_free(struct s3_reader *r)
{
    reader_drop_transfer(r);
    if (r->multi)
        curl_multi_cleanup(r->multi);
    resp_release(&r->resp);
    free(r->url);
    free(r->bucket);
    free(r->key);
    free(r->buf);
    free(r);
}

/* Starts a GET of the reader's object (range: "first-[last]" or NULL for
 * all of it; if_match: an ETag or NULL) and runs it until data waits, it
 * ended or the answer is an error. *ret_status: the answer's status. */
static enum ims_obs_rc reader_begin(const struct s3 *s, struct s3_reader *r, const char *range, const char *if_match,
                                    long *ret_status, struct ims_err *err)
{
    reader_drop_transfer(r);
    resp_release(&r->resp);
    memset(&r->resp, 0, sizeof(r->resp));
    ims_buf_init(&r->resp.body, ERROR_BODY_MAX);
    r->paused = r->done = false;
    r->result = CURLE_OK;
    if (if_match) {
        char *h = ims_xasprintf("If-Match: %s", if_match);
        r->hdrs = curl_slist_append(r->hdrs, h);
        free(h);
    }
    r->easy = easy_new(s, "GET", r->url, &r->hdrs, &r->resp);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_BUFFERSIZE, (long)READ_CHUNK);
    if (range)
        curl_easy_setopt(r->easy, CURLOPT_RANGE, range);
    curl_multi_add_handle(r->multi, r->easy);
    enum ims_obs_rc rc = pump(r, err);
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    r->resp.status = status;
    *ret_status = status;
    return rc;
}

/* Whether the GET running failed before its answer's head (no status) or
 * with an error answer, and how. */
static bool reader_failed(const struct s3_reader *r, long status)
{
    return r->done && (status < 200 || status >= 300);
}

/* The transfer ended before the range did (why: err): asks for the rest,
 * from the first byte that did not arrive, on condition that the object
 * is still the one whose bytes came (If-Match its first ETag), as often as
 * the retry policy allows since the last resume that brought bytes. An
 * object changed meanwhile (412) is a failure: never bytes of two
 * versions. */
static enum ims_obs_rc reader_resume(struct s3_reader *r, struct ims_err *err)
{
    const struct s3 *s = (const struct s3 *)r->base.obs;
    if (r->result != CURLE_OK && !curl_transient(r->result))
        return IMS_OBS_IO; /* our own sink or a cap failed it: again would fail again */
    if (!r->etag[0])
        return ims_obs_fail(err, IMS_OBS_IO, "%s; the object has no ETag to resume the read safely", err->msg);
    if (r->received > r->received_at_resume || !r->tries.start_us) {
        r->tries = (struct tries){.start_us = ims_mono_us()};
        r->received_at_resume = r->received;
    }
    char what[64];
    snprintf(what, sizeof(what), "get (from byte %llu)", (unsigned long long)(r->base.offset + r->received));
    while (retry_wait(s, &r->tries, what, err)) {
        char range[64];
        snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)(r->base.offset + r->received),
                 (unsigned long long)(r->base.offset + r->base.length - 1));
        long status;
        uint64_t rest = r->base.length - r->received; /* before the answer's first bytes count */
        enum ims_obs_rc rc = reader_begin(s, r, range, r->etag, &status, err);
        if (rc)
            return rc;
        if (status == 412 || status == 304)
            return ims_obs_fail(err, IMS_OBS_IO,
                                "S3 get %s:%s: the object changed while it was read (it is no longer ETag %s); "
                                "%llu of %llu bytes were read, none of the new object",
                                r->bucket, r->key, r->etag, (unsigned long long)r->received,
                                (unsigned long long)r->base.length);
        if (reader_failed(r, status)) {
            enum ims_obs_rc frc = s3_error(&r->resp, r->result, "get", r->bucket, r->key, err);
            if (!transient(&r->resp, r->result))
                return frc;
            continue;
        }
        if (status != 206 || !r->resp.has_length || r->resp.content_length != rest)
            return ims_obs_fail(err, IMS_OBS_IO, "S3 get %s:%s: HTTP %ld without the rest of the range asked for",
                                r->bucket, r->key, status);
        return IMS_OBS_OK;
    }
    return IMS_OBS_IO;
}

static enum ims_obs_rc s3_open_read(struct ims_obs *o, const char *bucket, const char *key, uint64_t offset,
                                    uint64_t length, struct ims_obs_reader **ret, struct ims_err *err)
{
    struct s3 *s = (struct s3 *)o;
    struct s3_reader *r = ims_xcalloc(1, sizeof(*r));
    r->base.obs = o;
    r->base.fd = -1;
    r->base.offset = offset;
    r->cap = 4 * READ_CHUNK;
    r->buf = ims_xmalloc(r->cap);
    r->url = make_url(s, bucket, key, NULL, 0);
    r->bucket = ims_xstrdup(bucket);
    r->key = ims_xstrdup(key);
    r->multi = curl_multi_init();
    if (!r->multi)
        abort();
    bool ranged = offset > 0 || length != UINT64_MAX;
    char range[64] = "";
    if (ranged) {
        if (length == UINT64_MAX || offset + length < offset || offset + length - 1 >= (1ULL << 62))
            snprintf(range, sizeof(range), "%llu-", (unsigned long long)offset);
        else if (length == 0) /* nothing to read: a HEAD tells the size */
            snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)offset, (unsigned long long)offset);
        else
            snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)offset,
                     (unsigned long long)(offset + length - 1));
    }
    struct tries t = {.start_us = ims_mono_us()};
    enum ims_obs_rc rc;
    long status;
    for (;;) {
        rc = reader_begin(s, r, ranged ? range : NULL, NULL, &status, err);
        bool again = false;
        if (!rc && status == 416) {
            /* a range that starts at the end is empty, not an error */
            struct ims_obs_info info;
            rc = s3_head(o, bucket, key, &info, err);
            if (!rc && offset == info.size) {
                r->base.info = info;
                r->base.length = 0;
                reader_drop_transfer(r);
                r->done = true;
                *ret = &r->base;
                return IMS_OBS_OK;
            }
            if (!rc)
                rc = ims_obs_fail(err, IMS_OBS_BAD_RANGE, "%s:%s has %llu bytes; offset %llu is past its end",
                                  bucket, key, (unsigned long long)info.size, (unsigned long long)offset);
        } else if (!rc && reader_failed(r, status)) {
            again = transient(&r->resp, r->result);
            rc = s3_error(&r->resp, r->result, "get", bucket, key, err);
            if (!again)
                rc = which_missing(o, rc, bucket, key, err);
        } else if (!rc && (status != (ranged ? 206 : 200) || !r->resp.has_length ||
                           (ranged && !r->resp.has_total))) {
            /* a server that ignores Range would hand us the wrong bytes */
            rc = ims_obs_fail(err, IMS_OBS_IO, "S3 get %s:%s: HTTP %ld without the range asked for", bucket, key,
                              status);
        }
        if (!rc)
            break;
        if (!again || !retry_wait(s, &t, "get", err)) {
            reader_free(r);
            return rc;
        }
        r->received = 0;
        r->held = r->off = 0;
    }
    /* the answer's head came: a transfer cut after it is resumed by s3_read */
    info_from(&r->resp, &r->base.info);
    snprintf(r->etag, sizeof(r->etag), "%s", r->resp.etag);
    r->base.length = r->resp.content_length;
    if (length == 0)
        r->base.length = 0;
    *ret = &r->base;
    return IMS_OBS_OK;
}

static enum ims_obs_rc s3_read(struct ims_obs_reader *base, char *buf, size_t max, size_t *ret_n,
                               struct ims_err *err)
{
    struct s3_reader *r = (struct s3_reader *)base;
    if (r->pos == base->length) {
        *ret_n = 0;
        return IMS_OBS_OK;
    }
    for (;;) {
        enum ims_obs_rc rc = pump(r, err);
        if (rc)
            return rc;
        if (r->held)
            break;
        /* ended before the length the answer announced */
        ims_obs_fail(err, IMS_OBS_IO, "S3 get %s:%s: the transfer ended after %llu of %llu bytes%s%s", r->bucket,
                     r->key, (unsigned long long)r->received, (unsigned long long)base->length,
                     r->result != CURLE_OK ? ": " : "",
                     r->result != CURLE_OK
                         ? (r->resp.curl_error[0] ? r->resp.curl_error : curl_easy_strerror(r->result))
                         : "");
        if ((rc = reader_resume(r, err)))
            return rc;
    }
    size_t n = r->held;
    if (n > max)
        n = max;
    if (n > base->length - r->pos)
        n = (size_t)(base->length - r->pos);
    size_t first = n < r->cap - r->off ? n : r->cap - r->off;
    memcpy(buf, r->buf + r->off, first);
    memcpy(buf + first, r->buf, n - first);
    r->off = (r->off + n) % r->cap;
    r->held -= n;
    if (!r->held)
        r->off = 0; /* the next arrival in one piece */
    r->pos += n;
    *ret_n = n;
    return IMS_OBS_OK;
}

static void s3_reader_close(struct ims_obs_reader *base) { reader_free((struct s3_reader *)base); }

/* ---- writes ---- */

/* Where a request's body comes from; rewind NULL: once only. */
struct body {
    ims_obs_source_fn fn;
    void *ctx;
    void (*rewind)(void *ctx);
};

/* Bytes [start, start + len) of a file, read where they are: a body that
 * starts over as often as a retry needs. */
struct file_src {
    int fd;
    uint64_t start, len, pos;
    int error;
};

static ssize_t file_read(void *ctx, char *buf, size_t max)
{
    struct file_src *f = ctx;
    size_t n = f->len - f->pos < max ? (size_t)(f->len - f->pos) : max;
    if (!n)
        return 0;
    ssize_t got;
    while ((got = pread(f->fd, buf, n, (off_t)(f->start + f->pos))) < 0 && errno == EINTR)
        ;
    if (got < 0)
        f->error = errno;
    if (got > 0)
        f->pos += (uint64_t)got;
    return got;
}

static void file_rewind(void *ctx) { ((struct file_src *)ctx)->pos = 0; }

/* One PUT of the body; ret (may be NULL): its answer, when it succeeded. */
static enum ims_obs_rc put_single(struct s3 *s, const char *bucket, const char *key, uint64_t size,
                                  const struct body *b, const char *tag, struct ims_obs_put_answer *ret,
                                  struct ims_err *err)
{
    struct upload_src u = {.fn = b->fn, .ctx = b->ctx, .left = size, .rewind = b->rewind};
    char tag_line[sizeof(TAG_HEADER) + IMS_OBS_TAG_MAX + 4];
    snprintf(tag_line, sizeof(tag_line), TAG_HEADER ": %s", tag ? tag : "");
    const char *const hdrs[] = {tag ? tag_line : NULL, NULL};
    struct request q = {.method = "PUT", .bucket = bucket, .key = key, .upload = &u, .upload_size = size,
                        .headers = hdrs};
    struct resp r;
    enum ims_obs_rc rc = perform(s, &q, &r, "put", err);
    if (!rc && ret)
        answer_from(&r, ret);
    resp_release(&r);
    return rc;
}

static void abort_upload(struct s3 *s, const char *bucket, const char *key, const char *upload_id)
{
    const struct qparam qp[] = {{"uploadId", upload_id}};
    struct request q = {.method = "DELETE", .bucket = bucket, .key = key, .query = qp, .nquery = 1};
    struct resp r;
    struct ims_err e = {0};
    if (perform(s, &q, &r, "abort multipart upload", &e))
        ims_warn("S3: could not abort the multipart upload of %s:%s (%s); the service's lifecycle rules must "
                 "remove its parts",
                 bucket, key, e.msg);
    resp_release(&r);
}

/* An ETag fit to go into the Complete document: quoted hex, nothing that
 * is markup. */
static bool etag_ok(const char *e) { return e[0] && ims_text_valid(e) && !strpbrk(e, "<>&"); }

/* Starts a multipart upload (the object to carry tag, if not NULL): its id
 * into upload_id (cap bytes). */
static enum ims_obs_rc mp_create(struct s3 *s, const char *bucket, const char *key, const char *tag, char *upload_id,
                                 size_t cap, struct ims_err *err)
{
    const struct qparam create_q[] = {{"uploads", ""}};
    char tag_line[sizeof(TAG_HEADER) + IMS_OBS_TAG_MAX + 4];
    snprintf(tag_line, sizeof(tag_line), TAG_HEADER ": %s", tag ? tag : "");
    const char *const create_hdrs[] = {"Content-Type: application/xml", tag ? tag_line : NULL, NULL};
    struct request q = {.method = "POST", .bucket = bucket, .key = key, .query = create_q, .nquery = 1,
                        .headers = create_hdrs, .post = ""};
    struct resp r;
    enum ims_obs_rc rc = perform(s, &q, &r, "create multipart upload", err);
    if (!rc && !(r.body.data && ims_obs_s3_xml_value(r.body.data, r.body.len, "UploadId", upload_id, cap) &&
                 upload_id[0]))
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 create multipart upload %s:%s: no UploadId in the answer", bucket, key);
    resp_release(&r);
    return rc;
}

/* Uploads part number num (len bytes from b); its ETag into etag. A part
 * is retried alone (perform), the parts before it stay. */
static enum ims_obs_rc mp_part(struct s3 *s, const char *bucket, const char *key, const char *upload_id, size_t num,
                               uint64_t len, const struct body *b, char etag[IMS_OBS_ETAG_MAX], struct ims_err *err)
{
    char nums[24];
    snprintf(nums, sizeof(nums), "%zu", num);
    const struct qparam part_q[] = {{"partNumber", nums}, {"uploadId", upload_id}};
    struct upload_src u = {.fn = b->fn, .ctx = b->ctx, .left = len, .rewind = b->rewind};
    struct request pq = {.method = "PUT", .bucket = bucket, .key = key, .query = part_q, .nquery = 2,
                         .upload = &u, .upload_size = len};
    struct resp r;
    enum ims_obs_rc rc = perform(s, &pq, &r, "upload part", err);
    snprintf(etag, IMS_OBS_ETAG_MAX, "%s", r.etag);
    if (!rc && !etag_ok(etag))
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 part %zu of %s:%s: no usable ETag in the answer", num, bucket, key);
    resp_release(&r);
    return rc;
}

/* After a Complete tried again was answered NoSuchUpload: whether the
 * object is this upload's, completed by a try whose answer was lost (the
 * connection failed after the service had done it). Its size and its
 * multipart ETag, which the parts' md5s make, must be the upload's: any
 * other put gives another ETag (or, from other bytes, other md5s). */
static bool completed_before(struct s3 *s, const char *bucket, const char *key,
                             const char (*etags)[IMS_OBS_ETAG_MAX], size_t n, uint64_t size)
{
    char want[IMS_OBS_ETAG_MAX];
    struct ims_obs_info info;
    struct ims_err e = {0};
    if (!ims_obs_s3_multipart_etag(etags, n, want) || s3_head(&s->base, bucket, key, &info, &e) != IMS_OBS_OK)
        return false;
    if (info.size != size || strcasecmp(info.etag, want) != 0) {
        ims_warn("S3 complete multipart upload %s:%s: the upload is gone and the object is another (%llu bytes, "
                 "ETag %s; the upload's: %llu bytes, %s)",
                 bucket, key, (unsigned long long)info.size, info.etag, (unsigned long long)size, want);
        return false;
    }
    return true;
}

/* Completes the upload of the n parts whose ETags are etags[0..n), size
 * bytes in all. A try whose answer was lost may have completed it: the
 * next try then finds no upload (NoSuchUpload), and the object, if it is
 * the upload's, is the put done. */
static enum ims_obs_rc mp_complete(struct s3 *s, const char *bucket, const char *key, const char *upload_id,
                                   const char (*etags)[IMS_OBS_ETAG_MAX], size_t n, uint64_t size,
                                   struct ims_err *err)
{
    static const char *const xml_type[] = {"Content-Type: application/xml", NULL};
    struct ims_buf done;
    ims_buf_init(&done, n * 160 + 256);
    ims_buf_adds(&done, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < n; i++)
        ims_buf_printf(&done, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1, etags[i]);
    ims_buf_adds(&done, "</CompleteMultipartUpload>");
    const struct qparam done_q[] = {{"uploadId", upload_id}};
    unsigned tries = 0;
    struct request cq = {.method = "POST", .bucket = bucket, .key = key, .query = done_q, .nquery = 1,
                         .headers = xml_type, .post = done.data, .error_after_200 = true, .tries = &tries};
    struct resp r;
    enum ims_obs_rc rc = perform(s, &cq, &r, "complete multipart upload", err);
    char code[64] = "", msg[8];
    if (rc && tries > 1 && r.status == 404 && r.body.data)
        ims_obs_s3_parse_error(r.body.data, r.body.len, code, sizeof(code), msg, sizeof(msg));
    if (!strcmp(code, "NoSuchUpload") && completed_before(s, bucket, key, etags, n, size)) {
        ims_warn("S3 complete multipart upload %s:%s: an earlier try completed it (its answer was lost)", bucket,
                 key);
        rc = IMS_OBS_OK;
    }
    resp_release(&r);
    ims_buf_release(&done);
    return rc;
}

/* len bytes from src into buf: a stream's body held, so that it can be
 * sent again. */
static enum ims_obs_rc fill(ims_obs_source_fn src, void *ctx, char *buf, size_t len, const char *bucket,
                            const char *key, struct ims_err *err)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = src(ctx, buf + got, len - got);
        if (n <= 0)
            return ims_obs_fail(err, IMS_OBS_IO, "S3 put %s:%s: reading the data failed or it ended early", bucket,
                                key);
        got += (size_t)n;
    }
    return IMS_OBS_OK;
}

/* A multipart upload of size bytes in parts of `part`, aborted on any
 * failure so no part stays behind. The bytes come from the file fd where
 * there is one (each part read where it is, again for a retry), else from
 * src, one part at a time into memory so that a part can be sent again.
 *
 * Not UploadPartCopy: libcurl before 8.10 (Debian 12 has 7.88) sorts the
 * headers it signs as whole lines, so x-amz-copy-source-range lands before
 * x-amz-copy-source and every such request fails SignatureDoesNotMatch. */
static enum ims_obs_rc multipart(struct s3 *s, const char *bucket, const char *key, uint64_t size, uint64_t part,
                                 int fd, ims_obs_source_fn src, void *ctx, const char *tag, struct ims_err *err)
{
    char upload_id[1024];
    enum ims_obs_rc rc = mp_create(s, bucket, key, tag, upload_id, sizeof(upload_id), err);
    if (rc)
        return rc;
    size_t nparts = (size_t)((size + part - 1) / part);
    char(*etags)[IMS_OBS_ETAG_MAX] = ims_xcalloc(nparts, sizeof(*etags));
    char *held = fd < 0 ? ims_xmalloc((size_t)part) : NULL;
    for (size_t i = 0; i < nparts && !rc; i++) {
        uint64_t len = i + 1 < nparts ? part : size - part * i;
        struct file_src f = {.fd = fd, .start = part * i, .len = len};
        struct mem_src m = {.p = held, .len = (size_t)len};
        struct body b = {file_read, &f, file_rewind};
        if (fd < 0) {
            b = (struct body){mem_read, &m, mem_rewind};
            rc = fill(src, ctx, held, (size_t)len, bucket, key, err);
        }
        if (!rc)
            rc = mp_part(s, bucket, key, upload_id, i + 1, len, &b, etags[i], err);
    }
    free(held);
    if (!rc)
        rc = mp_complete(s, bucket, key, upload_id, (const char(*)[IMS_OBS_ETAG_MAX])etags, nparts, size, err);
    free(etags);
    if (rc)
        abort_upload(s, bucket, key, upload_id);
    return rc;
}

/* Parts of at least min_part, at most MAX_PARTS of them, whole MiBs. */
static uint64_t part_size_for(uint64_t size, uint64_t min_part)
{
    uint64_t need = (size + MAX_PARTS - 1) / MAX_PARTS;
    if (min_part >= need)
        return min_part;
    return (need + (1 << 20) - 1) / (1 << 20) * (1 << 20);
}

static enum ims_obs_rc s3_put(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                              ims_obs_source_fn src, void *ctx, const char *tag, struct ims_err *err)
{
    struct s3 *s = (struct s3 *)o;
    if (size > MAX_OBJECT)
        return ims_obs_fail(err, IMS_OBS_TOO_LARGE, "%s:%s: %llu bytes is more than an S3 object holds", bucket, key,
                            (unsigned long long)size);
    if (size <= s->part_size) { /* held, as a part would be, so that it can be sent again */
        char *held = ims_xmalloc(size ? (size_t)size : 1);
        struct mem_src m = {.p = held, .len = (size_t)size};
        const struct body b = {mem_read, &m, mem_rewind};
        enum ims_obs_rc rc = fill(src, ctx, held, (size_t)size, bucket, key, err);
        if (!rc)
            rc = which_missing(o, put_single(s, bucket, key, size, &b, tag, NULL, err), bucket, key, err);
        free(held);
        return rc;
    }
    return multipart(s, bucket, key, size, part_size_for(size, s->part_size), -1, src, ctx, tag, err);
}

/* A file is read where it is, so every request of its put can be tried
 * again. */
static enum ims_obs_rc s3_put_file(struct ims_obs *o, const char *bucket, const char *key, int fd,
                                   const struct ims_obs_put_opts *opts, struct ims_err *err)
{
    struct s3 *s = (struct s3 *)o;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode))
        return ims_obs_fail(err, IMS_OBS_IO, "the source is not a regular file");
    uint64_t size = (uint64_t)st.st_size;
    if (size > MAX_OBJECT)
        return ims_obs_fail(err, IMS_OBS_TOO_LARGE, "%s:%s: %llu bytes is more than an S3 object holds", bucket, key,
                            (unsigned long long)size);
    if (opts->answer)
        memset(opts->answer, 0, sizeof(*opts->answer));
    uint64_t single_max = opts->single_put_max < MAX_SINGLE_PUT ? opts->single_put_max : MAX_SINGLE_PUT;
    if (size > s->part_size && size > single_max)
        return multipart(s, bucket, key, size, part_size_for(size, s->part_size), fd, NULL, NULL, opts->tag, err);
    struct file_src f = {.fd = fd, .len = size};
    const struct body b = {file_read, &f, file_rewind};
    enum ims_obs_rc rc = put_single(s, bucket, key, size, &b, opts->tag, opts->answer, err);
    if (rc && f.error)
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 put %s:%s: reading the file: %s", bucket, key, strerror(f.error));
    return which_missing(o, rc, bucket, key, err);
}

/* What puts to key killed midway left (ims_obs_s3_uploads_abort). */
static enum ims_obs_rc s3_abort_uploads(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err)
{
    size_t n = 0;
    enum ims_obs_rc rc = ims_obs_s3_uploads_abort(o, bucket, key, &n, err);
    if (n)
        ims_info("S3: aborted %zu unfinished multipart upload(s) of %s:%s", n, bucket, key);
    return rc;
}

static enum ims_obs_rc s3_remove(struct ims_obs *o, const char *bucket, const char *key, struct ims_err *err)
{
    struct request q = {.method = "DELETE", .bucket = bucket, .key = key};
    struct resp r;
    enum ims_obs_rc rc = perform((struct s3 *)o, &q, &r, "delete", err);
    resp_release(&r);
    if (rc == IMS_OBS_NO_OBJECT) /* only a missing bucket makes a DELETE fail */
        rc = which_missing(o, rc, bucket, key, err) == IMS_OBS_NO_BUCKET ? IMS_OBS_NO_BUCKET : IMS_OBS_OK;
    return rc;
}

static enum ims_obs_rc s3_list(struct ims_obs *o, const char *bucket, const char *prefix, const char *token,
                               size_t max, struct ims_obs_listing *ret, struct ims_err *err)
{
    char maxs[24];
    snprintf(maxs, sizeof(maxs), "%zu", max);
    /* in name order: the canonical query */
    const struct qparam qp[] = {
        {"continuation-token", token}, {"list-type", "2"}, {"max-keys", maxs}, {"prefix", *prefix ? prefix : NULL}};
    struct request q = {.method = "GET", .bucket = bucket, .query = qp, .nquery = 4, .body_max = LIST_BODY_MAX};
    struct resp r;
    enum ims_obs_rc rc = perform((struct s3 *)o, &q, &r, "list", err);
    if (!rc && r.body.overflow)
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 list %s: the answer is larger than %d bytes", bucket, LIST_BODY_MAX);
    if (!rc)
        rc = ims_obs_s3_parse_list(r.body.data ? r.body.data : "", r.body.len, ret, err);
    resp_release(&r);
    if (rc == IMS_OBS_NO_OBJECT)
        rc = ims_obs_fail(err, IMS_OBS_NO_BUCKET, "no bucket %s", bucket);
    return rc;
}

struct reader_src {
    struct ims_obs_reader *r;
    struct ims_err err;
    bool failed;
};

static ssize_t reader_read(void *ctx, char *buf, size_t max)
{
    struct reader_src *rs = ctx;
    size_t n;
    if (ims_obs_read(rs->r, buf, max, &n, &rs->err)) {
        rs->failed = true;
        return -1;
    }
    return (ssize_t)n;
}

static enum ims_obs_rc s3_put(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                              ims_obs_source_fn src, void *ctx, const char *tag, struct ims_err *err);

static enum ims_obs_rc stream_copy(struct ims_obs *o, const char *sb, const char *sk, const char *db, const char *dk,
                                   uint64_t size, struct ims_err *err)
{
    struct reader_src rs = {0};
    enum ims_obs_rc rc = ims_obs_open_read(o, sb, sk, 0, UINT64_MAX, &rs.r, err);
    if (rc)
        return rc;
    if (rs.r->length != size) /* replaced since the HEAD: copy what is there now */
        size = rs.r->length;
    rc = s3_put(o, db, dk, size, reader_read, &rs, NULL, err);
    if (rc && rs.failed)
        ims_obs_fail(err, rc, "S3 copy of %s:%s: %s", sb, sk, rs.err.msg);
    ims_obs_reader_close(rs.r);
    return rc;
}

static enum ims_obs_rc s3_copy(struct ims_obs *o, const char *sb, const char *sk, const char *db, const char *dk,
                               struct ims_err *err)
{
    struct s3 *s = (struct s3 *)o;
    struct ims_obs_info info;
    enum ims_obs_rc rc = s3_head(o, sb, sk, &info, err);
    if (rc)
        return rc;
    if (info.size > MAX_OBJECT)
        return ims_obs_fail(err, IMS_OBS_TOO_LARGE, "%s:%s: %llu bytes is more than an S3 object holds", sb, sk,
                            (unsigned long long)info.size);
    struct ims_buf src;
    ims_buf_init(&src, 4096);
    ims_buf_adds(&src, "x-amz-copy-source: /");
    encode(&src, sb, false);
    ims_buf_addc(&src, '/');
    encode(&src, sk, true);
    /* CopyObject takes up to 5 GiB (and server_copy_max); a larger object
     * streams through us into a multipart put (see multipart() for why not
     * UploadPartCopy) */
    if (info.size > s->server_copy_max) {
        ims_buf_release(&src);
        return stream_copy(o, sb, sk, db, dk, info.size, err);
    }
    const char *const hdrs[] = {src.data, NULL};
    struct request q = {.method = "PUT", .bucket = db, .key = dk, .headers = hdrs, .upload_size = 0,
                        .error_after_200 = true};
    struct resp r;
    rc = perform(s, &q, &r, "copy", err);
    resp_release(&r);
    ims_buf_release(&src);
    if (rc == IMS_OBS_NO_OBJECT) /* the source exists: the target bucket is missing */
        rc = ims_obs_fail(err, IMS_OBS_NO_BUCKET, "no bucket %s", db);
    return rc;
}

static void s3_close(struct ims_obs *o)
{
    struct s3 *s = (struct s3 *)o;
    free(s->endpoint);
    free(s->sigv4);
    free(s->region);
    free(s->access_key);
    if (s->secret_key)
        explicit_bzero(s->secret_key, strlen(s->secret_key));
    free(s->secret_key);
    free(s);
}

static const struct ims_obs_ops s3_ops = {
    .name = "s3",
    .bucket_create = s3_bucket_create,
    .bucket_exists = s3_bucket_exists,
    .head = s3_head,
    .open_read = s3_open_read,
    .read = s3_read,
    .reader_close = s3_reader_close,
    .put = s3_put,
    .put_file = s3_put_file,
    .abort_uploads = s3_abort_uploads,
    .remove = s3_remove,
    .list = s3_list,
    .copy = s3_copy,
    .local_path = NULL,
    .close = s3_close,
};

enum ims_obs_rc ims_obs_s3_open(const struct ims_obs_s3_config *cfg, struct ims_obs **ret, struct ims_err *err)
{
    const char *ep = cfg->endpoint ? cfg->endpoint : "";
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
        return ims_obs_fail(err, IMS_OBS_IO, "endpoint must be an http:// or https:// URL (is '%s')", ep);
    if (!cfg->region || !*cfg->region || strchr(cfg->region, ':') || !ims_text_valid(cfg->region))
        return ims_obs_fail(err, IMS_OBS_IO, "region must be set (e.g. us-east-1), without ':'");
    if (!cfg->access_key || !*cfg->access_key || !cfg->secret_key || !*cfg->secret_key)
        return ims_obs_fail(err, IMS_OBS_IO, "access_key and secret_key (or secret_key_file) must be set");
    if (cfg->part_size < IMS_OBS_S3_PART_MIN || cfg->part_size > (5ULL << 30))
        return ims_obs_fail(err, IMS_OBS_IO, "part_size must be between 5 MiB and 5 GiB");
    if (cfg->server_copy_max < IMS_OBS_S3_PART_MIN || cfg->server_copy_max > (5ULL << 30))
        return ims_obs_fail(err, IMS_OBS_IO, "server_copy_max must be between 5 MiB and 5 GiB");
    pthread_once(&curl_once, curl_init);
    struct s3 *s = ims_xcalloc(1, sizeof(*s));
    s->base.ops = &s3_ops;
    size_t n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/')
        n--;
    s->endpoint = ims_xstrndup(ep, n);
    s->region = ims_xstrdup(cfg->region);
    s->sigv4 = ims_xasprintf("aws:amz:%s:s3", cfg->region);
    s->access_key = ims_xstrdup(cfg->access_key);
    s->secret_key = ims_xstrdup(cfg->secret_key);
    s->part_size = cfg->part_size;
    s->server_copy_max = cfg->server_copy_max;
    s->retry = cfg->retry.attempts ? cfg->retry : IMS_OBS_S3_RETRY_DEFAULT;
    s->stall_seconds = cfg->stall_seconds > 0 ? (long)cfg->stall_seconds : 120L;
    *ret = &s->base;
    return IMS_OBS_OK;
}

/* ---- streamed uploads of a size not known in advance ---- */

/* Parts going up at once: while they do, the next one fills. */
#define UPLOAD_SENDERS 2

struct sender {
    struct ims_obs_upload *u;
    pthread_t thread;
    bool running;
    char *buf;
    size_t len, num;
    enum ims_obs_rc rc;
    struct ims_err err;
};

struct ims_obs_upload {
    struct s3 *s;
    char *bucket, *key;
    uint64_t part;    /* bytes per part */
    char *buf;        /* the part filling */
    size_t len;       /* bytes in it */
    bool started;     /* the multipart upload exists */
    char upload_id[1024];
    size_t nparts;    /* parts handed to senders */
    uint64_t size;    /* their bytes */
    char (*etags)[IMS_OBS_ETAG_MAX]; /* etags[i]: part i + 1's */
    size_t etags_cap;
    struct sender senders[UPLOAD_SENDERS];
    struct stream_put *stream; /* not NULL: one streamed PUT instead of parts */
};

static void *send_part(void *arg)
{
    struct sender *x = arg;
    struct ims_obs_upload *u = x->u;
    struct mem_src m = {.p = x->buf, .len = x->len};
    const struct body b = {mem_read, &m, mem_rewind};
    x->rc = mp_part(u->s, u->bucket, u->key, u->upload_id, x->num, x->len, &b, u->etags[x->num - 1], &x->err);
    return NULL;
}

/* Waits for a sender; its failure is the upload's. */
static enum ims_obs_rc sender_wait(struct sender *x, struct ims_err *err)
{
    if (!x->running)
        return IMS_OBS_OK;
    pthread_join(x->thread, NULL);
    x->running = false;
    if (x->rc && err)
        *err = x->err;
    return x->rc;
}

static enum ims_obs_rc senders_wait(struct ims_obs_upload *u, struct ims_err *err)
{
    enum ims_obs_rc rc = IMS_OBS_OK;
    for (int i = 0; i < UPLOAD_SENDERS; i++) {
        enum ims_obs_rc r = sender_wait(&u->senders[i], rc ? NULL : err);
        if (!rc)
            rc = r;
    }
    return rc;
}

/* Sends the filling part in the background, on the sender whose part
 * went first (waited for if it is still going); its buffer fills next. */
static enum ims_obs_rc upload_send(struct ims_obs_upload *u, struct ims_err *err)
{
    if (u->nparts == MAX_PARTS)
        return ims_obs_fail(err, IMS_OBS_TOO_LARGE, "%s:%s: more than %d parts of %llu bytes", u->bucket, u->key,
                            MAX_PARTS, (unsigned long long)u->part);
    struct sender *x = &u->senders[u->nparts % UPLOAD_SENDERS];
    enum ims_obs_rc rc = sender_wait(x, err);
    if (rc)
        return rc;
    if (!u->started) {
        if ((rc = mp_create(u->s, u->bucket, u->key, NULL, u->upload_id, sizeof(u->upload_id), err)))
            return rc;
        u->started = true;
    }
    if (u->nparts == u->etags_cap) { /* no sender runs while the array moves */
        if ((rc = senders_wait(u, err)))
            return rc;
        u->etags_cap = u->etags_cap ? 2 * u->etags_cap : 64;
        u->etags = ims_xrealloc(u->etags, u->etags_cap * sizeof(*u->etags));
    }
    char *spare = x->buf ? x->buf : ims_xmalloc((size_t)u->part);
    x->u = u;
    x->buf = u->buf;
    x->len = u->len;
    x->num = ++u->nparts;
    u->size += u->len;
    u->buf = spare;
    u->len = 0;
    if (pthread_create(&x->thread, NULL, send_part, x) != 0) {
        send_part(x); /* no thread to be had: send it now */
        if (x->rc)
            *err = x->err;
        return x->rc;
    }
    x->running = true;
    return IMS_OBS_OK;
}

/* ---- one streamed PUT of a size known in advance ---- */

static void upload_free(struct ims_obs_upload *u);

/* The bytes the writer offers go straight from its buffer into curl's
 * (the read callback, on the PUT's thread): no part is held, so a PUT
 * that failed once bytes went cannot be sent again; one refused before
 * its body (Expect: 100-continue) is. */
struct stream_put {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    const char *p; /* offered by write(), not taken yet */
    size_t n;
    uint64_t size, offered;
    bool aborting, done;
    enum ims_obs_rc rc; /* the PUT's, once done */
    struct ims_err err;
    struct ims_obs_put_answer answer; /* the PUT's answer, once it succeeded */
};

/* curl's read callback: waits for bytes offered (or the abort). */
static ssize_t stream_take(void *ctx, char *buf, size_t max)
{
    struct stream_put *sp = ctx;
    pthread_mutex_lock(&sp->mu);
    while (!sp->n && !sp->aborting)
        pthread_cond_wait(&sp->cv, &sp->mu);
    ssize_t got = -1;
    if (!sp->aborting) {
        size_t k = sp->n < max ? sp->n : max;
        memcpy(buf, sp->p, k);
        sp->p += k;
        sp->n -= k;
        got = (ssize_t)k;
        if (!sp->n)
            pthread_cond_broadcast(&sp->cv);
    }
    pthread_mutex_unlock(&sp->mu);
    return got;
}

static void *stream_put_run(void *arg)
{
    struct ims_obs_upload *u = arg;
    struct stream_put *sp = u->stream;
    struct upload_src src = {.fn = stream_take, .ctx = sp, .left = sp->size};
    /* said, though libcurl adds it past 1 MiB: a refusal (503 SlowDown)
     * then comes before any byte is taken, and the PUT is tried again */
    static const char *const hdrs[] = {"Expect: 100-continue", NULL};
    struct request q = {.method = "PUT", .bucket = u->bucket, .key = u->key, .upload = &src,
                        .upload_size = sp->size, .headers = hdrs};
    struct resp r;
    struct ims_err e = {0};
    enum ims_obs_rc rc = perform(u->s, &q, &r, "put", &e);
    resp_release(&r);
    rc = which_missing(&u->s->base, rc, u->bucket, u->key, &e);
    pthread_mutex_lock(&sp->mu);
    if (rc == IMS_OBS_OK)
        answer_from(&r, &sp->answer);
    sp->rc = rc;
    sp->err = e;
    sp->done = true;
    pthread_cond_broadcast(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
    return NULL;
}

/* Offers n bytes and waits until the PUT took them all (or ended). */
static enum ims_obs_rc stream_put_write(struct ims_obs_upload *u, const void *p, size_t n, struct ims_err *err)
{
    struct stream_put *sp = u->stream;
    pthread_mutex_lock(&sp->mu);
    enum ims_obs_rc rc = IMS_OBS_OK;
    if (n > sp->size - sp->offered) {
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 put %s:%s: more than the %llu bytes announced", u->bucket, u->key,
                          (unsigned long long)sp->size);
    } else {
        sp->p = p;
        sp->n = n;
        sp->offered += n;
        pthread_cond_broadcast(&sp->cv);
        while (sp->n && !sp->done)
            pthread_cond_wait(&sp->cv, &sp->mu);
        if (sp->n) { /* the PUT ended before it took them: it failed */
            sp->n = 0;
            rc = sp->rc ? sp->rc : IMS_OBS_IO;
            if (sp->rc)
                *err = sp->err;
            else
                ims_obs_fail(err, rc, "S3 put %s:%s: ended before its bytes", u->bucket, u->key);
        }
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

/* Waits for the PUT's end: its answer once every byte went, or (abort, or
 * bytes missing) its failure; nothing is stored then. */
static enum ims_obs_rc stream_put_end(struct ims_obs_upload *u, bool abort, struct ims_obs_put_answer *ret,
                                      struct ims_err *err)
{
    struct stream_put *sp = u->stream;
    pthread_mutex_lock(&sp->mu);
    uint64_t offered = sp->offered;
    if (abort || offered != sp->size) {
        sp->aborting = true;
        pthread_cond_broadcast(&sp->cv);
    }
    pthread_mutex_unlock(&sp->mu);
    pthread_join(sp->thread, NULL);
    if (abort)
        return IMS_OBS_IO;
    if (offered != sp->size)
        return ims_obs_fail(err, IMS_OBS_IO, "S3 put %s:%s: %llu of the %llu bytes announced", u->bucket, u->key,
                            (unsigned long long)offered, (unsigned long long)sp->size);
    if (sp->rc && err)
        *err = sp->err;
    if (!sp->rc && ret)
        *ret = sp->answer;
    return sp->rc;
}

/* What both writers open with: the service is S3, the names valid. */
static enum ims_obs_rc upload_new(struct ims_obs *o, const char *bucket, const char *key,
                                  struct ims_obs_upload **ret, struct ims_err *err)
{
    if (o->ops != &s3_ops)
        return ims_obs_fail(err, IMS_OBS_UNSUPPORTED, "streamed uploads are for S3");
    if (ims_obs_bucket_check(bucket) || ims_obs_key_check(key))
        return ims_obs_fail(err, IMS_OBS_BAD_NAME, "invalid bucket or key");
    struct ims_obs_upload *u = ims_xcalloc(1, sizeof(*u));
    u->s = (struct s3 *)o;
    u->bucket = ims_xstrdup(bucket);
    u->key = ims_xstrdup(key);
    *ret = u;
    return IMS_OBS_OK;
}

enum ims_obs_rc ims_obs_s3_upload_open_sized(struct ims_obs *o, const char *bucket, const char *key, uint64_t size,
                                             struct ims_obs_upload **ret, struct ims_err *err)
{
    struct ims_obs_upload *u;
    enum ims_obs_rc rc = upload_new(o, bucket, key, &u, err);
    if (rc)
        return rc;
    if (size > MAX_SINGLE_PUT) {
        upload_free(u);
        return ims_obs_fail(err, IMS_OBS_TOO_LARGE, "%s:%s: %llu bytes is more than one S3 PUT takes", bucket, key,
                            (unsigned long long)size);
    }
    struct stream_put *sp = u->stream = ims_xcalloc(1, sizeof(*sp));
    pthread_mutex_init(&sp->mu, NULL);
    pthread_cond_init(&sp->cv, NULL);
    sp->size = size;
    if (pthread_create(&sp->thread, NULL, stream_put_run, u) != 0) {
        upload_free(u);
        return ims_obs_fail(err, IMS_OBS_IO, "S3 put %s:%s: no thread for it", bucket, key);
    }
    *ret = u;
    return IMS_OBS_OK;
}

enum ims_obs_rc ims_obs_s3_upload_open(struct ims_obs *o, const char *bucket, const char *key, uint64_t part_size,
                                       struct ims_obs_upload **ret, struct ims_err *err)
{
    struct ims_obs_upload *u;
    enum ims_obs_rc rc = upload_new(o, bucket, key, &u, err);
    if (rc)
        return rc;
    if (part_size < IMS_OBS_S3_PART_MIN || part_size > (1ULL << 30)) {
        upload_free(u);
        return ims_obs_fail(err, IMS_OBS_IO, "a part must hold between 5 MiB and 1 GiB");
    }
    u->part = part_size;
    u->buf = ims_xmalloc((size_t)part_size);
    *ret = u;
    return IMS_OBS_OK;
}

enum ims_obs_rc ims_obs_s3_upload_write(struct ims_obs_upload *u, const void *p, size_t n, struct ims_err *err)
{
    if (u->stream)
        return stream_put_write(u, p, n, err);
    const char *src = p;
    while (n) {
        size_t take = (size_t)u->part - u->len < n ? (size_t)u->part - u->len : n;
        memcpy(u->buf + u->len, src, take);
        u->len += take;
        src += take;
        n -= take;
        if (u->len == u->part) {
            enum ims_obs_rc rc = upload_send(u, err);
            if (rc)
                return rc;
        }
    }
    return IMS_OBS_OK;
}

static void upload_free(struct ims_obs_upload *u)
{
    if (u->stream) {
        pthread_mutex_destroy(&u->stream->mu);
        pthread_cond_destroy(&u->stream->cv);
        free(u->stream);
    }
    for (int i = 0; i < UPLOAD_SENDERS; i++)
        free(u->senders[i].buf);
    free(u->buf);
    free(u->etags);
    free(u->bucket);
    free(u->key);
    free(u);
}

void ims_obs_s3_upload_abort(struct ims_obs_upload *u)
{
    if (!u)
        return;
    if (u->stream) {
        stream_put_end(u, true, NULL, NULL);
        upload_free(u);
        return;
    }
    senders_wait(u, NULL);
    if (u->started)
        abort_upload(u->s, u->bucket, u->key, u->upload_id);
    upload_free(u);
}

enum ims_obs_rc ims_obs_s3_upload_finish(struct ims_obs_upload *u, struct ims_obs_put_answer *ret,
                                         struct ims_err *err)
{
    enum ims_obs_rc rc;
    if (ret)
        *ret = (struct ims_obs_put_answer){0};
    if (u->stream) {
        rc = stream_put_end(u, false, ret, err);
        upload_free(u);
        return rc;
    }
    if (!u->started) { /* it all fit in one part: one PUT */
        struct mem_src m = {.p = u->buf, .len = u->len};
        const struct body b = {mem_read, &m, mem_rewind};
        rc = put_single(u->s, u->bucket, u->key, u->len, &b, NULL, NULL, err);
        rc = which_missing(&u->s->base, rc, u->bucket, u->key, err);
        upload_free(u);
        return rc;
    }
    rc = u->len ? upload_send(u, err) : IMS_OBS_OK;
    enum ims_obs_rc wrc = senders_wait(u, rc ? NULL : err);
    if (!rc)
        rc = wrc;
    if (!rc)
        rc = mp_complete(u->s, u->bucket, u->key, u->upload_id, (const char(*)[IMS_OBS_ETAG_MAX])u->etags,
                         u->nparts, u->size, err);
    if (rc)
        abort_upload(u->s, u->bucket, u->key, u->upload_id);
    upload_free(u);
    return rc;
}

enum ims_obs_rc ims_obs_s3_uploads_abort(struct ims_obs *o, const char *bucket, const char *key, size_t *ret_n,
                                         struct ims_err *err)
{
    *ret_n = 0;
    if (o->ops != &s3_ops)
        return ims_obs_fail(err, IMS_OBS_UNSUPPORTED, "multipart uploads are S3's");
    if (ims_obs_bucket_check(bucket) || ims_obs_key_check(key))
        return ims_obs_fail(err, IMS_OBS_BAD_NAME, "invalid bucket or key");
    struct s3 *s = (struct s3 *)o;
    /* in name order: the canonical query */
    const struct qparam qp[] = {{"prefix", key}, {"uploads", ""}};
    struct request q = {.method = "GET", .bucket = bucket, .query = qp, .nquery = 2, .body_max = LIST_BODY_MAX};
    struct resp r;
    enum ims_obs_rc rc = perform(s, &q, &r, "list multipart uploads", err);
    if (!rc && r.body.overflow)
        rc = ims_obs_fail(err, IMS_OBS_IO, "S3 list multipart uploads %s: the answer is too large", bucket);
    /* each <Upload> element: its Key (only this very key: the prefix
     * matches longer ones too) and UploadId */
    const char *p = rc ? NULL : r.body.data, *end = p ? p + r.body.len : NULL;
    while (p && (p = memmem(p, (size_t)(end - p), "<Upload>", 8))) {
        const char *close = memmem(p, (size_t)(end - p), "</Upload>", 9);
        if (!close)
            break;
        char k[IMS_OBS_KEY_MAX + 1], id[1024];
        if (ims_obs_s3_xml_value(p, (size_t)(close - p), "Key", k, sizeof(k)) && !strcmp(k, key) &&
            ims_obs_s3_xml_value(p, (size_t)(close - p), "UploadId", id, sizeof(id)) && id[0]) {
            abort_upload(s, bucket, key, id);
            (*ret_n)++;
        }
        p = close + 9;
    }
    resp_release(&r);
    return rc;
}
