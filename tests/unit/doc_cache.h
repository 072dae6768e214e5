/* SPDX-License-Identifier: Apache-2.0
 * For the unit tests of the rendered-document cache (lib/api/image_cache.c):
 * an image id of two numbers (ids that differ in a few hex digits, as a
 * catalogue made by a script), a JSON writer on a buffer without bound,
 * and a document of a given size kept and asked for as a render and a read
 * would. The cache is made once per process at the bound its first use
 * gives, so each bound is a test binary of its own. */
#ifndef TESTS_UNIT_DOC_CACHE_H
#define TESTS_UNIT_DOC_CACHE_H

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/api/api-int.h"
#include "ims/config.h"
#include "ims/image.h"

#define DOC_CACHE_REVISION 7

static inline void doc_image(struct ims_image *img, int t, int k)
{
    snprintf(img->id, sizeof(img->id), "%08x-0000-4000-8000-%012x", t, k);
    img->revision = DOC_CACHE_REVISION;
    img->as_read = true;
}

static inline void doc_writer(struct ims_buf *out, struct ims_jw *w)
{
    ims_buf_init(out, SIZE_MAX / 2);
    ims_jw_init(w, out);
}

#define DOC_CACHE_DOC_MAX 4096

/* Keeps image (t, k)'s document: a JSON string of len (at most
 * DOC_CACHE_DOC_MAX) bytes of fill. */
static inline void doc_keep(const struct ims_config *cfg, int t, int k, char fill, size_t len)
{
    struct ims_image img = {0};
    doc_image(&img, t, k);
    struct ims_buf out;
    struct ims_jw w;
    doc_writer(&out, &w);
    char doc[DOC_CACHE_DOC_MAX + 1];
    if (len < 2 || len > DOC_CACHE_DOC_MAX)
        abort();
    memset(doc, fill, len);
    doc[0] = '"';
    doc[len - 1] = '"';
    doc[len] = 0;
    ims_jw_raw(&w, doc, len);
    api_image_cache_keep(cfg, API_DOC_NATIVE, &img, &w, 0);
    ims_buf_release(&out);
}

/* Whether image (t, k)'s native document at revision is kept; its bytes in
 * out (released by the caller). */
static inline bool doc_emit(const struct ims_config *cfg, int t, int k, int64_t revision, struct ims_buf *out)
{
    struct ims_image img = {0};
    doc_image(&img, t, k);
    img.revision = revision;
    struct ims_jw w;
    doc_writer(out, &w);
    return api_image_cache_emit(&w, cfg, API_DOC_NATIVE, &img);
}

#endif
