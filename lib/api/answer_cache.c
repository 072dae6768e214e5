/* SPDX-License-Identifier: Apache-2.0
 * Whole answers of image reads (a page of any image list, an image), kept
 * per HTTP thread so that the same request of the same caller is answered
 * again with the bytes it was answered with, without reading the database
 * or rendering.
 *
 * Why an answer kept here is never older than an acknowledged write: the
 * data signal (IMS_SIGNAL_DATA, lib/db) moves after every commit of every
 * process on the database, before the write is acknowledged (all but a
 * statement that changed no row or only extended leases: nothing an
 * answer shows). The signal is
 * read before the handler reads the database; the answer is kept under
 * that count and reused only while the signal still shows it, so no write
 * has committed since the read began. Anything a caller may see differently
 * is in the key: the path and every query parameter, the caller (user,
 * domain, project, domain scope, admin, reader-only) and the decision on
 * the route's actions made for this very request (its effect and the
 * enterprise projects it allows; conditions such as the time are evaluated
 * again on every request, before this). IAM changes (grants, policies,
 * memberships, enterprise projects) are writes too. Where the signal is
 * not shared by every process (PostgreSQL: other nodes' notifications
 * arrive late) ims_images_data_version says so and nothing is kept.
 * Like the other per-thread caches, an answer is also read again after a
 * second at most (tests/api/test_read_after_write.py).
 *
 * Bounded by [images] answer_cache_kib per thread: SLOTS answers, the least
 * recently used replaced, and the bytes held never pass the bound. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/config.h"
#include "ims/images.h"

#define SLOTS 64
#define MAX_AGE_US 1000000 /* as the other per-thread caches: re-read after a second */
#define KEY_MAX 16384       /* longer requests are answered every time */

struct answer {
    uint64_t hash, signal, used;
    int64_t at_us;
    size_t key_len, body_len;
    char *key; /* NULL: the slot is empty */
    char *body;
    const char *content_type; /* static, as the response's */
};

struct answer_cache {
    struct answer slots[SLOTS];
    size_t held, bound;
    uint64_t tick;
};

/* One request's use of the cache: the data count read before its handler
 * read anything, and its key. */
