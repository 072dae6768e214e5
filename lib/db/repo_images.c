/* SPDX-License-Identifier: Apache-2.0
 * Image rows, their properties and tags. A change is written as the
 * difference between the image as read and as changed, inside the caller's
 * write transaction and on condition that the row's revision is still the
 * one read, so no concurrent change is overwritten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"

#define IMAGE_COLS                                                                                              \
    "i.id, i.owner, i.name, i.status, i.visibility, i.protected, i.os_hidden, i.container_format, "             \
    "i.disk_format, i.size, i.virtual_size, i.checksum, i.os_hash_algo, i.os_hash_value, i.min_disk, "         \
    "i.min_ram, i.enterprise_project_id, i.created_at, i.updated_at, i.location, " PROMOTED_COLS ", i.extras, i.tags_text, "  \
    "i.revision, i.props_text"

/* The IMS attributes every image carries live in columns of images, not in
 * image_properties rows (migration 8): to the rest of imsd they are
 * properties like any other; here they are mapped to and from the columns.
 * NULL = the image does not have the property. */
static const struct promoted {
    const char *prop, *col;
    /* Set: the column's index holds only the rows whose value is not this
     * one (migration 25), the value every image imsd makes has (system
     * attributes, lib/core/images.c's defaults): a create writes no entry,
     * and a filter on another value says so for the planner (add_filter). */
    const char *partial_unless;
} promoted[] = {
    {"__image_size", "p_image_size", NULL},
    {"__image_source_type", "p_image_source_type", "uds"},
    {"__imagetype", "p_imagetype", "private"},
    {"__is_config_init", "p_is_config_init", NULL},
    {"__isregistered", "p_isregistered", "true"},
    {"__os_bit", "p_os_bit", NULL},
    {"__os_type", "p_os_type", NULL},
    {"__os_version", "p_os_version", NULL},
    {"__platform", "p_platform", NULL},
    {"virtual_env_type", "p_virtual_env_type", NULL},
};
#define PROMOTED_COLS                                                                                           \
    "i.p_image_size, i.p_image_source_type, i.p_imagetype, i.p_is_config_init, i.p_isregistered, i.p_os_bit, " \
    "i.p_os_type, i.p_os_version, i.p_platform, i.p_virtual_env_type"
#define PROMOTED_FIRST 20 /* column index of promoted[0] in IMAGE_COLS */
#define NPROMOTED IMS_ARRAY_SIZE(promoted)
#define EXTRAS_COL (PROMOTED_FIRST + (int)NPROMOTED)
#define TAGS_TEXT_COL (EXTRAS_COL + 1)
#define REVISION_COL (TAGS_TEXT_COL + 1)
#define PROPS_TEXT_COL (REVISION_COL + 1)
#define CREATED_AT_COL 17

/* images.tags_text: the image's tags, each as "<bytes>:<tag>", in order, so
 * reading an image needs no image_tags rows (those serve the tag filter).
 * Any byte may be in a tag; nothing needs escaping. */
static void tags_encode(const struct ims_strlist *tags, struct ims_buf *out)
{
    for (size_t i = 0; i < tags->n; i++)
        ims_buf_printf(out, "%zu:%s", strlen(tags->items[i]), tags->items[i]);
}

/* The next "<bytes>:<string>" of *s, copied NUL-terminated into tmp
 * (grown as needed); false at a malformed one. */
/* The next "<bytes>:<string>" of *s (advanced past it): its bytes at *str,
 * n of them; false at a malformed one. Each takes at least n + 2 bytes of
 * the text. */
static bool lenstr_next(const char **s, const char **str, size_t *n)
{
    char *end;
    unsigned long long len = strtoull(*s, &end, 10);
    if (end == *s || *end != ':' || strnlen(end + 1, len) < len)
        return false;
    *str = end + 1;
    *n = len;
    *s = end + 1 + len;
    return true;
}

static bool lenstr_take(const char **s, char **tmp, size_t *cap)
{
    const char *str;
    size_t n;
    if (!lenstr_next(s, &str, &n))
        return false;
    if (n + 1 > *cap) {
        *cap = n + 1;
        *tmp = ims_xrealloc(*tmp, *cap);
    }
    memcpy(*tmp, str, n);
    (*tmp)[n] = 0;
    return true;
}

static bool tags_decode(const char *s, struct ims_strlist *ret)
{
    char *tag = NULL;
    size_t cap = 0;
    bool ok = true;
    while (ok && s && *s && (ok = lenstr_take(&s, &tag, &cap)))
        ims_strlist_add(ret, tag);
    free(tag);
    return ok;
}

/* images.props_text (migration 26): the custom properties (those without
 * a column), each as "<bytes>:<name><bytes>:<value>" in name order, so a
 * list page's images need no image_properties rows (those serve the
 * property filters): at 100,000 images a page at a random marker read
 * them for nearly every image, a fifth of its CPU. NULL: not written (a
 * row made by SQL), the rows are read as before. */
static void props_encode(const struct ims_kvlist *props, struct ims_buf *out);

static bool props_decode(const char *s, struct ims_kvlist *ret)
{
    char *key = NULL, *value = NULL;
    size_t kcap = 0, vcap = 0;
    bool ok = true;
    while (ok && *s && (ok = lenstr_take(&s, &key, &kcap) && lenstr_take(&s, &value, &vcap)))
        ims_kvlist_add(ret, key, value);
    free(key);
    free(value);
    return ok;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct promoted *promoted_find(const char *prop)
{
    for (size_t i = 0; i < NPROMOTED; i++)
        if (strcmp(promoted[i].prop, prop) == 0)
            return &promoted[i];
    return NULL;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct ims_kv *)a)->key, ((const struct ims_kv *)b)->key);
}

static int cmp_kv_ptr(const void *a, const void *b)
{
    return cmp_kv(*(const struct ims_kv *const *)a, *(const struct ims_kv *const *)b);
}

static void props_encode(const struct ims_kvlist *props, struct ims_buf *out)
{
    const struct ims_kv **custom = ims_xcalloc(props->n + 1, sizeof(*custom));
    size_t n = 0;
    for (size_t i = 0; i < props->n; i++)
        if (!promoted_find(props->items[i].key))
            custom[n++] = &props->items[i];
    qsort(custom, n, sizeof(*custom), cmp_kv_ptr);
    for (size_t i = 0; i < n; i++) {
        const char *value = custom[i]->value ? custom[i]->value : ""; /* as write_extras stores it */
        ims_buf_printf(out, "%zu:%s%zu:%s", strlen(custom[i]->key), custom[i]->key, strlen(value), value);
    }
    free(custom);
}

/* Properties in name order, as one image_properties query returned them
 * before the IMS attributes had columns. */
static void sort_props(struct ims_image *img)
{
    if (img->props.n > 32) {
        qsort(img->props.items, img->props.n, sizeof(*img->props.items), cmp_kv);
        return;
    }
    /* An image has a dozen, nearly in order (the promoted ones come in name
     * order): an insertion sort, where qsort's merge sort was 3.7 % of a
     * page's cycles. */
    struct ims_kv *kv = img->props.items;
    for (size_t i = 1; i < img->props.n; i++) {
        struct ims_kv x = kv[i];
        size_t j = i;
        for (; j > 0 && strcmp(kv[j - 1].key, x.key) > 0; j--)
            kv[j] = kv[j - 1];
        kv[j] = x;
    }
}

/* Truncating copy into a fixed field (id, status, visibility): the list
 * makes three per image, snprintf showed in its profile. */
static void copy_fixed(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strnlen(s, cap - 1) : 0;
    memcpy(dst, s ? s : "", n);
    dst[n] = 0;
}

/* Returns how many image_properties rows are still to be read for the
 * image (images.extras, when props_text does not hold them): 0 means
 * there is nothing more to load. Tags come from images.tags_text. */
static int64_t read_row(struct ims_q *q, struct ims_image *img)
{
    ims_image_init(img);
    copy_fixed(img->id, sizeof(img->id), ims_q_col_text(q, 0));
    img->owner = ims_q_col_dup(q, 1);
    img->name = ims_q_col_dup(q, 2);
    copy_fixed(img->status, sizeof(img->status), ims_q_col_text(q, 3));
    copy_fixed(img->visibility, sizeof(img->visibility), ims_q_col_text(q, 4));
    img->protected_ = ims_q_col_int(q, 5) != 0;
    img->os_hidden = ims_q_col_int(q, 6) != 0;
    img->container_format = ims_q_col_dup(q, 7);
    img->disk_format = ims_q_col_dup(q, 8);
    img->size = ims_q_col_null(q, 9) ? -1 : ims_q_col_int(q, 9);
    img->virtual_size = ims_q_col_null(q, 10) ? -1 : ims_q_col_int(q, 10);
    img->checksum = ims_q_col_dup(q, 11);
    img->os_hash_algo = ims_q_col_dup(q, 12);
    img->os_hash_value = ims_q_col_dup(q, 13);
    img->min_disk = ims_q_col_int(q, 14);
    img->min_ram = ims_q_col_int(q, 15);
    ims_set_str(&img->enterprise_project_id, ims_q_col_text(q, 16));
    img->created_at = ims_q_col_int(q, 17);
    img->updated_at = ims_q_col_int(q, 18);
    img->blob = ims_q_col_dup(q, 19);
    for (size_t i = 0; i < NPROMOTED; i++) {
        const char *value = ims_q_col_text(q, PROMOTED_FIRST + (int)i);
        if (value)
            ims_kvlist_add(&img->props, promoted[i].prop, value);
    }
    if (!tags_decode(ims_q_col_text(q, TAGS_TEXT_COL), &img->tags))
        ims_warn("image %s: unreadable tags_text, tags not shown (imsctl db check)", img->id);
    img->revision = ims_q_col_int(q, REVISION_COL);
    img->as_read = true;
    const char *props = ims_q_col_text(q, PROPS_TEXT_COL);
    if (!props)
        return ims_q_col_int(q, EXTRAS_COL);
    if (*props) {
        if (!props_decode(props, &img->props))
            ims_warn("image %s: unreadable props_text, properties not all shown (imsctl db check)", img->id);
        sort_props(img);
    }
    return 0;
}

/* A row whose document the list's caller holds (q->known): only its id and
 * revision are read, nothing allocated but the record's own defaults. */
static bool read_stub(struct ims_q *st, const struct ims_image_query *q, struct ims_image *img)
{
    const char *id = ims_q_col_text(st, 0);
    int64_t revision = ims_q_col_int(st, REVISION_COL);
    if (!id || !q->known(q->known_ctx, id, revision, ims_q_col_text(st, 1)))
        return false;
    ims_image_init(img);
    copy_fixed(img->id, sizeof(img->id), id);
    img->revision = revision;
    img->stub = true;
    return true;
}

/* ---- a list page's rows, each in one allocation ---- */

/* s copied to *at (advanced past it); NULL stays NULL. */
static char *pack_str(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = memcpy(*at, s, n);
    *at += n;
    return p;
}

