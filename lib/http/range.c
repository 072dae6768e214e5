/* SPDX-License-Identifier: Apache-2.0
 * HTTP Range header parsing (RFC 9110 §14.1.2), one range. Pure. */
#include <string.h>

#include "http-int.h"

static bool parse_u64(const char *s, size_t n, uint64_t *ret)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *ret = v;
    return true;
}

enum ims_rc ims_range_parse(const char *header, uint64_t size, uint64_t *ret_first, uint64_t *ret_last)
{
    if (!header || strncmp(header, "bytes=", 6) != 0)
        return IMS_E_NOTFOUND;
    const char *spec = header + 6;
    while (*spec == ' ')
        spec++;
    size_t len = strlen(spec);
    while (len && spec[len - 1] == ' ')
        len--;
    if (memchr(spec, ',', len))
        return IMS_E_NOTFOUND;
    const char *dash = memchr(spec, '-', len);
    if (!dash)
        return IMS_E_NOTFOUND;
    size_t left = (size_t)(dash - spec), right = len - left - 1;
    uint64_t first, last;
    if (left == 0) { /* suffix: the last n bytes */
        uint64_t n;
        if (!parse_u64(dash + 1, right, &n))
            return IMS_E_NOTFOUND;
        if (n == 0 || size == 0)
            return IMS_E_RANGE;
        first = n >= size ? 0 : size - n;
        last = size - 1;
    } else {
        if (!parse_u64(spec, left, &first))
            return IMS_E_NOTFOUND;
        if (right == 0) {
            last = size ? size - 1 : 0;
        } else {
            if (!parse_u64(dash + 1, right, &last) || last < first)
                return IMS_E_NOTFOUND;
            if (size && last >= size)
                last = size - 1;
        }
        if (first >= size)
            return IMS_E_RANGE;
    }
    *ret_first = first;
    *ret_last = last;
    return IMS_OK;
}
