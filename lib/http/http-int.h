/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the files of lib/http. */
#ifndef IMS_HTTP_INT_H
#define IMS_HTTP_INT_H

#include "ims/http.h"
#include "ims/query.h"

/* ---- the deferred pool (deferred.c) ---- */
struct ims_deferred;
/* nthreads workers (at least one) run submitted jobs in order; at most
 * max_queued wait. NULL if no thread could start. */
struct ims_deferred *ims_deferred_start(unsigned nthreads, size_t max_queued);
/* false (nothing queued) when max_queued jobs already wait. */
bool ims_deferred_submit(struct ims_deferred *d, void (*fn)(void *arg), void *arg);
/* Runs what is queued, then joins the workers and frees d (NULL: no-op). */
void ims_deferred_stop(struct ims_deferred *d);

#endif
