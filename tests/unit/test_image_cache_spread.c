/* SPDX-License-Identifier: Apache-2.0
 * The rendered-document cache (lib/api/image_cache.c) spreads ids over all
 * its sets: documents of half as many images as it has slots, ids that
 * differ in a few hex digits (a catalogue made by a script, the benchmark's),
 * are nearly all kept. With the sets chosen by FNV-1a's low bits they went
 * into a quarter of the sets and at most a quarter of the cache was used. A test
 * binary of its own: the cache is made once per process, at the bound of
 * its first use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "doc_cache.h"

#define SLOTS 1024 /* 1 MiB at 1 KiB a slot */
#define DOC_LEN 1000

static struct ims_config cfg = {.document_cache_kib = 1024};

static bool served(int k)
{
    struct ims_buf out;
    bool hit = doc_emit(&cfg, k, k, DOC_CACHE_REVISION, &out);
    ims_buf_release(&out);
    return hit;
}

static void test_sequential_ids_fill_every_set(void **state)
{
    (void)state;
    for (int k = 1; k <= SLOTS / 2; k++)
        doc_keep(&cfg, k, k, 'a', DOC_LEN);
    int n = 0;
    for (int k = 1; k <= SLOTS / 2; k++)
        n += served(k);
    /* 512 ids over 256 sets of 4: a few sets overflow */
    assert_true(n >= SLOTS / 2 * 85 / 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_ids_fill_every_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
