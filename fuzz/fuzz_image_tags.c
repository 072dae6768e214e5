/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the request bodies of the IMS image tag calls
 * (lib/query/image_tags.c). Every input goes through every parser: PUT
 * /v1/cloudimages/tags, POST .../tags, POST .../tags/action, POST
 * .../resource_instances/action; whatever parses must respect the
 * documented limits, and the query must evaluate on a few images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/tags.h"

#define INPUT_MAX (256 * 1024)

/* A pair an IMS create may store: the native form splits back into it. */
static void check_pair(const char *k, const char *v)
{
    fuzz_check(*k && ims_tag_chars(k) <= IMS_TAG_KEY_MAX && ims_tag_chars(v) <= IMS_TAG_VALUE_MAX, "pair lengths");
    fuzz_check(!strchr(k, '=') && k[0] != ' ' && k[strlen(k) - 1] != ' ', "key form");
    char *native = ims_tag_join(k, v), *k2, *v2;
    ims_tag_split(native, &k2, &v2);
    fuzz_check(!strcmp(k, k2) && !strcmp(v, v2), "join/split round trip");
    fuzz_check(ims_tag_has_key(native, k), "native tag has its key");
    free(native);
    free(k2);
    free(v2);
}

static void check_conds(const struct ims_tag_conds *c)
{
    fuzz_check(c->n <= IMS_TAG_QUERY_KEYS_MAX, "condition keys");
    for (size_t i = 0; i < c->n; i++) {
        fuzz_check(*c->v[i].key && ims_tag_chars(c->v[i].key) <= IMS_TAG_QUERY_KEY_MAX, "condition key");
        fuzz_check(c->v[i].values.n <= IMS_TAG_QUERY_VALUES_MAX, "condition values");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    const char *body = (const char *)data;
    struct ims_err err;
    char *id = NULL, *k = NULL, *v = NULL;
    enum ims_rc rc = ims_tag_v1_parse(body, size, &id, &k, &v, &err);
    fuzz_check_ims_refusal(rc, &err);
    if (rc == IMS_OK) {
        fuzz_check(*id != 0, "image id");
        check_pair(k, v);
        free(id);
        free(k);
        free(v);
    }
    rc = ims_tag_one_parse(body, size, &k, &v, &err);
    fuzz_check_ims_refusal(rc, &err);
    if (rc == IMS_OK) {
        check_pair(k, v);
        free(k);
        free(v);
    }
    struct ims_tag_batch b;
    rc = ims_tag_batch_parse(body, size, &b, &err);
    fuzz_check_ims_refusal(rc, &err);
    if (rc == IMS_OK) {
        fuzz_check(b.tags.n >= 1 && b.tags.n <= IMS_TAG_BATCH_MAX, "batch size");
        for (size_t i = 0; i < b.tags.n; i++) {
            if (b.create)
                check_pair(b.tags.items[i].key, b.tags.items[i].value);
            for (size_t j = i + 1; j < b.tags.n; j++)
                fuzz_check(strcmp(b.tags.items[i].key, b.tags.items[j].key) != 0, "batch keys unique");
        }
        ims_tag_batch_release(&b);
    }
    struct ims_tag_query q;
    rc = ims_tag_query_parse(body, size, &q, &err);
    fuzz_check_ims_refusal(rc, &err);
    if (rc == IMS_OK) {
        fuzz_check(q.count || (q.limit >= 1 && q.limit <= IMS_TAG_QUERY_LIMIT_MAX && q.offset >= 0), "page bounds");
        check_conds(&q.tags);
        check_conds(&q.tags_any);
        check_conds(&q.not_tags);
        check_conds(&q.not_tags_any);
        struct ims_strlist tags = {0};
        ims_tag_query_match(&q, "id", "name", &tags);
        ims_strlist_add(&tags, "k");
        ims_strlist_add(&tags, "key3=valueXX");
        ims_strlist_add(&tags, "a=b=c");
        bool m = ims_tag_query_match(&q, "id", NULL, &tags);
        fuzz_check(!(m && q.without_any_tag), "without_any_tag matches untagged images only");
        ims_strlist_release(&tags);
        ims_tag_query_release(&q);
    }
    /* The dotted form and the native split on the raw bytes (as a string). */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    if (ims_tag_parse_dotted(s, &k, &v, &err) == IMS_OK) {
        check_pair(k, v);
        free(k);
        free(v);
    }
    ims_tag_split(s, &k, &v);
    char *again = ims_tag_join(k, v);
    fuzz_check(!strchr(k, '='), "split key has no '='");
    fuzz_check(!strcmp(again, s) || (strlen(s) == strlen(k) + 1 && s[strlen(k)] == '='), "split/join round trip");
    free(again);
    free(k);
    free(v);
    free(s);
    return 0;
}
