/* SPDX-License-Identifier: Apache-2.0
 * Allocation that aborts on failure: every network input is capped, so an
 * out-of-memory condition is a bug or a dying machine, not a request error. */
#include "ims/base.h"

#include <stdio.h>
#include <string.h>

static void oom(void)
{
    fputs("imsd: out of memory\n", stderr);
    abort();
}

void *ims_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *ims_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        oom();
    return p;
}

void *ims_xaligned_alloc(size_t alignment, size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, alignment, n ? n : 1) != 0)
        oom();
    return p;
}

void *ims_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *ims_xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        oom();
    return p;
}

/* Not strndup: the input need not be NUL-terminated (network buffers), and
 * sanitizers' strict string checks rightly refuse strndup on such input. */
char *ims_xstrndup(const char *s, size_t n)
{
    const char *end = memchr(s, 0, n);
    size_t len = end ? (size_t)(end - s) : n;
    char *p = ims_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *ims_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    va_start(ap, fmt);
    int r = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (r < 0)
        oom();
    return p;
}
