/* SPDX-License-Identifier: Apache-2.0
 * Every option has an INI key and a default; a few have environment
 * variables. One table drives loading, `--help` and `imsctl config show`. */
#include "settings.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "ims/base.h"

const struct ims_setting ims_settings[] = {
    {"server", "listen", "IMSD_LISTEN", "address and port to listen on", "127.0.0.1:9292"},
    {"server", "public_url", "IMSD_PUBLIC_URL", "base URL advertised in the catalog (default: from Host)", ""},
    {"server", "threads", "IMSD_THREADS", "HTTP event-loop threads (0 = one per core)", "0"},
    {"server", "connection_limit", NULL, "open connections of all clients; more are answered 503", "4096"},
    {"server", "address_connection_limit", NULL, "open connections per client address; more are answered 503 (0 = no cap)",
     "512"},
    {"server", "connection_timeout", NULL, "idle connection timeout, seconds", "120"},
    {"server", "connection_memory_kib", NULL,
     "each open connection's buffer (libmicrohttpd's pool: the request head, body reads, the response head), KiB; "
     "a head that does not fit is answered 431. Open connections hold at most connection_limit times this "
     "(4096 x 64 KiB = 256 MiB), each the part it has used",
     "64"},
    {"server", "deferred_threads", NULL,
     "threads that hash passwords (logins, password changes), off the event loop; each hash holds 19 MiB while it "
     "runs, so logins add at most this many times 19 MiB to the process's memory; each thread checks about 30 "
     "passwords a second on a free core",
     "1"},
    {"server", "deferred_max", NULL, "requests that may wait for those threads; more are answered 429", "64"},
    {"server", "deferred_priority", NULL,
     "those threads' scheduling: idle (SCHED_IDLE: only when a core has nothing else to run), or a nice value "
     "0-19 above the event loop's",
     "idle"},
    {"server", "handler_threads", NULL,
     "with a remote database (PostgreSQL): threads that run request handlers off the event loop, so a handler's "
     "round trips stall no other connection (0 = on the event loop); with SQLite, handlers run on the event loop "
     "but image creates run on this many threads, where those made at the same time share one commit, and, with a "
     "remote store or [obs] (S3), the handlers that wait on S3 on as many others",
     "8"},
    {"server", "head_timeout", NULL, "a request head must arrive within this, seconds, or the connection is closed (408)",
     "30"},
    {"server", "body_timeout", NULL,
     "a JSON request body must arrive in full within this, seconds after its head, or the connection is closed "
     "(408); image uploads are cut by connection_timeout only",
     "30"},
    {"server", "drain_timeout_ms", NULL, "on SIGTERM, how long in-flight requests may finish", "30000"},
    {"server", "log_level", "IMSD_LOG_LEVEL", "debug, info, warning or error", "info"},
    {"storage", "data_dir", "IMSD_DATA_DIR", "database, image files and token key", "/var/lib/imsd"},
    {"storage", "direct_io", NULL, "uploaded image data bypasses the page cache (O_DIRECT) where it can; downloads read through it", "true"},
    {"storage", "file_dir", NULL, "directory of the file store (images/, tmp/; default: the data dir)", ""},
    {"storage", "recovery_grace_seconds", NULL,
     "start-up recovery removes other processes' temporary files and unreferenced blobs only this old", "3600"},
    {"cache", "directory", NULL,
     "this node's image cache: images of the s3 store kept as local files after their first full download "
     "(or PUT /v2/cache/{id}), served from there; one per node; empty = <data_dir>/cache",
     ""},
    {"cache", "max_size", NULL,
     "the image cache's bound, bytes: the least recently used images go past it (0 = no cache; the file "
     "store's images are never cached)",
     "10737418240"},
    {"cache", "fill_memory_mib", NULL,
     "the memory all image cache fills together hold for blocks their writers have not yet written, MiB (1 MiB "
     "blocks, taken as needed, 32 at most per fill): a download's fill that finds none free is given up (logged; a "
     "later download fills), the prefetcher waits",
     "64"},
    {"stores", "enabled", NULL,
     "several image stores, as Glance's enabled_backends: comma-separated id:file[:directory] or id:s3 (the s3 one "
     "with [store]'s settings; at most one); each id is its locations' scheme, offered by GET /v2/info/stores and "
     "to imports, copy-image copies between them; a file store without a directory is <data_dir>/stores/<id> "
     "([storage] file_dir for the id file, which holds the file:// data of a single store); "
     "empty = the one store of [store] backend",
     ""},
    {"stores", "default", NULL, "the store of [stores] enabled that new image data goes to (empty = the first)", ""},
    {"store", "backend", "IMSD_STORE_BACKEND",
     "where image data lives: file (under [storage] file_dir) or s3 (a bucket of an S3-compatible service)", "file"},
    {"store", "endpoint", "IMSD_STORE_ENDPOINT", "s3: the service's URL, http(s)://host[:port] (path-style requests)",
     ""},
    {"store", "region", "IMSD_STORE_REGION", "s3: the region requests are signed for (SigV4)", "us-east-1"},
    {"store", "bucket", "IMSD_STORE_BUCKET", "s3: the bucket holding image data (made at first start)", "imsd-images"},
    {"store", "access_key", "IMSD_STORE_ACCESS_KEY", "s3: access key id", ""},
    {"store", "secret_key", "IMSD_STORE_SECRET_KEY", "s3: secret access key (or secret_key_file)", ""},
    {"store", "secret_key_file", NULL, "s3: a file holding the secret access key (its first line)", ""},
    {"store", "part_size", NULL,
     "s3: uploads go up in parts of this size, three held in memory per upload (5 MiB to 1 GiB; an image holds at "
     "most 10,000 parts), bytes",
     "16777216"},
    {"store", "single_put_max", NULL,
     "s3: an upload whose size is known in advance (Content-Length, x-openstack-image-size; a web-download's "
     "answer's Content-Length) larger than part_size "
     "and at most this goes up as one PUT streamed while it arrives, as a client's own PUT: no part held, S3 "
     "stores one object; such a PUT is tried again only while none of its body went, so a fault once bytes went "
     "fails the upload (the image stays queued, nothing stored; the client uploads again). Uploads of unknown "
     "size (chunked), and larger ones, go up in parts, each tried again from memory. 0 = always in parts; at "
     "most 5 GiB (S3's largest PUT), bytes",
     "5368709120"},
    {"store", "md5_from_etag", NULL,
     "s3: auto = an upload, or an imported file, that goes up as one PUT (single_put_max) takes its md5 (Glance's checksum) from the "
     "PUT's ETag instead of hashing it, once a probe (at imsd's start; imsctl's before its first such upload: a small object PUT the same "
     "way, its ETag compared with its md5, removed) proved this service's ETags md5s, and only from an answer whose ETag is 32 hex "
     "digits and whose encryption headers are the probe's (never SSE-KMS or SSE-C); an answer that proves "
     "nothing has the md5 read back from the stored object before the upload is answered. sha512 is always "
     "computed. off = md5 always computed while the data arrives",
     "auto"},
    {"store", "retry_attempts", NULL,
     "s3: tries of one request at most, the first included, when it fails in a way another try may not "
     "(connection errors, timeouts, HTTP 408, 429, 500, 502, 503, 504, SlowDown, RequestTimeout, InternalError); "
     "1 = never again",
     "5"},
    {"store", "retry_base_ms", NULL,
     "s3: the wait before the first retry, doubled for each next one (half of each wait is random), milliseconds",
     "200"},
    {"store", "retry_max_delay_ms", NULL, "s3: the longest wait between two tries, milliseconds", "5000"},
    {"store", "stall_seconds", NULL,
     "s3: a transfer that moves no byte for this long, or a connection not made within it (30 s at most), fails "
     "as a timeout and is tried again, seconds",
     "120"},
    {"store", "retry_total_seconds", NULL,
     "s3: no retry starts later than this after the request's first try (a download resumed midway counts from "
     "its last progress)",
     "60"},
    {"obs", "backend", "IMSD_OBS_BACKEND",
     "object storage for image files users import and export: embedded (directories under [obs] dir) or s3",
     "embedded"},
    {"obs", "dir", NULL, "embedded: the directory holding a directory per bucket; empty = <data_dir>/obs", ""},
    {"obs", "endpoint", "IMSD_OBS_ENDPOINT", "s3: the service's URL, http(s)://host[:port] (path-style requests)",
     ""},
    {"obs", "region", "IMSD_OBS_REGION", "s3: the region requests are signed for (SigV4)", "us-east-1"},
    {"obs", "access_key", "IMSD_OBS_ACCESS_KEY", "s3: access key id", ""},
    {"obs", "secret_key", "IMSD_OBS_SECRET_KEY", "s3: secret access key (or secret_key_file)", ""},
    {"obs", "secret_key_file", NULL, "s3: a file holding the secret access key (its first line)", ""},
    {"obs", "part_size", NULL,
     "s3: objects larger than this are uploaded in parts of this size, bytes (at least 5 MiB); a part read from a "
     "stream is held in memory while it goes up, so that it can be sent again",
     "67108864"},
    {"obs", "server_copy_max", NULL,
     "s3: copies up to this size are made by the service (CopyObject); larger ones stream through imsd, bytes",
     "5368709120"},
    {"obs", "retry_attempts", NULL,
     "s3: tries of one request at most, the first included, when it fails in a way another try may not "
     "(connection errors, timeouts, HTTP 408, 429, 500, 502, 503, 504, SlowDown, RequestTimeout, InternalError); "
     "1 = never again",
     "5"},
    {"obs", "retry_base_ms", NULL,
     "s3: the wait before the first retry, doubled for each next one (half of each wait is random), milliseconds",
     "200"},
    {"obs", "retry_max_delay_ms", NULL, "s3: the longest wait between two tries, milliseconds", "5000"},
    {"obs", "stall_seconds", NULL,
     "s3: a transfer that moves no byte for this long, or a connection not made within it (30 s at most), fails "
     "as a timeout and is tried again, seconds",
     "120"},
    {"obs", "retry_total_seconds", NULL,
     "s3: no retry starts later than this after the request's first try (a download resumed midway counts from "
     "its last progress)",
     "60"},
    {"compute", "backend", "IMSD_COMPUTE_BACKEND",
     "where servers, volumes and backups come from: inventory (registered with imsctl or the admin API) or libvirt",
     "inventory"},
    {"compute", "uri", "IMSD_COMPUTE_URI", "libvirt: the connection URI (qemu:///system, test:///PATH)", ""},
    {"compute", "default_project", NULL,
     "libvirt: the project id of domains whose metadata names none (empty: such domains belong to no project)", ""},
    {"compute", "backup_stall_seconds", NULL,
     "libvirt: a running domain's backup fails (IMG.0126) when its hypervisor answers nothing, or writes nothing, "
     "for this long, and libvirt's backup job is cancelled, seconds",
     "300"},
    {"database", "connection", "IMSD_DATABASE",
     "metadata database: sqlite://PATH or a path (default: <data_dir>/imsd.db)", ""},
    {"database", "cache_kib", NULL,
     "SQLite: the page cache of each connection (one per thread that uses the database), KiB", "2000"},
    {"identity", "region", "IMSD_REGION", "region of projects and catalog endpoints", "RegionOne"},
    {"identity", "token_ttl", NULL, "token lifetime, seconds", "86400"},
    {"identity", "lockout_failures", NULL, "failed logins in a row from one address that lock the user there (0 = never)", "5"},
    {"identity", "lockout_seconds", NULL, "how long such a lock lasts, seconds (imsctl user unlock ends it)", "900"},
    {"identity", "login_rate_per_address", NULL,
     "login attempts per minute from one client address, in bursts of as many (0 = no limit)", "600"},
    {"identity", "login_rate_per_user", NULL,
     "failed logins per minute for one user, in bursts of as many (0 = no limit)", "60"},
    {"identity", "admin_password", "IMSD_ADMIN_PASSWORD", "admin password at first initialisation (default: generated)",
     ""},
    {"identity", "token_key", "IMSD_TOKEN_KEY",
     "token signing key, 64 hex digits; processes with one key accept each other's tokens (default: token_key_file)",
     ""},
    {"identity", "token_key_file", NULL, "file holding the 32-byte token signing key (default: <data_dir>/token.key)",
     ""},
    {"images", "max_image_size", NULL, "largest image upload, bytes", "1099511627776"},
    {"images", "show_image_direct_url", NULL,
     "native image documents show direct_url, the data's location in imsd's store (as Glance's option)", "false"},
    {"images", "show_multiple_locations", NULL,
     "native image documents show locations to the image's project and admins, and PATCHes of /locations change "
     "them (as Glance's option; imsd keeps one location per image; file:// is never taken from a client)",
     "false"},
    {"images", "location_api", NULL,
     "serve Glance 2.17's POST /v2/images/{id}/locations (a queued image takes data a store holds) and GET (the "
     "service role's)",
     "false"},
    {"images", "list_limit_default", NULL, "images per page when no limit is given", "25"},
    {"images", "list_limit_max", NULL, "largest page a client may ask for", "1000"},
    {"images", "document_cache_kib", NULL,
     "rendered image documents kept, KiB for all threads together (0 = none); one is used only for the image's revision "
     "it was rendered from",
     "8192"},
    {"images", "answer_cache_kib", NULL,
     "whole answers of image reads (the lists of /v2/images, /v2/cloudimages and /v1.1/images/detail, GET /v2/images/{id}) each HTTP thread keeps, KiB (0 = none); one "
     "is reused only for the same caller, rights and request while no write has committed since it was read "
     "(SQLite; with PostgreSQL nothing is kept)",
     "1024"},
    {"images", "quota_default", NULL, "images a project may own (per project: imsctl quota set)", "10000"},
    {"images", "upload_lease_seconds", NULL,
     "an upload whose process stops renewing its lease this long is returned to queued (by any node)", "60"},
    {"import_filtering_opts", "allowed_schemes", NULL, "web-download: URL schemes allowed (http, https at most)",
     "http,https"},
    {"import_filtering_opts", "disallowed_schemes", NULL, "web-download: URL schemes refused (moot with allowed_schemes)",
     ""},
    {"import_filtering_opts", "allowed_hosts", NULL,
     "web-download: the only hosts allowed (names or addresses); a listed host may be on any network", ""},
    {"import_filtering_opts", "disallowed_hosts", NULL,
     "web-download: hosts refused, names or addresses (moot with allowed_hosts)", ""},
    {"import_filtering_opts", "allowed_ports", NULL, "web-download: the only ports a URL may name", "80,443"},
    {"import_filtering_opts", "disallowed_ports", NULL, "web-download: ports refused (moot with allowed_ports)", ""},
    {"import_filtering_opts", "allow_private_networks", NULL,
     "web-download: hosts on private networks (RFC 1918, fc00::/7) are reachable; loopback and link-local never "
     "are unless listed in allowed_hosts",
     "false"},
    {"web_download", "max_size", NULL, "web-download: largest image fetched, bytes (0 = [images] max_image_size)",
     "0"},
    {"web_download", "timeout", NULL, "web-download: time one download may take, seconds, redirects included",
     "3600"},
    {"web_download", "max_redirects", NULL, "web-download: redirects followed (each checked by the filter)", "5"},
    {"jobs", "workers", "IMSD_JOB_WORKERS", "asynchronous job worker threads", "2"},
    {"jobs", "retention_seconds", NULL, "how long finished jobs stay queryable, seconds", "604800"},
    {"jobs", "lease_seconds", NULL, "a job whose worker stops renewing its lease this long is taken again",
     "30"},
};
const size_t ims_nsettings = IMS_ARRAY_SIZE(ims_settings);

