/* SPDX-License-Identifier: Apache-2.0
 * The rendered-document cache (lib/api/image_cache.c) keeps a document
 * without its shown defaults (api_image_defaults_json), whose bytes it
 * keeps once: the bound holds about twice the documents of the benchmark's
 * images, and each comes back byte for byte as it was rendered, with any
 * set of defaults shown. A test binary of its own: the cache is made once
 * per process, at the bound of its first use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "doc_cache.h"

#define DOCS 250
#define NAME_LEN 1500

static struct ims_config cfg = {.document_cache_kib = 512};

/* Image k's document as a render writes it: a long name, a property or
 * two (every third image holds one of the shown defaults itself), the
 * shown defaults. */
static void render(int k, struct ims_buf *out, struct ims_jw *w)
{
    doc_writer(out, w);
    char name[NAME_LEN + 1];
    memset(name, 'a' + k % 26, NAME_LEN);
    name[NAME_LEN] = 0;
    struct ims_kvlist props = {0};
    ims_kvlist_add(&props, "custom", k % 2 ? "x" : "y");
    if (k % 3 == 0)
        ims_kvlist_add(&props, ims_image_shown_defaults[k % ims_image_nshown_defaults].key, "own");
    ims_jw_obj_begin(w);
    ims_jw_kstr(w, "name", name);
    for (size_t i = 0; i < props.n; i++)
        ims_jw_kstr(w, props.items[i].key, props.items[i].value);
    api_image_defaults_json(w, &props);
    ims_jw_obj_end(w);
    ims_kvlist_release(&props);
}

static void test_documents_kept_without_their_defaults(void **state)
{
    (void)state;
    size_t rendered = 0;
    for (int k = 1; k <= DOCS; k++) {
        struct ims_image img = {0};
        doc_image(&img, k, k);
        struct ims_buf out;
        struct ims_jw w;
        render(k, &out, &w);
        rendered += out.len;
        api_image_cache_keep(&cfg, API_DOC_NATIVE, &img, &w, 0);
        ims_buf_release(&out);
    }
    /* whole, they would not fit */
    assert_true(rendered > (size_t)cfg.document_cache_kib * 1024);
    int n = 0;
    for (int k = 1; k <= DOCS; k++) {
        struct ims_buf want, got;
        struct ims_jw w;
        render(k, &want, &w);
        if (doc_emit(&cfg, k, k, DOC_CACHE_REVISION, &got)) {
            n++;
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, want.len);
        }
        ims_buf_release(&want);
        ims_buf_release(&got);
    }
    /* all but those a full set turned away (whole: at most 512 KiB / 2.3 KB, 222) */
    assert_true(n >= DOCS * 95 / 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents_kept_without_their_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
