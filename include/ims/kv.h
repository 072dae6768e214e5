/* SPDX-License-Identifier: Apache-2.0
 * Key/value lists: query parameters, image properties. Owned strings. */
#ifndef IMS_KV_H
#define IMS_KV_H

#include "ims/base.h"

/* key and value are one allocation, owned by the list: change them only
 * through the functions below. */
struct ims_kv {
    char *key;
    char *value; /* NULL or inside key's block */
};

struct ims_kvlist {
    struct ims_kv *items;
    size_t n, cap;
};

void ims_kvlist_add(struct ims_kvlist *l, const char *key, const char *value);
/* Appends key and value as they are, not copied: for a list whose strings
 * someone else owns (a list page's packed record, include/ims/image.h),
 * released by freeing only l->items. */
void ims_kvlist_push(struct ims_kvlist *l, char *key, char *value);
/* Replaces the value of key, or adds it. */
void ims_kvlist_set(struct ims_kvlist *l, const char *key, const char *value);
/* First value of key, or NULL. */
const char *ims_kvlist_get(const struct ims_kvlist *l, const char *key);
bool ims_kvlist_remove(struct ims_kvlist *l, const char *key);
void ims_kvlist_release(struct ims_kvlist *l);
void ims_kvlist_copy(struct ims_kvlist *dst, const struct ims_kvlist *src);

/* A list of owned strings (tags). */
struct ims_strlist {
    char **items;
    size_t n, cap;
};
void ims_strlist_add(struct ims_strlist *l, const char *s);
/* Appends s as it is, not copied (as ims_kvlist_push). */
void ims_strlist_push(struct ims_strlist *l, char *s);
bool ims_strlist_contains(const struct ims_strlist *l, const char *s);
bool ims_strlist_remove(struct ims_strlist *l, const char *s);
void ims_strlist_release(struct ims_strlist *l);
void ims_strlist_copy(struct ims_strlist *dst, const struct ims_strlist *src);

#endif