struct answer_use {
    uint64_t signal, hash;
    int64_t at_us;
    struct ims_buf key;
    bool keep;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void slot_clear(struct answer_cache *c, struct answer *a)
{
    if (!a->key)
        return;
    c->held -= a->key_len + a->body_len;
    free(a->key);
    free(a->body);
    *a = (struct answer){0};
}

static void cache_free(void *p)
{
    struct answer_cache *c = p;
    for (size_t i = 0; i < SLOTS; i++)
        slot_clear(c, &c->slots[i]);
    free(c);
}

static void cache_key_make(void) { pthread_key_create(&cache_key, cache_free); }

static struct answer_cache *cache_get(const struct ims_config *cfg)
{
    if (cfg->answer_cache_kib <= 0)
        return NULL;
    pthread_once(&cache_once, cache_key_make);
    struct answer_cache *c = pthread_getspecific(cache_key);
    if (!c) {
        c = ims_xcalloc(1, sizeof(*c));
        c->bound = (size_t)cfg->answer_cache_kib * 1024;
        pthread_setspecific(cache_key, c);
    }
    return c;
}

/* Each field with its length first: no two requests share a key. */
static void key_field(struct ims_buf *k, const void *p, size_t n)
{
    uint32_t len = (uint32_t)n;
    ims_buf_add(k, &len, sizeof(len));
    ims_buf_add(k, p, n);
}

static void key_str(struct ims_buf *k, const char *s) { key_field(k, s ? s : "", s ? strlen(s) + 1 : 0); }

/* Every member of the caller but the token's id and times is in the key:
 * a member added to struct ims_principal must be weighed here, and this
 * size (LP64) changed with it. */
_Static_assert(sizeof(struct ims_principal) == 336,
               "each member of struct ims_principal is in the answer's key or does not decide what it shows");

static void key_make(struct ims_request *req, struct ims_buf *k)
{
    key_str(k, req->path);
    for (size_t i = 0; i < req->query.n; i++) {
        key_str(k, req->query.items[i].key);
        key_str(k, req->query.items[i].value);
    }
    const struct ims_principal *p = req->principal;
    char flags[3] = {(char)('0' + !!(p && p->is_admin)), (char)('0' + !!(p && p->read_only)),
                     (char)('0' + !!(p && p->is_service))};
    key_field(k, flags, sizeof(flags));
    if (p) {
        key_str(k, p->user_id);
        key_str(k, p->domain_id);
        key_str(k, p->project_id);
        key_str(k, p->scope_domain_id);
    }
    const struct ims_authz_result *az = p ? p->authz : NULL;
    int decision[2] = {az ? (int)az->effect : -1, az ? (int)az->scope : -1};
    key_field(k, decision, sizeof(decision));
    for (size_t i = 0; az && i < az->eps.n; i++)
        key_str(k, az->eps.items[i]);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = IMS_HASH_SEED;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static bool reuse(struct ims_request *req, struct answer_use *a)
{
    *a = (struct answer_use){0};
    struct answer_cache *c = cache_get(req->svc->cfg);
    /* the count before the handler's first read: what it reads is at least this recent */
    if (!c || !ims_images_data_version(req->svc, &a->signal))
        return false;
    ims_buf_init(&a->key, KEY_MAX);
    key_make(req, &a->key);
    if (a->key.len >= KEY_MAX) {
        ims_buf_release(&a->key);
        return false;
    }
    a->hash = hash_bytes(a->key.data, a->key.len);
    a->keep = true;
    a->at_us = ims_mono_us();
    int64_t now = a->at_us;
    for (size_t i = 0; i < SLOTS; i++) {
        struct answer *s = &c->slots[i];
        if (!s->key || s->hash != a->hash || s->key_len != a->key.len || memcmp(s->key, a->key.data, s->key_len))
            continue;
        if (s->signal != a->signal || now - s->at_us >= MAX_AGE_US) {
            slot_clear(c, s); /* read again, and kept again under the new count */
            break;
        }
        s->used = ++c->tick;
        ims_buf_add(ims_resp_json_buf(req, 200), s->body, s->body_len);
        req->resp.content_type = s->content_type;
        ims_buf_release(&a->key);
        a->keep = false;
        return true;
    }
    return false;
}

static void keep(struct ims_request *req, struct answer_use *a)
{
    if (!a->keep)
        return;
    struct answer_cache *c = cache_get(req->svc->cfg);
    const struct ims_response *r = &req->resp;
    size_t need = a->key.len + r->body.len;
    /* only a plain 200 (nothing else in its head), and at most a quarter of the bound */
    if (c && r->status == 200 && r->headers.n == 0 && r->fd < 0 && !r->reader && need <= c->bound / 4) {
        struct answer *victim = &c->slots[0];
        for (size_t i = 0; i < SLOTS; i++) {
            struct answer *s = &c->slots[i];
            if (s->key && s->hash == a->hash && s->key_len == a->key.len && !memcmp(s->key, a->key.data, s->key_len))
                slot_clear(c, s); /* a concurrent miss of the same key on this thread cannot be, but be exact */
            if (!s->key || (victim->key && s->used < victim->used))
                victim = s;
        }
        slot_clear(c, victim);
        while (c->held + need > c->bound) { /* the least recently used go until it fits */
            struct answer *old = NULL;
            for (size_t i = 0; i < SLOTS; i++)
                if (c->slots[i].key && (!old || c->slots[i].used < old->used))
                    old = &c->slots[i];
            if (!old)
                break;
            slot_clear(c, old);
        }
        size_t key_len;
        *victim = (struct answer){.hash = a->hash,
                                  .signal = a->signal,
                                  .used = ++c->tick,
                                  .at_us = a->at_us,
                                  .body_len = r->body.len,
                                  .body = ims_xmalloc(r->body.len + 1),
                                  .content_type = r->content_type};
        memcpy(victim->body, r->body.data ? r->body.data : "", r->body.len);
        victim->key = ims_buf_detach(&a->key, &key_len);
        victim->key_len = key_len;
        c->held += need;
    }
    ims_buf_release(&a->key);
    a->keep = false;
}

void api_answer_kept(struct ims_request *req, void (*handler)(struct ims_request *req))
{
    struct answer_use a;
    if (reuse(req, &a))
        return;
    handler(req);
    keep(req, &a);
}
