/* SPDX-License-Identifier: Apache-2.0
 * The settings the library needs; filled by src/ from defaults, the INI file
 * (IMSD_CONFIG) and the environment. */
#ifndef IMS_CONFIG_H
#define IMS_CONFIG_H

#include "ims/base.h"

struct ims_config {
    /* [server] */
    char *listen;          /* host:port */
    char *public_url;      /* what the catalog advertises; "" = http://<listen> */
    unsigned http_threads; /* 0 = one per core */
    unsigned connection_limit;
    unsigned address_connection_limit;
    int64_t connection_memory_kib; /* each open connection's buffer (libmicrohttpd's pool) */
    unsigned connection_timeout;
    unsigned head_timeout;
    unsigned body_timeout;
    unsigned drain_timeout_ms;
    unsigned deferred_threads; /* threads that hash passwords (logins, password changes) */
    unsigned deferred_max;     /* requests that may wait for them; more get 429 */
    unsigned deferred_priority; /* their nice value above the process's, 0-19; 20: SCHED_IDLE */
    unsigned handler_threads;  /* remote database: handlers off the event loop (0 = on it) */
    char *log_level;
    /* [storage] */
    char *data_dir;
    bool direct_io; /* image data bypasses the page cache where it can */
    char *file_store_dir; /* the file store's directory; "" = data_dir */
    /* Recovery leaves other processes' temporary files and unreferenced
     * blobs alone for this long (a blob is unreferenced between its
     * commit and its row's). */
    int64_t recovery_grace_seconds;
    char *cache_dir;        /* the node-local image cache; "" = <data_dir>/cache */
    int64_t cache_max_size; /* its bound, bytes; 0 = no cache */
    int64_t cache_fill_memory_mib; /* the blocks all fills together hold, MiB (cache_filler.c) */
    bool cache_prefetch;    /* this process fills queued images (imsd, not imsctl) */
    /* [stores] several stores by id (src/common/backends.c parses them):
     * "id:file[:dir], id:s3" (the s3 one with [store]'s settings); "" = the
     * one store of [store] backend, as before */
    char *stores_enabled;
    char *stores_default; /* the id new data goes to; "" = the first */
    /* [store] where image data lives: the file store (default) or S3 */
    char *store_backend;    /* "file" or "s3" */
    char *store_endpoint;   /* s3: http(s)://host:port */
    char *store_region;
    char *store_bucket;
    char *store_access_key;
    char *store_secret_key; /* from secret_key or secret_key_file */
    int64_t store_part_size; /* s3: uploads go up in parts of this size */
    int64_t store_single_put_max; /* s3: uploads of a known size up to this: one streamed PUT */
    bool store_md5_from_etag; /* s3: auto (true): such a PUT's md5 from its ETag, once a probe proved them md5s */
    bool store_probe_at_open; /* s3: that probe when the store opens (imsd; no setting), else on the first such PUT */
    /* s3: transient failures tried again (struct ims_obs_s3_retry), for the store and for [obs] */
    int64_t store_retry_attempts, store_retry_base_ms, store_retry_max_delay_ms, store_retry_total_seconds;
    int64_t store_stall_seconds; /* s3: a transfer without progress this long times out */
    /* [obs] the object storage users import from and export to */
    char *obs_backend;    /* "embedded" or "s3" */
    char *obs_dir;        /* embedded: "" = <data_dir>/obs */
    char *obs_endpoint;   /* s3: http(s)://host:port */
    char *obs_region;
    char *obs_access_key;
    char *obs_secret_key; /* from secret_key or secret_key_file */
    int64_t obs_part_size; /* s3: larger objects go up in parts of this size */
    int64_t obs_server_copy_max; /* s3: larger copies stream through imsd instead of CopyObject */
    int64_t obs_retry_attempts, obs_retry_base_ms, obs_retry_max_delay_ms, obs_retry_total_seconds;
    int64_t obs_stall_seconds;
    /* [compute] where servers, volumes and backups come from */
    char *compute_backend;         /* "inventory" or "libvirt" */
    char *compute_uri;             /* libvirt: the connection URI */
    char *compute_default_project; /* libvirt: project of domains whose metadata names none */
    int64_t compute_backup_stall_seconds; /* libvirt: a running domain's backup writing nothing this long fails */
    /* [database] */
    char *db_connection; /* engine://...; a plain path = SQLite; "" = <data_dir>/imsd.db */
    /* [identity] */
    char *region;
    int64_t token_ttl;
    int64_t lockout_failures; /* 0 = never lock */
    int64_t lockout_seconds;
    int64_t login_rate_per_address; /* login attempts per minute from one address (0 = no limit) */
    int64_t login_rate_per_user;    /* failed logins per minute for one user (0 = no limit) */
    char *admin_password; /* used at first initialisation only */
    /* The token signing key from [identity] token_key (hex) or
     * token_key_file: processes given the same key accept each other's
     * tokens. Unset: <data_dir>/token.key, made at first start. */
    bool token_key_set;
    unsigned char token_key[32];
    /* [images] */
    /* Glance's switches, off by default as there: image documents show
     * direct_url (the data's location in imsd's store) and locations. */
    bool show_image_direct_url;
    bool show_multiple_locations;
    /* Glance 2.17's Add and Get Locations (POST/GET
     * /v2/images/{id}/locations), off by default: 404 when off. */
    bool location_api;
    int64_t max_image_size;
    int64_t list_limit_default;
    int64_t list_limit_max;
    /* Rendered image documents each HTTP thread keeps (lib/api/image_cache.c), KiB; 0 = none. */
    int64_t document_cache_kib;
    /* Whole answers of image reads each HTTP thread keeps (lib/api/answer_cache.c), KiB; 0 = none. */
    int64_t answer_cache_kib;
    int64_t db_cache_kib; /* [database] cache_kib: SQLite's page cache per connection */
    int64_t quota_default; /* images a project may own unless `imsctl quota set` says otherwise */
    int64_t upload_lease_seconds; /* an upload whose process stops renewing it this long is recovered */
    /* [import_filtering_opts] Glance's web-download filter: comma-separated
     * lists (an allowed list, when given, makes its disallowed one moot) */
    char *import_allowed_schemes, *import_disallowed_schemes;
    char *import_allowed_hosts, *import_disallowed_hosts;
    char *import_allowed_ports, *import_disallowed_ports;
    bool import_allow_private_networks; /* private ranges reachable without listing the host */
    /* [web_download] */
    int64_t web_download_max_size;      /* 0: [images] max_image_size */
    int64_t web_download_timeout;       /* seconds for one download, redirects included */
    int64_t web_download_max_redirects;
    /* [jobs] */
    unsigned job_workers;        /* worker threads of the job engine */
    int64_t job_retention_seconds;
    int64_t job_lease_seconds;
};

#endif
