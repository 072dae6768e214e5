/* SPDX-License-Identifier: Apache-2.0
 * Rendered image documents, kept under the image's id and
 * revision and the document's kind (enum api_doc_kind: the native one, the
 * IMS one as its owner or anyone else sees it, the v1 one). Every change of
 * an image raises its revision in the write that makes it (the repository;
 * a new row starts from a random one, so an id deleted and made again does
 * not meet its old revisions), and every answer
 * reads the row, revision included, from the database before it renders:
 * a document kept here serves only the very state it was rendered from. It
 * is never older than what the request read, on any thread or process, and
 * needs no change signal (tests/api/test_read_after_write.py).
 *
 * One cache for the process, bounded by [images] document_cache_kib:
 * slots in sets of WAYS (one document each; a set keeps the documents used
 * last among the ids that share it), and the bytes held never pass the
 * bound. It was one per thread: with a handler pool (PostgreSQL: every
 * request; SQLite: the creates' commit threads, whose documents no GET on
 * the event loop ever read) memory could reach the bound times the
 * threads, and a document rendered on one thread served only that one.
 * The sets are split over STRIPES locks; a document is copied out under
 * its set's lock, so no thread reads one another is replacing.
 *
 * A document is kept without its shown defaults (api_image_defaults_json:
 * thirty-odd IMS attributes with their default values, about 1 KB of the
 * 1.8 KB an image of the benchmark's renders to), which are the same bytes
 * for every image that lacks the same ones: those bytes are kept once per
 * set of defaults shown (struct shared_part), and a document is put
 * together again as it is copied out. The bound then holds twice the
 * documents; a page at a random marker over a catalogue the cache holds
 * renders nothing. A document's defaults are left out only when they are
 * byte for byte the shared part's, so what is put together is what was
 * rendered. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/config.h"
#include "ims/image.h"

#define SLOT_BYTES 512 /* the bound / this = slots: more than the documents it holds (~750 bytes without their defaults), so few sets overflow */
#define DOC_MAX 16384   /* larger documents are rendered every time */
/* Slots per set. With one (direct-mapped), two of a page's 25 ids sharing
 * a slot took turns evicting each other: most pages rendered a document
 * on every request. */
#define WAYS 4
/* Locks over the sets (set i under stripes[i % STRIPES]): threads reading
 * a page's 25 documents seldom meet on one. */
#define STRIPES 64

struct doc {
    char id[IMS_UUID_LEN + 1];
    int8_t shared; /* the shared part left out at cut (an index of shared_parts), -1: none */
    enum api_doc_kind kind;
    int64_t revision;
    uint64_t used; /* its stripe's tick when last used */
    uint32_t len, cut; /* bytes held; where the shared part goes back */
    char *bytes; /* NULL: the slot is empty */
};

/* The shown defaults' bytes as a render wrote them for one set of
 * defaults (the mask of those the image holds values of its own for),
 * kept once for the process; entries are written once, before they are
 * counted, and never change. SHARED_PARTS masks are far more than a
 * catalogue shows (images made by imsd differ in a few). */
#define SHARED_PARTS 64
struct shared_part {
    uint64_t held;
    size_t len;
    char *bytes;
};
static struct shared_part shared_parts[SHARED_PARTS];
static _Atomic int nshared;
static pthread_mutex_t shared_add = PTHREAD_MUTEX_INITIALIZER;

/* Where this thread's last render wrote its shown defaults
 * (api_image_defaults_json, which every document kind calls once): the
 * keep that follows leaves them out of what it holds. */
static _Thread_local struct {
    const struct ims_buf *out;
    size_t off, len;
    uint64_t held;
} last_defaults;

void api_image_cache_defaults_written(const struct ims_buf *out, size_t off, uint64_t held)
{
    if (off < out->len && out->data[off] == ',') /* the comma stays with what comes before */
        off++;
    last_defaults.out = out;
    last_defaults.off = off;
    last_defaults.len = out->len > off ? out->len - off : 0;
    last_defaults.held = held;
}

