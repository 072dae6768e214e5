/* SPDX-License-Identifier: Apache-2.0
 * The parallel md5+sha512 pipe gives the one-shot digests whatever the
 * chunking: empty input, one byte, exact block multiples, odd chunks, and
 * more data than the ring holds at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <string.h>

#include "../../lib/core/core-int.h"

static void expect(const unsigned char *data, size_t n, size_t chunk)
{
    unsigned char md5[16], sha[64];
    unsigned int len;
    char want_md5[33], want_sha[129], got_md5[33], got_sha[129];
    EVP_Digest(data, n, md5, &len, EVP_md5(), NULL);
    EVP_Digest(data, n, sha, &len, EVP_sha512(), NULL);
    ims_hex_encode(md5, 16, want_md5);
    ims_hex_encode(sha, 64, want_sha);
    struct ims_hash_pipe *h = ims_hash_pipe_new();
    assert_non_null(h);
    for (size_t off = 0; off < n; off += chunk)
        assert_true(ims_hash_pipe_update(h, data + off, off + chunk <= n ? chunk : n - off));
    assert_true(ims_hash_pipe_final(h, got_md5, got_sha));
    ims_hash_pipe_free(h);
    assert_string_equal(got_md5, want_md5);
    assert_string_equal(got_sha, want_sha);
}

static void test_chunkings(void **state)
{
    size_t n = 9 * 1024 * 1024 + 12345; /* > the 4 MiB ring, not a block multiple */
    unsigned char *data = ims_xmalloc(n);
    ims_random_bytes(data, n);
    expect(data, 0, 1);
    expect(data, 1, 1);
    expect(data, 1024 * 1024, 1024 * 1024);
    expect(data, 4 * 1024 * 1024, 65536);
    expect(data, n, 32768);
    expect(data, n, 1000003);
    expect(data, n, n);
    free(data);
}

static void test_free_without_final(void **state)
{
    struct ims_hash_pipe *h = ims_hash_pipe_new();
    static unsigned char buf[3 * 1024 * 1024];
    assert_true(ims_hash_pipe_update(h, buf, sizeof(buf)));
    ims_hash_pipe_free(h); /* an aborted upload: the thread must stop */
    ims_hash_pipe_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunkings),
        cmocka_unit_test(test_free_without_final),
    };
    return cmocka_run_group_tests_name("hash pipe", tests, NULL, NULL);
}
