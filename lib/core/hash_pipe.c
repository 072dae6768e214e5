/* SPDX-License-Identifier: Apache-2.0
 * The upload's data pipe (core-int.h): the producer only copies into the
 * block being filled; a full block goes into a ring that three threads of
 * the pipe's own walk in order: md5, sha512, and the sink (the store's
 * write: copying into the page cache costs about as much as sha512 on this
 * VM). A slot is reused once all three have passed it. Blocks are aligned
 * for O_DIRECT, so a file store can write them without the page cache.
 *
 * A consumer with nothing to do (a digest not asked for: the md5 of a store
 * whose PUT answers with it; no sink) starts no thread: walking the ring it
 * woke once per block and held each slot until it got a time slice. Blocks
 * are 2 MiB: each block is a hand-off from the sink thread to the store's
 * send (lib/obs/s3.c's PUT waits for it), so half as many as with 1 MiB in
 * the same 8 MiB of memory (Run S3-6 in bench/README.md). */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "core-int.h"
#include "ims/store.h"

#define BLOCK (2 * 1024 * 1024)
#define NBLOCKS 4

enum { MD5, SHA512, SINK, NCONSUMERS };

struct ims_hash_pipe {
    EVP_MD_CTX *md[SINK]; /* NULL: that digest is not wanted (no thread for it) */
    ims_pipe_sink sink;
    void *sink_ctx;
    pthread_t threads[NCONSUMERS];
    bool started[NCONSUMERS];
    pthread_mutex_t mu;
    pthread_cond_t has_data, has_space;
    unsigned char *blocks[NBLOCKS];
    size_t lens[NBLOCKS];
    uint64_t submitted;          /* blocks handed to the consumers so far */
    uint64_t done[NCONSUMERS];   /* blocks each consumer has finished */
    size_t fill;                 /* bytes in the block being filled: blocks[submitted % NBLOCKS] */
    bool closing, failed;
    void (*wake)(void *); /* ims_hash_pipe_room's waiter: called once a slot frees */
    void *wake_arg;
    enum ims_rc err_rc;          /* why, when failed */
    struct ims_err err;
};

static void fail_locked(struct ims_hash_pipe *h, enum ims_rc rc, const struct ims_err *e, const char *what)
{
    if (h->failed)
        return;
    h->failed = true;
    h->err_rc = rc;
    if (e)
        h->err = *e;
    else
        ims_fail(&h->err, rc, "%s", what);
}

/* The slowest started consumer's count (submitted when none runs). started
 * changes only before the producer's first call and after its last. */
static uint64_t slowest_locked(const struct ims_hash_pipe *h)
{
    uint64_t min = h->submitted;
    for (int k = 0; k < NCONSUMERS; k++)
        if (h->started[k])
            min = h->done[k] < min ? h->done[k] : min;
    return min;
}

static void consume(struct ims_hash_pipe *h, int which)
{
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->done[which] == h->submitted && !h->closing)
            pthread_cond_wait(&h->has_data, &h->mu);
        if (h->done[which] == h->submitted)
            break;
        size_t i = h->done[which] % NBLOCKS;
        bool skip = h->failed; /* keep walking so the producer is never stuck */
        pthread_mutex_unlock(&h->mu);
        struct ims_err e = {0};
        bool ok = true;
        enum ims_rc sink_rc = IMS_OK;
        if (!skip && which == SINK)
            sink_rc = h->sink ? h->sink(h->sink_ctx, h->blocks[i], h->lens[i], &e) : IMS_OK;
        else if (!skip && h->md[which])
            ok = EVP_DigestUpdate(h->md[which], h->blocks[i], h->lens[i]);
        pthread_mutex_lock(&h->mu);
        if (!ok)
            fail_locked(h, IMS_E_INTERNAL, NULL, "digest update failed");
        else if (sink_rc != IMS_OK)
            fail_locked(h, sink_rc, &e, NULL);
        h->done[which]++;
        pthread_cond_broadcast(&h->has_space);
        if (h->wake && slowest_locked(h) + NBLOCKS > h->submitted) {
            void (*wake)(void *) = IMS_TAKE_PTR(h->wake);
            pthread_mutex_unlock(&h->mu);
            wake(h->wake_arg); /* outside the lock: it may take the event loop's */
            pthread_mutex_lock(&h->mu);
        }
    }
    pthread_mutex_unlock(&h->mu);
}

static void *md5_thread(void *arg)
{
    consume(arg, MD5);
    return NULL;
}

static void *sha512_thread(void *arg)
{
    consume(arg, SHA512);
    return NULL;
}

static void *sink_thread(void *arg)
{
    consume(arg, SINK);
    return NULL;
}

struct ims_hash_pipe *ims_hash_pipe_new(ims_pipe_sink sink, void *sink_ctx)
{
    return ims_hash_pipe_new_digests(sink, sink_ctx, true, true);
}