/* A column's text and its length, measured once: for the allocation's
 * size, then for the copy. */
struct packable {
    const char *s; /* NULL for SQL NULL */
    size_t len;
};

/* Fills *p from s; the bytes s takes in the allocation (0 for NULL). */
static size_t packable_of(struct packable *p, const char *s)
{
    *p = (struct packable){.s = s, .len = s ? strlen(s) : 0};
    return s ? p->len + 1 : 0;
}

/* p's text copied to *at (advanced past it); NULL stays NULL. */
static char *pack_sized(char **at, const struct packable *p)
{
    if (!p->s)
        return NULL;
    char *d = memcpy(*at, p->s, p->len + 1);
    *at += p->len + 1;
    return d;
}

/* The next "<bytes>:<string>" of *s copied NUL-terminated to *at; NULL
 * at a malformed one (lenstr_next: the text's length bounds the copies). */
static char *pack_lenstr(const char **s, char **at)
{
    const char *str;
    size_t n;
    if (!lenstr_next(s, &str, &n))
        return NULL;
    char *p = memcpy(*at, str, n);
    p[n] = 0;
    *at += n + 1;
    return p;
}

/* read_row for a list page's row whose custom properties are all in the
 * row (props_text, or none): the same record, but its strings, properties
 * and tags copied into one allocation (struct ims_image.packed) instead of
 * some 25 per row; at 100,000 images a page at a random marker decodes 22
 * of its 25 rows, and malloc/free were ~15 % of its CPU. */
static void read_row_packed(struct ims_q *q, struct ims_image *img)
{
    static const int str_cols[] = {1, 2, 7, 8, 11, 12, 13, 16, 19};
    struct packable s[IMS_ARRAY_SIZE(str_cols)], pv[NPROMOTED];
    size_t size = 1;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(str_cols); i++)
        size += packable_of(&s[i], ims_q_col_text(q, str_cols[i]));
    for (size_t i = 0; i < NPROMOTED; i++)
        if (packable_of(&pv[i], ims_q_col_text(q, PROMOTED_FIRST + (int)i)))
            size += strlen(promoted[i].prop) + 1 + pv[i].len + 1;
    const char *tags = ims_q_col_text(q, TAGS_TEXT_COL), *props = ims_q_col_text(q, PROPS_TEXT_COL);
    size += (tags ? strlen(tags) : 0) + (props ? strlen(props) : 0);

    *img = (struct ims_image){.packed = ims_xmalloc(size)};
    char *at = img->packed;
    copy_fixed(img->id, sizeof(img->id), ims_q_col_text(q, 0));
    copy_fixed(img->status, sizeof(img->status), ims_q_col_text(q, 3));
    copy_fixed(img->visibility, sizeof(img->visibility), ims_q_col_text(q, 4));
    img->owner = pack_sized(&at, &s[0]);
    img->name = pack_sized(&at, &s[1]);
    img->container_format = pack_sized(&at, &s[2]);
    img->disk_format = pack_sized(&at, &s[3]);
    img->checksum = pack_sized(&at, &s[4]);
    img->os_hash_algo = pack_sized(&at, &s[5]);
    img->os_hash_value = pack_sized(&at, &s[6]);
    img->enterprise_project_id = pack_sized(&at, &s[7]);
    img->blob = pack_sized(&at, &s[8]);
    img->protected_ = ims_q_col_int(q, 5) != 0;
    img->os_hidden = ims_q_col_int(q, 6) != 0;
    img->size = ims_q_col_null(q, 9) ? -1 : ims_q_col_int(q, 9);
    img->virtual_size = ims_q_col_null(q, 10) ? -1 : ims_q_col_int(q, 10);
    img->min_disk = ims_q_col_int(q, 14);
    img->min_ram = ims_q_col_int(q, 15);
    img->created_at = ims_q_col_int(q, 17);
    img->updated_at = ims_q_col_int(q, 18);
    img->revision = ims_q_col_int(q, REVISION_COL);
    img->as_read = true;
    for (size_t i = 0; i < NPROMOTED; i++)
        if (pv[i].s) {
            char *key = pack_str(&at, promoted[i].prop);
            ims_kvlist_push(&img->props, key, pack_sized(&at, &pv[i]));
        }
    char *tag;
    while (tags && *tags && (tag = pack_lenstr(&tags, &at)))
        ims_strlist_push(&img->tags, tag);
    if (tags && *tags)
        ims_warn("image %s: unreadable tags_text, tags not shown (imsctl db check)", img->id);
    if (props && *props) {
        char *key, *value;
        while (*props && (key = pack_lenstr(&props, &at)) && (value = pack_lenstr(&props, &at)))
            ims_kvlist_push(&img->props, key, value);
        if (*props)
            ims_warn("image %s: unreadable props_text, properties not all shown (imsctl db check)", img->id);
        sort_props(img);
    }
}

static enum ims_rc load_extras(struct ims_dbc *c, struct ims_image *img, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT name, value FROM image_properties WHERE image_id = ? ORDER BY name", err))
        return IMS_E_DB;
    ims_q_text(&q, img->id);
    enum ims_step s;
    while ((s = ims_q_step(&q)) == IMS_STEP_ROW)
        ims_kvlist_add(&img->props, ims_q_col_text(&q, 0), ims_q_col_text(&q, 1));
    ims_q_done(&q);
    if (s != IMS_STEP_DONE)
        return ims_fail(err, IMS_E_DB, "reading properties failed");
    sort_props(img);
    return IMS_OK;
}

static enum ims_rc exec_3(struct ims_dbc *c, const char *sql, const char *a, const char *b, const char *v,
                          struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    ims_q_text(&q, a);
    ims_q_text(&q, b);
    if (v)
        ims_q_text(&q, v);
    return ims_q_exec(&q, err);
}

/* With the image's created_at, which orders the rows of a property in the
 * list's index (migration 23). */
static enum ims_rc insert_property(struct ims_dbc *c, const struct ims_image *img, const char *key, const char *value,
                                   struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO image_properties (image_id, name, value, created_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (image_id, name) DO UPDATE SET value = excluded.value",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, img->id);
    ims_q_text(&q, key);
    ims_q_text(&q, value);
    ims_q_int(&q, img->created_at);
    return ims_q_exec(&q, err);
}

static enum ims_rc insert_tag(struct ims_dbc *c, const struct ims_image *img, const char *tag, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "INSERT INTO image_tags (image_id, value, created_at) VALUES (?, ?, ?)", err))
        return IMS_E_DB;
    ims_q_text(&q, img->id);
    ims_q_text(&q, tag);
    ims_q_int(&q, img->created_at);
    return ims_q_exec(&q, err);
}

/* The property and tag rows that differ between before and after (before
 * NULL: a new image, every row is written). */
static enum ims_rc write_extras(struct ims_dbc *c, const struct ims_image *before, const struct ims_image *img,
                                struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    for (size_t i = 0; before && i < before->props.n && rc == IMS_OK; i++) {
        const char *key = before->props.items[i].key;
        if (!promoted_find(key) && !ims_kvlist_get(&img->props, key))
            rc = exec_3(c, "DELETE FROM image_properties WHERE image_id = ? AND name = ?", img->id, key, NULL, err);
    }
    for (size_t i = 0; i < img->props.n && rc == IMS_OK; i++) {
        const char *key = img->props.items[i].key;
        const char *value = img->props.items[i].value ? img->props.items[i].value : "";
        const char *was = before ? ims_kvlist_get(&before->props, key) : NULL;
        if (promoted_find(key) || (was && ims_streq(was, value)))
            continue;
        rc = insert_property(c, img, key, value, err);
    }
    for (size_t i = 0; before && i < before->tags.n && rc == IMS_OK; i++)
        if (!ims_strlist_contains(&img->tags, before->tags.items[i]))
            rc = exec_3(c, "DELETE FROM image_tags WHERE image_id = ? AND value = ?", img->id, before->tags.items[i],
                        NULL, err);
    for (size_t i = 0; i < img->tags.n && rc == IMS_OK; i++)
        if (!before || !ims_strlist_contains(&before->tags, img->tags.items[i]))
            rc = insert_tag(c, img, img->tags.items[i], err);
    return rc;
}

/* The mutable columns of images, in the order of the INSERT: the 19 of
 * the record, the promoted properties (promoted[].col), extras, tags_text,
 * props_text. */
static const char *const record_cols[] = {
    "owner",         "name",     "status",  "visibility",   "protected",    "os_hidden",
    "container_format", "disk_format", "size", "virtual_size", "checksum", "os_hash_algo",
    "os_hash_value", "min_disk", "min_ram", "enterprise_project_id", "created_at", "updated_at",
    "location",
};
#define NRECORD_COLS IMS_ARRAY_SIZE(record_cols)
#define NCOLS (NRECORD_COLS + NPROMOTED + 3)

static const char *col_name(size_t k)
{
    if (k < NRECORD_COLS)
        return record_cols[k];
    if (k < NRECORD_COLS + NPROMOTED)
        return promoted[k - NRECORD_COLS].col;
    static const char *const last[] = {"extras", "tags_text", "props_text"};
    return last[k - NRECORD_COLS - NPROMOTED];
}

/* One column's value as bound: an integer, or text (NULL = SQL NULL). */
struct colval {
    bool is_int;
    int64_t i;
    const char *s;
};

/* An image as the values of its columns; s of tags_text points into tags,
 * of props_text into props. */
struct rowvals {
    struct colval v[NCOLS];
    struct ims_buf tags, props;
};

static void rowvals_release(struct rowvals *r)
{
    ims_buf_release(&r->tags);
    ims_buf_release(&r->props);
}

static struct colval text_val(const char *s) { return (struct colval){.s = s}; }
static struct colval int_val(int64_t i) { return (struct colval){.is_int = true, .i = i}; }
static struct colval optional_int_val(int64_t i) { return i < 0 ? text_val(NULL) : int_val(i); }

static void rowvals_of(const struct ims_image *img, struct rowvals *r)
{
    struct colval *v = r->v;
    size_t k = 0;
    v[k++] = text_val(img->owner);
    v[k++] = text_val(img->name);
    v[k++] = text_val(img->status);
    v[k++] = text_val(img->visibility);
    v[k++] = int_val(img->protected_);
    v[k++] = int_val(img->os_hidden);
    v[k++] = text_val(img->container_format);
    v[k++] = text_val(img->disk_format);
    v[k++] = optional_int_val(img->size);
    v[k++] = optional_int_val(img->virtual_size);
    v[k++] = text_val(img->checksum);
    v[k++] = text_val(img->os_hash_algo);
    v[k++] = text_val(img->os_hash_value);
    v[k++] = int_val(img->min_disk);
    v[k++] = int_val(img->min_ram);
    v[k++] = text_val(img->enterprise_project_id ? img->enterprise_project_id : "0");
    v[k++] = int_val(img->created_at);
    v[k++] = int_val(img->updated_at);
    v[k++] = text_val(img->blob);
    for (size_t i = 0; i < NPROMOTED; i++)
        v[k++] = text_val(ims_kvlist_get(&img->props, promoted[i].prop));
    int64_t extras = 0;
    for (size_t i = 0; i < img->props.n; i++)
        extras += !promoted_find(img->props.items[i].key);
    v[k++] = int_val(extras);
    struct ims_strlist sorted = {0};
    ims_strlist_copy(&sorted, &img->tags);
    if (sorted.n > 1)
        qsort(sorted.items, sorted.n, sizeof(*sorted.items), cmp_str_ptr);
    ims_buf_init(&r->tags, SIZE_MAX);
    ims_buf_adds(&r->tags, ""); /* "" and not NULL for an image without tags */
    tags_encode(&sorted, &r->tags);
    ims_strlist_release(&sorted);
    v[k++] = text_val(r->tags.data);
    ims_buf_init(&r->props, SIZE_MAX);
    ims_buf_adds(&r->props, "");
    props_encode(&img->props, &r->props);
    v[k++] = text_val(r->props.data);
}

