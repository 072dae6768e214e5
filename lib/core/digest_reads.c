/* SPDX-License-Identifier: Apache-2.0
 * A blob's digests read in the background, for a location that names data
 * whose holders carry none (full-ECS images from backups): reading up to a
 * whole blob (100 GiB) on the request's thread held the deferred pool (one
 * thread by default: logins waited) for as long. The request that claimed
 * the reading (ims_repo_blob_hash_claim) starts it here and waits a little
 * (small data: its answer as before); the thread keeps the digests on the
 * blob's row and ends the claim, and a later request reads them there.
 * Few at once in a process; ims_service_close stops them at their next
 * mebibyte. A read that fails for the store (an S3 connection reset after
 * an answer held past the client's own retry time) is read again, with
 * the store's retry rules (ims_obs_s3_retry_*), before it counts as failed. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/obs.h"
#include "ims/service.h"
#include "ims/store.h"

#define READS_MAX 2 /* at once in a process; a request beyond them is told to retry */

struct ims_digest_reads {
    pthread_mutex_t mu;
    pthread_cond_t cond;   /* a read ended, or stop */
    char *urls[READS_MAX]; /* reserved or being read (NULL: a free slot) */
    bool stopping;
};

struct one_read {
    struct ims_service *svc;
    char *url;
};

struct ims_digest_reads *ims_digest_reads_new(void)
{
    struct ims_digest_reads *dr = ims_xcalloc(1, sizeof(*dr));
    pthread_mutex_init(&dr->mu, NULL);
    ims_cond_init_monotonic(&dr->cond);
    return dr;
}

/* The slot holding url, or -1; under mu. */
static int slot_of(struct ims_digest_reads *dr, const char *url)
{
    for (int i = 0; i < READS_MAX; i++)
        if (dr->urls[i] && ims_streq(dr->urls[i], url))
            return i;
    return -1;
}

static bool none_running(struct ims_digest_reads *dr)
{
    for (int i = 0; i < READS_MAX; i++)
        if (dr->urls[i])
            return false;
    return true;
}

void ims_digest_reads_stop(struct ims_digest_reads *dr)
{
    if (!dr)
        return;
    pthread_mutex_lock(&dr->mu);
    dr->stopping = true;
    while (!none_running(dr))
        pthread_cond_wait(&dr->cond, &dr->mu);
    pthread_mutex_unlock(&dr->mu);
    pthread_cond_destroy(&dr->cond);
    pthread_mutex_destroy(&dr->mu);
    free(dr);
}

bool ims_digest_read_reserve(struct ims_service *svc, const char *url)
{
    struct ims_digest_reads *dr = svc->digest_reads;
    pthread_mutex_lock(&dr->mu);
    int free_slot = slot_of(dr, url) >= 0 || dr->stopping ? READS_MAX : 0;
    while (free_slot < READS_MAX && dr->urls[free_slot])
        free_slot++;
    if (free_slot < READS_MAX)
        dr->urls[free_slot] = ims_xstrdup(url);
    pthread_mutex_unlock(&dr->mu);
    return free_slot < READS_MAX;
}

void ims_digest_read_unreserve(struct ims_service *svc, const char *url)
{
    struct ims_digest_reads *dr = svc->digest_reads;
    pthread_mutex_lock(&dr->mu);
    int i = slot_of(dr, url);
    if (i >= 0)
        free(IMS_TAKE_PTR(dr->urls[i]));
    pthread_cond_broadcast(&dr->cond);
    pthread_mutex_unlock(&dr->mu); /* a read's last touch of dr: stop may free it now */
}

bool ims_digest_read_running(struct ims_service *svc, const char *url)
{
    struct ims_digest_reads *dr = svc->digest_reads;
    pthread_mutex_lock(&dr->mu);
    bool running = slot_of(dr, url) >= 0;
    pthread_mutex_unlock(&dr->mu);
    return running;
}

static bool keep_going(void *ctx)
{
    struct ims_digest_reads *dr = ctx;
    pthread_mutex_lock(&dr->mu);
    bool go = !dr->stopping;
    pthread_mutex_unlock(&dr->mu);
    return go;
}

