/* SPDX-License-Identifier: Apache-2.0
 * The rendered-document cache (lib/api/image_cache.c) is one for the
 * process: a document kept by one thread (a handler pool's, or the commit
 * threads that answer SQLite's creates) is served on any other (the event
 * loop's GETs), and threads keeping at once hold at most the bound in all,
 * not the bound each. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "doc_cache.h"

#define THREADS 8
#define PER_THREAD 64
#define DOC_LEN 1000

static struct ims_config cfg = {.document_cache_kib = 64};

/* Whether image (t, k)'s document is served here, and its bytes are t's. */
static bool served(int t, int k, int64_t revision)
{
    struct ims_buf out;
    bool hit = doc_emit(&cfg, t, k, revision, &out);
    if (hit) {
        assert_int_equal(out.len, DOC_LEN);
        assert_int_equal(out.data[1], 'a' + t);
    }
    ims_buf_release(&out);
    return hit;
}

static void *keeper(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int k = 0; k < PER_THREAD; k++)
        doc_keep(&cfg, t, k, (char)('a' + t), DOC_LEN);
    return NULL;
}

static void test_kept_on_one_thread_served_on_another(void **state)
{
    (void)state;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, keeper, (void *)(intptr_t)0), 0);
    pthread_join(th, NULL);
    assert_true(served(0, PER_THREAD - 1, 7));
    assert_false(served(0, PER_THREAD - 1, 8)); /* another revision: never */
}

/* A list page's row whose document the page asked for and missed is
 * rendered without asking again, even if another thread kept it since. */
static void test_a_page_miss_is_not_asked_again(void **state)
{
    (void)state;
    doc_keep(&cfg, THREADS, 1, 'z', DOC_LEN);
    struct ims_image img = {0};
    doc_image(&img, THREADS, 1);
    struct ims_buf out;
    struct ims_jw w;
    doc_writer(&out, &w);
    assert_true(api_image_cache_emit(&w, &cfg, API_DOC_NATIVE, &img));
    ims_buf_reset(&out);
    img.doc_missed = true;
    assert_false(api_image_cache_emit(&w, &cfg, API_DOC_NATIVE, &img));
    assert_int_equal(out.len, 0);
    ims_buf_release(&out);
}

static void test_threads_together_hold_at_most_the_bound(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, keeper, (void *)(intptr_t)(t + 1)), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    size_t held = 0;
    for (int t = 0; t <= THREADS; t++) {
        size_t n = 0;
        for (int k = 0; k < PER_THREAD; k++)
            n += served(t, k, 7);
        held += n * DOC_LEN;
    }
    assert_true(held <= (size_t)cfg.document_cache_kib * 1024);
    assert_true(held >= (size_t)cfg.document_cache_kib * 1024 / 4); /* and it is used */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_on_one_thread_served_on_another),
        cmocka_unit_test(test_a_page_miss_is_not_asked_again),
        cmocka_unit_test(test_threads_together_hold_at_most_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
