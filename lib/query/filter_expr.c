/* SPDX-License-Identifier: Apache-2.0
 * The small grammar inside list-filter values, as Glance defines it:
 * "gte:2024-01-01T00:00:00Z" operator prefixes and "in:a,\"b,c\"" lists with
 * api-wg quoting. Kept apart from image_query.c so the fiddly scanning has
 * one home and one set of tests. */
#include "query-int.h"

#include <string.h>

void ims_filter_expr_split(const char *expr, struct ims_filter_expr *ret)
{
    const char *colon = strchr(expr, ':');
    int64_t ignored;
    if (!colon || ims_time_parse(expr, &ignored)) {
        *ret = (struct ims_filter_expr){.op = "eq", .op_len = 2, .value = expr};
        return;
    }
    *ret = (struct ims_filter_expr){.op = expr, .op_len = (size_t)(colon - expr), .value = colon + 1};
}

bool ims_filter_expr_op_is(const struct ims_filter_expr *e, const char *op)
{
    return strlen(op) == e->op_len && memcmp(e->op, op, e->op_len) == 0;
}

/* Glance's validate_quotes, including its quirk that any quote preceded by
 * a backslash is skipped, wherever it stands. */
static enum ims_rc validate_quotes(const char *param, const char *v, struct ims_err *err)
{
    bool opening = true;
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        if (v[i] != '"')
            continue;
        if (i && v[i - 1] == '\\')
            continue;
        if (opening && i && v[i - 1] != ',')
            return ims_fail(err, IMS_E_BADREQ,
                            "Invalid filter value %s for %s. There is no comma before opening quotation mark.", v,
                            param);
        if (!opening && i + 1 != n && v[i + 1] != ',')
            return ims_fail(err, IMS_E_BADREQ,
                            "Invalid filter value %s for %s. There is no comma after closing quotation mark.", v,
                            param);
        opening = !opening;
    }
    if (!opening)
        return ims_fail(err, IMS_E_BADREQ, "Invalid filter value %s for %s. The quote is not closed.", v, param);
    return IMS_OK;
}

/* Scans a quoted item starting at the opening quote v[p]. Mirrors the regex
 * "([^"\\]*(?:\\.[^"\\]*)*)": a backslash escapes any character but a
 * newline. Returns the index of the closing quote, or 0 if there is none. */
static size_t quoted_end(const char *v, size_t n, size_t p)
{
    size_t q = p + 1;
    while (q < n) {
        if (v[q] == '"')
            return q;
        if (v[q] == '\\') {
            if (q + 1 >= n || v[q + 1] == '\n')
                return 0;
            q += 2;
            continue;
        }
        q++;
    }
    return 0;
}

enum ims_rc ims_filter_in_list_split(const char *param, const char *list, size_t max_values,
                                     struct ims_strlist *ret, struct ims_err *err)
{
    enum ims_rc rc = validate_quotes(param, list, err);
    if (rc != IMS_OK)
        return rc;

    struct ims_strlist out = {0};
    size_t n = strlen(list), p = 0;
    while (p < n) {
        size_t start, len, close;
        if (list[p] == '"' && (close = quoted_end(list, n, p)) != 0) {
            start = p + 1;
            len = close - start;
            p = close + 1;
        } else if (list[p] == ',') {
            start = p;
            len = 0;
        } else {
            start = p;
            while (p < n && list[p] != ',')
                p++;
            len = p - start;
        }
        if (p < n && list[p] == ',')
            p++;
        if (out.n == max_values) {
            ims_strlist_release(&out);
            return ims_fail(err, IMS_E_BADREQ, "Too many values in the 'in:' list of %s (at most %zu)", param,
                            max_values);
        }
        _cleanup_free_ char *item = ims_xstrndup(list + start, len);
        ims_strlist_add(&out, item);
    }
    *ret = out;
    return IMS_OK;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *ims_strip_dup(const char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_space(s[n - 1]))
        n--;
    return ims_xstrndup(s, n);
}
