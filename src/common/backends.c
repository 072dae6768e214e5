/* SPDX-License-Identifier: Apache-2.0
 * Backends chosen at start: a connection string's scheme names the SQL
 * engine (sqlite://PATH, postgresql://URI); a new engine is one more line
 * in `engines`. [obs]
 * backend names the object storage. */
#include "backends.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *scheme;
    const struct ims_sql_ops *ops;
} engines[] = {
    {"sqlite", &ims_sqlite_ops},
    {"postgresql", &ims_pg_ops},
    {"postgres", &ims_pg_ops},
};

int ims_backends_sql(const char *conn, const char *data_dir, const struct ims_sql_ops **ret_ops, char **ret_dsn,
                     char *err, size_t errlen)
{
    if (!conn || !*conn) {
        *ret_ops = &ims_sqlite_ops;
        *ret_dsn = ims_xasprintf("%s/imsd.db", data_dir);
        return 0;
    }
    const char *sep = strstr(conn, "://");
    if (!sep) { /* a plain path: SQLite */
        *ret_ops = &ims_sqlite_ops;
        *ret_dsn = ims_xstrdup(conn);
        return 0;
    }
    for (size_t i = 0; i < IMS_ARRAY_SIZE(engines); i++) {
        size_t n = strlen(engines[i].scheme);
        if ((size_t)(sep - conn) == n && strncmp(conn, engines[i].scheme, n) == 0) {
            if (!sep[3]) {
                snprintf(err, errlen, "database connection '%s' names no database", conn);
                return -1;
            }
            *ret_ops = engines[i].ops;
            *ret_dsn = ims_xstrdup(sep + 3);
            return 0;
        }
    }
    snprintf(err, errlen, "unsupported database engine '%.*s' in [database] connection (supported: sqlite, postgresql)",
             (int)(sep - conn), conn);
    return -1;
}

int ims_backends_open_obs(const struct ims_config *cfg, struct ims_obs **ret, char *err, size_t errlen)
{
    struct ims_err e = {0};
    enum ims_obs_rc rc;
    if (ims_streq(cfg->obs_backend, "s3")) {
        const struct ims_obs_s3_config s3 = {
            .endpoint = cfg->obs_endpoint,
            .region = cfg->obs_region,
            .access_key = cfg->obs_access_key,
            .secret_key = cfg->obs_secret_key,
            .part_size = (uint64_t)cfg->obs_part_size,
            .server_copy_max = (uint64_t)cfg->obs_server_copy_max,
            .retry = {.attempts = (unsigned)cfg->obs_retry_attempts,
                      .base_ms = cfg->obs_retry_base_ms,
                      .max_delay_ms = cfg->obs_retry_max_delay_ms,
                      .total_ms = cfg->obs_retry_total_seconds * 1000},
            .stall_seconds = cfg->obs_stall_seconds,
        };
        rc = ims_obs_s3_open(&s3, ret, &e);
    } else {
        char *dir = cfg->obs_dir && *cfg->obs_dir ? ims_xstrdup(cfg->obs_dir) : ims_xasprintf("%s/obs", cfg->data_dir);
        rc = ims_obs_embedded_open(dir, ret, &e);
        free(dir);
    }
    if (rc != IMS_OBS_OK) {
        snprintf(err, errlen, "object storage ([obs] backend %s): %s", cfg->obs_backend, e.msg);
        return -1;
    }
    return 0;
}

int ims_backends_open(const struct ims_config *cfg, struct ims_backends *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    if (ims_backends_sql(cfg->db_connection, cfg->data_dir, &b->sql, &b->sql_dsn, err, errlen))
        return -1;
    ims_sqlite_set_cache_kib(cfg->db_cache_kib);
    if (ims_backends_open_obs(cfg, &b->obs, err, errlen)) {
        ims_backends_close(b);
        return -1;
    }
    const char *dir = cfg->file_store_dir && *cfg->file_store_dir ? cfg->file_store_dir : cfg->data_dir;
    struct ims_err e = {0};
    /* With S3, new data goes there; the file store stays behind it, for
     * blobs stored before the change and for its temporary area (files of
     * converters, which the S3 store uploads). */
    if (ims_streq(cfg->store_backend, "s3")) {
        const struct ims_store_s3_config s3 = {
            .s3 = {.endpoint = cfg->store_endpoint,
                   .region = cfg->store_region,
                   .access_key = cfg->store_access_key,
                   .secret_key = cfg->store_secret_key,
                   .part_size = (uint64_t)cfg->store_part_size,
                   .server_copy_max = 5ULL << 30,
                   .retry = {.attempts = (unsigned)cfg->store_retry_attempts,
                             .base_ms = cfg->store_retry_base_ms,
                             .max_delay_ms = cfg->store_retry_max_delay_ms,
                             .total_ms = cfg->store_retry_total_seconds * 1000},
                   .stall_seconds = cfg->store_stall_seconds},
            .bucket = cfg->store_bucket,
            .dir = dir,
            .part_size = (uint64_t)cfg->store_part_size,
        };
        if (ims_store_s3_open(&s3, &b->stores[b->nstores], &e) != IMS_OK) {
            snprintf(err, errlen, "S3 store ([store] backend s3): %s", e.msg);
            ims_backends_close(b);
            return -1;
        }
        b->nstores++;
    }
    if (ims_store_file_open(dir, cfg->direct_io, &b->stores[b->nstores], &e) != IMS_OK) {
        snprintf(err, errlen, "file store: %s", e.msg);
        ims_backends_close(b);
        return -1;
    }
    b->nstores++;
    enum ims_rc crc = ims_streq(cfg->compute_backend, "libvirt")
                          ? ims_compute_libvirt_open(cfg->compute_uri, cfg->compute_default_project, cfg->data_dir,
                                                     cfg->recovery_grace_seconds, &b->compute, &e)
                          : ims_compute_inventory_open(cfg->data_dir, cfg->recovery_grace_seconds, b->obs, &b->compute, &e);
    if (crc != IMS_OK) {
        snprintf(err, errlen, "compute source ([compute] backend %s): %s", cfg->compute_backend, e.msg);
        ims_backends_close(b);
        return -1;
    }
    return 0;
}

void ims_backends_close(struct ims_backends *b)
{
    for (size_t i = 0; i < b->nstores; i++)
        b->stores[i]->ops->close(b->stores[i]);
    if (b->compute) /* it reads through b->obs */
        b->compute->ops->close(b->compute);
    ims_obs_close(b->obs);
    free(b->sql_dsn);
    memset(b, 0, sizeof(*b));
}
