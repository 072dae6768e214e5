/* SPDX-License-Identifier: Apache-2.0
 * Shared by the store implementations. */
#ifndef IMS_STORE_INT_H
#define IMS_STORE_INT_H

#include "ims/store.h"

#endif
