/* SPDX-License-Identifier: Apache-2.0
 * Streaming JSON writer. Output is valid JSON as long as calls are balanced;
 * strings are escaped per RFC 8259 (control chars as \u00XX, '/' untouched)
 * and are always valid UTF-8: a byte that starts no well-formed sequence is
 * written as U+FFFD, so no stored or echoed string can make a response that
 * JSON clients refuse. */
#include "ims/json_writer.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void ims_jw_init(struct ims_jw *w, struct ims_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void before_value(struct ims_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        ims_buf_addc(w->out, ',');
    w->need_comma[w->depth] = true;
}

static void open(struct ims_jw *w, char c)
{
    before_value(w);
    ims_buf_addc(w->out, c);
    if (w->depth + 1 < IMS_JW_DEPTH)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_(struct ims_jw *w, char c)
{
    ims_buf_addc(w->out, c);
    if (w->depth > 0)
        w->depth--;
}

void ims_jw_obj_begin(struct ims_jw *w) { open(w, '{'); }
void ims_jw_obj_end(struct ims_jw *w) { close_(w, '}'); }
void ims_jw_arr_begin(struct ims_jw *w) { open(w, '['); }
void ims_jw_arr_end(struct ims_jw *w) { close_(w, ']'); }

/* Bytes written as themselves: not '"', '\\', a control character or a
 * byte of a multi-byte sequence (those are checked one sequence at a time).
 * A table: the scan of every string a list page writes showed in its
 * profile with three comparisons per byte. */
#define PLAIN_ROW16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const bool plain_byte[256] = {
    PLAIN_ROW16(false), PLAIN_ROW16(false), /* control characters */
    true, true, false, true, true, true, true, true, true, true, true, true, true, true, true, true, /* '"' */
    PLAIN_ROW16(true), PLAIN_ROW16(true),
    true, true, true, true, true, true, true, true, true, true, true, true, false, true, true, true, /* '\\' */
    PLAIN_ROW16(true), PLAIN_ROW16(true),
    PLAIN_ROW16(false), PLAIN_ROW16(false), PLAIN_ROW16(false), PLAIN_ROW16(false), /* 0x80.. */
    PLAIN_ROW16(false), PLAIN_ROW16(false), PLAIN_ROW16(false), PLAIN_ROW16(false),
};

static bool plain(unsigned char c)
{
    return plain_byte[c];
}

static void escaped_slow(struct ims_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ims_buf_addc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (plain(c))
            continue;
        size_t seq = c >= 0x80 ? ims_utf8_seq_len((const unsigned char *)s + i, n - i) : 0;
        if (seq) {
            i += seq - 1;
            continue;
        }
        ims_buf_add(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': ims_buf_add(b, "\\\"", 2); break;
        case '\\': ims_buf_add(b, "\\\\", 2); break;
        case '\n': ims_buf_add(b, "\\n", 2); break;
        case '\r': ims_buf_add(b, "\\r", 2); break;
        case '\t': ims_buf_add(b, "\\t", 2); break;
        case '\b': ims_buf_add(b, "\\b", 2); break;
        case '\f': ims_buf_add(b, "\\f", 2); break;
        default:
            if (c >= 0x80) {
                ims_buf_add(b, "\\ufffd", 6);
            } else {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                ims_buf_add(b, u, 6);
            }
        }
    }
    ims_buf_add(b, s + run, n - run);
    ims_buf_addc(b, '"');
}

/* Whether all eight bytes of x are plain: none below 0x20, none '"' or
 * '\\', none with its high bit set (the usual has-zero-byte tricks; exact
 * for "any", which is all that is asked). The byte table alone was 7 % of a
 * list request's cycles. */
static bool word_plain(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
    uint64_t hits = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
    return ((hits | x) & highs) == 0;
}

/* From eight bytes on, the last word overlaps the one before it instead of
 * a byte loop over the tail (a key or a value's last n % 8 bytes were most
 * of this scan's instructions); from four, two overlapping halves make one
 * word. With SSE2 (every x86-64), sixteen bytes a step: one signed
 * comparison finds both the control characters and the high bytes (those
 * are negative), two more the quote and the backslash. A page's 64-byte and
 * 128-byte hash values and its ids were most of the word loop's steps, and
 * the scan was a tenth of a miss-heavy page's instructions (bench/README.md
 * Run JW). */
#ifdef __SSE2__
static bool vec_plain(const char *s)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return _mm_movemask_epi8(bad) == 0;
}
#endif

static bool all_plain(const char *s, size_t n)
{
    uint64_t x;
    if (n < 8) {
        if (n < 4) {
            for (size_t i = 0; i < n; i++)
                if (!plain((unsigned char)s[i]))
                    return false;
            return true;
        }
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        return word_plain((uint64_t)hi << 32 | lo);
    }
#ifdef __SSE2__
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16)
            if (!vec_plain(s + i))
                return false;
        return vec_plain(s + n - 16);
    }
