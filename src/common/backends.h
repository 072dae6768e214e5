/* SPDX-License-Identifier: Apache-2.0
 * The choice of backends: which SQL engine and which blob stores the
 * programs run the service on, from the configuration. */
#ifndef IMS_SRC_BACKENDS_H
#define IMS_SRC_BACKENDS_H

#include <stddef.h>

#include "ims/backends.h"
#include "ims/config.h"

/* Fills b from cfg: the engine named by the scheme of [database]
 * connection (sqlite://PATH, postgresql://URI or a plain path; empty:
 * <data_dir>/imsd.db) and
 * the file store in [storage] file_dir (empty: the data dir) or [store]
 * backend's S3 store before it, or the stores [stores] enabled names (the
 * default first, that file store behind them), and the object storage,
 * opened.
 * Returns 0, or -1 with a message in err. */
int ims_backends_open(const struct ims_config *cfg, struct ims_backends *b, char *err, size_t errlen);
/* The SQL engine and its DSN for a connection string (sqlite://PATH,
 * postgresql://URI, a plain path; empty: <data_dir>/imsd.db). *ret_dsn is
 * the caller's. Returns 0, or -1 with a message in err. */
int ims_backends_sql(const char *conn, const char *data_dir, const struct ims_sql_ops **ret_ops, char **ret_dsn,
                     char *err, size_t errlen);
/* Opens the object storage [obs] names: embedded (in [obs] dir, default
 * <data_dir>/obs) or s3. For imsctl's obs commands, which need nothing
 * else. Returns 0, or -1 with a message in err. */
int ims_backends_open_obs(const struct ims_config *cfg, struct ims_obs **ret, char *err, size_t errlen);
/* Closes what ims_backends_open opened (after ims_service_close). */
void ims_backends_close(struct ims_backends *b);

#endif