static void bind_val(struct ims_q *q, const struct colval *v)
{
    if (v->is_int)
        ims_q_int(q, v->i);
    else
        ims_q_text(q, v->s);
}

static bool val_eq(const struct colval *a, const struct colval *b)
{
    if (a->is_int != b->is_int)
        return false;
    if (a->is_int)
        return a->i == b->i;
    return (!a->s && !b->s) || (a->s && b->s && strcmp(a->s, b->s) == 0);
}

/* Binds every mutable column in the order of the INSERT. */
static void bind_columns(struct ims_q *q, const struct ims_image *img)
{
    struct rowvals r;
    rowvals_of(img, &r);
    for (size_t k = 0; k < NCOLS; k++)
        bind_val(q, &r.v[k]);
    rowvals_release(&r);
}

/* The UPDATE of the columns that differ between before and after, on
 * condition that the revision is still before's. Only those columns are
 * named: SQLite rewrites the entries of every index on a column the SET
 * names, whether or not its value moves, and images carries an index per
 * list filter and sort key (migration 17): naming them all made a rename
 * rewrite thirty index entries. */
static enum ims_rc update_changed(struct ims_dbc *c, const struct ims_image *before, const struct ims_image *img,
                                  struct ims_err *err)
{
    struct rowvals was, now;
    rowvals_of(before, &was);
    rowvals_of(img, &now);
    bool changed[NCOLS];
    struct ims_buf sql;
    ims_buf_init(&sql, SIZE_MAX);
    ims_buf_adds(&sql, "UPDATE images SET ");
    for (size_t k = 0; k < NCOLS; k++)
        if ((changed[k] = !val_eq(&was.v[k], &now.v[k])))
            ims_buf_printf(&sql, "%s = ?, ", col_name(k));
    ims_buf_adds(&sql, "revision = revision + 1 WHERE id = ? AND revision = ?");
    struct ims_q q;
    enum ims_rc rc = IMS_OK;
    if (ims_q_prepare(&q, c, sql.data, err)) {
        for (size_t k = 0; k < NCOLS; k++)
            if (changed[k])
                bind_val(&q, &now.v[k]);
        ims_q_text(&q, img->id);
        ims_q_int(&q, before->revision);
        rc = ims_q_exec(&q, err);
    } else {
        rc = IMS_E_DB;
    }
    ims_buf_release(&sql);
    rowvals_release(&was);
    rowvals_release(&now);
    return rc;
}

/* The image's blobs: its location and its data in further stores
 * (IMS_PROP_COPY_PREFIX properties), references of their blobs alike. The
 * counts move with every location dropped, added or changed (before NULL:
 * a new image), in location order (ims_blob_moves_apply). */
static enum ims_rc blob_refs_moved(struct ims_dbc *c, const struct ims_image *before, const struct ims_image *img,
                                   struct ims_err *err)
{
    struct ims_blob_moves m = {0};
    ims_blob_moves_add(&m, before ? before->blob : NULL, -1);
    ims_blob_moves_add(&m, img->blob, 1);
    for (size_t i = 0; before && i < before->props.n; i++)
        if (ims_str_startswith(before->props.items[i].key, IMS_PROP_COPY_PREFIX))
            ims_blob_moves_add(&m, before->props.items[i].value, -1);
    for (size_t i = 0; i < img->props.n; i++)
        if (ims_str_startswith(img->props.items[i].key, IMS_PROP_COPY_PREFIX))
            ims_blob_moves_add(&m, img->props.items[i].value, 1);
    return ims_blob_moves_apply(c, &m, err);
}

struct insert_args {
    const struct ims_image *img;
    int64_t max_owned;
    bool all_slots, near; /* the count (repo_counts.c): near the quota, made again over every slot */
};

/* The rows of a new image, in the write transaction ims_db_shared_write
 * gives it. */
static enum ims_rc insert_rows(struct ims_dbc *c, void *arg, bool *ret_wrote, struct ims_err *err)
{
    struct insert_args *a = arg;
    const struct ims_image *img = a->img;
    /* refused before the first write (ims_db_shared_write's rule) */
    enum ims_rc rc = ims_repo_count_check(c, img->owner, a->max_owned, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "INSERT INTO images (owner, name, status, visibility, protected, os_hidden, "
                       "container_format, disk_format, size, virtual_size, checksum, os_hash_algo, os_hash_value, "
                       "min_disk, min_ram, enterprise_project_id, created_at, updated_at, location, p_image_size, "
                       "p_image_source_type, p_imagetype, p_is_config_init, p_isregistered, p_os_bit, p_os_type, "
                       "p_os_version, p_platform, p_virtual_env_type, extras, tags_text, props_text, id, revision) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                       "?, ?, ?)",
                       err))
        return IMS_E_DB;
    bind_columns(&q, img);
    ims_q_text(&q, img->id);
    /* A random first revision (52 bits): an id deleted and made again
     * starts from another one, so (id, revision) names one state of one row
     * ever, and a rendered document kept under it (lib/api/image_cache.c)
     * cannot be taken for the new image's. */
    uint64_t first;
    ims_random_bytes(&first, sizeof(first));
    ims_q_int(&q, (int64_t)(first >> 12));
    rc = ims_q_exec(&q, err); /* a statement that fails writes nothing */
    if (rc == IMS_E_CONFLICT)
        ims_fail(err, rc, "Image with identifier %s already exists!", img->id);
    *ret_wrote = rc == IMS_OK;
    if (rc == IMS_OK) /* the project's count, against its quota (repo_counts.c) */
        rc = ims_repo_count_image_added(c, img->owner, img->id, a->max_owned, a->all_slots, &a->near, err);
    if (rc == IMS_OK)
        rc = write_extras(c, NULL, img, err);
    if (rc == IMS_OK) /* one more image on its blobs (repo_blobs.c) */
        rc = blob_refs_moved(c, NULL, img, err);
    return rc;
}

enum ims_rc ims_repo_image_insert(struct ims_dbc *c, const struct ims_image *img, int64_t max_owned,
                                  struct ims_err *err)
{
    /* a new row and the project's count: no database-wide lock on
     * PostgreSQL; on SQLite, one commit for the creates waiting together */
    /* inside a caller's transaction the create cannot be made again: every
     * slot at once */
    struct insert_args a = {.img = img, .max_owned = max_owned, .all_slots = c->txdepth > 0};
    enum ims_rc rc = ims_db_shared_write(c, insert_rows, &a, err);
    if (rc != IMS_OK && a.near) { /* rolled back: again, over every slot of the count */
        a.all_slots = true;
        a.near = false;
        rc = ims_db_shared_write(c, insert_rows, &a, err);
    }
    return rc;
}

enum ims_rc ims_repo_image_write_changes(struct ims_dbc *c, const struct ims_image *before,
                                         const struct ims_image *img, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    /* given away: the counts move (repo_counts.c) */
    if (!ims_streq(before->owner, img->owner) &&
        (rc = ims_repo_count_image_given(c, img->id, before->owner, img->owner, err)) != IMS_OK)
        goto out;
    rc = update_changed(c, before, img, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s was changed or deleted concurrently; retry.", img->id);
    if (rc == IMS_OK)
        rc = write_extras(c, before, img, err);
    /* a location moved: the blobs' counts move with it (repo_blobs.c) */
    if (rc == IMS_OK)
        rc = blob_refs_moved(c, before, img, err);
out:
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    return ims_db_commit(c, err);
}

static enum ims_rc image_get(struct ims_dbc *c, const char *id, bool with_extras, struct ims_image *ret,
                             struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT " IMAGE_COLS " FROM images i WHERE i.id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    enum ims_step s = ims_q_step(&q);
    if (s != IMS_STEP_ROW) {
        enum ims_rc rc = s == IMS_STEP_DONE ? ims_fail(err, IMS_E_NOTFOUND, "No image found with ID %s", id)
                                            : ims_q_dberr(&q, err);
        ims_q_done(&q);
        return rc;
    }
    struct ims_image img;
    int64_t extras = read_row(&q, &img);
    ims_q_done(&q);
    enum ims_rc rc = extras && with_extras ? load_extras(c, &img, err) : IMS_OK;
    if (rc != IMS_OK) {
        ims_image_release(&img);
        return rc;
    }
    *ret = img;
    return IMS_OK;
}

enum ims_rc ims_repo_image_get(struct ims_dbc *c, const char *id, struct ims_image *ret, struct ims_err *err)
{
    return image_get(c, id, true, ret, err);
}

enum ims_rc ims_repo_image_get_row(struct ims_dbc *c, const char *id, struct ims_image *ret, struct ims_err *err)
{
    return image_get(c, id, false, ret, err);
}

enum ims_rc ims_repo_image_lock(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    if (!c->rows_tx)
        return IMS_OK;
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT 1 FROM images WHERE id = ? FOR UPDATE", err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    enum ims_step s = ims_q_step(&q);
    enum ims_rc rc = s == IMS_STEP_ERROR ? ims_q_dberr(&q, err) : IMS_OK; /* none: the read says 404 */
    ims_q_done(&q);
    return rc;
}

/* One image fewer on each of its blobs (repo_blobs.c): its location and
 * its data in further stores (blob_refs_moved), in location order. */
static enum ims_rc blob_refs_dropped(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    struct ims_q q;
    /* substr, not LIKE, which SQLite matches without case */
    if (!ims_q_prepare(&q, c,
                       "SELECT location FROM images WHERE id = ? AND location IS NOT NULL UNION ALL "
                       "SELECT value FROM image_properties WHERE image_id = ? "
                       "AND substr(name, 1, 19) = '" IMS_PROP_COPY_PREFIX "'",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    ims_q_text(&q, id);
    struct ims_strlist locations = {0};
    enum ims_rc rc = ims_q_strings(&q, &locations, err);
    struct ims_blob_moves m = {0};
    for (size_t i = 0; i < locations.n; i++)
        ims_blob_moves_add(&m, locations.items[i], -1);
    if (rc == IMS_OK)
        rc = ims_blob_moves_apply(c, &m, err);
    free(m.items);
    ims_strlist_release(&locations);
    return rc;
}

enum ims_rc ims_repo_image_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_repo_count_image_removed(c, id, NULL, NULL, err); /* the owner's count (repo_counts.c) */
    if (rc == IMS_OK)
        rc = blob_refs_dropped(c, id, err);
    static const char *const sqls[] = {
        "DELETE FROM image_properties WHERE image_id = ?",
        "DELETE FROM image_tags WHERE image_id = ?",
        "DELETE FROM image_members WHERE image_id = ?",
        "DELETE FROM images WHERE id = ?",
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(sqls) && rc == IMS_OK; i++) {
        struct ims_q q;
        if (!ims_q_prepare(&q, c, sqls[i], err)) {
            rc = IMS_E_DB;
            break;
        }
        ims_q_text(&q, id);
        rc = ims_q_exec(&q, err);
    }
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_NOTFOUND, "No image found with ID %s", id);
    if (rc != IMS_OK) {
        ims_db_rollback(c);
        return rc;
    }
    return ims_db_commit(c, err);
}

enum ims_rc ims_repo_image_upload_claim(struct ims_dbc *c, const char *id, const char *upload_id, const char *owner,
                                        int64_t expires, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE images SET status = 'saving', upload_id = ?, upload_owner = ?, upload_expires = ?, "
                       "updated_at = ?, revision = revision + 1 WHERE id = ? AND status = 'queued'",
                       err))
        return IMS_E_DB;
    ims_q_text(&q, upload_id);
    ims_q_text(&q, owner);
    ims_q_int(&q, expires);
    ims_q_int(&q, ims_now());
    ims_q_text(&q, id);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail(err, IMS_E_CONFLICT, "Image %s is already being uploaded or has data.", id);
    return rc;
}

