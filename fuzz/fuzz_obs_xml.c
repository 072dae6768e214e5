/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the XML an S3 service answers with (a hostile or broken
 * server controls it). Invariants: listings hold at most IMS_OBS_LIST_MAX
 * entries whose keys pass ims_obs_key_check, a truncated listing has a
 * token, every value is valid text within its capacity. The parts' ETags
 * of a multipart upload come from the server too: any bytes as ETags give
 * a multipart ETag of 32 hex digits and "-N", or none. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/obs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    struct ims_obs_listing l;
    struct ims_err e = {0};
    if (ims_obs_s3_parse_list(xml, size, &l, &e) == IMS_OBS_OK) {
        if (l.n > IMS_OBS_LIST_MAX || (l.truncated && (!l.next || !*l.next)) || (!l.truncated && l.next))
            abort();
        for (size_t i = 0; i < l.n; i++)
            if (ims_obs_key_check(l.items[i].key) != IMS_OBS_NAME_OK)
                abort();
        if (l.next && !ims_text_valid(l.next))
            abort();
        ims_obs_listing_release(&l);
    }
    char code[8], msg[32];
    memset(code, 0x5a, sizeof(code));
    memset(msg, 0x5a, sizeof(msg));
    if (ims_obs_s3_parse_error(xml, size, code, sizeof(code) - 1, msg, sizeof(msg) - 1)) {
        if (code[sizeof(code) - 1] != 0x5a || msg[sizeof(msg) - 1] != 0x5a || !ims_text_valid(code) ||
            !ims_text_valid(msg))
            abort();
    }
    char v[5];
    if (ims_obs_s3_xml_value(xml, size, "UploadId", v, sizeof(v)) && (strlen(v) >= sizeof(v) || !ims_text_valid(v)))
        abort();
    char etags[3][IMS_OBS_ETAG_MAX] = {{0}}, want[IMS_OBS_ETAG_MAX];
    for (size_t i = 0; i < 3 && i * (IMS_OBS_ETAG_MAX - 1) < size; i++) {
        size_t n = size - i * (IMS_OBS_ETAG_MAX - 1);
        memcpy(etags[i], data + i * (IMS_OBS_ETAG_MAX - 1), n < IMS_OBS_ETAG_MAX - 1 ? n : IMS_OBS_ETAG_MAX - 1);
    }
    for (size_t n = 1; n <= 3; n++) {
        if (!ims_obs_s3_multipart_etag((const char(*)[IMS_OBS_ETAG_MAX])etags, n, want))
            continue;
        if (strlen(want) != 34 || want[32] != '-' || want[33] != (char)('0' + n) ||
            strspn(want, "0123456789abcdef") != 32)
            abort();
    }
    return 0;
}
