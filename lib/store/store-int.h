/* SPDX-License-Identifier: Apache-2.0
 * Shared by the store implementations. */
#ifndef IMS_STORE_INT_H
#define IMS_STORE_INT_H

#include "ims/store.h"

/* A reader of [0, size) of fd, opened with O_DIRECT; it owns fd. */
void ims_direct_reader_new(int fd, uint64_t size, struct ims_blob_reader *ret);

#endif
