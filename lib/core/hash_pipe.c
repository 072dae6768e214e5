/* SPDX-License-Identifier: Apache-2.0
 * Two digests of one stream on two cores: see core-int.h. The producer
 * copies data into the current block; a full block goes to the sha512
 * thread through a ring; the producer hashes md5 itself meanwhile. */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "core-int.h"

#define BLOCK (1024 * 1024)
#define NBLOCKS 4

struct ims_hash_pipe {
    EVP_MD_CTX *md5, *sha512;
    pthread_t thread;
    bool thread_started, finished;
    pthread_mutex_t mu;
    pthread_cond_t has_data, has_space;
    unsigned char *blocks[NBLOCKS];
    size_t lens[NBLOCKS];
    size_t head, count; /* ring of filled blocks: [head, head+count) */
    size_t fill;        /* bytes in the block being filled, blocks[(head+count) % NBLOCKS] */
    bool closing, failed;
};

static void *sha_thread(void *arg)
{
    struct ims_hash_pipe *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->count == 0 && !h->closing)
            pthread_cond_wait(&h->has_data, &h->mu);
        if (h->count == 0)
            break;
        size_t i = h->head;
        pthread_mutex_unlock(&h->mu);
        bool ok = EVP_DigestUpdate(h->sha512, h->blocks[i], h->lens[i]);
        pthread_mutex_lock(&h->mu);
        h->failed = h->failed || !ok;
        h->head = (h->head + 1) % NBLOCKS;
        h->count--;
        pthread_cond_signal(&h->has_space);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct ims_hash_pipe *ims_hash_pipe_new(void)
{
    struct ims_hash_pipe *h = ims_xcalloc(1, sizeof(*h));
    h->md5 = EVP_MD_CTX_new();
    h->sha512 = EVP_MD_CTX_new();
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->has_data, NULL);
    pthread_cond_init(&h->has_space, NULL);
    for (size_t i = 0; i < NBLOCKS; i++)
        h->blocks[i] = ims_xmalloc(BLOCK);
    if (!h->md5 || !h->sha512 || !EVP_DigestInit_ex(h->md5, EVP_md5(), NULL) ||
        !EVP_DigestInit_ex(h->sha512, EVP_sha512(), NULL) || pthread_create(&h->thread, NULL, sha_thread, h) != 0) {
        ims_hash_pipe_free(h);
        return NULL;
    }
    h->thread_started = true;
    return h;
}

/* Hands the block being filled to the sha512 thread. Caller holds mu. */
static void submit_locked(struct ims_hash_pipe *h)
{
    size_t i = (h->head + h->count) % NBLOCKS;
    h->lens[i] = h->fill;
    h->count++;
    h->fill = 0;
    pthread_cond_signal(&h->has_data);
}

bool ims_hash_pipe_update(struct ims_hash_pipe *h, const void *p, size_t n)
{
    if (!EVP_DigestUpdate(h->md5, p, n))
        return false;
    const unsigned char *q = p;
    while (n) {
        pthread_mutex_lock(&h->mu);
        /* The block being filled is a ring slot too: wait while all are taken. */
        while (h->count == NBLOCKS)
            pthread_cond_wait(&h->has_space, &h->mu);
        size_t i = (h->head + h->count) % NBLOCKS;
        pthread_mutex_unlock(&h->mu);
        /* The consumer never touches the slot being filled. */
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
    return !h->failed;
}

static void stop(struct ims_hash_pipe *h)
{
    if (!h->thread_started)
        return;
    pthread_mutex_lock(&h->mu);
    h->closing = true;
    pthread_cond_signal(&h->has_data);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    h->thread_started = false;
}

bool ims_hash_pipe_final(struct ims_hash_pipe *h, char md5_hex[33], char sha512_hex[129])
{
    pthread_mutex_lock(&h->mu);
    while (h->count == NBLOCKS)
        pthread_cond_wait(&h->has_space, &h->mu);
    if (h->fill)
        submit_locked(h);
    pthread_mutex_unlock(&h->mu);
    stop(h);
    unsigned char md5[EVP_MAX_MD_SIZE], sha[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0, sha_len = 0;
    if (h->failed || !EVP_DigestFinal_ex(h->md5, md5, &md5_len) || !EVP_DigestFinal_ex(h->sha512, sha, &sha_len) ||
        md5_len != 16 || sha_len != 64)
        return false;
    ims_hex_encode(md5, md5_len, md5_hex);
    ims_hex_encode(sha, sha_len, sha512_hex);
    return true;
}

void ims_hash_pipe_free(struct ims_hash_pipe *h)
{
    if (!h)
        return;
    stop(h);
    for (size_t i = 0; i < NBLOCKS; i++)
        free(h->blocks[i]);
    EVP_MD_CTX_free(h->md5);
    EVP_MD_CTX_free(h->sha512);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->has_data);
    pthread_cond_destroy(&h->has_space);
    free(h);
}
