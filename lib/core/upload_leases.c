/* SPDX-License-Identifier: Apache-2.0
 * Upload leases kept alive: a thread renews, every third of the lease, the
 * leases of the uploads this process is writing, so another process's
 * start-up recovery never takes an upload that is still being received,
 * and one whose process died is recoverable once its lease runs out. The
 * same thread renews the leases of the blobs this process is writing and
 * collects the blobs no image references and no live writer holds (those
 * of writers that died, once their leases ran out), and returns to queued
 * the uploads whose process died, once their leases ran out. */
#include "core-int.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/service.h"

static void renew(void *arg)
{
    struct ims_service *svc = arg;
    int64_t lease = svc->cfg->upload_lease_seconds;
    struct ims_err err = {0};
    if (ims_repo_uploads_renew(ims_db_conn(svc->db), ims_process_owner(), ims_now() + lease, &err) != IMS_OK)
        ims_warn("uploads: renewing leases failed: %s", err.msg);
    if (ims_repo_blobs_renew(ims_db_conn(svc->db), ims_process_owner(), ims_now() + lease, &err) != IMS_OK)
        ims_warn("blobs: renewing writers' leases failed: %s", err.msg);
    /* uploads another node was receiving when it died: back to queued
     * once their lease ran out, on whichever node notices first (not only
     * at the next start of some node) */
    int64_t reset = 0;
    if (ims_repo_uploads_recover(ims_db_conn(svc->db), ims_now(), &reset, &err) != IMS_OK)
        ims_warn("uploads: recovering interrupted uploads failed: %s", err.msg);
    else if (reset)
        ims_info("uploads: %lld interrupted upload(s) back to queued (their writer is gone)", (long long)reset);
    /* blobs nobody references any more whose writer is gone (blobs.c) */
    int64_t collected = ims_blobs_collect(svc);
    if (collected)
        ims_info("blobs: %lld unreferenced blob(s) collected", (long long)collected);
}

enum ims_rc ims_upload_leases_start(struct ims_service *svc, struct ims_ticker **ret, struct ims_err *err)
{
    return ims_ticker_start("upload lease keeper", renew, svc, svc->cfg->upload_lease_seconds * 1000 / 3, ret, err);
}
