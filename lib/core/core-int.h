/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the files of lib/core. */
#ifndef IMS_CORE_INT_H
#define IMS_CORE_INT_H

#include "ims/base.h"

/* The upload's data pipe: md5 and sha512 of a stream and its delivery to
 * a sink (the store's write), off the caller's thread. The caller only
 * copies into a ring of 8 x 1 MiB blocks (memory stays flat);
 * one thread of the pipe computes md5, one sha512, one hands each block to
 * the sink, in order. On the event-loop thread, md5 and the write were the
 * upload's bottleneck. */
/* ---- login rate limits (login_guard.c) ---- */
struct ims_config;
struct ims_login_guard;
struct ims_login_guard *ims_login_guard_new(void);
void ims_login_guard_free(struct ims_login_guard *g);
/* May a login for user (an id, or the name as given; NULL: not known yet)
 * from source start now? IMS_E_TOOMANY with err->retry_after otherwise.
 * Draws one attempt from the address's bucket. */
enum ims_rc ims_login_guard_admit(struct ims_login_guard *g, const struct ims_config *cfg, const char *user,
                                  const char *source, struct ims_err *err);
/* Records the outcome: a failure draws from the user's bucket, a success
 * trusts the (user, source) pair. */
void ims_login_guard_result(struct ims_login_guard *g, const struct ims_config *cfg, const char *user,
                            const char *source, bool success);

typedef enum ims_rc (*ims_pipe_sink)(void *ctx, const void *p, size_t n, struct ims_err *err);
struct ims_hash_pipe;
/* sink may be NULL (digests only). NULL if threads cannot start. */
struct ims_hash_pipe *ims_hash_pipe_new(ims_pipe_sink sink, void *sink_ctx);
/* Blocks only while the ring is full. False once a digest or the sink
 * failed (ims_hash_pipe_error says why); the data is then discarded. */
bool ims_hash_pipe_update(struct ims_hash_pipe *h, const void *p, size_t n);
/* Waits until every block is hashed and delivered; hex digests out. Call once. */
bool ims_hash_pipe_final(struct ims_hash_pipe *h, char md5_hex[33], char sha512_hex[129]);
/* Why the pipe failed (its ims_rc and message); IMS_OK if it did not. */
enum ims_rc ims_hash_pipe_error(struct ims_hash_pipe *h, struct ims_err *err);
/* Stops the threads (if still running) and frees. NULL-safe. */
void ims_hash_pipe_free(struct ims_hash_pipe *h);

#endif
