/* SPDX-License-Identifier: Apache-2.0
 * The little XML an S3 service answers with: ListObjectsV2 results, error
 * documents, the upload id of a multipart upload. Not a general parser: it
 * finds elements by exact name (S3 nests no element in one of the same
 * name, and its elements carry no attributes), decodes the five entities
 * and character references, and writes every value into a buffer of known
 * capacity; a value that does not fit, does not decode or is not valid
 * UTF-8 without control characters is refused, never cut. Pure; fuzzed
 * (fuzz/fuzz_obs_xml.c). */
#include <string.h>

#include "obs-int.h"

/* The content between <name> and </name>, searched in [*pos, len); on
 * success *pos moves past the closing tag. */
static bool find_element(const char *xml, size_t len, const char *name, size_t *pos, const char **ret,
                         size_t *ret_len)
{
    char open[64], close[64];
    int no = snprintf(open, sizeof(open), "<%s>", name), nc = snprintf(close, sizeof(close), "</%s>", name);
    if (no <= 0 || nc <= 0 || (size_t)no >= sizeof(open) || (size_t)nc >= sizeof(close))
        return false;
    if (*pos > len)
        return false;
    const char *start = memmem(xml + *pos, len - *pos, open, (size_t)no);
    if (!start)
        return false;
    const char *body = start + no;
    const char *end = memmem(body, (size_t)(xml + len - body), close, (size_t)nc);
    if (!end)
        return false;
    *ret = body;
    *ret_len = (size_t)(end - body);
    *pos = (size_t)(end - xml) + (size_t)nc;
    return true;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* "&...;" at s (n bytes) -> its code point; the entity's length in *used. */
static bool entity(const char *s, size_t n, uint32_t *cp, size_t *used)
{
    const char *semi = memchr(s, ';', n < 12 ? n : 12);
    if (!semi)
        return false;
    size_t len = (size_t)(semi - s) + 1;
    static const struct {
        const char *name;
        char c;
    } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(named); i++) {
        if (strlen(named[i].name) == len && !memcmp(s, named[i].name, len)) {
            *cp = (unsigned char)named[i].c;
            *used = len;
            return true;
        }
    }
    if (len < 4 || s[1] != '#')
        return false;
    bool hex = s[2] == 'x';
    uint64_t v = 0;
    size_t digits = 0;
    for (const char *p = s + (hex ? 3 : 2); p < semi; p++, digits++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0'
                : hex && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f' ? (*p | 0x20) - 'a' + 10
                                                                  : -1;
        if (d < 0)
            return false;
        v = v * (hex ? 16 : 10) + (uint64_t)d;
        if (v > 0x10FFFF)
            return false;
    }
    if (!digits || v == 0 || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *cp = (uint32_t)v;
    *used = len;
    return true;
}

/* Decodes XML text into out (capacity cap, NUL included); false when it
 * does not fit or is not text we accept. */
static bool decode_text(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char tmp[4];
        size_t w, used;
        if (s[i] == '&') {
            uint32_t cp;
            if (!entity(s + i, n - i, &cp, &used))
                return false;
            w = utf8_put(cp, tmp);
        } else if (s[i] == '<') {
            return false; /* markup inside a value: not one of S3's */
        } else {
            tmp[0] = s[i];
            w = used = 1;
        }
        if (o + w + 1 > cap)
            return false;
        memcpy(out + o, tmp, w);
        o += w;
        i += used;
    }
    if (!cap)
        return false;
    out[o] = 0;
    return ims_text_valid(out);
}

bool ims_obs_s3_xml_value(const char *xml, size_t len, const char *name, char *out, size_t cap)
{
    size_t pos = 0;
    const char *body;
    size_t blen;
    return find_element(xml, len, name, &pos, &body, &blen) && decode_text(body, blen, out, cap);
}

bool ims_obs_s3_parse_error(const char *xml, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap)
{
    size_t pos = 0;
    const char *body;
    size_t blen;
    if (!find_element(xml, len, "Error", &pos, &body, &blen))
        return false;
    if (!ims_obs_s3_xml_value(body, blen, "Code", code, code_cap))
        return false;
    if (!ims_obs_s3_xml_value(body, blen, "Message", msg, msg_cap) && msg_cap)
        msg[0] = 0;
    return true;
}

enum ims_obs_rc ims_obs_s3_parse_list(const char *xml, size_t len, struct ims_obs_listing *ret, struct ims_err *err)
{
    size_t pos = 0;
    const char *res;
    size_t rlen;
    /* the result element may carry a namespace: find its end instead */
    const char *open = memmem(xml, len, "<ListBucketResult", 17);
    if (!open)
        return ims_obs_fail(err, IMS_OBS_IO, "S3 answered a listing without ListBucketResult");
    res = open;
    rlen = len - (size_t)(open - xml);
    struct ims_obs_listing l = {0};
    size_t cap = 0;
    const char *c;
    size_t clen;
    while (find_element(res, rlen, "Contents", &pos, &c, &clen)) {
        char key[IMS_OBS_KEY_MAX + 1], size[24], when[64];
        int64_t sz = 0, mtime = 0;
        if (!ims_obs_s3_xml_value(c, clen, "Size", size, sizeof(size)) || !ims_parse_i64(size, 0, INT64_MAX, &sz)) {
            ims_obs_listing_release(&l);
            return ims_obs_fail(err, IMS_OBS_IO, "S3 answered a listing entry without a valid Size");
        }
        /* keys no call here could name (folder markers "dir/", control
         * characters, "..") are left out, as the embedded store leaves out
         * files no valid key names */
        if (!ims_obs_s3_xml_value(c, clen, "Key", key, sizeof(key)) || ims_obs_key_check(key) != IMS_OBS_NAME_OK)
            continue;
        if (ims_obs_s3_xml_value(c, clen, "LastModified", when, sizeof(when)))
            ims_time_parse(when, &mtime);
        if (l.n == IMS_OBS_LIST_MAX) {
            ims_obs_listing_release(&l);
            return ims_obs_fail(err, IMS_OBS_IO, "S3 answered more than %d keys in one page", IMS_OBS_LIST_MAX);
        }
        if (l.n == cap)
            l.items = ims_xrealloc(l.items, (cap = cap ? 2 * cap : 16) * sizeof(*l.items));
        l.items[l.n++] = (struct ims_obs_entry){.key = ims_xstrdup(key), .size = (uint64_t)sz, .mtime = mtime};
    }
    char flag[8];
    l.truncated = ims_obs_s3_xml_value(res, rlen, "IsTruncated", flag, sizeof(flag)) && !strcmp(flag, "true");
    if (l.truncated) {
        char token[4 * IMS_OBS_KEY_MAX + 1];
        if (!ims_obs_s3_xml_value(res, rlen, "NextContinuationToken", token, sizeof(token)) || !token[0]) {
            ims_obs_listing_release(&l);
            return ims_obs_fail(err, IMS_OBS_IO, "S3 answered a truncated listing without a continuation token");
        }
        l.next = ims_xstrdup(token);
    }
    *ret = l;
    return IMS_OBS_OK;
}
