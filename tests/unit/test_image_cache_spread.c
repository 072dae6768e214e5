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

#include "../../lib/api/api-int.h"
#include "ims/config.h"
#include "ims/image.h"

#define SLOTS 1024 /* 1 MiB at 1 KiB a slot */
#define DOC_LEN 1000

static struct ims_config cfg = {.document_cache_kib = 1024};

static void image_id(struct ims_image *img, int k)
{
    snprintf(img->id, sizeof(img->id), "%08x-0000-4000-8000-%012x", k, k);
    img->revision = 7;
    img->as_read = true;
}

static void keep(int k)
{
    struct ims_image img = {0};
    image_id(&img, k);
    struct ims_buf out;
    ims_buf_init(&out, SIZE_MAX / 2);
    struct ims_jw w;
    ims_jw_init(&w, &out);
    char doc[DOC_LEN + 1];
    memset(doc, 'a', DOC_LEN);
    doc[0] = '"';
    doc[DOC_LEN - 1] = '"';
    doc[DOC_LEN] = 0;
    ims_jw_raw(&w, doc, DOC_LEN);
    api_image_cache_keep(&cfg, API_DOC_NATIVE, &img, &w, 0);
    ims_buf_release(&out);
}

static bool served(int k)
{
    struct ims_image img = {0};
    image_id(&img, k);
    struct ims_buf out;
    ims_buf_init(&out, SIZE_MAX / 2);
    struct ims_jw w;
    ims_jw_init(&w, &out);
    bool hit = api_image_cache_emit(&w, &cfg, API_DOC_NATIVE, &img);
    ims_buf_release(&out);
    return hit;
}

static void test_sequential_ids_fill_every_set(void **state)
{
    (void)state;
    for (int k = 1; k <= SLOTS / 2; k++)
        keep(k);
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
