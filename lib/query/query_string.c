/* SPDX-License-Identifier: Apache-2.0
 * Splits a raw URL query string into decoded key/value pairs, in order and
 * with repeats kept, the way webob hands request.params to Glance
 * (application/x-www-form-urlencoded: '+' is a space, blank values kept).
 * Malformed percent escapes, %00, control characters and invalid UTF-8 are
 * refused rather than passed through, so nothing downstream ever sees a
 * truncated C string or stores text it cannot echo. */
#include "ims/query.h"

#include <string.h>

enum ims_rc ims_query_string_parse(const char *qs, size_t max_params, struct ims_kvlist *ret, struct ims_err *err)
{
    struct ims_kvlist out = {0};
    const char *p = qs ? qs : "";

    while (*p) {
        size_t len = strcspn(p, "&");
        if (len == 0) { /* "a=1&&b=2": empty pairs are skipped, as by parse_qsl */
            p++;
            continue;
        }
        if (out.n == max_params) {
            ims_kvlist_release(&out);
            return ims_fail(err, IMS_E_BADREQ, "Too many query parameters (at most %zu)", max_params);
        }
        _cleanup_free_ char *pair = ims_xstrndup(p, len);
        char *eq = strchr(pair, '=');
        char *value = eq ? eq + 1 : pair + len;
        if (eq)
            *eq = 0;
        if (!ims_url_decode(pair, true) || !ims_url_decode(value, true)) {
            size_t index = out.n + 1;
            ims_kvlist_release(&out);
            /* Not echoed: the raw bytes are what failed the check. */
            return ims_fail(err, IMS_E_BADREQ,
                            "Query parameter %zu is not valid text (bad percent-encoding, NUL, control character "
                            "or invalid UTF-8).",
                            index);
        }
        ims_kvlist_add(&out, pair, value);
        p += len;
        if (*p == '&')
            p++;
    }
    *ret = out;
    return IMS_OK;
}
