/* SPDX-License-Identifier: Apache-2.0
 * core: the service handle, independent of HTTP: opening a data dir over
 * the backends src/ chose, and the first account. The service's operations
 * have a header per area (identity.h, iam_admin.h, authz.h, images.h,
 * upload.h, members.h, image_tags.h, copy.h, quotas.h); this one holds
 * only what every area shares. */
#ifndef IMS_SERVICE_H
#define IMS_SERVICE_H

#include "ims/auth.h"
#include "ims/base.h"

struct ims_backends;
struct ims_config;
struct ims_db;
struct ims_store;
struct ims_login_guard;
struct ims_ticker;
struct ims_image_cache;

struct ims_service {
    const struct ims_config *cfg;
    const struct ims_backends *backends;
    struct ims_db *db;
    struct ims_store *store; /* every configured store (ims_store_router_open) */
    unsigned char token_key[IMS_TOKEN_KEY_LEN];
    struct ims_login_guard *login_guard; /* login rate limits (lib/core/login_guard.c) */
    struct ims_ticker *upload_leases; /* renews this process's upload leases (upload_leases.c) */
    struct ims_image_cache *cache;          /* this node's image cache; NULL when off (image_cache.c) */
    struct ims_ticker *prefetcher;          /* fills queued images (cache_fill.c); imsd only */
    struct ims_digest_reads *digest_reads;  /* locations' digests read in the background (digest_reads.c) */
};

/* Opens the data dir (token key) and the repository and stores named by be
 * (cfg and be must outlive the service), runs migrations and crash
 * recovery. */
enum ims_rc ims_service_open(const struct ims_config *cfg, const struct ims_backends *be, struct ims_service **ret,
                             struct ims_err *err);
void ims_service_close(struct ims_service *svc);
/* Tests (IMSD_TEST_CACHE_WRITE_DELAY_MS): each cache filler waits ms
 * before writing each block, so a download outruns it (cache_filler.c). */
void ims_cache_filler_test_delay(int ms);

#define IMS_DEFAULT_DOMAIN_ID "default"
#define IMS_DEFAULT_DOMAIN_NAME "Default"
#define IMS_ADMIN_PROJECT "admin"
#define IMS_ADMIN_USER "admin"

/* Creates domain Default, project admin and user admin (role admin) if
 * missing. With password NULL one is generated; *ret_password (owned) is
 * set only when the admin was created now. */
enum ims_rc ims_service_bootstrap(struct ims_service *svc, const char *password, char **ret_password,
                                  struct ims_err *err);

/* Creates an account's root user "admin" (with the "admin" role on
 * admin_project_id if given) and its "admin" group holding Tenant
 * Administrator on all projects and on the domain. */
enum ims_rc ims_account_admin_create(struct ims_service *svc, const char *domain_id, const char *password,
                                     const char *admin_project_id, char **ret_user_id, struct ims_err *err);

#endif
