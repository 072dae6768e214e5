/* SPDX-License-Identifier: Apache-2.0
 * Recovery's sweep of old blobs, shared by the stores (store-int.h): the
 * locations a store finds are asked about IMS_BLOB_KNOWN_BATCH at a time,
 * so a sweep of n old blobs costs n / IMS_BLOB_KNOWN_BATCH questions to the
 * repository (on PostgreSQL, round trips) instead of n, and holds no list
 * of every blob. */
#include <stdlib.h>

#include "store-int.h"

static void ask(struct ims_sweep *s)
{
    if (!s->n)
        return;
    bool known[IMS_BLOB_KNOWN_BATCH];
    s->known->known(s->known->ctx, (const char *const *)s->locations, s->n, known);
    for (size_t i = 0; i < s->n; i++) {
        if (!known[i] && s->remove(s->ctx, s->locations[i]))
            s->removed++;
        free(s->locations[i]);
    }
    s->n = 0;
}

void ims_sweep_add(struct ims_sweep *s, const char *location)
{
    s->locations[s->n++] = ims_xstrdup(location);
    if (s->n == IMS_BLOB_KNOWN_BATCH)
        ask(s);
}

int64_t ims_sweep_finish(struct ims_sweep *s)
{
    ask(s);
    return s->removed;
}