/* Waits ms unless stop comes first; false once stopping. */
static bool pause_unless_stopping(struct ims_digest_reads *dr, int64_t ms)
{
    struct timespec until = ims_mono_deadline(ms * 1000);
    pthread_mutex_lock(&dr->mu);
    while (!dr->stopping && pthread_cond_timedwait(&dr->cond, &dr->mu, &until) == 0)
        ; /* another read ended: not ours to wake for */
    bool go = !dr->stopping;
    pthread_mutex_unlock(&dr->mu);
    return go;
}

static enum ims_rc read_digests(struct ims_service *svc, const char *url, char md5[33], char sha[129],
                                struct ims_err *err)
{
    struct ims_blob_reader r = {.fd = -1};
    enum ims_rc rc = svc->store->ops->open_read(svc->store, url, &r, err);
    if (rc == IMS_OK)
        rc = ims_blob_digests(&r, md5, sha, keep_going, svc->digest_reads, err);
    ims_blob_reader_close(&r);
    return rc;
}

/* The read, tried again while the store fails it (IMS_E_IO: missing data
 * or a stop is final) as often as the store's retry rules allow; each try
 * is itself retried by the store's client within its time, so what a try
 * took does not count against the next. */
static enum ims_rc read_retried(struct ims_service *svc, const char *url, char md5[33], char sha[129],
                                struct ims_err *err)
{
    const struct ims_config *cfg = svc->cfg;
    const struct ims_obs_s3_retry rules = {.attempts = (unsigned)cfg->store_retry_attempts,
                                           .base_ms = cfg->store_retry_base_ms,
                                           .max_delay_ms = cfg->store_retry_max_delay_ms,
                                           .total_ms = cfg->store_retry_total_seconds * 1000};
    for (unsigned failed = 1;; failed++) {
        enum ims_rc rc = read_digests(svc, url, md5, sha, err);
        uint64_t rnd;
        ims_random_bytes(&rnd, sizeof(rnd));
        int64_t delay = ims_obs_s3_retry_delay_ms(&rules, failed, rnd);
        if (rc != IMS_E_IO || !ims_obs_s3_retry_allowed(&rules, failed, 0, delay))
            return rc;
        ims_warn("locations: the checksum read of %s failed (%s); try %u of %u in %lld ms", url,
                 err->msg, failed + 1, rules.attempts, (long long)delay);
        if (!pause_unless_stopping(svc->digest_reads, delay))
            return rc;
    }
}

static void *read_one(void *arg)
{
    struct one_read *o = arg;
    struct ims_service *svc = o->svc;
    char md5[33], sha[129];
    struct ims_err err = {0};
    ims_info("locations: reading the data at %s for its checksums", o->url); /* tests count these */
    enum ims_rc rc = read_retried(svc, o->url, md5, sha, &err);
    if (rc != IMS_OK)
        ims_warn("locations: the checksum read of %s failed: %s", o->url, err.msg);
    /* a failure is kept for a while (not a stop: another process may read
     * it): requests meanwhile fail at once instead of reading again up to
     * the failure; a request after it reads again */
    int64_t failed_until = rc != IMS_OK && rc != IMS_E_BUSY ? ims_now() + IMS_DIGEST_FAILURE_SECONDS : 0;
    if (ims_repo_blob_hash_end(ims_db_conn(svc->db), o->url, ims_process_owner(), rc == IMS_OK ? md5 : NULL,
                               rc == IMS_OK ? sha : NULL, failed_until, &err) != IMS_OK)
        ims_warn("locations: keeping the checksums of %s failed: %s", o->url, err.msg);
    ims_digest_read_unreserve(svc, o->url); /* a claim left behind is this process's no more */
    free(o->url);
    free(o);
    return NULL;
}

bool ims_digest_read_start(struct ims_service *svc, const char *url)
{
    struct one_read *o = ims_xcalloc(1, sizeof(*o));
    *o = (struct one_read){.svc = svc, .url = ims_xstrdup(url)};
    if (ims_thread_start_detached(read_one, o) == 0)
        return true;
    free(o->url);
    free(o);
    ims_digest_read_unreserve(svc, url);
    return false;
}

void ims_digest_reads_wait(struct ims_service *svc, int ms)
{
    struct ims_digest_reads *dr = svc->digest_reads;
    struct timespec until = ims_mono_deadline((int64_t)ms * 1000);
    pthread_mutex_lock(&dr->mu);
    if (!none_running(dr) && !dr->stopping)
        pthread_cond_timedwait(&dr->cond, &dr->mu, &until);
    pthread_mutex_unlock(&dr->mu);
}
