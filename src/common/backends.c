/* SPDX-License-Identifier: Apache-2.0
 * Backends chosen at start: a connection string's scheme names the SQL
 * engine (sqlite://PATH, postgresql://URI); a new engine is one more line
 * in `engines`. [obs]
 * backend names the object storage; [store] backend the one image store,
 * or [stores] enabled several by id. */
#include "backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The file store's directory, and the S3 store's temporary area. */
static const char *file_dir(const struct ims_config *cfg)
{
    return cfg->file_store_dir && *cfg->file_store_dir ? cfg->file_store_dir : cfg->data_dir;
}

/* Whether path is dir or lies below it (both resolved). */
static bool path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The embedded object storage's buckets are its directory's directories,
 * which tenants import from and export to by name: holding a file store's
 * directory (bucket "images" its blobs), or lying in the store's images/
 * or tmp/ (which its recovery empties of files it does not know), would
 * mix the two. Its default, <data_dir>/obs, lies beside them. */
static int obs_apart_from_store(const struct ims_config *cfg, const char *store_dir, char *err, size_t errlen)
{
    if (ims_streq(cfg->obs_backend, "s3"))
        return 0;
    char *obs = cfg->obs_dir && *cfg->obs_dir ? ims_xstrdup(cfg->obs_dir) : ims_xasprintf("%s/obs", cfg->data_dir);
    char *obs_real = realpath(obs, NULL), *store_real = realpath(store_dir, NULL); /* both made by their open */
    const char *o = obs_real ? obs_real : obs, *st = store_real ? store_real : store_dir;
    char *images = ims_xasprintf("%s/images", st), *tmp = ims_xasprintf("%s/tmp", st);
    int rc = 0;
    if (path_within(st, o) || path_within(o, images) || path_within(o, tmp)) {
        snprintf(err, errlen,
                 "[obs] dir %s %s the file store's directory %s: the object storage's buckets and the image store "
                 "must be apart (the default, <data_dir>/obs, is)",
                 obs, path_within(st, o) ? "holds" : "lies in the images/ or tmp/ of", store_dir);
        rc = -1;
    }
    free(images);
    free(tmp);
    free(obs_real);
    free(store_real);
    free(obs);
    return rc;
}

static int open_s3_store(const struct ims_config *cfg, struct ims_store **ret, char *err, size_t errlen)
{
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
        .dir = file_dir(cfg),
        .part_size = (uint64_t)cfg->store_part_size,
        .single_put_max = (uint64_t)cfg->store_single_put_max,
        .md5_from_etag = cfg->store_md5_from_etag,
        .probe_at_open = cfg->store_probe_at_open,
    };
    struct ims_err e = {0};
    if (ims_store_s3_open(&s3, ret, &e) != IMS_OK) {
        snprintf(err, errlen, "S3 store ([store] backend s3): %s", e.msg);
        return -1;
    }
    return 0;
}

static int open_file_store(const struct ims_config *cfg, const char *dir, struct ims_store **ret, char *err,
                           size_t errlen)
{
    struct ims_err e = {0};
    if (ims_store_file_open(dir, cfg->direct_io, ret, &e) != IMS_OK) {
        snprintf(err, errlen, "file store %s: %s", dir, e.msg);
        return -1;
    }
    return 0;
}

/* [store] backend: with S3, new data goes there; the file store stays
 * behind it, for blobs stored before the change and for its temporary area
 * (files of converters, which the S3 store uploads). */
static int open_single_store(const struct ims_config *cfg, struct ims_backends *b, char *err, size_t errlen)
{
    if (ims_streq(cfg->store_backend, "s3")) {
        if (open_s3_store(cfg, &b->stores[b->nstores], err, errlen))
            return -1;
        b->nstores++;
    }
    if (open_file_store(cfg, file_dir(cfg), &b->stores[b->nstores], err, errlen))
        return -1;
    b->nstores++;
    return 0;
}

/* <data_dir>/stores, made if missing (the file store makes only its own
 * directory); returned for the caller to free. */
static char *mkdir_stores(const struct ims_config *cfg)
{
    char *path = ims_xasprintf("%s/stores", cfg->data_dir);
    (void)mkdir(path, 0750); /* an error shows when the store opens */
    return path;
}

/* One entry of [stores] enabled, "id:file[:dir]" or "id:s3", opened and
 * named. */
