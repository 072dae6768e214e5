/* SPDX-License-Identifier: Apache-2.0
 * The probe behind [store] md5_from_etag (obs.h): one small object PUT the
 * way the S3 store's writer PUTs an image, its ETag compared with the md5
 * of its bytes, then removed. S3 documents a single PUT's ETag as the md5
 * of the data except under SSE-KMS and SSE-C, and services of other kinds
 * (MinIO with encryption, gateways) give other ETags: only what the probe
 * shows on this service is believed. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "obs-int.h"

#define PROBE_BYTES (64 * 1024)

enum ims_obs_rc ims_obs_s3_probe_etag_md5(struct ims_obs *o, const char *bucket, const char *key,
                                          char ret_sse[IMS_OBS_SSE_MAX], struct ims_err *err)
{
    unsigned char *data = ims_xmalloc(PROBE_BYTES), raw[EVP_MAX_MD_SIZE];
    ims_random_bytes(data, PROBE_BYTES);
    unsigned raw_len = 0;
    char want[33] = "", got[33] = "";
    if (EVP_Digest(data, PROBE_BYTES, raw, &raw_len, EVP_md5(), NULL) && raw_len == 16)
        ims_hex_encode(raw, 16, want, sizeof(want));
    struct ims_obs_upload *up = NULL;
    struct ims_obs_put_answer a = {0};
    enum ims_obs_rc rc = ims_obs_s3_upload_open_sized(o, bucket, key, PROBE_BYTES, &up, err);
    if (!rc && (rc = ims_obs_s3_upload_write(up, data, PROBE_BYTES, err)) != IMS_OBS_OK)
        ims_obs_s3_upload_abort(up);
    else if (!rc)
        rc = ims_obs_s3_upload_finish(up, &a, err);
    free(data);
    if (rc) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        return ims_obs_fail(err, rc, "the probe PUT failed: %s", why);
    }
    struct ims_err e = {0};
    if (ims_obs_remove(o, bucket, key, &e) != IMS_OBS_OK)
        ims_warn("S3: cannot remove the probe object %s:%s: %s", bucket, key, e.msg);
    if (!want[0] || !ims_obs_s3_etag_md5(&a, a.sse, got) || strcmp(got, want) != 0)
        return ims_obs_fail(err, IMS_OBS_IO, "the probe's ETag '%s' (encryption headers '%s') is not the md5 of its "
                            "data, %s", a.etag, a.sse, want);
    snprintf(ret_sse, IMS_OBS_SSE_MAX, "%s", a.sse);
    return IMS_OBS_OK;
}