enum ims_rc ims_repo_image_upload_owned(struct ims_dbc *c, const char *id, const char *upload_id, bool *ret,
                                        struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT 1 FROM images WHERE id = ? AND status = 'saving' AND upload_id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    ims_q_text(&q, upload_id);
    enum ims_step s = ims_q_step(&q);
    enum ims_rc rc = s == IMS_STEP_ERROR ? ims_q_dberr(&q, err) : IMS_OK;
    *ret = s == IMS_STEP_ROW;
    ims_q_done(&q);
    return rc;
}

enum ims_rc ims_repo_image_upload_end(struct ims_dbc *c, const char *id, const char *upload_id, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE images SET status = 'queued', upload_id = NULL, updated_at = ?, "
                       "revision = revision + 1 WHERE id = ? AND status = 'saving' AND upload_id = ?",
                       err))
        return IMS_E_DB;
    ims_q_int(&q, ims_now());
    ims_q_text(&q, id);
    ims_q_text(&q, upload_id);
    return ims_q_exec(&q, err);
}

void ims_image_array_free(struct ims_image *imgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_image_release(&imgs[i]);
    free(imgs);
}

/* ---- listing ---- */

struct bind {
    bool is_int;
    int64_t i;
    const char *s;
};

#define MAX_BINDS 2048

struct sqlb {
    const struct ims_sql_ops *ops; /* the engine's spelling of planner hints */
    struct ims_buf sql;
    /* rows come from t0 in (created_at, id) order: image_tags (the first
     * tag) or image_properties (a custom property few images have) */
    bool t0_driven;
    /* A filter of the query is an equality (or IN) on an indexed column,
     * property or tag: its index finds the matching rows, so the caller's
     * view (owner, visibility, enterprise projects) is checked on those rows
     * and given no index the planner could prefer to the filter's. */
    bool filter_driven;
    /* Custom-property filters that match few images (probe_few_props):
     * those are found through the (name, value) index; any other is
     * checked on the rows walked in the list's order. */
    const struct ims_filter *few_props[8];
    size_t nfew_props;
    /* Grown as needed: a fixed array of MAX_BINDS was a 48 KiB calloc per
     * list (its memset, and glibc consolidating for a large chunk). */
    struct bind *binds;
    size_t nbinds, cap;
    bool overflow;
};

static void b_add(struct sqlb *b, struct bind v)
{
    if (b->nbinds == MAX_BINDS) {
        b->overflow = true;
        return;
    }
    if (b->nbinds == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->binds = ims_xrealloc(b->binds, b->cap * sizeof(*b->binds));
    }
    b->binds[b->nbinds++] = v;
}

static void b_text(struct sqlb *b, const char *s)
{
    b_add(b, (struct bind){.s = s});
}

static void b_int(struct sqlb *b, int64_t v)
{
    b_add(b, (struct bind){.is_int = true, .i = v});
}

/* Whether a filter on a promoted column is one its index answers: every
 * value it accepts is in the index (a partial one holds no row of the
 * value it leaves out; a filter that accepts that value matches most
 * images, and walks the list's order). */
static bool partial_index_serves(const struct promoted *col, const struct ims_filter *f)
{
    if (!col->partial_unless || f->implied || !(f->op == IMS_CMP_EQ || f->op == IMS_CMP_IN))
        return false;
    for (size_t i = 0; i < f->values.n; i++)
        if (strcmp(f->values.items[i], col->partial_unless) == 0)
            return false;
    return true;
}

static bool prop_few(const struct sqlb *b, const struct ims_filter *f)
{
    for (size_t i = 0; i < b->nfew_props; i++)
        if (b->few_props[i] == f)
            return true;
    return false;
}

static void add_text_comparison(struct sqlb *b, const struct ims_filter *f);

/* Whether an image without the property matches f because the default it
 * shows does (ims_image_shown_default: documented attributes not stored). */
static bool default_matches(const struct ims_filter *f)
{
    const char *dflt = ims_image_shown_default(f->key);
    if (!dflt || f->values.n == 0)
        return false;
    bool equal = false;
    for (size_t i = 0; i < f->values.n && !equal; i++)
        equal = strcmp(f->values.items[i], dflt) == 0;
    return f->op == IMS_CMP_NEQ ? !equal : (f->op == IMS_CMP_EQ || f->op == IMS_CMP_IN) && equal;
}

/* A custom property matches few images when at most PROP_FEW rows have
 * it: found through its index and sorted, they cost less than walking the
 * list's order past the images without it (which a property most images
 * have makes cheap, and a rare one makes a walk of the catalogue). */
#define PROP_FEW 1000

static enum ims_rc probe_few_props(struct ims_dbc *c, const struct ims_image_query *q, const struct ims_filter *skip,
                                   struct sqlb *b, struct ims_err *err)
{
    for (size_t i = 0; i < q->nfilters && b->nfew_props < IMS_ARRAY_SIZE(b->few_props); i++) {
        const struct ims_filter *f = &q->filters[i];
        if (f == skip || !f->is_property || promoted_find(f->key) || f->values.n == 0 || f->implied ||
            !(f->op == IMS_CMP_EQ || f->op == IMS_CMP_IN) || default_matches(f))
            continue;
        struct sqlb pb = {.ops = b->ops};
        ims_buf_init(&pb.sql, 1 << 20);
        ims_buf_adds(&pb.sql, "SELECT COUNT(*) FROM (SELECT 1 FROM image_properties p WHERE p.name = ?");
        b_text(&pb, f->key);
        ims_buf_adds(&pb.sql, " AND p.value");
        add_text_comparison(&pb, f);
        ims_buf_printf(&pb.sql, " LIMIT %d) x", PROP_FEW + 1);
        struct ims_q pq;
        enum ims_rc rc = IMS_OK;
        if (pb.overflow || pb.sql.overflow) {
            rc = ims_fail(err, IMS_E_BADREQ, "Query has too many filter values");
        } else if (!ims_q_prepare(&pq, c, pb.sql.data, err)) {
            rc = IMS_E_DB;
        } else {
            for (size_t k = 0; k < pb.nbinds; k++)
                ims_q_text(&pq, pb.binds[k].s);
            if (ims_q_step(&pq) == IMS_STEP_ROW) {
                if (ims_q_col_int(&pq, 0) <= PROP_FEW)
                    b->few_props[b->nfew_props++] = f;
            } else {
                rc = ims_q_dberr(&pq, err);
            }
            ims_q_done(&pq);
        }
        ims_buf_release(&pb.sql);
        free(pb.binds);
        if (rc != IMS_OK)
            return rc;
    }
    return IMS_OK;
}

static const char *cmp_sql(enum ims_cmp op)
{
    switch (op) {
    case IMS_CMP_EQ: return "=";
    case IMS_CMP_NEQ: return "<>";
    case IMS_CMP_GT: return ">";
    case IMS_CMP_GTE: return ">=";
    case IMS_CMP_LT: return "<";
    case IMS_CMP_LTE: return "<=";
    case IMS_CMP_IN: return "IN";
    }
    return "=";
}

/* Columns a filter or sort may name; anything else is refused by the query
 * parser, and checked again here because it reaches SQL text. */
static bool core_column(const char *key)
{
    static const char *const cols[] = {"id", "name", "owner", "status", "visibility", "protected", "os_hidden",
                                       "container_format", "disk_format", "size", "virtual_size", "created_at",
                                       "updated_at", "min_disk", "min_ram", "checksum", "os_hash_algo", "os_hash_value",
                                       "enterprise_project_id"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cols); i++)
        if (strcmp(cols[i], key) == 0)
            return true;
    return false;
}

static bool text_column(const char *key)
{
    return !(ims_streq(key, "protected") || ims_streq(key, "os_hidden") || ims_streq(key, "size") ||
             ims_streq(key, "virtual_size") || ims_streq(key, "created_at") || ims_streq(key, "updated_at") ||
             ims_streq(key, "min_disk") || ims_streq(key, "min_ram"));
}

/* Sort expression: NULLs sort as the empty string / -1 so SQLite and
 * PostgreSQL order them the same way and the keyset comparison holds.
 * Migration 17's indexes hold these expressions. */
static bool sort_expr_coalesces(const char *key)
{
    return text_column(key) ? !(ims_streq(key, "id") || ims_streq(key, "owner") || ims_streq(key, "status") ||
                                ims_streq(key, "visibility") || ims_streq(key, "enterprise_project_id"))
                            : ims_streq(key, "size") || ims_streq(key, "virtual_size");
}

static void sort_expr(struct ims_buf *sql, const char *key)
{
    if (!sort_expr_coalesces(key))
        ims_buf_printf(sql, "i.%s", key);
    else if (text_column(key))
        ims_buf_printf(sql, "COALESCE(i.%s, '')", key);
    else
        ims_buf_printf(sql, "COALESCE(i.%s, -1)", key);
}

static void add_value(struct sqlb *b, const struct ims_filter *f, const char *v)
{
    if (f->type == IMS_FIELD_TEXT) {
        b_text(b, v);
        return;
    }
    int64_t n = 0;
    ims_parse_i64(v, INT64_MIN, INT64_MAX, &n);
    b_int(b, n);
}

/* " IN (?, ...)" or " <op> ?" with the filter's values as text: the
 * comparison of a property, stored as a column or as a row. */
