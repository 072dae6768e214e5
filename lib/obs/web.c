/* SPDX-License-Identifier: Apache-2.0
 * web-download's fetch through libcurl: one GET per hop, redirects followed
 * here (libcurl's own following is off) so that each target passes the
 * filter and is resolved by us; libcurl gets the checked address through
 * CURLOPT_RESOLVE and its socket callback refuses any other, so a name
 * that resolves differently a second time (DNS rebinding) reaches nothing
 * else. No proxy is used (it would connect elsewhere). The body of the
 * final 2xx answer goes to the caller's sink, within the size and time
 * limits. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ims/obs.h"

#define REDIRECT_BODY_MAX (64 << 10) /* what an answer other than 2xx may carry, ignored */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

struct hop {
    const struct ims_web_get *g;
    const struct ims_web_target *t;
    CURL *c;
    int64_t received;  /* body bytes delivered (2xx) */
    int64_t discarded; /* body bytes of other answers */
    bool started;      /* g->start called */
    enum ims_rc rc;    /* why a callback stopped the transfer */
    struct ims_err err;
};

/* g->start, once, for a 2xx answer: its announced length, -1 if none. */
static enum ims_rc start_body(struct hop *h)
{
    h->started = true;
    if (!h->g->start)
        return IMS_OK;
    curl_off_t announced = -1;
    if (curl_easy_getinfo(h->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) != CURLE_OK || announced < 0)
        announced = -1;
    return h->g->start(h->g->sink_ctx, (int64_t)announced, &h->err);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct hop *h = arg;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        h->discarded += (int64_t)n;
        return h->discarded > REDIRECT_BODY_MAX ? 0 : n; /* the status decides, not this body */
    }
    if (h->received + (int64_t)n > h->g->max_size) {
        h->rc = ims_fail(&h->err, IMS_E_TOOLARGE, "The image at %.256s is larger than the %lld bytes allowed.",
                         h->g->uri, (long long)h->g->max_size);
        return 0;
    }
    h->received += (int64_t)n;
    enum ims_rc rc = h->started ? IMS_OK : start_body(h);
    if (rc == IMS_OK)
        rc = h->g->sink(h->g->sink_ctx, p, n, &h->err);
    if (rc != IMS_OK) {
        h->rc = rc;
        return 0;
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct hop *h = arg;
    if (h->g->keep_going && !h->g->keep_going(h->g->stop_ctx)) {
        h->rc = ims_fail(&h->err, IMS_E_BUSY, "the download was stopped");
        return 1;
    }
    return 0;
}

/* The socket libcurl opens must go to the address that was checked. */
static curl_socket_t on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct hop *h = arg;
    char text[64] = "";
    if (a->family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr, text, sizeof(text));
    else if (a->family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr, text, sizeof(text));
    if (purpose != CURLSOCKTYPE_IPCXN || !ims_streq(text, h->t->addr)) {
        h->rc = ims_fail(&h->err, IMS_E_BADREQ, "refused to connect to %s for %s (checked: %s)", text, h->t->host,
                         h->t->addr);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* One GET of t. *ret_code: the answer's status; *ret_next: where a 3xx
 * points (owned), or NULL. */
static enum ims_rc get_once(const struct ims_web_get *g, const struct ims_web_target *t, int64_t timeout_ms,
                            long *ret_code, char **ret_next, int64_t *ret_size, struct ims_err *err)
{
    struct hop h = {.g = g, .t = t};
    h.c = curl_easy_init();
    if (!h.c)
        abort(); /* allocation failure */
    char pin[400];
    bool v6 = strchr(t->addr, ':') != NULL;
    char host[260];
    snprintf(host, sizeof(host), "%s%s%s", strchr(t->host, ':') ? "[" : "", t->host, strchr(t->host, ':') ? "]" : "");
    snprintf(pin, sizeof(pin), "%s:%u:%s%s%s", host, t->port, v6 ? "[" : "", t->addr, v6 ? "]" : "");
    struct curl_slist *resolve = curl_slist_append(NULL, pin);
    CURL *c = h.c;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 30000 ? timeout_ms : 30000));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)g->max_size);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &h);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "imsd web-download");
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    char *next = NULL;
    if (cc == CURLE_OK && h.rc == IMS_OK && code >= 200 && code <= 299 && !h.started)
        h.rc = start_body(&h); /* an empty body: the sink still gets its start */
    enum ims_rc rc = IMS_OK;
    if (h.rc != IMS_OK) {
        rc = h.rc;
        *err = h.err;
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = ims_fail(err, IMS_E_BADREQ, "The download of %.256s timed out.", g->uri);
    } else if (cc == CURLE_FILESIZE_EXCEEDED) {
        rc = ims_fail(err, IMS_E_TOOLARGE, "The image at %.256s is larger than the %lld bytes allowed.", g->uri,
                      (long long)g->max_size);
    } else if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && (code < 200 || code > 299))) {
        rc = ims_fail(err, IMS_E_BADREQ, "The download of %.256s failed: %s.", g->uri, curl_easy_strerror(cc));
    } else if (code >= 300 && code < 400) {
        char *loc = NULL;
        if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
            next = ims_xstrdup(loc);
        else
            rc = ims_fail(err, IMS_E_BADREQ, "The download of %.256s was redirected nowhere (HTTP %ld).", g->uri,
                          code);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(resolve);
    if (rc == IMS_OK) {
        *ret_code = code;
        *ret_next = next;
        *ret_size = h.received;
    }
    return rc;
}

enum ims_rc ims_web_fetch(const struct ims_web_get *g, int64_t *ret_size, struct ims_err *err)
{
    pthread_once(&curl_once, curl_init);
    int64_t deadline = ims_mono_us() / 1000 + g->timeout_ms;
    char *uri = ims_xstrdup(g->uri);
    enum ims_rc rc = IMS_OK;
    for (unsigned hops = 0;; hops++) {
        struct ims_web_target t;
        rc = ims_web_check_uri(g->filter, uri, &t, err);
        if (rc == IMS_OK)
            rc = ims_web_resolve(g->filter, &t, err);
        if (rc != IMS_OK)
            break;
        int64_t left = deadline - ims_mono_us() / 1000;
        if (left <= 0) {
            rc = ims_fail(err, IMS_E_BADREQ, "The download of %.256s timed out.", g->uri);
            break;
        }
        long code = 0;
        char *next = NULL;
        int64_t size = 0;
        rc = get_once(g, &t, left, &code, &next, &size, err);
        if (rc != IMS_OK)
            break;
        if (next) {
            if (hops + 1 > g->max_redirects) {
                free(next);
                rc = ims_fail(err, IMS_E_BADREQ, "The download of %.256s was redirected more than %u times.", g->uri,
                              g->max_redirects);
                break;
            }
            free(uri);
            uri = next;
            continue;
        }
        if (code < 200 || code > 299)
            rc = ims_fail(err, IMS_E_BADREQ, "The download of %.256s failed: HTTP %ld.", g->uri, code);
        else
            *ret_size = size;
        break;
    }
    free(uri);
    return rc;
}
