/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target for the image-list query parser: the input is a raw query
 * string, split by ims_query_string_parse and interpreted by
 * ims_image_query_parse_dialect as Glance v2, as Glance v1 and as IMS. Besides memory errors it checks the
 * invariants the metadata repository relies on when it turns the result into SQL, that a filter on an
 * enumerated parameter (spec/query-enums.tsv) only ever carries listed values, and that IMS refusals carry
 * an IMG code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/query.h"

#define INPUT_MAX (64 * 1024)

static void check_query(const struct ims_image_query *q, const struct ims_query_limits *lim,
                        enum ims_query_dialect d)
{
    fuzz_check(q->limit >= 0 && q->limit <= lim->max_limit, "limit within [0, max]");
    fuzz_check(q->nsorts >= 1 && q->nsorts <= IMS_QUERY_MAX_SORT, "1..8 sort keys");
    for (size_t i = 0; i < q->nsorts; i++)
        fuzz_check(ims_query_sort_key_valid(q->sorts[i].key), "sort keys are whitelisted");
    for (size_t i = 0; i < q->nfilters; i++) {
        const struct ims_filter *f = &q->filters[i];
        fuzz_check(f->key != NULL, "filter has a key");
        fuzz_check(f->op == IMS_CMP_IN || f->values.n == 1, "non-IN filters have one value");
        fuzz_check(f->op != IMS_CMP_IN || f->values.n <= 1000, "IN lists are capped");
        const struct ims_query_enum *e = ims_query_enum_find(d, f->key);
        for (size_t j = 0; e && j < f->values.n; j++)
            fuzz_check(ims_query_enum_allows(e, f->values.items[j]), "enumerated filters carry listed values");
        fuzz_check(f->type != IMS_FIELD_BOOL || strcmp(f->values.items[0], "1") == 0 ||
                  strcmp(f->values.items[0], "0") == 0,
              "bool filters are 1 or 0");
        if (f->type == IMS_FIELD_INT || f->type == IMS_FIELD_TIME) {
            char *end;
            strtoll(f->values.items[0], &end, 10);
            fuzz_check(*f->values.items[0] && !*end, "int/time filters are decimal");
        }
    }
    static const char *const visibilities[] = {"public", "private", "shared", "community", "all"};
    bool vis_ok = q->visibility == NULL;
    for (size_t i = 0; i < sizeof(visibilities) / sizeof(*visibilities) && !vis_ok; i++)
        vis_ok = strcmp(q->visibility, visibilities[i]) == 0;
    fuzz_check(vis_ok, "visibility is one of the five");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    char *qs = malloc(size + 1);
    memcpy(qs, data, size);
    qs[size] = 0;

    const struct ims_query_limits lim = {.default_limit = 25, .max_limit = 1000};
    struct ims_kvlist params = {0};
    struct ims_err err;
    if (ims_query_string_parse(qs, 256, &params, &err) == IMS_OK) {
        /* Glance v2, v1 (the legacy list, whose changes-since filters) and IMS */
        static const enum ims_query_dialect dialects[] = {IMS_QUERY_GLANCE, IMS_QUERY_GLANCE_V1, IMS_QUERY_IMS};
        for (size_t d = 0; d < sizeof(dialects) / sizeof(*dialects); d++) {
            struct ims_image_query q;
            enum ims_rc rc = ims_image_query_parse_dialect(&params, &lim, dialects[d], &q, &err);
            fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "only 400s");
            fuzz_check(rc == IMS_OK || dialects[d] != IMS_QUERY_IMS || strncmp(err.code, "IMG.", 4) == 0,
                  "IMS refusals carry an IMG code");
            if (rc == IMS_OK) {
                check_query(&q, &lim, dialects[d]);
                ims_image_query_release(&q);
            }
        }
        ims_kvlist_release(&params);
    }
    free(qs);
    return 0;
}
