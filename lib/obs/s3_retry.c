/* SPDX-License-Identifier: Apache-2.0
 * When the S3 client tries a request again, and how long it waits first
 * (pure: the caller brings the random bits and the clock, so the schedule
 * is unit-tested). Only failures that another attempt may not meet are
 * retried: the transport's, 500/502/503/504, 408 and 429, and the error
 * codes S3 gives for a busy or slow service. Any other 4xx is an answer. */
#include <string.h>

#include "obs-int.h"

bool ims_obs_s3_retry_status(long status, const char *code)
{
    static const char *const transient[] = {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"};
    for (size_t i = 0; code && i < IMS_ARRAY_SIZE(transient); i++)
        if (!strcmp(code, transient[i]))
            return true;
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* Equal jitter: half of the exponential step for sure, the other half
 * random, so concurrent clients spread out without any retrying at once. */
int64_t ims_obs_s3_retry_delay_ms(const struct ims_obs_s3_retry *p, unsigned failed, uint64_t random)
{
    int64_t step = p->base_ms > 0 ? p->base_ms : 1;
    for (unsigned i = 1; i < failed && step < p->max_delay_ms; i++)
        step *= 2;
    if (step > p->max_delay_ms)
        step = p->max_delay_ms;
    if (step < 1)
        step = 1;
    int64_t half = step / 2;
    return half + (int64_t)(random % (uint64_t)(step - half + 1));
}

bool ims_obs_s3_retry_allowed(const struct ims_obs_s3_retry *p, unsigned failed, int64_t elapsed_ms,
                              int64_t delay_ms)
{
    return failed < p->attempts && elapsed_ms + delay_ms <= p->total_ms;
}
