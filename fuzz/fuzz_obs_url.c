/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: "bucket:object" parsing and the name checks. Invariants an
 * object store relies on: an accepted name splits the input exactly, both
 * halves pass their own checks, no accepted key has a ".." or "." segment
 * or a leading '/', and nothing is written past the output capacities. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/obs.h"

static void check_key_shape(const char *k)
{
    if (k[0] == '/' || strstr(k, "//") || !strcmp(k, "..") || !strncmp(k, "../", 3) || strstr(k, "/../") ||
        (strlen(k) >= 3 && !strcmp(k + strlen(k) - 3, "/..")))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *url = (const char *)data;
    /* capacities from exact to generous; the guard bytes must survive */
    static const size_t caps[] = {4, 16, IMS_OBS_BUCKET_MAX + 1};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        char bucket[IMS_OBS_BUCKET_MAX + 2], key[IMS_OBS_KEY_MAX + 2];
        memset(bucket, 0x5a, sizeof(bucket));
        memset(key, 0x5a, sizeof(key));
        size_t kcap = caps[i] == 4 ? 8 : IMS_OBS_KEY_MAX + 1;
        enum ims_obs_name_rc rc = ims_obs_url_parse(url, size, bucket, caps[i], key, kcap);
        if (bucket[caps[i]] != 0x5a || key[kcap] != 0x5a)
            abort();
        if (rc != IMS_OBS_NAME_OK)
            continue;
        size_t bl = strlen(bucket), kl = strlen(key);
        if (bl + 1 + kl != size || memcmp(url, bucket, bl) || url[bl] != ':' || memcmp(url + bl + 1, key, kl))
            abort();
        if (ims_obs_bucket_check(bucket) != IMS_OBS_NAME_OK || ims_obs_key_check(key) != IMS_OBS_NAME_OK)
            abort();
        check_key_shape(key);
    }
    /* the checks alone, on the input as one string */
    char *s = ims_xstrndup(url, size);
    if (ims_obs_key_check(s) == IMS_OBS_NAME_OK)
        check_key_shape(s);
    if (ims_obs_bucket_check(s) == IMS_OBS_NAME_OK && (strlen(s) < 3 || strlen(s) > 63 || strchr(s, '/')))
        abort();
    free(s);
    return 0;
}
