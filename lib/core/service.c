/* SPDX-License-Identifier: Apache-2.0
 * Opening a data dir over the backends src/ chose: token key, metadata
 * repository, blob stores, and the
 * crash recovery that makes "no image stuck in saving, no orphaned data"
 * true after any stop. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/glance_import.h"
#include "ims/iam_admin.h"
#include "ims/identity.h"
#include "ims/service.h"
#include "ims/store.h"

static enum ims_rc load_token_key(const char *dir, unsigned char key[IMS_TOKEN_KEY_LEN], struct ims_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/token.key", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, key, IMS_TOKEN_KEY_LEN);
        close(fd);
        if (n != IMS_TOKEN_KEY_LEN)
            return ims_fail(err, IMS_E_IO, "%s is damaged (expected %d bytes)", path, IMS_TOKEN_KEY_LEN);
        return IMS_OK;
    }
    if (errno != ENOENT)
        return ims_fail(err, IMS_E_IO, "cannot read %s: %s", path, strerror(errno));
    ims_random_bytes(key, IMS_TOKEN_KEY_LEN);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ims_fail(err, IMS_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    bool ok = write(fd, key, IMS_TOKEN_KEY_LEN) == IMS_TOKEN_KEY_LEN && fsync(fd) == 0;
    close(fd);
    /* link() rather than rename(): if two processes initialise at once,
     * exactly one key wins and the loser reads it. */
    if (!ok || (link(tmp, path) != 0 && errno != EEXIST)) {
        unlink(tmp);
        return ims_fail(err, IMS_E_IO, "cannot write %s: %s", path, strerror(errno));
    }
    unlink(tmp);
    return load_token_key(dir, key, err);
}

/* The store's recovery asks about the old blobs it finds a batch at a
 * time: one query per batch (on PostgreSQL a round trip per blob was the
 * sweep's cost). Counted for the log line. */
_Static_assert(IMS_BLOB_KNOWN_BATCH <= IMS_REPO_BLOBS_KNOWN_MAX, "a batch is one query");

struct known_ctx {
    struct ims_dbc *c;
    int64_t queries, looked_up;
};

static void blobs_known(void *ctx, const char *const *locations, size_t n, bool *ret)
{
    struct known_ctx *k = ctx;
    struct ims_err err;
    k->queries++;
    k->looked_up += (int64_t)n;
    if (ims_repo_blobs_known(k->c, locations, n, ret, &err) != IMS_OK) {
        ims_warn("recovery: could not look up %zu blob(s): %s (kept)", n, err.msg);
        for (size_t i = 0; i < n; i++)
            ret[i] = true;
    }
}

static enum ims_rc recover(struct ims_service *svc, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    int64_t reset = 0, temp = 0, orphans = 0;
    enum ims_rc rc = ims_repo_uploads_recover(c, ims_now(), &reset, err);
    if (rc != IMS_OK)
        return rc;
    struct known_ctx k = {.c = c};
    const struct ims_blob_known known = {blobs_known, &k};
    rc = svc->store->ops->recover(svc->store, &known, svc->cfg->recovery_grace_seconds, &temp, &orphans, err);
    if (k.looked_up)
        ims_info("recovery: %lld blob(s) older than the grace looked up in %lld quer%s", (long long)k.looked_up,
                 (long long)k.queries, k.queries == 1 ? "y" : "ies");
    if (rc == IMS_OK) {
        ims_blobs_unclaim_gone_writers(svc);
        orphans += ims_blobs_collect(svc);
    }
    if (rc == IMS_OK)
        temp += ims_staging_sweep_local(svc);
    if (reset || temp || orphans)
        ims_info("recovery: %lld interrupted upload(s) back to queued, %lld temporary file(s) and %lld orphaned "
                 "blob(s) removed",
                 (long long)reset, (long long)temp, (long long)orphans);
    return rc;
}

enum ims_rc ims_service_open(const struct ims_config *cfg, const struct ims_backends *be, struct ims_service **ret,
                             struct ims_err *err)
{
    if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST)
        return ims_fail(err, IMS_E_IO, "cannot create data dir %s: %s", cfg->data_dir, strerror(errno));
    struct ims_service *svc = ims_xcalloc(1, sizeof(*svc));
    svc->cfg = cfg;
    svc->login_guard = ims_login_guard_new();
    svc->digest_reads = ims_digest_reads_new();
    svc->backends = be;
    _Static_assert(sizeof(cfg->token_key) == IMS_TOKEN_KEY_LEN, "one key length");
    enum ims_rc rc = IMS_OK;
    if (cfg->token_key_set)
        memcpy(svc->token_key, cfg->token_key, IMS_TOKEN_KEY_LEN);
    else
        rc = load_token_key(cfg->data_dir, svc->token_key, err);
    if (rc == IMS_OK)
        rc = ims_db_open(be->sql, be->sql_dsn, &svc->db, err);
    if (rc == IMS_OK)
        rc = ims_store_router_open(be->stores, be->nstores, &svc->store, err);
    if (rc == IMS_OK && be->compute && be->compute->ops->attach)
        rc = be->compute->ops->attach(be->compute, svc->db, err);
    if (rc == IMS_OK)
        rc = ims_iam_ensure_system_policies(svc, err);
    if (rc == IMS_OK)
        rc = recover(svc, err);
    if (rc == IMS_OK)
        rc = ims_upload_leases_start(svc, &svc->upload_leases, err);
    if (rc == IMS_OK && cfg->cache_max_size > 0) {
        char *dir = cfg->cache_dir && *cfg->cache_dir ? ims_xstrdup(cfg->cache_dir)
                                                       : ims_xasprintf("%s/cache", cfg->data_dir);
        ims_cache_fillers_budget((long)cfg->cache_fill_memory_mib);
        rc = ims_image_cache_open(dir, (uint64_t)cfg->cache_max_size, &svc->cache, err);
        free(dir);
    }
    if (rc == IMS_OK && svc->cache && cfg->cache_prefetch)
        rc = ims_cache_prefetcher_start(svc, &svc->prefetcher, err);
    if (rc != IMS_OK) {
        ims_service_close(svc);
        return rc;
    }
    *ret = svc;
    return IMS_OK;
}