#endif
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&x, s + i, 8);
        if (!word_plain(x))
            return false;
    }
    memcpy(&x, s + n - 8, 8);
    return word_plain(x);
}

/* The common case, a string with nothing to escape, is copied with one
 * reservation (`extra` more bytes after the closing quote, for the caller);
 * anything else (or a full buffer) takes the general path and NULL. */
static char *escaped_reserve(struct ims_buf *b, const char *s, size_t n, size_t extra)
{
    char *o = all_plain(s, n) ? ims_buf_append_space(b, n + 2 + extra) : NULL;
    if (!o) {
        escaped_slow(b, s, n);
        return NULL;
    }
    o[0] = '"';
    memcpy(o + 1, s, n);
    o[n + 1] = '"';
    return o + n + 2;
}

static void escaped(struct ims_buf *b, const char *s, size_t n)
{
    escaped_reserve(b, s, n, 0);
}

void ims_jw_keyn(struct ims_jw *w, const char *k, size_t n)
{
    before_value(w);
    char *colon = escaped_reserve(w->out, k, n, 1);
    if (colon)
        *colon = ':';
    else
        ims_buf_addc(w->out, ':');
    w->after_key = true;
}

void ims_jw_keyn_lit(struct ims_jw *w, const char *k, size_t n)
{
    /* before_value's comma, in the same reservation */
    size_t comma = !w->after_key && w->need_comma[w->depth];
    char *o = ims_buf_append_space(w->out, comma + n + 3);
    if (!o) { /* a full buffer: its overflow is reported */
        ims_jw_keyn(w, k, n);
        return;
    }
    if (!w->after_key)
        w->need_comma[w->depth] = true;
    o[0] = ',';
    o += comma;
    o[0] = '"';
    memcpy(o + 1, k, n);
    o[n + 1] = '"';
    o[n + 2] = ':';
    w->after_key = true;
}

/* A member written with one reservation when neither needs escaping: a
 * list page writes some thirty of them per image it renders, and a key's
 * and its value's calls each were another reservation, comma check and
 * call (the keys and values escaped were a fifth of a page's instructions).
 * key_plain: the caller knows the key needs no escaping. */
static void member(struct ims_jw *w, const char *k, size_t nk, bool key_plain, const char *v, size_t nv)
{
    /* before_value's comma, in the same reservation */
    size_t comma = !w->after_key && w->need_comma[w->depth];
    if (!w->after_key)
        w->need_comma[w->depth] = true;
    w->after_key = false;
    char *o = key_plain && all_plain(v, nv) ? ims_buf_append_space(w->out, comma + nk + nv + 5) : NULL;
    if (!o) { /* something to escape, or a full buffer */
        if (comma)
            ims_buf_addc(w->out, ',');
        escaped(w->out, k, nk);
        ims_buf_addc(w->out, ':');
        escaped(w->out, v, nv);
        return;
    }
    o[0] = ',';
    o += comma;
    o[0] = '"';
    memcpy(o + 1, k, nk);
    memcpy(o + 1 + nk, "\":\"", 3);
    memcpy(o + 4 + nk, v, nv);
    o[4 + nk + nv] = '"';
}

void ims_jw_kstrn(struct ims_jw *w, const char *k, size_t nk, const char *v, size_t nv)
{
    member(w, k, nk, all_plain(k, nk), v, nv);
}

void ims_jw_kstrn_lit(struct ims_jw *w, const char *k, size_t nk, const char *v, size_t nv)
{
    member(w, k, nk, true, v, nv);
}

void ims_jw_strn(struct ims_jw *w, const char *s, size_t n)
{
    before_value(w);
    escaped(w->out, s, n);
}

void ims_jw_str(struct ims_jw *w, const char *s)
{
    if (!s) {
        ims_jw_null(w);
        return;
    }
    ims_jw_strn(w, s, strlen(s));
}

/* Decimal digits written backwards from the end of tmp, without snprintf
 * (a list page writes four integers per image; snprintf was 2 % of it). */
void ims_jw_int(struct ims_jw *w, int64_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    before_value(w);
    ims_buf_add(w->out, p, (size_t)(tmp + sizeof(tmp) - p));
}

void ims_jw_bool(struct ims_jw *w, bool v)
{
    before_value(w);
    ims_buf_adds(w->out, v ? "true" : "false");
}

void ims_jw_null(struct ims_jw *w)
{
    before_value(w);
    ims_buf_add(w->out, "null", 4);
}

void ims_jw_raw(struct ims_jw *w, const char *json, size_t n)
{
    before_value(w);
    ims_buf_add(w->out, json, n);
}

void ims_jw_members_raw(struct ims_jw *w, const char *members, size_t n)
{
    before_value(w); /* a comma after the members before them */
    ims_buf_add(w->out, members, n);
}

void ims_jw_kstrlist(struct ims_jw *w, const char *k, const struct ims_strlist *l)
{
    ims_jw_key(w, k);
    ims_jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++)
        ims_jw_str(w, l->items[i]);
    ims_jw_arr_end(w);
}