struct ims_hash_pipe *ims_hash_pipe_new_digests(ims_pipe_sink sink, void *sink_ctx, bool md5, bool sha512)
{
    struct ims_hash_pipe *h = ims_xcalloc(1, sizeof(*h));
    h->sink = sink;
    h->sink_ctx = sink_ctx;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->has_data, NULL);
    pthread_cond_init(&h->has_space, NULL);
    for (size_t i = 0; i < NBLOCKS; i++)
        h->blocks[i] = ims_xaligned_alloc(IMS_DIRECT_IO_ALIGN, BLOCK);
    const EVP_MD *algs[SINK] = {EVP_md5(), EVP_sha512()};
    const bool wanted[SINK] = {md5, sha512};
    for (int k = 0; k < SINK; k++) {
        if (!wanted[k])
            continue;
        h->md[k] = EVP_MD_CTX_new();
        if (!h->md[k] || !EVP_DigestInit_ex(h->md[k], algs[k], NULL)) {
            ims_hash_pipe_free(h);
            return NULL;
        }
    }
    void *(*bodies[NCONSUMERS])(void *) = {md5_thread, sha512_thread, sink_thread};
    for (int k = 0; k < NCONSUMERS; k++) {
        if (k == SINK ? !sink : !h->md[k])
            continue;
        if (pthread_create(&h->threads[k], NULL, bodies[k], h) != 0) {
            ims_hash_pipe_free(h);
            return NULL;
        }
        h->started[k] = true;
    }
    return h;
}

/* Hands the block being filled to the consumers. Caller holds mu. */
static void submit_locked(struct ims_hash_pipe *h)
{
    h->lens[h->submitted % NBLOCKS] = h->fill;
    h->submitted++;
    h->fill = 0;
    pthread_cond_broadcast(&h->has_data);
}

bool ims_hash_pipe_update(struct ims_hash_pipe *h, const void *p, size_t n)
{
    const unsigned char *q = p;
    while (n) {
        pthread_mutex_lock(&h->mu);
        /* The block being filled is a ring slot too: wait while all are taken. */
        while (h->submitted - slowest_locked(h) == NBLOCKS)
            pthread_cond_wait(&h->has_space, &h->mu);
        bool failed = h->failed;
        size_t i = h->submitted % NBLOCKS;
        pthread_mutex_unlock(&h->mu);
        if (failed)
            return false;
        /* No consumer touches the slot being filled. */
        size_t take = BLOCK - h->fill < n ? BLOCK - h->fill : n;
        memcpy(h->blocks[i] + h->fill, q, take);
        h->fill += take;
        q += take;
        n -= take;
        if (h->fill == BLOCK) {
            pthread_mutex_lock(&h->mu);
            submit_locked(h);
            pthread_mutex_unlock(&h->mu);
        }
    }
    return true;
}

size_t ims_hash_pipe_room(struct ims_hash_pipe *h, void (*wake)(void *arg), void *arg)
{
    pthread_mutex_lock(&h->mu);
    uint64_t used = h->submitted - slowest_locked(h);
    /* A failed pipe takes anything at once (update returns false). */
    size_t room = h->failed ? SIZE_MAX : used < NBLOCKS ? (size_t)(NBLOCKS - used) * BLOCK - h->fill : 0;
    if (!room && wake) {
        h->wake = wake;
        h->wake_arg = arg;
    }
    pthread_mutex_unlock(&h->mu);
    return room;
}

static void stop(struct ims_hash_pipe *h)
{
    pthread_mutex_lock(&h->mu);
    h->closing = true;
    pthread_cond_broadcast(&h->has_data);
    pthread_mutex_unlock(&h->mu);
    for (int k = 0; k < NCONSUMERS; k++) {
        if (h->started[k])
            pthread_join(h->threads[k], NULL);
        h->started[k] = false;
    }
}

bool ims_hash_pipe_final(struct ims_hash_pipe *h, char md5_hex[33], char sha512_hex[129])
{
    pthread_mutex_lock(&h->mu);
    while (h->submitted - slowest_locked(h) == NBLOCKS)
        pthread_cond_wait(&h->has_space, &h->mu);
    if (h->fill)
        submit_locked(h);
    pthread_mutex_unlock(&h->mu);
    stop(h);
    char *hex[SINK] = {md5_hex, sha512_hex};
    const unsigned want_len[SINK] = {16, 64};
    for (int k = 0; k < SINK; k++) {
        unsigned char sum[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (!h->md[k]) {
            if (hex[k])
                hex[k][0] = 0;
        } else if (h->failed || !EVP_DigestFinal_ex(h->md[k], sum, &len) || len != want_len[k]) {
            fail_locked(h, IMS_E_INTERNAL, NULL, "computing the image digests failed");
            return false;
        } else {
            ims_hex_encode(sum, len, hex[k], 2 * len + 1);
        }
    }
    if (h->failed) {
        fail_locked(h, IMS_E_INTERNAL, NULL, "computing the image digests failed");
        return false;
    }
    return true;
}

enum ims_rc ims_hash_pipe_error(struct ims_hash_pipe *h, struct ims_err *err)
{
    pthread_mutex_lock(&h->mu);
    enum ims_rc rc = h->failed ? h->err_rc : IMS_OK;
    if (err && h->failed)
        *err = h->err;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void ims_hash_pipe_free(struct ims_hash_pipe *h)
{
    if (!h)
        return;
    stop(h);
    for (size_t i = 0; i < NBLOCKS; i++)
        free(h->blocks[i]);
    for (int k = 0; k < SINK; k++)
        EVP_MD_CTX_free(h->md[k]);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->has_data);
    pthread_cond_destroy(&h->has_space);
    free(h);
}