static int set_int(int64_t *dst, const char *v, int64_t min, int64_t max, const char *name, char *err, size_t errlen)
{
    if (!ims_parse_i64(v, min, max, dst)) {
        snprintf(err, errlen, "invalid value for %s: '%s' (expected an integer from %lld to %lld)", name, v,
                 (long long)min, (long long)max);
        return -1;
    }
    return 0;
}

/* A comma-separated list of ports (1 to 65535); spaces around items allowed. */
static int port_list(const char *v, const char *name, char *err, size_t errlen)
{
    char *copy = ims_xstrdup(v);
    int rc = 0;
    for (char *save = NULL, *s = strtok_r(copy, ",", &save); s && !rc; s = strtok_r(NULL, ",", &save)) {
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
            s[--n] = 0;
        int64_t port;
        if (n && !ims_parse_i64(s, 1, 65535, &port)) {
            snprintf(err, errlen, "invalid value for %s: '%s' (expected ports from 1 to 65535, comma-separated)",
                     name, s);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

static int set_bool(bool *dst, const char *v, const char *name, char *err, size_t errlen)
{
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        snprintf(err, errlen, "invalid value for %s: '%s' (expected true or false)", name, v);
        return -1;
    }
    *dst = strcmp(v, "true") == 0;
    return 0;
}

static int set_uint(unsigned *dst, const char *v, int64_t max, const char *name, char *err, size_t errlen)
{
    int64_t x;
    if (set_int(&x, v, 0, max, name, err, errlen))
        return -1;
    *dst = (unsigned)x;
    return 0;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "" leaves the key unset (token_key_file or the data dir's decide). */
static int set_token_key(struct ims_config *c, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return 0;
    if (strlen(v) != 2 * sizeof(c->token_key)) {
        snprintf(err, errlen, "invalid token_key (expected %zu hex digits)", 2 * sizeof(c->token_key));
        return -1;
    }
    for (size_t i = 0; i < sizeof(c->token_key); i++) {
        int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "invalid token_key (expected %zu hex digits)", 2 * sizeof(c->token_key));
            return -1;
        }
        c->token_key[i] = (unsigned char)(hi << 4 | lo);
    }
    c->token_key_set = true;
    return 0;
}

/* The first line of the file is the secret (a trailing newline is not part
 * of it): the secret stays out of the INI file, which may be shared. */
static int read_secret(char **dst, const char *path, char *err, size_t errlen)
{
    if (!*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read secret_key_file %s", path);
        return -1;
    }
    char line[1024];
    bool got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[got ? strcspn(line, "\r\n") : 0] = 0;
    if (!*line) {
        snprintf(err, errlen, "secret_key_file %s is empty", path);
        return -1;
    }
    free(*dst);
    *dst = ims_xstrdup(line);
    return 0;
}

/* The file holds the key's bytes, as <data_dir>/token.key does: another
 * process's key file can be named here. */
static int read_token_key(struct ims_config *c, const char *path, char *err, size_t errlen)
{
    if (!*path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read token_key_file %s", path);
        return -1;
    }
    unsigned char key[sizeof(c->token_key) + 1];
    size_t n = fread(key, 1, sizeof(key), f);
    fclose(f);
    if (n != sizeof(c->token_key)) {
        snprintf(err, errlen, "token_key_file %s must hold exactly %zu bytes", path, sizeof(c->token_key));
        return -1;
    }
    memcpy(c->token_key, key, sizeof(c->token_key));
    c->token_key_set = true;
    return 0;
}

int ims_settings_set(struct ims_config *c, const char *section, const char *key, const char *v, char *err,
                     size_t errlen)
{
#define IS(s, k) (strcmp(section, s) == 0 && strcmp(key, k) == 0)
#define STR(field) (free(c->field), c->field = ims_xstrdup(v), 0)
    if (IS("server", "listen")) {
        char host[256];
        unsigned port;
        if (ims_listen_split(v, host, sizeof(host), &port)) {
            snprintf(err, errlen, "invalid listen address '%s' (expected host:port)", v);
            return -1;
        }
        return STR(listen);
    }
    if (IS("server", "public_url")) return STR(public_url);
    if (IS("server", "threads")) return set_uint(&c->http_threads, v, 64, "threads", err, errlen);
    if (IS("server", "connection_limit")) return set_uint(&c->connection_limit, v, 100000, key, err, errlen);
    if (IS("server", "address_connection_limit"))
        return set_uint(&c->address_connection_limit, v, 100000, key, err, errlen);
    if (IS("server", "head_timeout")) return set_uint(&c->head_timeout, v, 86400, key, err, errlen);
    if (IS("server", "body_timeout")) return set_uint(&c->body_timeout, v, 86400, key, err, errlen);
    if (IS("server", "connection_timeout")) return set_uint(&c->connection_timeout, v, 86400, key, err, errlen);
    if (IS("server", "connection_memory_kib"))
        return set_int(&c->connection_memory_kib, v, 16, 4096, key, err, errlen);
    if (IS("server", "deferred_threads")) return set_uint(&c->deferred_threads, v, 256, key, err, errlen);
    if (IS("server", "deferred_max")) return set_uint(&c->deferred_max, v, 100000, key, err, errlen);
    if (IS("server", "handler_threads")) return set_uint(&c->handler_threads, v, 1024, key, err, errlen);
    if (IS("server", "deferred_priority")) {
        if (strcmp(v, "idle") == 0) {
            c->deferred_priority = 20;
            return 0;
        }
        return set_uint(&c->deferred_priority, v, 19, key, err, errlen);
    }
    if (IS("server", "drain_timeout_ms")) return set_uint(&c->drain_timeout_ms, v, 3600000, key, err, errlen);
    if (IS("server", "log_level")) {
        if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warning") && strcmp(v, "error")) {
            snprintf(err, errlen, "invalid log_level '%s' (debug, info, warning or error)", v);
            return -1;
        }
        return STR(log_level);
    }
    if (IS("storage", "data_dir")) {
        if (!*v) {
            snprintf(err, errlen, "data_dir must not be empty");
            return -1;
        }
        return STR(data_dir);
    }
    if (IS("storage", "direct_io")) return set_bool(&c->direct_io, v, key, err, errlen);
    if (IS("images", "show_image_direct_url")) return set_bool(&c->show_image_direct_url, v, key, err, errlen);
    if (IS("images", "show_multiple_locations")) return set_bool(&c->show_multiple_locations, v, key, err, errlen);
    if (IS("images", "location_api")) return set_bool(&c->location_api, v, key, err, errlen);
    if (IS("storage", "file_dir")) return STR(file_store_dir);
    if (IS("storage", "recovery_grace_seconds"))
        return set_int(&c->recovery_grace_seconds, v, 0, 366LL * 86400, key, err, errlen);
    if (IS("identity", "token_key")) return set_token_key(c, v, err, errlen);
    if (IS("identity", "token_key_file")) return read_token_key(c, v, err, errlen);
    if (IS("database", "connection")) return STR(db_connection);
    if (IS("obs", "backend")) {
        if (strcmp(v, "embedded") && strcmp(v, "s3")) {
            snprintf(err, errlen, "invalid [obs] backend '%s' (embedded or s3)", v);
            return -1;
        }
        return STR(obs_backend);
    }
    if (IS("obs", "dir")) return STR(obs_dir);
    if (IS("stores", "enabled")) return STR(stores_enabled);
    if (IS("stores", "default")) return STR(stores_default);
    if (IS("cache", "directory")) return STR(cache_dir);
    if (IS("cache", "max_size")) return set_int(&c->cache_max_size, v, 0, 1LL << 50, key, err, errlen);
    if (IS("cache", "fill_memory_mib")) return set_int(&c->cache_fill_memory_mib, v, 1, 65536, key, err, errlen);
    if (IS("obs", "endpoint")) return STR(obs_endpoint);
    if (IS("obs", "region")) return STR(obs_region);
    if (IS("obs", "access_key")) return STR(obs_access_key);
    if (IS("obs", "secret_key")) return STR(obs_secret_key);
    if (IS("obs", "secret_key_file")) return read_secret(&c->obs_secret_key, v, err, errlen);
    if (IS("store", "backend")) {
        if (strcmp(v, "file") && strcmp(v, "s3")) {
            snprintf(err, errlen, "invalid [store] backend '%s' (file or s3)", v);
            return -1;
        }
        return STR(store_backend);
    }
    if (IS("store", "endpoint")) return STR(store_endpoint);
    if (IS("store", "region")) return STR(store_region);
    if (IS("store", "bucket")) return STR(store_bucket);
    if (IS("store", "access_key")) return STR(store_access_key);
    if (IS("store", "secret_key")) return STR(store_secret_key);
    if (IS("store", "secret_key_file")) return read_secret(&c->store_secret_key, v, err, errlen);
    if (IS("store", "part_size")) return set_int(&c->store_part_size, v, 5LL << 20, 1LL << 30, key, err, errlen);
    if (IS("store", "single_put_max")) return set_int(&c->store_single_put_max, v, 0, 5LL << 30, key, err, errlen);
    if (IS("store", "md5_from_etag")) {
        if (strcmp(v, "auto") && strcmp(v, "off")) {
            snprintf(err, errlen, "invalid [store] md5_from_etag '%s' (auto or off)", v);
            return -1;
        }
        c->store_md5_from_etag = strcmp(v, "auto") == 0;
        return 0;
    }
    if (IS("store", "retry_attempts")) return set_int(&c->store_retry_attempts, v, 1, 100, key, err, errlen);
    if (IS("store", "retry_base_ms")) return set_int(&c->store_retry_base_ms, v, 1, 600000, key, err, errlen);
    if (IS("store", "retry_max_delay_ms"))
        return set_int(&c->store_retry_max_delay_ms, v, 1, 600000, key, err, errlen);
    if (IS("store", "retry_total_seconds"))
        return set_int(&c->store_retry_total_seconds, v, 0, 86400, key, err, errlen);
    if (IS("store", "stall_seconds")) return set_int(&c->store_stall_seconds, v, 1, 3600, key, err, errlen);
    if (IS("obs", "stall_seconds")) return set_int(&c->obs_stall_seconds, v, 1, 3600, key, err, errlen);
    if (IS("obs", "retry_attempts")) return set_int(&c->obs_retry_attempts, v, 1, 100, key, err, errlen);
    if (IS("obs", "retry_base_ms")) return set_int(&c->obs_retry_base_ms, v, 1, 600000, key, err, errlen);
    if (IS("obs", "retry_max_delay_ms")) return set_int(&c->obs_retry_max_delay_ms, v, 1, 600000, key, err, errlen);
    if (IS("obs", "retry_total_seconds"))
        return set_int(&c->obs_retry_total_seconds, v, 0, 86400, key, err, errlen);
    if (IS("obs", "part_size")) return set_int(&c->obs_part_size, v, 5LL << 20, 5LL << 30, key, err, errlen);
    if (IS("obs", "server_copy_max"))
        return set_int(&c->obs_server_copy_max, v, 5LL << 20, 5LL << 30, key, err, errlen);
    if (IS("compute", "backend")) {
        if (strcmp(v, "inventory") && strcmp(v, "libvirt")) {
            snprintf(err, errlen, "invalid [compute] backend '%s' (inventory or libvirt)", v);
            return -1;
        }
        return STR(compute_backend);
    }
    if (IS("compute", "uri")) return STR(compute_uri);
    if (IS("compute", "default_project")) return STR(compute_default_project);
    if (IS("compute", "backup_stall_seconds"))
        return set_int(&c->compute_backup_stall_seconds, v, 1, 86400, key, err, errlen);
    if (IS("identity", "region")) return STR(region);
    if (IS("identity", "token_ttl")) return set_int(&c->token_ttl, v, 1, 366LL * 86400, key, err, errlen);
    if (IS("identity", "admin_password")) return STR(admin_password);
    if (IS("identity", "lockout_failures")) return set_int(&c->lockout_failures, v, 0, 1000, key, err, errlen);
    if (IS("identity", "login_rate_per_address"))
        return set_int(&c->login_rate_per_address, v, 0, 1000000, key, err, errlen);
    if (IS("identity", "login_rate_per_user")) return set_int(&c->login_rate_per_user, v, 0, 1000000, key, err, errlen);
    if (IS("identity", "lockout_seconds")) return set_int(&c->lockout_seconds, v, 1, 366LL * 86400, key, err, errlen);
    if (IS("images", "max_image_size")) return set_int(&c->max_image_size, v, 0, INT64_MAX / 2, key, err, errlen);
    if (IS("images", "list_limit_default")) return set_int(&c->list_limit_default, v, 1, 100000, key, err, errlen);
    if (IS("images", "list_limit_max")) return set_int(&c->list_limit_max, v, 1, 100000, key, err, errlen);
    if (IS("database", "cache_kib")) return set_int(&c->db_cache_kib, v, 64, 1 << 20, key, err, errlen);
    if (IS("images", "document_cache_kib")) return set_int(&c->document_cache_kib, v, 0, 1 << 20, key, err, errlen);
    if (IS("images", "answer_cache_kib")) return set_int(&c->answer_cache_kib, v, 0, 1 << 20, key, err, errlen);
    if (IS("images", "quota_default")) return set_int(&c->quota_default, v, 0, 100000, key, err, errlen);
    if (IS("images", "upload_lease_seconds")) return set_int(&c->upload_lease_seconds, v, 5, 86400, key, err, errlen);
    if (IS("import_filtering_opts", "allowed_schemes")) return STR(import_allowed_schemes);
    if (IS("import_filtering_opts", "disallowed_schemes")) return STR(import_disallowed_schemes);
    if (IS("import_filtering_opts", "allowed_hosts")) return STR(import_allowed_hosts);
    if (IS("import_filtering_opts", "disallowed_hosts")) return STR(import_disallowed_hosts);
    if (IS("import_filtering_opts", "allowed_ports"))
        return port_list(v, key, err, errlen) ? -1 : STR(import_allowed_ports);
    if (IS("import_filtering_opts", "disallowed_ports"))
        return port_list(v, key, err, errlen) ? -1 : STR(import_disallowed_ports);
    if (IS("import_filtering_opts", "allow_private_networks"))
        return set_bool(&c->import_allow_private_networks, v, key, err, errlen);
    if (IS("web_download", "max_size")) return set_int(&c->web_download_max_size, v, 0, INT64_MAX / 2, key, err, errlen);
    if (IS("web_download", "timeout")) return set_int(&c->web_download_timeout, v, 1, 7LL * 86400, key, err, errlen);
    if (IS("web_download", "max_redirects"))
        return set_int(&c->web_download_max_redirects, v, 0, 20, key, err, errlen);
    if (IS("jobs", "workers")) return set_uint(&c->job_workers, v, 256, key, err, errlen);
    if (IS("jobs", "retention_seconds")) return set_int(&c->job_retention_seconds, v, 0, 3660LL * 86400, key, err, errlen);
    if (IS("jobs", "lease_seconds")) return set_int(&c->job_lease_seconds, v, 1, 86400, key, err, errlen);
#undef IS
#undef STR
    snprintf(err, errlen, "unknown option [%s] %s", section, key);
    return -1;
}

struct ini_ctx {
    struct ims_config *cfg;
    char *err;
    size_t errlen;
    int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *ctx = user;
    if (ctx->failed)
        return 0;
    if (ims_settings_set(ctx->cfg, section, name, value, ctx->err, ctx->errlen)) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

int ims_settings_load(struct ims_config *cfg, const char *config_path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < ims_nsettings; i++)
        if (ims_settings_set(cfg, ims_settings[i].section, ims_settings[i].key, ims_settings[i].def, err, errlen))
            return -1;
    if (!config_path || !*config_path)
        config_path = getenv("IMSD_CONFIG");
    if (config_path && *config_path) {
        struct ini_ctx ctx = {.cfg = cfg, .err = err, .errlen = errlen};
        int line = ini_parse(config_path, on_ini, &ctx);
        if (ctx.failed) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%s: %s", config_path, err);
            snprintf(err, errlen, "%s", tmp);
            return -1;
        }
        if (line < 0) {
            snprintf(err, errlen, "cannot read config file %s", config_path);
            return -1;
        }
        if (line > 0) {
            snprintf(err, errlen, "%s:%d: syntax error", config_path, line);
            return -1;
        }
    }
    for (size_t i = 0; i < ims_nsettings; i++) {
        const char *v = ims_settings[i].env ? getenv(ims_settings[i].env) : NULL;
        if (v && ims_settings_set(cfg, ims_settings[i].section, ims_settings[i].key, v, err, errlen)) {
            char tmp[512];
            snprintf(tmp, sizeof(tmp), "%s: %s", ims_settings[i].env, err);
            snprintf(err, errlen, "%s", tmp);
            return -1;
        }
    }
    return 0;
}

