/* SPDX-License-Identifier: Apache-2.0
 * The supported-OS table (data/os_versions.tsv, embedded at build time as
 * ims_os_versions_tsv) and the lookups on it. */
#include "ims/os_version.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char ims_os_versions_tsv[]; /* build/gen/os_versions_data.c */

static const char *const columns[] = {"platform", "os_version", "os_bit", "os_type", "tags"};

void ims_os_table_release(struct ims_os_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].platform);
        free(t->v[i].os_version);
        free(t->v[i].os_type);
        free(t->v[i].tags);
    }
    free(t->v);
    *t = (struct ims_os_table){0};
}

/* Splits one line into exactly 5 tab-separated cells (copies). */
static bool split_line(const char *line, size_t len, char *cells[5])
{
    size_t n = 0;
    const char *p = line, *end = line + len;
    while (n < 5) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *stop = tab ? tab : end;
        cells[n++] = ims_xstrndup(p, (size_t)(stop - p));
        if (!tab)
            break;
        p = tab + 1;
    }
    bool ok = n == 5 && memchr(p, '\t', (size_t)(end - p)) == NULL;
    if (!ok)
        for (size_t i = 0; i < n; i++) {
            free(cells[i]);
            cells[i] = NULL;
        }
    return ok;
}

enum ims_rc ims_os_table_parse(const char *tsv, struct ims_os_table *ret, struct ims_err *err)
{
    struct ims_os_table t = {0};
    bool header = false;
    int lineno = 0;
    for (const char *p = tsv; *p;) {
        size_t len = strcspn(p, "\n");
        const char *line = p;
        p += len + (p[len] == '\n');
        lineno++;
        if (len && line[len - 1] == '\r')
            len--;
        if (len == 0 || line[0] == '#')
            continue;
        char *cells[5] = {0};
        if (!split_line(line, len, cells)) {
            ims_os_table_release(&t);
            return ims_fail(err, IMS_E_BADREQ, "os table line %d: expected 5 tab-separated columns", lineno);
        }
        if (!header) {
            bool same = true;
            for (size_t i = 0; i < 5; i++)
                same = same && strcmp(cells[i], columns[i]) == 0;
            for (size_t i = 0; i < 5; i++)
                free(cells[i]);
            if (!same) {
                ims_os_table_release(&t);
                return ims_fail(err, IMS_E_BADREQ, "os table line %d: expected the header %s\\t%s\\t%s\\t%s\\t%s",
                                lineno, columns[0], columns[1], columns[2], columns[3], columns[4]);
            }
            header = true;
            continue;
        }
        int64_t bit = 0;
        bool ok = cells[0][0] && cells[1][0] && ims_parse_i64(cells[2], 32, 64, &bit) && (bit == 32 || bit == 64) &&
                  (!strcmp(cells[3], "Linux") || !strcmp(cells[3], "Windows") || !strcmp(cells[3], "Other"));
        if (!ok || ims_os_table_find(&t, cells[1])) {
            for (size_t i = 0; i < 5; i++)
                free(cells[i]);
            ims_os_table_release(&t);
            return ims_fail(err, IMS_E_BADREQ, "os table line %d: %s", lineno,
                            ok ? "duplicate os_version" : "bad platform, os_version, os_bit (32|64) or os_type");
        }
        t.v = ims_xrealloc(t.v, (t.n + 1) * sizeof(*t.v));
        t.v[t.n++] = (struct ims_os_version){.platform = cells[0], .os_version = cells[1], .os_type = cells[3],
                                             .tags = cells[4], .os_bit = (int)bit};
        free(cells[2]);
    }
    if (!header)
        return ims_fail(err, IMS_E_BADREQ, "os table: no header line");
    *ret = t;
    return IMS_OK;
}

static struct ims_os_table builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void load_builtin(void)
{
    struct ims_err err;
    if (ims_os_table_parse(ims_os_versions_tsv, &builtin, &err) != IMS_OK) {
        fprintf(stderr, "imsd: built-in data/os_versions.tsv is invalid: %s\n", err.msg);
        abort();
    }
}

const struct ims_os_table *ims_os_table_builtin(void)
{
    pthread_once(&builtin_once, load_builtin);
    return &builtin;
}

const struct ims_os_version *ims_os_table_find(const struct ims_os_table *t, const char *os_version)
{
    for (size_t i = 0; os_version && i < t->n; i++)
        if (strcmp(t->v[i].os_version, os_version) == 0)
            return &t->v[i];
    return NULL;
}

bool ims_os_version_has_tag(const struct ims_os_version *v, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = v->tags; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, tag, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

enum ims_rc ims_os_version_fill(struct ims_kvlist *props, struct ims_err *err)
{
    const char *want = ims_kvlist_get(props, "__os_version");
    if (!want)
        return IMS_OK;
    const struct ims_os_version *v = ims_os_table_find(ims_os_table_builtin(), want);
    if (!v)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0056",
                             "Invalid OS version '%s' (see GET /v1/cloudimages/os_version).", want);
    char bit[4];
    snprintf(bit, sizeof(bit), "%d", v->os_bit);
    ims_kvlist_set(props, "__platform", v->platform);
    ims_kvlist_set(props, "__os_type", v->os_type);
    ims_kvlist_set(props, "__os_bit", bit);
    return IMS_OK;
}