void ims_service_close(struct ims_service *svc)
{
    if (!svc)
        return;
    ims_ticker_stop(svc->prefetcher);
    ims_ticker_stop(svc->upload_leases);
    ims_digest_reads_stop(svc->digest_reads); /* they read the store and write the repository */
    ims_image_cache_close(svc->cache);
    if (svc->store)
        svc->store->ops->close(svc->store);
    ims_db_close(svc->db);
    ims_login_guard_free(svc->login_guard);
    free(svc);
}

enum ims_rc ims_account_admin_create(struct ims_service *svc, const char *domain_id, const char *password,
                                     const char *admin_project_id, char **ret_user_id, struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    char *user_id = NULL, *group_id = NULL;
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_identity_create_user(svc, domain_id, IMS_ADMIN_USER, password, admin_project_id,
                                  admin_project_id ? "admin" : NULL, true, NULL, &user_id, err);
    /* The account's admin group holds Tenant Administrator everywhere in it. */
    if (rc == IMS_OK)
        rc = ims_iam_create_group(svc, domain_id, "admin", "Account administrators", &group_id, err);
    if (rc == IMS_OK)
        rc = ims_iam_add_user_to_group(svc, domain_id, group_id, user_id, err);
    if (rc == IMS_OK)
        rc = ims_iam_grant(svc, domain_id, group_id, "Tenant Administrator", IMS_SCOPE_ALL_PROJECTS, NULL, false, err);
    if (rc == IMS_OK)
        rc = ims_iam_grant(svc, domain_id, group_id, "Tenant Administrator", IMS_SCOPE_DOMAIN, NULL, false, err);
    free(group_id);
    if (rc != IMS_OK) {
        free(user_id);
        ims_db_rollback(c);
        return rc;
    }
    if ((rc = ims_db_commit(c, err)) != IMS_OK) {
        free(user_id);
        return rc;
    }
    *ret_user_id = user_id;
    return IMS_OK;
}

enum ims_rc ims_service_bootstrap(struct ims_service *svc, const char *password, char **ret_password,
                                  struct ims_err *err)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    *ret_password = NULL;
    struct ims_user existing;
    enum ims_rc rc = ims_repo_user_get(c, NULL, IMS_DEFAULT_DOMAIN_ID, IMS_ADMIN_USER, &existing, err);
    if (rc == IMS_OK) {
        ims_user_release(&existing);
        return IMS_OK;
    }
    if (rc != IMS_E_NOTFOUND)
        return rc;
    char generated[33];
    if (!password || !*password) {
        ims_hexid_new(generated, 12);
        password = generated;
    }
    if ((rc = ims_db_begin(c, err)) != IMS_OK)
        return rc;
    /* Asked again in the write transaction: another process on the database
     * (a node starting beside this one) may have made the account since. */
    rc = ims_repo_user_get(c, NULL, IMS_DEFAULT_DOMAIN_ID, IMS_ADMIN_USER, &existing, err);
    if (rc == IMS_OK) {
        ims_user_release(&existing);
        return ims_db_end(c, IMS_OK, err);
    }
    if (rc != IMS_E_NOTFOUND) {
        ims_db_rollback(c);
        return rc;
    }
    struct ims_domain d = {.id = IMS_DEFAULT_DOMAIN_ID, .name = IMS_DEFAULT_DOMAIN_NAME, .enabled = true};
    struct ims_domain have;
    rc = ims_repo_domain_get(c, IMS_DEFAULT_DOMAIN_ID, NULL, &have, err);
    if (rc == IMS_OK)
        ims_domain_release(&have);
    else if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_domain_insert(c, &d, err);
    char *project_id = NULL, *user_id = NULL;
    struct ims_project proj;
    if (rc == IMS_OK) {
        rc = ims_repo_project_get(c, NULL, IMS_DEFAULT_DOMAIN_ID, IMS_ADMIN_PROJECT, &proj, err);
        if (rc == IMS_OK) {
            project_id = ims_xstrdup(proj.id);
            ims_project_release(&proj);
        } else if (rc == IMS_E_NOTFOUND) {
            rc = ims_identity_create_project(svc, IMS_DEFAULT_DOMAIN_ID, IMS_ADMIN_PROJECT, &project_id, err);
        }
    }
    /* The cloud admin: root of Default, and Glance admin through the "admin"
     * role on the admin project. */
    if (rc == IMS_OK)
        rc = ims_account_admin_create(svc, IMS_DEFAULT_DOMAIN_ID, password, project_id, &user_id, err);
    free(project_id);
    free(user_id);
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    if ((rc = ims_db_commit(c, err)) != IMS_OK)
        return rc;
    *ret_password = ims_xstrdup(password);
    return IMS_OK;
}
