/* SPDX-License-Identifier: Apache-2.0
 * backends: what the service runs on, chosen at start by src/ from the
 * configuration and handed to ims_service_open. The library names no engine
 * and no store itself: a PostgreSQL engine or an S3 store is a new file and
 * a new line in src/'s choice, not an edit to the core. */
#ifndef IMS_BACKENDS_H
#define IMS_BACKENDS_H

#include "ims/compute.h"
#include "ims/db.h"
#include "ims/obs.h"
#include "ims/store.h"

/* Filled and released by the caller (src/common/backends.c), which keeps
 * it, and everything it points at, alive until ims_service_close. */
struct ims_backends {
    /* The metadata repository: an SQL engine and its connection string
     * (SQLite: the database file's path). */
    const struct ims_sql_ops *sql;
    char *sql_dsn;
    /* Blob stores, opened: stores[0] takes new image data; every location
     * is read and removed by the store its scheme names (its id). */
    struct ims_store *stores[IMS_STORES_MAX];
    size_t nstores;
    /* How many of them [stores] enabled names (stores[0..nnamed), the
     * default first): Glance's enabled_backends, each offered to imports
     * and copy-image by id. 0: one store configured the single-store way
     * (stores[0]; the ones behind it only hold older data). */
    size_t nnamed;
    /* The object storage users import from and export to ([obs]). */
    struct ims_obs *obs;
    /* The S3 image store's bucket when [obs] is on the same S3 endpoint,
     * else NULL: imports and exports refuse it (IMG.0069), since users
     * would read other tenants' image data or write beside it through
     * imsd's own credentials. */
    char *obs_store_bucket;
    /* Where servers, volumes and backups come from ([compute] backend);
     * ims_service_open attaches it to the repository. */
    struct ims_compute_source *compute;
};

#endif
