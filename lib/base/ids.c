/* SPDX-License-Identifier: Apache-2.0
 * Random ids from the kernel's CSPRNG. */
#include "ims/base.h"

#include <string.h>
#include <sys/random.h>

static void fill_random(unsigned char *q, size_t n)
{
    while (n) {
        ssize_t r = getrandom(q, n, 0);
        if (r < 0)
            abort(); /* only EINTR/ENOSYS are possible; neither is recoverable here */
        q += r;
        n -= (size_t)r;
    }
}

/* Small requests (request ids, uuids) come from a per-thread pool of
 * getrandom() output: one system call per 4 KiB instead of one per request,
 * which on this VM showed in a request's profile. Bytes handed out are
 * wiped from the pool; nothing is ever handed out twice. */
#define POOL_BYTES 4096
static __thread unsigned char pool[POOL_BYTES];
static __thread size_t pool_used = POOL_BYTES;

void ims_random_bytes(void *p, size_t n)
{
    if (n > 64) {
        fill_random(p, n);
        return;
    }
    if (POOL_BYTES - pool_used < n) {
        fill_random(pool, POOL_BYTES);
        pool_used = 0;
    }
    memcpy(p, pool + pool_used, n);
    memset(pool + pool_used, 0, n);
    pool_used += n;
}

void ims_uuid_new(char out[IMS_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    ims_random_bytes(r, sizeof(r));
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[r[i] >> 4];
        *o++ = hex[r[i] & 15];
    }
    *o = 0;
}

bool ims_uuid_valid(const char *s)
{
    if (!s || strlen(s) != IMS_UUID_LEN)
        return false;
    for (int i = 0; i < IMS_UUID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

void ims_hexid_fill(char *out, size_t outcap, size_t nbytes)
{
    unsigned char r[64];
    if (nbytes > sizeof(r))
        abort();
    ims_random_bytes(r, nbytes);
    if (ims_hex_encode(r, nbytes, out, outcap) < 0)
        abort();
}

bool ims_project_id_valid(const char *s)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= IMS_PROJECT_ID_LEN || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == IMS_PROJECT_ID_LEN;
}
