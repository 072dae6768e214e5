/* SPDX-License-Identifier: Apache-2.0
 * The upload pipe gives the one-shot digests and delivers exactly the bytes
 * it was fed, in order, whatever the chunking: empty input, one byte, exact
 * block multiples, odd chunks, more data than the ring holds at once. A
 * failing sink fails the pipe with the sink's error and stops taking data.
 * A digest not asked for and a missing sink start no thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <string.h>

#include "../../lib/core/core-int.h"

struct collected {
    unsigned char *data;
    size_t n;
    size_t fail_after; /* bytes; 0 = never */
};

static enum ims_rc collect(void *ctx, const void *p, size_t n, struct ims_err *err)
{
    struct collected *c = ctx;
    if (c->fail_after && c->n + n > c->fail_after)
        return ims_fail(err, IMS_E_TOOLARGE, "image store is full");
    memcpy(c->data + c->n, p, n);
    c->n += n;
    return IMS_OK;
}

static void expect(const unsigned char *data, size_t n, size_t chunk)
{
    unsigned char md5[16], sha[64];
    unsigned int len;
    char want_md5[33], want_sha[129], got_md5[33], got_sha[129];
    EVP_Digest(data, n, md5, &len, EVP_md5(), NULL);
    EVP_Digest(data, n, sha, &len, EVP_sha512(), NULL);
    ims_hex_encode(md5, 16, want_md5, sizeof(want_md5));
    ims_hex_encode(sha, 64, want_sha, sizeof(want_sha));
    struct collected sunk = {.data = ims_xmalloc(n + 1)};
    struct ims_hash_pipe *h = ims_hash_pipe_new(collect, &sunk);
    assert_non_null(h);
    for (size_t off = 0; off < n; off += chunk)
        assert_true(ims_hash_pipe_update(h, data + off, off + chunk <= n ? chunk : n - off));
    assert_true(ims_hash_pipe_final(h, got_md5, got_sha));
    assert_int_equal(ims_hash_pipe_error(h, NULL), IMS_OK);
    ims_hash_pipe_free(h);
    assert_int_equal(sunk.n, n);
    assert_memory_equal(sunk.data, data, n);
    free(sunk.data);
    assert_string_equal(got_md5, want_md5);
    assert_string_equal(got_sha, want_sha);
}

static void test_chunkings(void **state)
{
    size_t n = 19 * 1024 * 1024 + 12345; /* > the 8 MiB ring, not a block multiple */
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

static void test_sink_failure(void **state)
{
    size_t n = 20 * 1024 * 1024;
    unsigned char *data = ims_xcalloc(1, n);
    struct collected sunk = {.data = ims_xmalloc(n), .fail_after = 4 * 1024 * 1024}; /* two 2 MiB blocks */
    struct ims_hash_pipe *h = ims_hash_pipe_new(collect, &sunk);
    bool ok = true;
    for (size_t off = 0; off < n && ok; off += 65536)
        ok = ims_hash_pipe_update(h, data + off, 65536);
    char md5[33], sha[129];
    assert_false(ims_hash_pipe_final(h, md5, sha));
    struct ims_err err;
    assert_int_equal(ims_hash_pipe_error(h, &err), IMS_E_TOOLARGE);
    assert_string_equal(err.msg, "image store is full");
    assert_int_equal(sunk.n, 4 * 1024 * 1024); /* nothing delivered after the failure */
    ims_hash_pipe_free(h);
    free(sunk.data);
    free(data);
}

static void test_free_without_final(void **state)
{
    struct ims_hash_pipe *h = ims_hash_pipe_new(NULL, NULL);
    static unsigned char buf[3 * 1024 * 1024];
    assert_true(ims_hash_pipe_update(h, buf, sizeof(buf)));
    ims_hash_pipe_free(h); /* an aborted upload: the threads must stop */
    ims_hash_pipe_free(NULL);
}

/* A digest not asked for is "" (its pointer may be NULL); the other and
 * the sink's bytes are as with both. */
static void test_one_digest(void **state)
{
    (void)state;
    size_t n = 9 * 1024 * 1024 + 7;
    unsigned char *data = ims_xmalloc(n), sum[64];
    ims_random_bytes(data, n);
    unsigned len;
    char want[129], md5[33] = "x", sha[129] = "x";
    struct collected sunk = {.data = ims_xmalloc(n)};
    struct ims_hash_pipe *h = ims_hash_pipe_new_digests(collect, &sunk, false, true);
    assert_non_null(h);
    assert_true(ims_hash_pipe_update(h, data, n));
    assert_true(ims_hash_pipe_final(h, md5, sha));
    ims_hash_pipe_free(h);
    EVP_Digest(data, n, sum, &len, EVP_sha512(), NULL);
    ims_hex_encode(sum, 64, want, sizeof(want));
    assert_string_equal(md5, "");
    assert_string_equal(sha, want);
    assert_int_equal(sunk.n, n);
    assert_memory_equal(sunk.data, data, n);
    h = ims_hash_pipe_new_digests(NULL, NULL, true, false);
    assert_true(ims_hash_pipe_update(h, data, n));
    assert_true(ims_hash_pipe_final(h, md5, NULL));
    ims_hash_pipe_free(h);
    EVP_Digest(data, n, sum, &len, EVP_md5(), NULL);
    ims_hex_encode(sum, 16, want, sizeof(want));
    assert_string_equal(md5, want);
    free(sunk.data);
    free(data);
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Only the consumers with work run a thread: a store that answers with the
 * md5 leaves sha512 and the sink; digests alone, no sink thread. */
static void test_threads_only_for_work(void **state)
{
    (void)state;
    static unsigned char buf[9 * 1024 * 1024 + 3];
    const struct {
        bool sink, md5, sha512;
        int threads;
    } cases[] = {{true, true, true, 3}, {true, false, true, 2}, {false, false, true, 1}, {false, true, true, 2}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct collected sunk = {.data = ims_xmalloc(sizeof(buf))};
        int before = threads_now();
        struct ims_hash_pipe *h =
            ims_hash_pipe_new_digests(cases[c].sink ? collect : NULL, &sunk, cases[c].md5, cases[c].sha512);
        assert_non_null(h);
        assert_int_equal(threads_now() - before, cases[c].threads);
        char md5[33], sha[129];
        assert_true(ims_hash_pipe_update(h, buf, sizeof(buf))); /* more than the ring: the producer must not wait on a
                                                                    consumer that never runs */
        assert_true(ims_hash_pipe_final(h, md5, sha));
        ims_hash_pipe_free(h);
        assert_int_equal(sunk.n, cases[c].sink ? sizeof(buf) : 0);
        free(sunk.data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_digest),
        cmocka_unit_test(test_chunkings),
        cmocka_unit_test(test_sink_failure),
        cmocka_unit_test(test_free_without_final),
        cmocka_unit_test(test_threads_only_for_work),
    };
    return cmocka_run_group_tests_name("hash pipe", tests, NULL, NULL);
}