static int open_named(const struct ims_config *cfg, char *entry, struct ims_store **ret, bool *s3_seen,
                      struct ims_strlist *dirs, char *err, size_t errlen)
{
    char *id = entry, *type = strchr(entry, ':');
    char *dir = type ? strchr(type + 1, ':') : NULL;
    if (type)
        *type++ = '\0';
    if (dir)
        *dir++ = '\0';
    int rc = -1;
    struct ims_err e = {0};
    if (ims_store_id_check(id, &e) != IMS_OK) { /* before its directory <data_dir>/stores/<id> is made */
        snprintf(err, errlen, "[stores] enabled: %s", e.msg);
    } else if (!type || (!ims_streq(type, "file") && !ims_streq(type, "s3"))) {
        snprintf(err, errlen, "[stores] enabled: '%s' is not id:file[:directory] or id:s3", id);
    } else if (ims_streq(type, "s3") && (dir || *s3_seen)) {
        snprintf(err, errlen, "[stores] enabled: %s: one s3 store at most, with [store]'s settings and no directory",
                 id);
    } else if (ims_streq(type, "s3")) {
        *s3_seen = true;
        rc = open_s3_store(cfg, ret, err, errlen);
    } else {
        /* "file" is the single-store configuration's own store: its directory unless given */
        char *own = dir && *dir                ? ims_xstrdup(dir)
                    : ims_streq(id, "file") ? ims_xstrdup(file_dir(cfg))
                                            : ims_xasprintf("%s/stores/%s", cfg->data_dir, id);
        if (!dir || !*dir) /* the parent of <data_dir>/stores/<id> */
            free(mkdir_stores(cfg));
        /* Each store's recovery removes the files its own locations do not
         * name: two ids on one directory would remove each other's. The
         * directories are compared as the file system resolves them (made
         * by the open, which recovers nothing): "/x", "/x/" and a link to
         * it are one. */
        rc = open_file_store(cfg, own, ret, err, errlen);
        if (rc == 0 && obs_apart_from_store(cfg, own, err, errlen)) {
            (*ret)->ops->close(*ret);
            rc = -1;
        }
        char *real = rc == 0 ? realpath(own, NULL) : NULL;
        char *legacy = realpath(file_dir(cfg), NULL);
        const char *same = real ? real : own;
        if (rc == 0 && (ims_strlist_contains(dirs, same) ||
                        (!ims_streq(id, "file") && ims_streq(same, legacy ? legacy : file_dir(cfg))))) {
            snprintf(err, errlen, "[stores] enabled: %s: the directory %s is another store's (the data dir's file "
                                  "store has the id file)", id, own);
            (*ret)->ops->close(*ret);
            rc = -1;
        }
        ims_strlist_add(dirs, same);
        free(legacy);
        free(real);
        free(own);
    }
    if (rc == 0 && ims_store_set_id(*ret, id, &e) != IMS_OK) {
        snprintf(err, errlen, "[stores] enabled: %s", e.msg);
        (*ret)->ops->close(*ret);
        rc = -1;
    }
    return rc;
}

/* [stores] enabled: the stores by id, the default first. The file store
 * of the single-store configuration stays behind them, read only for the
 * file:// locations of data stored before, unless a store has the id
 * "file" (and so holds them). */
static int open_named_stores(const struct ims_config *cfg, struct ims_backends *b, char *err, size_t errlen)
{
    char *list = ims_xstrdup(cfg->stores_enabled);
    bool s3_seen = false, legacy_named = false;
    struct ims_strlist dirs = {0};
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        for (size_t n = strlen(tok); n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'); n--)
            tok[n - 1] = '\0';
        if (!*tok)
            continue;
        if (b->nstores + 1 >= IMS_STORES_MAX) {
            snprintf(err, errlen, "[stores] enabled: at most %d stores", IMS_STORES_MAX - 1);
            rc = -1;
            break;
        }
        size_t idlen = strcspn(tok, ":");
        for (size_t i = 0; i < b->nstores && rc == 0; i++)
            if (strlen(ims_store_id(b->stores[i])) == idlen && !strncmp(ims_store_id(b->stores[i]), tok, idlen)) {
                snprintf(err, errlen, "[stores] enabled: the id %.*s is given twice", (int)idlen, tok);
                rc = -1;
            }
        if (rc == 0)
            rc = open_named(cfg, tok, &b->stores[b->nstores], &s3_seen, &dirs, err, errlen);
        if (rc)
            break;
        legacy_named = legacy_named || ims_streq(ims_store_id(b->stores[b->nstores]), "file");
        b->nstores++;
    }
    free(list);
    ims_strlist_release(&dirs);
    if (rc)
        return rc;
    b->nnamed = b->nstores;
    size_t def = 0;
    if (cfg->stores_default && *cfg->stores_default) {
        while (def < b->nstores && !ims_streq(ims_store_id(b->stores[def]), cfg->stores_default))
            def++;
        if (def == b->nstores) {
            snprintf(err, errlen, "[stores] default: %s is not a store of [stores] enabled", cfg->stores_default);
            return -1;
        }
    }
    struct ims_store *first = b->stores[def]; /* the default takes new data: first */
    memmove(&b->stores[1], &b->stores[0], def * sizeof(b->stores[0]));
    b->stores[0] = first;
    if (!legacy_named) {
        if (open_file_store(cfg, file_dir(cfg), &b->stores[b->nstores], err, errlen))
            return -1;
        b->nstores++;
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
    int rc = cfg->stores_enabled && *cfg->stores_enabled ? open_named_stores(cfg, b, err, errlen)
                                                         : open_single_store(cfg, b, err, errlen);
    if (rc == 0)
        rc = obs_apart_from_store(cfg, file_dir(cfg), err, errlen);
    if (rc) {
        ims_backends_close(b);
        return -1;
    }
    for (size_t i = 0; i < b->nstores; i++)
        if (ims_streq(b->stores[i]->ops->name, "s3") && ims_streq(cfg->obs_backend, "s3") &&
            ims_obs_endpoints_same(cfg->obs_endpoint, cfg->store_endpoint))
            b->obs_store_bucket = ims_xstrdup(cfg->store_bucket);
    struct ims_err e = {0};
    enum ims_rc crc = ims_streq(cfg->compute_backend, "libvirt")
                          ? ims_compute_libvirt_open(cfg->compute_uri, cfg->compute_default_project, cfg->data_dir,
                                                     cfg->recovery_grace_seconds, cfg->compute_backup_stall_seconds,
                                                     &b->compute, &e)
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
    free(b->obs_store_bucket);
    free(b->sql_dsn);
    memset(b, 0, sizeof(*b));
}
