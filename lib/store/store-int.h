/* SPDX-License-Identifier: Apache-2.0
 * Shared by the store implementations. */
#ifndef IMS_STORE_INT_H
#define IMS_STORE_INT_H

#include "ims/store.h"

/* The old blobs a store's recovery finds (lib/store/sweep.c): gathered
 * until IMS_BLOB_KNOWN_BATCH of them, asked about in one question, and
 * those the caller does not know handed to the store's remove (true when
 * removed). */
struct ims_sweep {
    const struct ims_blob_known *known;
    bool (*remove)(void *ctx, const char *location);
    void *ctx;
    char *locations[IMS_BLOB_KNOWN_BATCH];
    size_t n;
    int64_t removed;
};

/* Adds one old blob; asks and removes once the batch is full. */
void ims_sweep_add(struct ims_sweep *s, const char *location);
/* Asks about and removes what is gathered; the count of removed blobs. */
int64_t ims_sweep_finish(struct ims_sweep *s);

#endif