static void add_text_comparison(struct sqlb *b, const struct ims_filter *f)
{
    if (f->op == IMS_CMP_IN) {
        ims_buf_adds(&b->sql, " IN (");
        for (size_t i = 0; i < f->values.n; i++) {
            ims_buf_adds(&b->sql, i ? ", ?" : "?");
            b_text(b, f->values.items[i]);
        }
        ims_buf_adds(&b->sql, ")");
    } else {
        ims_buf_printf(&b->sql, " %s ?", cmp_sql(f->op));
        b_text(b, f->values.items[0]);
    }
}

static void add_filter(struct sqlb *b, const struct ims_filter *f)
{
    if (f->values.n == 0) { /* "in:" with nothing in it matches nothing */
        ims_buf_adds(&b->sql, " AND 1 = 0");
        return;
    }
    const struct promoted *col = f->is_property ? promoted_find(f->key) : NULL;
    if (col) {
        char name[64];
        snprintf(name, sizeof(name), "i.%s", col->col);
        ims_buf_adds(&b->sql, " AND ");
        if (f->implied)
            b->ops->unindexed(&b->sql, name);
        else
            ims_buf_adds(&b->sql, name);
        add_text_comparison(b, f);
        /* the partial index's own condition, word for word: neither engine
         * proves it from a comparison with a bound parameter */
        if (partial_index_serves(col, f))
            ims_buf_printf(&b->sql, " AND %s <> '%s'", name, col->partial_unless);
        return;
    }
    if (f->is_property) {
        /* Few matches: IN, not a correlated EXISTS, so the (name, value)
         * index finds them instead of every image being probed; many: the
         * rows walked in the list's order are probed, and a page is found
         * within a few times its length. */
        bool dflt = default_matches(f);
        if (dflt) {
            ims_buf_adds(&b->sql, " AND (NOT EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = i.id "
                                  "AND p.name = ?) OR");
            b_text(b, f->key);
        } else {
            ims_buf_adds(&b->sql, " AND");
        }
        ims_buf_adds(&b->sql, prop_few(b, f) ? " i.id IN (SELECT p.image_id FROM image_properties p WHERE p.name = ?"
                                             : " EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = i.id "
                                               "AND p.name = ?");
        b_text(b, f->key);
        ims_buf_adds(&b->sql, " AND p.value");
        add_text_comparison(b, f);
        ims_buf_adds(&b->sql, dflt ? "))" : ")");
        return;
    }
    if (!core_column(f->key)) {
        ims_buf_adds(&b->sql, " AND 1 = 0");
        return;
    }
    /* An equality or IN is written on the expression the column's index
     * (migration 17) holds, the list's sort expression; NULL never matched
     * a comparison, and still does not. Ranges other than created_at's stay
     * on the bare column, unindexed: walking the list's order and stopping
     * at the page beats collecting and sorting a range. */
    ims_buf_adds(&b->sql, " AND ");
    char bare[64];
    snprintf(bare, sizeof(bare), "i.%s", f->key);
    if (f->op == IMS_CMP_EQ || f->op == IMS_CMP_IN) {
        if (sort_expr_coalesces(f->key))
            ims_buf_printf(&b->sql, "%s IS NOT NULL AND ", bare);
        sort_expr(&b->sql, f->key);
    } else if (ims_streq(f->key, "created_at")) {
        ims_buf_adds(&b->sql, bare);
    } else {
        b->ops->unindexed(&b->sql, bare);
    }
    if (f->op == IMS_CMP_IN) {
        ims_buf_adds(&b->sql, " IN (");
        for (size_t i = 0; i < f->values.n; i++) {
            ims_buf_adds(&b->sql, i ? ", ?" : "?");
            add_value(b, f, f->values.items[i]);
        }
        ims_buf_adds(&b->sql, ")");
        return;
    }
    ims_buf_printf(&b->sql, " %s ?", cmp_sql(f->op));
    add_value(b, f, f->values.items[0]);
}

/* A column of the caller's view: indexed unless a filter drives the list. */
static void view_col(struct sqlb *b, const char *col)
{
    if (b->filter_driven)
        b->ops->unindexed(&b->sql, col);
    else
        ims_buf_adds(&b->sql, col);
}

/* Does the filter name rows an index finds (migration 17, the property
 * and tag indexes)? */
static bool filter_indexed(const struct sqlb *b, const struct ims_filter *f)
{
    if (f->values.n == 0 || f->implied || !(f->op == IMS_CMP_EQ || f->op == IMS_CMP_IN))
        return false;
    const struct promoted *col = f->is_property ? promoted_find(f->key) : NULL;
    if (col)
        return !col->partial_unless || partial_index_serves(col, f);
    return f->is_property ? prop_few(b, f) : core_column(f->key);
}

/* A custom property's equality (one value, no shown default) its
 * (name, value, created_at, image_id) index answers in the default order. */
static bool prop_eq_drives(const struct ims_filter *f)
{
    return f->is_property && !promoted_find(f->key) && !f->implied && f->op == IMS_CMP_EQ && f->values.n == 1 &&
           !default_matches(f);
}

/* The list's only indexable condition, when it is such an equality and the
 * caller's view is not split into parts: the rows it matches, in the
 * list's order, are a subsequence of the catalogue's, so walking the
 * property's index is never longer than walking the images and probing
 * each (a correlated EXISTS a row: custom=y on 100,000 images 171 us a
 * page against 75 for the first page, loaded), however many images have
 * it; it needs no count of them (probe_few_props). */
static const struct ims_filter *sole_prop_eq(const struct ims_image_query *q, bool pair_order, bool view_split)
{
    if (!pair_order || view_split || q->tags.n > 0)
        return NULL;
    const struct ims_filter *sole = NULL;
    for (size_t i = 0; i < q->nfilters; i++) {
        const struct ims_filter *f = &q->filters[i];
        bool indexable = f->is_property ? !f->implied && (f->op == IMS_CMP_EQ || f->op == IMS_CMP_IN)
                                        : filter_indexed(&(struct sqlb){0}, f);
        if (!indexable)
            continue;
        if (sole || !prop_eq_drives(f))
            return NULL;
        sole = f;
    }
    return sole;
}

static void add_member_status(struct sqlb *b, const char *member_status)
{
    if (ims_streq(member_status, "all"))
        return;
    ims_buf_adds(&b->sql, " AND m.status = ?");
    b_text(b, member_status ? member_status : "accepted");
}

/* IMS __imagetype: gold = public images, private = the caller's own that
 * are neither public nor shared with anyone, shared = those the caller
 * shares with others (it has members) or that are shared with the caller
 * (member_status, accepted by default). */
static void add_imagetype(struct sqlb *b, const struct ims_image_query *q, const struct ims_viewer *v)
{
    const char *p = v->project_id ? v->project_id : "";
    if (ims_streq(q->imagetype, "gold")) {
        ims_buf_adds(&b->sql, " AND ");
        view_col(b, "i.visibility");
        ims_buf_adds(&b->sql, " = 'public'");
    } else if (ims_streq(q->imagetype, "private")) {
        ims_buf_adds(&b->sql, " AND ");
        view_col(b, "i.owner");
        ims_buf_adds(&b->sql, " = ? AND i.visibility <> 'public' AND NOT (i.visibility = 'shared' AND "
                              "EXISTS (SELECT 1 FROM image_members o WHERE o.image_id = i.id))");
        b_text(b, p);
    } else if (ims_streq(q->imagetype, "shared")) {
        ims_buf_adds(&b->sql, " AND ");
        view_col(b, "i.visibility");
        ims_buf_adds(&b->sql, " = 'shared' AND ((i.owner = ? AND EXISTS (SELECT 1 FROM image_members o "
                              "WHERE o.image_id = i.id)) OR EXISTS (SELECT 1 FROM image_members m "
                              "WHERE m.image_id = i.id AND m.member = ?");
        b_text(b, p);
        b_text(b, p);
        add_member_status(b, q->member_status);
        ims_buf_adds(&b->sql, "))");
    }
}

/* Only images in the enterprise projects the caller is granted (a filter in
 * the query, so pages stay full and markers stay right); none unless the
 * viewer's scope says ALL or lists some. */
static void add_eps(struct sqlb *b, const struct ims_viewer *v)
{
    if (v->ep_scope == IMS_EP_SCOPE_ALL)
        return;
    if (v->ep_scope != IMS_EP_SCOPE_LISTED || !v->eps || v->eps->n == 0) {
        ims_buf_adds(&b->sql, " AND 1 = 0");
        return;
    }
    /* never the driving index: an IN over it would collect and sort every
     * image of the listed enterprise projects */
    ims_buf_adds(&b->sql, " AND ");
    b->ops->unindexed(&b->sql, "i.enterprise_project_id");
    ims_buf_adds(&b->sql, " IN (");
    for (size_t i = 0; i < v->eps->n; i++) {
        ims_buf_adds(&b->sql, i ? ", ?" : "?");
        b_text(b, v->eps->items[i]);
    }
    ims_buf_adds(&b->sql, ")");
}

static void add_visibility(struct sqlb *b, const struct ims_image_query *q, const struct ims_viewer *v)
{
    const char *vis = q->visibility;
    const char *p = v->project_id ? v->project_id : "";
    if (v->is_admin) {
        if (vis && !ims_streq(vis, "all")) {
            ims_buf_adds(&b->sql, " AND ");
            view_col(b, "i.visibility");
            ims_buf_adds(&b->sql, " = ?");
            b_text(b, vis);
        }
        return;
    }
    if (ims_streq(vis, "public") || ims_streq(vis, "community")) {
        ims_buf_adds(&b->sql, " AND ");
        view_col(b, "i.visibility");
        ims_buf_adds(&b->sql, " = ?");
        b_text(b, vis);
        return;
    }
    if (ims_streq(vis, "private")) {
        ims_buf_adds(&b->sql, " AND i.visibility = 'private' AND ");
        view_col(b, "i.owner");
        ims_buf_adds(&b->sql, " = ?");
        b_text(b, p);
        return;
    }
    if (ims_streq(vis, "shared")) {
        ims_buf_adds(&b->sql, " AND ");
        view_col(b, "i.visibility");
        ims_buf_adds(&b->sql, " = 'shared' AND (i.owner = ? OR EXISTS (SELECT 1 FROM image_members m "
                              "WHERE m.image_id = i.id AND m.member = ?");
        b_text(b, p);
        b_text(b, p);
        add_member_status(b, q->member_status);
        ims_buf_adds(&b->sql, "))");
        return;
    }
    /* Default view: own, public, shared with us; "all" adds community.
     * The owner condition uses no index: that keeps the planner off a
     * multi-index OR over the owner and visibility indexes, which then
     * sorted every visible row for each page (271 req/s on 10k images);
     * walking the sort index and filtering finds a page at once. */
    ims_buf_adds(&b->sql, " AND (");
    b->ops->unindexed(&b->sql, "i.owner");
    ims_buf_adds(&b->sql, " = ? OR i.visibility = 'public'");
    b_text(b, p);
    if (ims_streq(vis, "all"))
        ims_buf_adds(&b->sql, " OR i.visibility = 'community'");
    ims_buf_adds(&b->sql, " OR (i.visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members m "
                          "WHERE m.image_id = i.id AND m.member = ?");
    b_text(b, p);
    add_member_status(b, q->member_status);
    ims_buf_adds(&b->sql, ")))");
}