bool api_image_cache_shared_defaults(uint64_t held, const char **ret, size_t *ret_len)
{
    int n = atomic_load_explicit(&nshared, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (shared_parts[i].held == held) {
            *ret = shared_parts[i].bytes;
            *ret_len = shared_parts[i].len;
            return true;
        }
    return false;
}

/* The shared part holding exactly bytes[0..len) for mask held (added if
 * none does and there is room), or -1. */
static int shared_find(uint64_t held, const char *bytes, size_t len)
{
    int n = atomic_load_explicit(&nshared, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (shared_parts[i].held == held)
            return shared_parts[i].len == len && memcmp(shared_parts[i].bytes, bytes, len) == 0 ? i : -1;
    pthread_mutex_lock(&shared_add);
    n = atomic_load_explicit(&nshared, memory_order_relaxed);
    int found = -1;
    for (int i = 0; i < n && found < 0; i++)
        if (shared_parts[i].held == held)
            found = shared_parts[i].len == len && memcmp(shared_parts[i].bytes, bytes, len) == 0 ? i : SHARED_PARTS;
    if (found < 0 && n < SHARED_PARTS) {
        shared_parts[n].held = held;
        shared_parts[n].len = len;
        shared_parts[n].bytes = ims_xmalloc(len);
        memcpy(shared_parts[n].bytes, bytes, len);
        atomic_store_explicit(&nshared, n + 1, memory_order_release);
        found = n;
    }
    pthread_mutex_unlock(&shared_add);
    return found == SHARED_PARTS ? -1 : found;
}

struct stripe {
    pthread_mutex_t lock;
    uint64_t tick;
};

struct doc_cache {
    struct doc *slots;
    size_t n, bound; /* n: a multiple of WAYS */
    _Atomic size_t held;
    struct stripe stripes[STRIPES];
};

static struct doc_cache *_Atomic shared;
static pthread_mutex_t shared_make = PTHREAD_MUTEX_INITIALIZER;

/* The process's cache (made at its first use, kept to the end), or NULL
 * when documents are not kept. */
static struct doc_cache *cache_get(const struct ims_config *cfg)
{
    if (cfg->document_cache_kib <= 0)
        return NULL;
    struct doc_cache *c = atomic_load_explicit(&shared, memory_order_acquire);
    if (c)
        return c;
    pthread_mutex_lock(&shared_make);
    c = atomic_load_explicit(&shared, memory_order_relaxed);
    if (!c) {
        c = ims_xcalloc(1, sizeof(*c));
        c->bound = (size_t)cfg->document_cache_kib * 1024;
        c->n = c->bound / SLOT_BYTES / WAYS * WAYS;
        if (c->n < WAYS)
            c->n = WAYS;
        c->slots = ims_xcalloc(c->n, sizeof(*c->slots));
        for (size_t i = 0; i < STRIPES; i++)
            pthread_mutex_init(&c->stripes[i].lock, NULL);
        atomic_store_explicit(&shared, c, memory_order_release);
    }
    pthread_mutex_unlock(&shared_make);
    return c;
}

/* The set of (id, kind), locked: its first slot, and its stripe to unlock.
 * The kinds of one id in different sets, so an image listed through both
 * APIs keeps both documents. */
static struct doc *set_lock(struct doc_cache *c, const char *id, enum api_doc_kind kind, struct stripe **ret)
{
    /* mixed: the number of sets is a power of two whenever the bound is
     * one, and FNV-1a's low bits put 10,000 ids that differ in a few hex
     * digits into 32 of 128 sets (a quarter of the cache used) */
    /* a word a step (ims_hash_str's multiply per byte of the 36 was 1.2 %
     * of a miss-heavy page's instructions: 47 lookups and keeps a page) */
    uint64_t h = ims_hash_mix(ims_hash_bytes(IMS_HASH_SEED, id, strlen(id)) + (uint64_t)kind * 0x9e3779b97f4a7c15ULL);
    size_t set = h % (c->n / WAYS);
    *ret = &c->stripes[set % STRIPES];
    pthread_mutex_lock(&(*ret)->lock);
    return &c->slots[set * WAYS];
}

static bool holds(const struct doc *d, const char *id, enum api_doc_kind kind)
{
    return d->bytes && d->kind == kind && strcmp(d->id, id) == 0;
}

/* Appends the document kept for (id, revision, kind) to out (through
 * ims_jw_raw when w is given): false when none is. */
static bool copy_out(const struct ims_config *cfg, const char *id, int64_t revision, enum api_doc_kind kind,
                     struct ims_jw *w, struct ims_buf *out, size_t *ret_len)
{
    struct doc_cache *c = cache_get(cfg);
    if (!c)
        return false;
    struct stripe *st;
    struct doc *set = set_lock(c, id, kind, &st);
    bool found = false;
    for (int k = 0; k < WAYS && !found; k++) {
        struct doc *d = &set[k];
        if (d->revision == revision && holds(d, id, kind)) {
            d->used = ++st->tick;
            const struct shared_part *sp = d->shared >= 0 ? &shared_parts[d->shared] : NULL;
            size_t cut = sp ? d->cut : d->len;
            *ret_len = d->len + (sp ? sp->len : 0);
            if (w) {
                ims_jw_raw(w, d->bytes, cut);
                out = w->out;
            } else {
                ims_buf_add(out, d->bytes, cut);
            }
            if (sp) {
                ims_buf_add(out, sp->bytes, sp->len);
                ims_buf_add(out, d->bytes + cut, d->len - cut);
            }
            found = w || !out->overflow; /* a writer's overflow is its buffer's to report */
        }
    }
    pthread_mutex_unlock(&st->lock);
    return found;
}

enum api_doc_kind api_ims_doc_kind(const char *caller_project, const char *owner)
{
    return ims_streq(owner, caller_project) ? API_DOC_IMS_OWN : API_DOC_IMS_OTHER;
}

/* The native document shows locations and direct_url by the caller when
 * their switches are on: it is not the image's alone then. */
static bool kept_kind(const struct ims_config *cfg, enum api_doc_kind kind)
{
    return cfg && cfg->document_cache_kib > 0 &&
           (kind != API_DOC_NATIVE || !(cfg->show_multiple_locations || cfg->show_image_direct_url));
}

bool api_image_cache_emit(struct ims_jw *w, const struct ims_config *cfg, enum api_doc_kind kind,
                          const struct ims_image *img)
{
    size_t len;
    /* a write's record is rendered as it is (its properties in the order
     * the change left them), whatever a read of the new row kept */
    return kept_kind(cfg, kind) && img->as_read && !img->doc_missed &&
           copy_out(cfg, img->id, img->revision, kind, w, NULL, &len);
}

bool api_page_docs_init(struct api_page_docs *p, const struct ims_request *req, enum api_doc_kind kind)
{
    const struct ims_config *cfg = req->svc->cfg;
    *p = (struct api_page_docs){.cfg = cfg, .kind = kind,
                                .project = req->principal ? req->principal->project_id : ""};
    if (!kept_kind(cfg, kind))
        return false;
    ims_buf_init(&p->bytes, SIZE_MAX / 2);
    return true;
}

bool api_page_docs_known(void *ctx, const char *id, int64_t revision, const char *owner)
{
    struct api_page_docs *p = ctx;
    size_t len;
    enum api_doc_kind kind = p->kind == API_DOC_NATIVE || p->kind == API_DOC_V1 ? p->kind
                                                                                 : api_ims_doc_kind(p->project, owner);
    size_t off = p->bytes.len;
    if (strlen(id) != IMS_UUID_LEN || !copy_out(p->cfg, id, revision, kind, NULL, &p->bytes, &len))
        return false;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->docs = ims_xrealloc(p->docs, p->cap * sizeof(*p->docs));
    }
    memcpy(p->docs[p->n].id, id, IMS_UUID_LEN + 1);
    p->docs[p->n].off = off;
    p->docs[p->n].len = len;
    p->n++;
    return true;
}

static const char *page_doc_find(struct api_page_docs *p, const char *id, size_t *ret_len)
{
    /* rows come in the order they were read: the next one first */
    for (size_t k = 0; k < p->n; k++) {
        size_t i = (p->next + k) % p->n;
        if (strcmp(p->docs[i].id, id) == 0) {
            p->next = i + 1;
            *ret_len = p->docs[i].len;
            return p->bytes.data + p->docs[i].off;
        }
    }
    return NULL;
}

bool api_page_doc_emit(struct ims_jw *w, struct api_page_docs *p, const struct ims_image *img)
{
    size_t len;
    const char *doc = img->stub ? page_doc_find(p, img->id, &len) : NULL;
    if (doc)
        ims_jw_raw(w, doc, len);
    return doc != NULL;
}

void api_page_docs_release(struct api_page_docs *p)
{
    ims_buf_release(&p->bytes);
    free(p->docs);
}

void api_image_cache_keep(const struct ims_config *cfg, enum api_doc_kind kind, const struct ims_image *img,
                          const struct ims_jw *w, size_t start)
{
    if (!kept_kind(cfg, kind) || !img->as_read || w->out->overflow || start >= w->out->len)
        return;
    if (w->out->data[start] == ',') /* the comma before it */
        start++;
    const char *doc = w->out->data + start;
    size_t len = w->out->len - start;
    struct doc_cache *c = cache_get(cfg);
    if (!c || len > DOC_MAX)
        return;
    /* the shown defaults this render wrote, left out if a shared part
     * holds the very same bytes */
    int part = -1;
    size_t cut = len, skip = 0;
    if (last_defaults.out == w->out && last_defaults.len && last_defaults.off >= start &&
        last_defaults.off + last_defaults.len <= w->out->len &&
        (part = shared_find(last_defaults.held, w->out->data + last_defaults.off, last_defaults.len)) >= 0) {
        cut = last_defaults.off - start;
        skip = last_defaults.len;
    }
    last_defaults.out = NULL;
    size_t held = len - skip;
    /* the slot of an older state of the image, else an empty one, else the
     * one used longest ago */
    struct stripe *st;
    struct doc *set = set_lock(c, img->id, kind, &st), *d = NULL;
    for (int k = 0; k < WAYS && !d; k++)
        if (holds(&set[k], img->id, kind))
            d = &set[k];
    for (int k = 0; k < WAYS && !d; k++)
        if (!set[k].bytes)
            d = &set[k];
    if (!d) {
        d = &set[0];
        for (int k = 1; k < WAYS; k++)
            if (set[k].used < d->used)
                d = &set[k];
    }
    if (d->bytes) {
        atomic_fetch_sub(&c->held, d->len);
        free(d->bytes);
        d->bytes = NULL;
    }
    /* room taken before the copy is made: threads keeping at once never
     * pass the bound together */
    if (atomic_fetch_add(&c->held, held) + held > c->bound) {
        atomic_fetch_sub(&c->held, held);
    } else {
        d->bytes = ims_xmalloc(held);
        memcpy(d->bytes, doc, cut);
        memcpy(d->bytes + cut, doc + cut + skip, len - cut - skip);
        d->len = (uint32_t)held;
        d->cut = (uint32_t)cut;
        d->shared = (int8_t)part;
        d->revision = img->revision;
        d->kind = kind;
        d->used = ++st->tick;
        memcpy(d->id, img->id, sizeof(d->id));
    }
    pthread_mutex_unlock(&st->lock);
}
