/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the files of lib/http. */
#ifndef IMS_HTTP_INT_H
#define IMS_HTTP_INT_H

#include "ims/http.h"
#include "ims/query.h"

#endif
