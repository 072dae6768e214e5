/* SPDX-License-Identifier: Apache-2.0
 * Growable buffer with a hard cap: an append past `max` fails and sets
 * `overflow` instead of growing, so no request can make us allocate without
 * bound. */
#include "ims/base.h"

#include <stdio.h>
#include <string.h>

void ims_buf_init(struct ims_buf *b, size_t max)
{
    *b = (struct ims_buf){.max = max};
}

void ims_buf_release(struct ims_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->overflow = false;
}

void ims_buf_reset(struct ims_buf *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data)
        b->data[0] = 0;
}

bool ims_buf_reserve(struct ims_buf *b, size_t extra)
{
    if (b->overflow)
        return false;
    if (extra > b->max || b->len + extra > b->max) {
        b->overflow = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = ims_xrealloc(b->data, cap);
    b->cap = cap;
    return true;
}

bool ims_buf_add(struct ims_buf *b, const void *p, size_t n)
{
    if (!ims_buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return true;
}

bool ims_buf_adds(struct ims_buf *b, const char *s)
{
    return ims_buf_add(b, s, strlen(s));
}

char *ims_buf_append_space_grow(struct ims_buf *b, size_t n)
{
    if (!ims_buf_reserve(b, n))
        return NULL;
    char *p = b->data + b->len;
    b->len += n;
    b->data[b->len] = 0;
    return p;
}

bool ims_buf_addc(struct ims_buf *b, char c)
{
    if (!ims_buf_reserve(b, 1))
        return false;
    b->data[b->len++] = c;
    b->data[b->len] = 0;
    return true;
}

bool ims_buf_vprintf(struct ims_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !ims_buf_reserve(b, (size_t)n))
        return false;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return true;
}

bool ims_buf_printf(struct ims_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = ims_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

char *ims_buf_detach(struct ims_buf *b, size_t *ret_len)
{
    char *p = b->data ? b->data : ims_xstrdup("");
    if (ret_len)
        *ret_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->overflow = false;
    return p;
}
