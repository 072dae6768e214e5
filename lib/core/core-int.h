/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the files of lib/core. */
#ifndef IMS_CORE_INT_H
#define IMS_CORE_INT_H

#include "ims/base.h"

/* md5 and sha512 of a stream, computed in parallel: md5 on the caller's
 * thread, sha512 on a thread of the pipe's own fed through a small ring of
 * copied blocks (4 x 1 MiB, so memory stays flat). One after the other they
 * were the upload's bottleneck on the event-loop thread. */
struct ims_hash_pipe;
struct ims_hash_pipe *ims_hash_pipe_new(void);
/* Blocks only while the ring is full. False on a digest failure. */
bool ims_hash_pipe_update(struct ims_hash_pipe *h, const void *p, size_t n);
/* Waits for the sha512 thread; hex digests out. Call once. */
bool ims_hash_pipe_final(struct ims_hash_pipe *h, char md5_hex[33], char sha512_hex[129]);
/* Stops the thread (if still running) and frees. NULL-safe. */
void ims_hash_pipe_free(struct ims_hash_pipe *h);

#endif
