/* SPDX-License-Identifier: Apache-2.0
 * Small owned key/value and string lists; linear search is right for the
 * sizes involved (a few dozen properties or tags). */
#include "ims/kv.h"

#include <string.h>

void ims_kvlist_add(struct ims_kvlist *l, const char *key, const char *value)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = ims_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n].key = ims_xstrdup(key);
    l->items[l->n].value = value ? ims_xstrdup(value) : NULL;
    l->n++;
}

void ims_kvlist_set(struct ims_kvlist *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            free(l->items[i].value);
            l->items[i].value = value ? ims_xstrdup(value) : NULL;
            return;
        }
    }
    ims_kvlist_add(l, key, value);
}

const char *ims_kvlist_get(const struct ims_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

bool ims_kvlist_remove(struct ims_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            free(l->items[i].key);
            free(l->items[i].value);
            memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(*l->items));
            l->n--;
            return true;
        }
    }
    return false;
}

void ims_kvlist_release(struct ims_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    *l = (struct ims_kvlist){0};
}

void ims_kvlist_copy(struct ims_kvlist *dst, const struct ims_kvlist *src)
{
    for (size_t i = 0; i < src->n; i++)
        ims_kvlist_add(dst, src->items[i].key, src->items[i].value);
}

void ims_strlist_add(struct ims_strlist *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = ims_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n++] = ims_xstrdup(s);
}

bool ims_strlist_contains(const struct ims_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

bool ims_strlist_remove(struct ims_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            free(l->items[i]);
            memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(*l->items));
            l->n--;
            return true;
        }
    }
    return false;
}

void ims_strlist_release(struct ims_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    *l = (struct ims_strlist){0};
}

void ims_strlist_copy(struct ims_strlist *dst, const struct ims_strlist *src)
{
    for (size_t i = 0; i < src->n; i++)
        ims_strlist_add(dst, src->items[i]);
}
