/* SPDX-License-Identifier: Apache-2.0
 * S3-compatible object storage (placeholder until the libcurl client lands). */
#include "obs-int.h"

enum ims_obs_rc ims_obs_s3_open(const struct ims_obs_s3_config *cfg, struct ims_obs **ret, struct ims_err *err)
{
    (void)cfg, (void)ret;
    return ims_obs_fail(err, IMS_OBS_UNSUPPORTED, "the s3 backend is not built yet");
}