/* A sort key as the statement orders by it: a tag-driven list orders by
 * the tag row's copy of created_at and its image_id, which its index holds. */
static void sort_col(struct sqlb *b, const char *key)
{
    if (b->t0_driven && ims_streq(key, "created_at"))
        ims_buf_adds(&b->sql, "t0.created_at");
    else if (b->t0_driven && ims_streq(key, "id"))
        ims_buf_adds(&b->sql, "t0.image_id");
    else
        sort_expr(&b->sql, key);
}

static void bind_marker_value(struct sqlb *b, const struct ims_image *m, const char *key)
{
    if (ims_streq(key, "id")) b_text(b, m->id);
    else if (ims_streq(key, "name")) b_text(b, m->name ? m->name : "");
    else if (ims_streq(key, "owner")) b_text(b, m->owner);
    else if (ims_streq(key, "status")) b_text(b, m->status);
    else if (ims_streq(key, "visibility")) b_text(b, m->visibility);
    else if (ims_streq(key, "container_format")) b_text(b, m->container_format ? m->container_format : "");
    else if (ims_streq(key, "disk_format")) b_text(b, m->disk_format ? m->disk_format : "");
    else if (ims_streq(key, "checksum")) b_text(b, m->checksum ? m->checksum : "");
    else if (ims_streq(key, "enterprise_project_id")) b_text(b, m->enterprise_project_id);
    else if (ims_streq(key, "protected")) b_int(b, m->protected_);
    else if (ims_streq(key, "os_hidden")) b_int(b, m->os_hidden);
    else if (ims_streq(key, "size")) b_int(b, m->size);
    else if (ims_streq(key, "virtual_size")) b_int(b, m->virtual_size);
    else if (ims_streq(key, "created_at")) b_int(b, m->created_at);
    else if (ims_streq(key, "updated_at")) b_int(b, m->updated_at);
    else if (ims_streq(key, "min_disk")) b_int(b, m->min_disk);
    else if (ims_streq(key, "min_ram")) b_int(b, m->min_ram);
    else b_text(b, "");
}

/* Keyset condition "after the marker" for sort keys k1..kn (+ id). When
 * every key sorts the same way it is one row-value comparison, which SQLite
 * and PostgreSQL both answer from the (created_at, id) index; mixed
 * directions need the expanded form (k1 > v1) OR (k1 = v1 AND k2 > v2) ... */
static void add_marker(struct sqlb *b, const struct ims_sort *sorts, size_t n, const struct ims_image *m)
{
    bool uniform = true;
    for (size_t i = 1; i < n; i++)
        uniform = uniform && sorts[i].desc == sorts[0].desc;
    if (uniform) {
        ims_buf_adds(&b->sql, " AND (");
        for (size_t i = 0; i < n; i++) {
            if (i)
                ims_buf_adds(&b->sql, ", ");
            sort_col(b, sorts[i].key);
        }
        ims_buf_adds(&b->sql, sorts[0].desc ? ") < (" : ") > (");
        for (size_t i = 0; i < n; i++) {
            ims_buf_adds(&b->sql, i ? ", ?" : "?");
            bind_marker_value(b, m, sorts[i].key);
        }
        ims_buf_adds(&b->sql, ")");
        return;
    }
    ims_buf_adds(&b->sql, " AND (");
    for (size_t i = 0; i < n; i++) {
        ims_buf_adds(&b->sql, i ? " OR (" : "(");
        for (size_t k = 0; k < i; k++) {
            sort_col(b, sorts[k].key);
            ims_buf_adds(&b->sql, " = ? AND ");
            bind_marker_value(b, m, sorts[k].key);
        }
        sort_col(b, sorts[i].key);
        ims_buf_adds(&b->sql, sorts[i].desc ? " < ?)" : " > ?)");
        bind_marker_value(b, m, sorts[i].key);
    }
    ims_buf_adds(&b->sql, ")");
}

/* The view in parts whose union it is, each one index's rows: for the
 * default view of a caller who is not an administrator. */
static bool view_branches(const struct ims_image_query *q, const struct ims_viewer *v)
{
    return !v->is_admin && (!q->visibility || ims_streq(q->visibility, "all"));
}

/* Part k of that view: 0 own, 1 public, 2 community ("all" only), 3
 * shared with the caller (member_status, accepted by default). */
static void add_view_branch(struct sqlb *b, const struct ims_image_query *q, const struct ims_viewer *v, int k)
{
    const char *p = v->project_id ? v->project_id : "";
    switch (k) {
    case 0:
        ims_buf_adds(&b->sql, "i.owner = ?");
        b_text(b, p);
        break;
    case 1: ims_buf_adds(&b->sql, "i.visibility = 'public'"); break;
    case 2: ims_buf_adds(&b->sql, "i.visibility = 'community'"); break;
    default:
        ims_buf_adds(&b->sql, "i.visibility = 'shared' AND i.id IN (SELECT m.image_id FROM image_members m "
                              "WHERE m.member = ?");
        b_text(b, p);
        add_member_status(b, q->member_status);
        ims_buf_adds(&b->sql, ")");
        break;
    }
}

enum split_kind { SPLIT_NONE, SPLIT_VIEW, SPLIT_MARKER, SPLIT_IN };
struct split {
    enum split_kind kind;
    int nparts;
    const struct ims_filter *in; /* SPLIT_IN: the filter whose values are the parts */
};

/* The condition of part k of a split statement (no leading AND). */
static void add_part(struct sqlb *b, const struct split *sp, int k, const struct ims_image_query *q,
                     const struct ims_viewer *v, const struct ims_sort *sorts, size_t n, const struct ims_image *m)
{
    if (sp->kind == SPLIT_VIEW) {
        add_view_branch(b, q, v, k);
    } else if (sp->kind == SPLIT_MARKER && k == 0) {
        sort_col(b, sorts[0].key);
        ims_buf_adds(&b->sql, " = ? AND (");
        bind_marker_value(b, m, sorts[0].key);
        for (size_t i = 1; i < n; i++) {
            if (i > 1)
                ims_buf_adds(&b->sql, ", ");
            sort_col(b, sorts[i].key);
        }
        ims_buf_adds(&b->sql, sorts[0].desc ? ") < (" : ") > (");
        for (size_t i = 1; i < n; i++) {
            ims_buf_adds(&b->sql, i > 1 ? ", ?" : "?");
            bind_marker_value(b, m, sorts[i].key);
        }
        ims_buf_adds(&b->sql, ")");
    } else if (sp->kind == SPLIT_MARKER) {
        sort_col(b, sorts[0].key);
        ims_buf_adds(&b->sql, sorts[0].desc ? " < ?" : " > ?");
        bind_marker_value(b, m, sorts[0].key);
    } else {
        /* one value of the in: filter, written as add_filter writes an
         * equality */
        struct ims_filter one = *sp->in;
        one.op = IMS_CMP_EQ;
        one.values.items = &sp->in->values.items[k];
        one.values.n = 1;
        ims_buf_adds(&b->sql, "1 = 1");
        add_filter(b, &one);
    }
}

static void append_conds(struct sqlb *b, const struct sqlb *conds)
{
    ims_buf_adds(&b->sql, conds->sql.data ? conds->sql.data : "");
    for (size_t i = 0; i < conds->nbinds; i++)
        b_add(b, conds->binds[i]);
}

static void add_order_limit(struct sqlb *b, const struct ims_sort *sorts, size_t n, int64_t limit)
{
    ims_buf_adds(&b->sql, " ORDER BY ");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ims_buf_adds(&b->sql, ", ");
        sort_col(b, sorts[i].key);
        ims_buf_adds(&b->sql, sorts[i].desc ? " DESC" : " ASC");
    }
    ims_buf_adds(&b->sql, " LIMIT ?");
    b_int(b, limit);
}

static int cmp_image_ptr(const void *a, const void *b)
{
    return strcmp((*(struct ims_image *const *)a)->id, (*(struct ims_image *const *)b)->id);
}

static int cmp_key_image(const void *key, const void *elem)
{
    return strcmp(key, (*(struct ims_image *const *)elem)->id);
}

/* Custom properties of the page's images that have any (images.extras),
 * in one statement instead of one per image. The IN list is padded with
 * NULLs to a power of two so the statement cache sees a handful of shapes. */
static enum ims_rc load_extras_page(struct ims_dbc *c, struct ims_image **imgs, size_t n, struct ims_err *err)
{
    if (n == 0)
        return IMS_OK;
    qsort(imgs, n, sizeof(*imgs), cmp_image_ptr);
    size_t slots = 8;
    while (slots < n)
        slots *= 2;
    struct ims_buf sql;
    ims_buf_init(&sql, 64 * 1024);
    /* no ORDER BY: it cost a sort; each image's properties are put in order below */
    ims_buf_adds(&sql, "SELECT image_id, name, value FROM image_properties WHERE image_id IN (");
    for (size_t i = 0; i < slots; i++)
        ims_buf_adds(&sql, i ? ", ?" : "?");
    ims_buf_adds(&sql, ")");
    struct ims_q q;
    enum ims_rc rc = IMS_OK;
    if (!ims_q_prepare(&q, c, sql.data, err))
        rc = IMS_E_DB;
    ims_buf_release(&sql);
    if (rc == IMS_OK) {
        for (size_t i = 0; i < slots; i++)
            ims_q_text(&q, i < n ? imgs[i]->id : NULL);
        enum ims_step st;
        while ((st = ims_q_step(&q)) == IMS_STEP_ROW) {
            struct ims_image **hit = bsearch(ims_q_col_text(&q, 0), imgs, n, sizeof(*imgs), cmp_key_image);
            if (hit)
                ims_kvlist_add(&(*hit)->props, ims_q_col_text(&q, 1), ims_q_col_text(&q, 2));
        }
        ims_q_done(&q);
        if (st != IMS_STEP_DONE)
            rc = ims_fail(err, IMS_E_DB, "reading image properties failed");
    }
    for (size_t i = 0; i < n; i++)
        sort_props(imgs[i]);
    return rc;
}

/* Prepares statement b with its binds. */
static enum ims_rc open_stmt(struct ims_dbc *c, const struct sqlb *b, struct ims_q *st, struct ims_err *err)
{
    if (b->overflow || b->sql.overflow)
        return ims_fail(err, IMS_E_BADREQ, "Query has too many filter values");
    if (!ims_q_prepare(st, c, b->sql.data, err))
        return IMS_E_DB;
    for (size_t i = 0; i < b->nbinds; i++) {
        if (b->binds[i].is_int)
            ims_q_int(st, b->binds[i].i);
        else
            ims_q_text(st, b->binds[i].s);
    }
    return IMS_OK;
}