void ims_settings_release(struct ims_config *c)
{
    free(c->listen);
    free(c->public_url);
    free(c->log_level);
    free(c->data_dir);
    free(c->file_store_dir);
    free(c->db_connection);
    free(c->store_backend);
    free(c->stores_enabled);
    free(c->stores_default);
    free(c->store_endpoint);
    free(c->store_region);
    free(c->store_bucket);
    free(c->store_access_key);
    free(c->store_secret_key);
    free(c->obs_backend);
    free(c->obs_dir);
    free(c->cache_dir);
    free(c->obs_endpoint);
    free(c->obs_region);
    free(c->obs_access_key);
    free(c->obs_secret_key);
    free(c->compute_backend);
    free(c->compute_uri);
    free(c->compute_default_project);
    free(c->region);
    free(c->admin_password);
    free(c->import_allowed_schemes);
    free(c->import_disallowed_schemes);
    free(c->import_allowed_hosts);
    free(c->import_disallowed_hosts);
    free(c->import_allowed_ports);
    free(c->import_disallowed_ports);
    memset(c, 0, sizeof(*c));
}

void ims_settings_print(const struct ims_config *c, FILE *out)
{
    char priority[8];
    if (c->deferred_priority >= 20)
        snprintf(priority, sizeof(priority), "idle");
    else
        snprintf(priority, sizeof(priority), "%u", c->deferred_priority);
    fprintf(out, "[server]\nlisten = %s\npublic_url = %s\nthreads = %u\nconnection_limit = %u\n"
                 "address_connection_limit = %u\nconnection_memory_kib = %lld\nconnection_timeout = %u\n"
                 "head_timeout = %u\nbody_timeout = %u\n"
                 "deferred_threads = %u\ndeferred_max = %u\ndeferred_priority = %s\nhandler_threads = %u\ndrain_timeout_ms = %u\nlog_level = %s\n\n",
            c->listen, c->public_url, c->http_threads, c->connection_limit, c->address_connection_limit,
            (long long)c->connection_memory_kib, c->connection_timeout, c->head_timeout, c->body_timeout,
            c->deferred_threads, c->deferred_max,
            priority, c->handler_threads, c->drain_timeout_ms,
            c->log_level);
    fprintf(out, "[storage]\ndata_dir = %s\ndirect_io = %s\nfile_dir = %s\nrecovery_grace_seconds = %lld\n\n",
            c->data_dir, c->direct_io ? "true" : "false", c->file_store_dir, (long long)c->recovery_grace_seconds);
    fprintf(out, "[cache]\ndirectory = %s\nmax_size = %lld\nfill_memory_mib = %lld\n\n", c->cache_dir,
            (long long)c->cache_max_size, (long long)c->cache_fill_memory_mib);
    fprintf(out, "[database]\nconnection = %s\ncache_kib = %lld\n\n", c->db_connection, (long long)c->db_cache_kib);
    fprintf(out, "[stores]\nenabled = %s\ndefault = %s\n\n", c->stores_enabled, c->stores_default);
    fprintf(out, "[store]\nbackend = %s\nendpoint = %s\nregion = %s\nbucket = %s\naccess_key = %s\nsecret_key = %s\n"
                 "part_size = %lld\nsingle_put_max = %lld\nmd5_from_etag = %s\nretry_attempts = %lld\n"
                 "retry_base_ms = %lld\nretry_max_delay_ms = %lld\nretry_total_seconds = %lld\nstall_seconds = %lld\n\n",
            c->store_backend, c->store_endpoint, c->store_region, c->store_bucket, c->store_access_key,
            c->store_secret_key && *c->store_secret_key ? "(set)" : "", (long long)c->store_part_size,
            (long long)c->store_single_put_max, c->store_md5_from_etag ? "auto" : "off",
            (long long)c->store_retry_attempts, (long long)c->store_retry_base_ms,
            (long long)c->store_retry_max_delay_ms, (long long)c->store_retry_total_seconds,
            (long long)c->store_stall_seconds);
    fprintf(out, "[obs]\nbackend = %s\ndir = %s\nendpoint = %s\nregion = %s\naccess_key = %s\nsecret_key = %s\n"
                 "part_size = %lld\nserver_copy_max = %lld\nretry_attempts = %lld\nretry_base_ms = %lld\n"
                 "retry_max_delay_ms = %lld\nretry_total_seconds = %lld\nstall_seconds = %lld\n\n",
            c->obs_backend, c->obs_dir, c->obs_endpoint, c->obs_region, c->obs_access_key,
            c->obs_secret_key && *c->obs_secret_key ? "(set)" : "", (long long)c->obs_part_size,
            (long long)c->obs_server_copy_max, (long long)c->obs_retry_attempts, (long long)c->obs_retry_base_ms,
            (long long)c->obs_retry_max_delay_ms, (long long)c->obs_retry_total_seconds,
            (long long)c->obs_stall_seconds);
    fprintf(out, "[compute]\nbackend = %s\nuri = %s\ndefault_project = %s\nbackup_stall_seconds = %lld\n\n",
            c->compute_backend, c->compute_uri, c->compute_default_project, (long long)c->compute_backup_stall_seconds);
    fprintf(out, "[identity]\nregion = %s\ntoken_ttl = %lld\nlockout_failures = %lld\nlockout_seconds = %lld\n"
                 "login_rate_per_address = %lld\nlogin_rate_per_user = %lld\nadmin_password = %s\ntoken_key = %s\n\n",
            c->region, (long long)c->token_ttl, (long long)c->lockout_failures, (long long)c->lockout_seconds,
            (long long)c->login_rate_per_address, (long long)c->login_rate_per_user,
            c->admin_password && *c->admin_password ? "(set)" : "", c->token_key_set ? "(set)" : "");
    fprintf(out, "[images]\nmax_image_size = %lld\nlist_limit_default = %lld\nlist_limit_max = %lld\n"
                 "show_image_direct_url = %s\nshow_multiple_locations = %s\nlocation_api = %s\n",
            (long long)c->max_image_size, (long long)c->list_limit_default, (long long)c->list_limit_max,
            c->show_image_direct_url ? "true" : "false", c->show_multiple_locations ? "true" : "false",
            c->location_api ? "true" : "false");
    fprintf(out, "quota_default = %lld\nupload_lease_seconds = %lld\ndocument_cache_kib = %lld\nanswer_cache_kib = %lld\n",
            (long long)c->quota_default, (long long)c->upload_lease_seconds, (long long)c->document_cache_kib,
            (long long)c->answer_cache_kib);
    fprintf(out, "\n[import_filtering_opts]\nallowed_schemes = %s\ndisallowed_schemes = %s\nallowed_hosts = %s\n"
                 "disallowed_hosts = %s\nallowed_ports = %s\ndisallowed_ports = %s\nallow_private_networks = %s\n",
            c->import_allowed_schemes, c->import_disallowed_schemes, c->import_allowed_hosts,
            c->import_disallowed_hosts, c->import_allowed_ports, c->import_disallowed_ports,
            c->import_allow_private_networks ? "true" : "false");
    fprintf(out, "\n[web_download]\nmax_size = %lld\ntimeout = %lld\nmax_redirects = %lld\n",
            (long long)c->web_download_max_size, (long long)c->web_download_timeout,
            (long long)c->web_download_max_redirects);
    fprintf(out, "\n[jobs]\nworkers = %u\nretention_seconds = %lld\nlease_seconds = %lld\n", c->job_workers,
            (long long)c->job_retention_seconds, (long long)c->job_lease_seconds);
}

void ims_settings_help(FILE *out)
{
    fprintf(out, "Configuration (INI file from --config or IMSD_CONFIG; environment overrides the file):\n");
    for (size_t i = 0; i < ims_nsettings; i++) {
        const struct ims_setting *s = &ims_settings[i];
        char key[64];
        snprintf(key, sizeof(key), "[%s] %s", s->section, s->key);
        fprintf(out, "  %-30s %-20s %s (default: %s)\n", key, s->env ? s->env : "", s->help,
                *s->def ? s->def : "none");
    }
}

int ims_listen_split(const char *listen, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= hostlen)
        return -1;
    int64_t p;
    if (!ims_parse_i64(colon + 1, 0, 65535, &p))
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    *port = (unsigned)p;
    return 0;
}
