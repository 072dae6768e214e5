/* SPDX-License-Identifier: Apache-2.0
 * Upload leases kept alive: a thread renews, every third of the lease, the
 * leases of the uploads this process is writing, so another process's
 * start-up recovery never takes an upload that is still being received,
 * and one whose process died is recoverable once its lease runs out. The
 * same thread renews the leases of the blobs this process is writing and
 * collects the blobs no image references and no live writer holds (those
 * of writers that died, once their leases ran out). */
#include <pthread.h>
#include <time.h>

#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/service.h"

struct ims_lease_keeper {
    struct ims_service *svc;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
};

static void *keeper_main(void *arg)
{
    struct ims_lease_keeper *k = arg;
    int64_t lease = k->svc->cfg->upload_lease_seconds;
    int64_t tick_ms = lease * 1000 / 3;
    pthread_mutex_lock(&k->lock);
    while (!k->stopping) {
        pthread_mutex_unlock(&k->lock);
        struct ims_err err = {0};
        if (ims_repo_uploads_renew(ims_db_conn(k->svc->db), ims_process_owner(), ims_now() + lease, &err) != IMS_OK)
            ims_warn("uploads: renewing leases failed: %s", err.msg);
        if (ims_repo_blobs_renew(ims_db_conn(k->svc->db), ims_process_owner(), ims_now() + lease, &err) != IMS_OK)
            ims_warn("blobs: renewing writers' leases failed: %s", err.msg);
        /* blobs nobody references any more whose writer is gone (blobs.c) */
        int64_t collected = ims_blobs_collect(k->svc);
        if (collected)
            ims_info("blobs: %lld unreferenced blob(s) collected", (long long)collected);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += tick_ms / 1000;
        until.tv_nsec += (tick_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&k->lock);
        while (!k->stopping && pthread_cond_timedwait(&k->cond, &k->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

enum ims_rc ims_upload_leases_start(struct ims_service *svc, struct ims_lease_keeper **ret, struct ims_err *err)
{
    struct ims_lease_keeper *k = ims_xcalloc(1, sizeof(*k));
    k->svc = svc;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->cond, NULL);
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
        pthread_mutex_destroy(&k->lock);
        pthread_cond_destroy(&k->cond);
        free(k);
        return ims_fail(err, IMS_E_INTERNAL, "cannot start the upload lease keeper");
    }
    *ret = k;
    return IMS_OK;
}

void ims_upload_leases_stop(struct ims_lease_keeper *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stopping = true;
    pthread_cond_signal(&k->cond);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->cond);
    free(k);
}
