/* SPDX-License-Identifier: Apache-2.0
 * The ETag S3 gives an object made by CompleteMultipartUpload: the md5 of
 * the parts' md5s (each part's ETag, as bytes) in order, then "-" and the
 * number of parts (AWS; Swift's s3api alike). A put whose Complete answer
 * was lost compares it with the object's to know the object is its own
 * (pure; public for the unit tests). Also whether a single PUT's ETag
 * proves the md5 of its bytes (ims_obs_s3_etag_md5). */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "ims/obs.h"

bool ims_obs_s3_multipart_etag(const char (*etags)[IMS_OBS_ETAG_MAX], size_t n, char out[IMS_OBS_ETAG_MAX])
{
    if (n == 0)
        return false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestInit_ex(md, EVP_md5(), NULL);
    for (size_t i = 0; ok && i < n; i++) {
        const char *e = etags[i];
        size_t len = strnlen(e, IMS_OBS_ETAG_MAX);
        if (len >= 2 && e[0] == '"' && e[len - 1] == '"') /* as S3 sends it */
            e++, len -= 2;
        unsigned char part[16];
        /* a part's ETag that is no plain md5: a service of its own kind */
        ok = len == 32 && ims_hex_decode(e, len, part, sizeof(part)) == 16 && EVP_DigestUpdate(md, part, 16);
    }
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned sum_len = 0;
    ok = ok && EVP_DigestFinal_ex(md, sum, &sum_len) && sum_len == 16;
    EVP_MD_CTX_free(md);
    char hex[33];
    if (!ok || ims_hex_encode(sum, 16, hex, sizeof(hex)) != 32)
        return false;
    snprintf(out, IMS_OBS_ETAG_MAX, "%s-%zu", hex, n);
    return true;
}

bool ims_obs_s3_etag_md5(const struct ims_obs_put_answer *a, const char *probe_sse, char md5[33])
{
    unsigned char raw[16];
    if (strlen(a->etag) != 32 || ims_hex_decode(a->etag, 32, raw, sizeof(raw)) != 16)
        return false; /* a multipart ETag ("-N"), another service's kind, or none */
    /* SSE-KMS and SSE-C objects have ETags that are no md5, whatever the probe saw */
    if (strcmp(a->sse, probe_sse) != 0 || strstr(a->sse, "aws:kms") || strstr(a->sse, "customer-"))
        return false;
    ims_hex_encode(raw, 16, md5, 33);
    return true;
}