/* The row st stands on as imgs[*n] (a stub when the caller holds its
 * document); with_extras gets it when it has custom properties to load. */
static void take_row(struct ims_q *st, const struct ims_image_query *q, struct ims_image *imgs, size_t *n,
                     struct ims_image **with_extras, size_t *nextras)
{
    struct ims_image *img = &imgs[(*n)++];
    if (q->known && read_stub(st, q, img))
        return;
    if (ims_q_col_text(st, PROPS_TEXT_COL) || ims_q_col_int(st, EXTRAS_COL) == 0)
        read_row_packed(st, img);
    else if (read_row(st, img) > 0) /* a row made by SQL: its properties are rows */
        with_extras[(*nextras)++] = img;
    img->doc_missed = q->known != NULL;
}

/* Runs statement b and adds its rows to imgs[*n..] until the page is full;
 * the rows with custom properties to load are added to with_extras. */
static enum ims_rc read_rows(struct ims_dbc *c, const struct sqlb *b, const struct ims_image_query *q,
                             struct ims_image *imgs, size_t *n, struct ims_image **with_extras, size_t *nextras,
                             struct ims_err *err)
{
    struct ims_q st;
    enum ims_rc rc = open_stmt(c, b, &st, err);
    if (rc != IMS_OK)
        return rc;
    enum ims_step s = IMS_STEP_DONE;
    while (*n < (size_t)q->limit && (s = ims_q_step(&st)) == IMS_STEP_ROW)
        take_row(&st, q, imgs, n, with_extras, nextras);
    if (*n < (size_t)q->limit && s != IMS_STEP_DONE)
        rc = ims_q_dberr(&st, err);
    ims_q_done(&st);
    return rc;
}

#define MAX_PARTS 16 /* an in: list of up to 16 values, or the view's 4 parts */

/* Whether the row cursor a stands on comes before b's in the default order
 * ((created_at, id), desc or asc). */
static int cmp_heads(struct ims_q *a, struct ims_q *b, bool desc)
{
    int64_t ta = ims_q_col_int(a, CREATED_AT_COL), tb = ims_q_col_int(b, CREATED_AT_COL);
    int r = ta < tb ? -1 : ta > tb;
    if (r == 0)
        r = strcmp(ims_q_col_text(a, 0), ims_q_col_text(b, 0));
    return desc ? -r : r;
}

/* The page of a split statement's parts, each its own statement walking
 * its index in the default order, merged here as they come: the engine's
 * union of them collected the parts' pages into a temporary b-tree and
 * sorted it (status=in: of two values at 0.2 %: 160 us a page on 10,000
 * images). An image in several parts (the caller's own public image) stands
 * at the same place in each and is taken once. */
static enum ims_rc read_merged(struct ims_dbc *c, const struct sqlb *parts, int nparts, bool desc,
                               const struct ims_image_query *q, struct ims_image *imgs, size_t *n,
                               struct ims_image **with_extras, size_t *nextras, struct ims_err *err)
{
    struct ims_q st[MAX_PARTS];
    bool live[MAX_PARTS] = {0};
    enum ims_rc rc = IMS_OK;
    int opened = 0;
    for (; opened < nparts && rc == IMS_OK; opened++) {
        rc = open_stmt(c, &parts[opened], &st[opened], err);
        if (rc != IMS_OK)
            break;
        enum ims_step s = ims_q_step(&st[opened]);
        live[opened] = s == IMS_STEP_ROW;
        if (s != IMS_STEP_ROW && s != IMS_STEP_DONE)
            rc = ims_q_dberr(&st[opened], err);
    }
    while (rc == IMS_OK && *n < (size_t)q->limit) {
        int best = -1;
        for (int k = 0; k < opened; k++)
            if (live[k] && (best < 0 || cmp_heads(&st[k], &st[best], desc) < 0))
                best = k;
        if (best < 0)
            break;
        char id[IMS_UUID_LEN + 1];
        copy_fixed(id, sizeof(id), ims_q_col_text(&st[best], 0));
        int64_t created = ims_q_col_int(&st[best], CREATED_AT_COL);
        take_row(&st[best], q, imgs, n, with_extras, nextras);
        for (int k = 0; k < opened && rc == IMS_OK; k++) {
            if (!live[k] || ims_q_col_int(&st[k], CREATED_AT_COL) != created || strcmp(ims_q_col_text(&st[k], 0), id) != 0)
                continue;
            enum ims_step s = ims_q_step(&st[k]);
            live[k] = s == IMS_STEP_ROW;
            if (s != IMS_STEP_ROW && s != IMS_STEP_DONE)
                rc = ims_q_dberr(&st[k], err);
        }
    }
    for (int k = 0; k < opened; k++)
        ims_q_done(&st[k]);
    return rc;
}

enum ims_rc ims_repo_image_list(struct ims_dbc *c, const struct ims_image_query *q, const struct ims_image *marker,
                                const struct ims_viewer *v, struct ims_image **ret, size_t *ret_n,
                                struct ims_err *err)
{
    enum ims_rc rc = IMS_OK;
    /* Sort keys plus the tiebreakers Glance adds, without repeats. */
    struct ims_sort sorts[IMS_QUERY_MAX_SORT + 2];
    size_t nsorts = 0;
    for (size_t i = 0; i < q->nsorts; i++)
        if (core_column(q->sorts[i].key))
            sorts[nsorts++] = q->sorts[i];
    /* Nothing orders rows after id (unique): the keys after it are dropped,
     * so "sort_key=id" reads the primary key's index instead of sorting. */
    for (size_t i = 0; i < nsorts; i++)
        if (ims_streq(sorts[i].key, "id"))
            nsorts = i + 1;
    bool last_desc = nsorts ? sorts[nsorts - 1].desc : true;
    static const char *const tiebreak[] = {"created_at", "id"};
    for (size_t t = 0; t < 2; t++) {
        bool seen = nsorts && ims_streq(sorts[nsorts - 1].key, "id");
        for (size_t i = 0; i < nsorts; i++)
            seen = seen || ims_streq(sorts[i].key, tiebreak[t]);
        if (!seen)
            sorts[nsorts++] = (struct ims_sort){.key = (char *)tiebreak[t], .desc = last_desc};
    }

    struct sqlb builder = {0}, *b = &builder, conds = {0};
    ims_buf_init(&b->sql, 1 << 20);
    ims_buf_init(&conds.sql, 1 << 20);
    /* With a tag filter and the default order, walk the first tag's
     * (value, created_at, image_id) index in order and stop at the page,
     * instead of fetching every tagged image and sorting them (a tag on 100
     * of 10k images: 189 -> 89 us), joining in that order. */
    b->ops = c->ops;
    bool pair_order = nsorts == 2 && ims_streq(sorts[0].key, "created_at") && ims_streq(sorts[1].key, "id") &&
                      sorts[0].desc == sorts[1].desc;
    const struct ims_filter *sole_prop = sole_prop_eq(q, pair_order, view_branches(q, v));
    rc = probe_few_props(c, q, sole_prop, b, err);
    if (rc != IMS_OK) {
        ims_buf_release(&b->sql);
        ims_buf_release(&conds.sql);
        return rc;
    }
    for (size_t i = 0; i < q->nfilters; i++)
        b->filter_driven = b->filter_driven || filter_indexed(b, &q->filters[i]);
    b->filter_driven = b->filter_driven || q->tags.n > 0;
    /* Without a tag, an equality on a custom property few images have
     * drives the list from the property's (name, value, created_at,
     * image_id) index in that order; so does one that is the list's only
     * indexable condition (sole_prop_eq). */
    const struct ims_filter *prop_drive = sole_prop;
    for (size_t i = 0; i < q->nfilters && pair_order && q->tags.n == 0 && !prop_drive; i++) {
        const struct ims_filter *f = &q->filters[i];
        if (f->is_property && prop_few(b, f) && f->op == IMS_CMP_EQ && f->values.n == 1)
            prop_drive = f;
    }
    b->filter_driven = b->filter_driven || prop_drive;
    b->t0_driven = pair_order && (q->tags.n > 0 || prop_drive);
    /* The conditions besides the caller's view, in conds: every statement
     * shape below repeats them. */
    conds.ops = b->ops;
    conds.filter_driven = b->filter_driven;
    memcpy(conds.few_props, b->few_props, sizeof(b->few_props));
    conds.nfew_props = b->nfew_props;
    conds.t0_driven = b->t0_driven;
    add_imagetype(&conds, q, v);
    add_eps(&conds, v);
    if (!q->os_hidden_given) { /* nearly every image: its index would find them all */
        ims_buf_adds(&conds.sql, " AND ");
        b->ops->unindexed(&conds.sql, "i.os_hidden");
        ims_buf_adds(&conds.sql, " = 0");
    }
    bool default_order = ims_streq(sorts[0].key, "created_at") && nsorts == 2 && sorts[0].desc == sorts[1].desc;
    bool uniform = true;
    for (size_t i = 1; i < nsorts; i++)
        uniform = uniform && sorts[i].desc == sorts[0].desc;
    /* How the statement is split into parts, each walking one index in the
     * list's order (see below). */
    struct split sp = {.kind = SPLIT_NONE};
    if (view_branches(q, v) && !b->filter_driven && default_order) {
        sp.kind = SPLIT_VIEW;
        sp.nparts = 4;
    } else if (marker && uniform && nsorts >= 2 && sort_expr_coalesces(sorts[0].key)) {
        sp.kind = SPLIT_MARKER;
        sp.nparts = 2;
    } else if (default_order && !b->t0_driven) {
        for (size_t i = 0; i < q->nfilters && sp.kind == SPLIT_NONE; i++) {
            const struct ims_filter *f = &q->filters[i];
            if (f->op == IMS_CMP_IN && filter_indexed(b, f) && f->values.n >= 2 && f->values.n <= MAX_PARTS &&
                (!f->is_property || promoted_find(f->key))) {
                sp.kind = SPLIT_IN;
                sp.in = f;
                sp.nparts = (int)f->values.n;
            }
        }
    }
    for (size_t i = 0; i < q->nfilters; i++)
        if (&q->filters[i] != sp.in && &q->filters[i] != prop_drive)
            add_filter(&conds, &q->filters[i]);
    for (size_t i = b->t0_driven && !prop_drive ? 1 : 0; i < q->tags.n; i++) {
        /* IN, not a correlated EXISTS: the planner then starts from the tag
         * index instead of walking every image (measured 5x on 10k images). */
        ims_buf_adds(&conds.sql, " AND i.id IN (SELECT t.image_id FROM image_tags t WHERE t.value = ?)");
        b_text(&conds, q->tags.items[i]);
    }
    if (marker && sp.kind != SPLIT_MARKER)
        add_marker(&conds, sorts, nsorts, marker);
    if (conds.overflow || conds.sql.overflow)
        b->overflow = true;

