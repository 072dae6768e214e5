/* SPDX-License-Identifier: Apache-2.0
 * Small owned key/value and string lists; linear search is right for the
 * sizes involved (a few dozen properties or tags). */
#include "ims/kv.h"

#include <string.h>

/* An item's key and value share one allocation (the key first): a list
 * page builds a few hundred of them per request, and this halves the
 * mallocs. A NULL value is recorded as value == NULL. */
static void item_fill(struct ims_kv *kv, const char *key, const char *value)
{
    size_t kn = strlen(key) + 1, vn = value ? strlen(value) + 1 : 0;
    char *block = ims_xmalloc(kn + vn);
    memcpy(block, key, kn);
    if (value)
        memcpy(block + kn, value, vn);
    kv->key = block;
    kv->value = value ? block + kn : NULL;
}

static struct ims_kv *kv_slot(struct ims_kvlist *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = ims_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    return &l->items[l->n++];
}

void ims_kvlist_add(struct ims_kvlist *l, const char *key, const char *value)
{
    item_fill(kv_slot(l), key, value);
}

void ims_kvlist_push(struct ims_kvlist *l, char *key, char *value)
{
    *kv_slot(l) = (struct ims_kv){key, value};
}

void ims_kvlist_set(struct ims_kvlist *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            char *old = l->items[i].key;
            item_fill(&l->items[i], key, value);
            free(old);
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
            free(l->items[i].key); /* the value with it */
            memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(*l->items));
            l->n--;
            return true;
        }
    }
    return false;
}

void ims_kvlist_release(struct ims_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].key); /* the value with it */
    free(l->items);
    *l = (struct ims_kvlist){0};
}

void ims_kvlist_copy(struct ims_kvlist *dst, const struct ims_kvlist *src)
{
    for (size_t i = 0; i < src->n; i++)
        ims_kvlist_add(dst, src->items[i].key, src->items[i].value);
}

void ims_strlist_push(struct ims_strlist *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = ims_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n++] = s;
}

void ims_strlist_add(struct ims_strlist *l, const char *s)
{
    ims_strlist_push(l, ims_xstrdup(s));
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
