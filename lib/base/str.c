/* SPDX-License-Identifier: Apache-2.0
 * String helpers: strict integer parsing, URL and base64 codecs. */
#include "ims/base.h"

#include <errno.h>
#include <string.h>

bool ims_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool ims_str_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ims_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    if (!s || !*s)
        return false;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *ret = v;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t ims_utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range (RFC 3629's table) */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

bool ims_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = ims_utf8_seq_len(u + i, n - i);
        if (!len)
            return false;
        i += len;
    }
    return true;
}

size_t ims_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

bool ims_text_valid(const char *s)
{
    size_t n = strlen(s);
    if (!ims_utf8_valid(s, n))
        return false;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u < 0x20 || *u == 0x7F)
            return false;
        if (*u == 0xC2 && u[1] >= 0x80 && u[1] <= 0x9F) /* C1 controls, U+0080..U+009F */
            return false;
    }
    return true;
}

bool ims_url_decode(char *s, bool plus_is_space)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int a = hexval(p[1]), b = a < 0 ? -1 : hexval(p[2]);
            if (a < 0 || b < 0)
                return false;
            char c = (char)(a * 16 + b);
            if (!c)
                return false;
            *o++ = c;
            p += 2;
        } else if (*p == '+' && plus_is_space) {
            *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    return ims_text_valid(s);
}

long ims_hex_encode(const unsigned char *in, size_t n, char *out, size_t outcap)
{
    static const char hex[] = "0123456789abcdef";
    if (outcap == 0 || n > (outcap - 1) / 2)
        return -1;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = 0;
    return (long)(2 * n);
}

long ims_hex_decode(const char *in, size_t n, unsigned char *out, size_t outcap)
{
    if (n % 2 || n / 2 > outcap)
        return -1;
    for (size_t i = 0; i < n; i += 2) /* checked whole before a byte is written */
        if (hexval(in[i]) < 0 || hexval(in[i + 1]) < 0)
            return -1;
    for (size_t i = 0; i < n; i += 2)
        out[i / 2] = (unsigned char)(hexval(in[i]) << 4 | hexval(in[i + 1]));
    return (long)(n / 2);
}

static long b64(const unsigned char *in, size_t n, char *out, size_t outcap, const char *alpha, bool pad)
{
    /* Checked before a byte is written; n / 3 first, so no overflow. */
    size_t need = n / 3 * 4 + (n % 3 == 0 ? 0 : pad ? 4 : n % 3 + 1);
    if (n / 3 > (SIZE_MAX - 5) / 4 || need >= outcap)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = alpha[v >> 6 & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = 0;
    return (long)o;
}

long ims_b64url_encode(const unsigned char *in, size_t n, char *out, size_t outcap)
{
    return b64(in, n, out, outcap, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", false);
}

long ims_b64_encode(const unsigned char *in, size_t n, char *out, size_t outcap)
{
    return b64(in, n, out, outcap, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long ims_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap)
{
    /* Checked before a byte is written: the input's length bounds the output. */
    if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > outcap)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val(in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1)))
        return -1; /* non-canonical trailing bits */
    return (long)o;
}

uint64_t ims_hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Eight bytes a step, each word folded in with one multiply (FNV-1a above
 * is a multiply per byte: over a list query's ~2 KB of SQL, looked up in the
 * statement cache on every request, it was 2-3 % of a page's CPU), then
 * mixed so that every bit of the result depends on every byte. */
uint64_t ims_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    uint64_t tail = n; /* the length tells "ab" from "ab\0" */
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)s[i] << (8 * (i + 1));
    return ims_hash_mix((h ^ tail) * k);
}

/* splitmix64's finaliser. */
uint64_t ims_hash_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