    /* After a marker on a key the index holds as an expression (COALESCE),
     * two statements whose rows follow each other in the list's order: the
     * rows equal to the marker's key and after it in the tiebreakers
     * (ordered by those, which the index then gives in order), then, when
     * the page is not full, the rows past its key. SQLite compares a row
     * value with an expression index by walking it from the start; a union
     * of the two collected and sorted both. */
    struct sqlb past = {.ops = b->ops, .filter_driven = b->filter_driven, .t0_driven = b->t0_driven};
    bool sequential = sp.kind == SPLIT_MARKER && conds.nbinds < MAX_BINDS / 32;
    struct sqlb parts[MAX_PARTS];
    int nmerge = 0;
    if (sequential) {
        ims_buf_init(&past.sql, 1 << 20);
        for (int k = 0; k < 2; k++) {
            struct sqlb *t = k ? &past : b;
            ims_buf_adds(&t->sql, "SELECT " IMAGE_COLS " FROM images i WHERE ");
            add_part(t, &sp, k, q, v, sorts, nsorts, marker);
            add_visibility(t, q, v);
            append_conds(t, &conds);
            add_order_limit(t, sorts + (k == 0), nsorts - (k == 0), q->limit);
        }
    } else if (sp.kind != SPLIT_NONE && conds.nbinds < MAX_BINDS / 32 && c->ops->merge_cursors) {
        /* One page from each part, each walking its own index in the
         * list's order (the parts as below), merged by read_merged; the
         * comment makes each part's text its own, so the statement cache
         * gives each its own cursor. */
        for (int k = 0; k < sp.nparts; k++) {
            if (sp.kind == SPLIT_VIEW && k == 2 && !ims_streq(q->visibility, "all"))
                continue;
            struct sqlb *t = &parts[nmerge++];
            *t = (struct sqlb){.ops = b->ops, .filter_driven = b->filter_driven, .t0_driven = b->t0_driven,
                               .nfew_props = b->nfew_props};
            memcpy(t->few_props, b->few_props, sizeof(b->few_props));
            ims_buf_init(&t->sql, 1 << 20);
            ims_buf_printf(&t->sql, "SELECT /* part %d */ " IMAGE_COLS " FROM images i WHERE ", k);
            add_part(t, &sp, k, q, v, sorts, nsorts, marker);
            if (sp.kind != SPLIT_VIEW)
                add_visibility(t, q, v);
            append_conds(t, &conds);
            add_order_limit(t, sorts, nsorts, q->limit);
        }
    } else if (sp.kind != SPLIT_NONE && conds.nbinds < MAX_BINDS / 32) {
        /* One page from each part, each walking its own index in the
         * list's order, then the page of their union:
         * - the default view of a caller who is not an administrator, in
         *   the default order, with no filter to find the rows: its parts
         *   (own, public, community, shared with the caller), so a caller
         *   who sees few of many images does not walk the catalogue
         *   (another order walks the key's index and checks the view on
         *   each image);
         * - an in: filter, in the default order: each value's rows (one IN
         *   would collect and sort every match). */
        ims_buf_adds(&b->sql, "SELECT " IMAGE_COLS " FROM images i WHERE i.id IN (");
        for (int k = 0; k < sp.nparts; k++) {
            if (sp.kind == SPLIT_VIEW && k == 2 && !ims_streq(q->visibility, "all"))
                continue;
            ims_buf_printf(&b->sql, "%sSELECT id FROM (SELECT i.id AS id FROM images i WHERE ", k ? " UNION " : "");
            add_part(b, &sp, k, q, v, sorts, nsorts, marker);
            if (sp.kind != SPLIT_VIEW)
                add_visibility(b, q, v);
            append_conds(b, &conds);
            add_order_limit(b, sorts, nsorts, q->limit);
            ims_buf_printf(&b->sql, ") b%d", k);
        }
        ims_buf_adds(&b->sql, ")");
    } else if (prop_drive) {
        ims_buf_printf(&b->sql, "SELECT " IMAGE_COLS " FROM image_properties t0 %s images i "
                                "WHERE t0.name = ? AND t0.value = ? AND i.id = t0.image_id", c->ops->join_in_order);
        b_text(b, prop_drive->key);
        b_text(b, prop_drive->values.items[0]);
        add_visibility(b, q, v);
        append_conds(b, &conds);
    } else if (b->t0_driven) {
        ims_buf_printf(&b->sql, "SELECT " IMAGE_COLS " FROM image_tags t0 %s images i "
                                "WHERE t0.value = ? AND i.id = t0.image_id", c->ops->join_in_order);
        b_text(b, q->tags.items[0]);
        add_visibility(b, q, v);
        append_conds(b, &conds);
    } else {
        ims_buf_adds(&b->sql, "SELECT " IMAGE_COLS " FROM images i WHERE 1 = 1");
        add_visibility(b, q, v);
        append_conds(b, &conds);
        if (sp.kind == SPLIT_MARKER) /* too many conditions to repeat: one statement */
            add_marker(b, sorts, nsorts, marker);
    }
    if (!sequential && nmerge == 0)
        add_order_limit(b, sorts, nsorts, q->limit);
    ims_buf_release(&conds.sql);
    free(conds.binds);

    struct ims_image *imgs = ims_xcalloc((size_t)q->limit + 1, sizeof(*imgs));
    struct ims_image **with_extras = ims_xcalloc((size_t)q->limit + 1, sizeof(*with_extras));
    size_t n = 0, nextras = 0;
    if (nmerge)
        rc = read_merged(c, parts, nmerge, sorts[0].desc, q, imgs, &n, with_extras, &nextras, err);
    else
        rc = read_rows(c, b, q, imgs, &n, with_extras, &nextras, err);
    for (int k = 0; k < nmerge; k++) {
        ims_buf_release(&parts[k].sql);
        free(parts[k].binds);
    }
    if (rc == IMS_OK && sequential && n < (size_t)q->limit)
        rc = read_rows(c, &past, q, imgs, &n, with_extras, &nextras, err);
    if (rc == IMS_OK)
        rc = load_extras_page(c, with_extras, nextras, err);
    free(with_extras);
    ims_buf_release(&b->sql);
    free(b->binds);
    ims_buf_release(&past.sql);
    free(past.binds);
    if (rc != IMS_OK) {
        ims_image_array_free(imgs, n);
        return rc;
    }
    *ret = imgs;
    *ret_n = n;
    return IMS_OK;
}

/* Migration 8's data step: tags_text for every image from its image_tags
 * rows, and extras without them (extras counted both before). */
enum ims_rc ims_repo_images_backfill_tags_text(struct ims_dbc *c, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT image_id, value FROM image_tags ORDER BY image_id, value", err))
        return IMS_E_DB;
    struct ims_strlist ids = {0}, encoded = {0}, tags = {0};
    struct ims_buf buf;
    ims_buf_init(&buf, SIZE_MAX);
    char current[IMS_UUID_LEN + 30] = "";
    enum ims_step st;
    while ((st = ims_q_step(&q)) == IMS_STEP_ROW) {
        const char *id = ims_q_col_text(&q, 0);
        if (strcmp(id, current) != 0 && tags.n) {
            ims_buf_reset(&buf);
            ims_buf_adds(&buf, "");
            tags_encode(&tags, &buf);
            ims_strlist_add(&ids, current);
            ims_strlist_add(&encoded, buf.data);
            ims_strlist_release(&tags);
        }
        snprintf(current, sizeof(current), "%s", id);
        ims_strlist_add(&tags, ims_q_col_text(&q, 1));
    }
    ims_q_done(&q);
    if (tags.n) {
        ims_buf_reset(&buf);
        ims_buf_adds(&buf, "");
        tags_encode(&tags, &buf);
        ims_strlist_add(&ids, current);
        ims_strlist_add(&encoded, buf.data);
    }
    enum ims_rc rc = st == IMS_STEP_DONE ? IMS_OK : ims_fail(err, IMS_E_DB, "reading image_tags failed");
    for (size_t i = 0; i < ids.n && rc == IMS_OK; i++) {
        if (!ims_q_prepare(&q, c, "UPDATE images SET tags_text = ?, extras = extras - ? WHERE id = ?", err)) {
            rc = IMS_E_DB;
            break;
        }
        struct ims_strlist one = {0};
        tags_decode(encoded.items[i], &one);
        ims_q_text(&q, encoded.items[i]);
        ims_q_int(&q, (int64_t)one.n);
        ims_q_text(&q, ids.items[i]);
        ims_strlist_release(&one);
        rc = ims_q_exec(&q, err);
    }
    if (rc == IMS_OK)
        rc = ims_q_run(c, "UPDATE images SET tags_text = '' WHERE tags_text IS NULL", err);
    ims_buf_release(&buf);
    ims_strlist_release(&tags);
    ims_strlist_release(&ids);
    ims_strlist_release(&encoded);
    return rc;
}

/* Migration 26's data step: props_text for every image from its
 * image_properties rows ('' for an image without any). */
enum ims_rc ims_repo_images_backfill_props_text(struct ims_dbc *c, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT image_id, name, value FROM image_properties ORDER BY image_id, name", err))
        return IMS_E_DB;
    struct ims_strlist ids = {0}, encoded = {0};
    struct ims_kvlist props = {0};
    struct ims_buf buf;
    ims_buf_init(&buf, SIZE_MAX);
    char current[IMS_UUID_LEN + 30] = "";
    enum ims_step st;
    for (;;) {
        st = ims_q_step(&q);
        const char *id = st == IMS_STEP_ROW ? ims_q_col_text(&q, 0) : NULL;
        if (props.n && (!id || strcmp(id, current) != 0)) { /* current's rows are all read */
            ims_buf_reset(&buf);
            ims_buf_adds(&buf, "");
            props_encode(&props, &buf);
            ims_strlist_add(&ids, current);
            ims_strlist_add(&encoded, buf.data);
            ims_kvlist_release(&props);
        }
        if (!id)
            break;
        snprintf(current, sizeof(current), "%s", id);
        ims_kvlist_add(&props, ims_q_col_text(&q, 1), ims_q_col_text(&q, 2));
    }
    ims_q_done(&q);
    enum ims_rc rc = st == IMS_STEP_DONE ? IMS_OK : ims_fail(err, IMS_E_DB, "reading image_properties failed");
    for (size_t i = 0; i < ids.n && rc == IMS_OK; i++)
        rc = exec_3(c, "UPDATE images SET props_text = ? WHERE id = ?", encoded.items[i], ids.items[i], NULL, err);
    if (rc == IMS_OK)
        rc = ims_q_run(c, "UPDATE images SET props_text = '' WHERE props_text IS NULL", err);
    ims_buf_release(&buf);
    ims_kvlist_release(&props);
    ims_strlist_release(&ids);
    ims_strlist_release(&encoded);
    return rc;
}

enum ims_rc ims_repo_image_prop_exists(struct ims_dbc *c, const char *name, const char *value, bool *ret,
                                       struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "SELECT image_id FROM image_properties WHERE name = ? AND value = ? LIMIT 1", err))
        return IMS_E_DB;
    ims_q_text(&q, name);
    ims_q_text(&q, value);
    return ims_q_exists(&q, ret, err);
}
