/* SPDX-License-Identifier: Apache-2.0
 * Matching helpers shared by the policy parser and evaluator: '*' globs
 * for action segments and StringLike, splitting a requested action, and
 * the strict value parsers (numbers, booleans, IPv4 addresses and CIDRs)
 * used both on policy values at parse time and on request values at
 * evaluation time, so the two sides can never disagree. */
#include "policy-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Iterative with one backtrack point: a later '*' supersedes an earlier
 * one, so this is O(pn * sn) at worst and never recurses. */
bool pol_glob(const char *p, size_t pn, const char *s, size_t sn, bool qmark)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
            continue;
        }
        if (pi < pn && (p[pi] == s[si] || (qmark && p[pi] == '?'))) {
            pi++;
            si++;
            continue;
        }
        if (star == SIZE_MAX)
            return false;
        pi = star + 1;
        si = ++mark;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

uint32_t pol_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* One bit of 64 from a combination of segment hashes (the top bits of a
 * multiplicative mix, which are the well-stirred ones). */
static uint64_t bloom_bit(uint32_t h0, uint32_t h1, uint32_t h2)
{
    uint32_t x = (h0 ^ (h1 * 0x9e3779b1u) ^ (h2 * 0x85ebca6bu)) * 0x9e3779b1u;
    return UINT64_C(1) << (x >> 26);
}

void pol_stmt_index(struct pol_stmt *s)
{
    for (size_t i = 0; i < s->nactions; i++) {
        const struct pol_seg *g = s->actions[i].seg;
        if (g[0].kind != POL_SEG_EXACT)
            s->any_service = true;
        else if (g[1].kind != POL_SEG_EXACT)
            s->mask_s |= bloom_bit(g[0].hash, 0, 0);
        else if (g[2].kind != POL_SEG_EXACT)
            s->mask_sr |= bloom_bit(g[0].hash, g[1].hash, 0);
        else
            s->mask_full |= bloom_bit(g[0].hash, g[1].hash, g[2].hash);
    }
}

/* Segments are a few bytes long: an inline loop beats a call to memcmp. */
static inline bool bytes_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The wildcard shapes; both sides are lower case already. */
static bool seg_wild_matches(const struct pol_seg *g, const char *s, size_t n)
{
    switch (g->kind) {
    case POL_SEG_PREFIX: return n >= g->len && bytes_eq(g->s, s, g->len);
    case POL_SEG_SUFFIX: return n >= g->len && bytes_eq(g->s, s + n - g->len, g->len);
    case POL_SEG_GLOB: return pol_glob(g->s, g->len, s, n, false);
    default: return true;
    }
}

/* Exact segments are the common case and fail on a hash compare, so they
 * are tested inline; only wildcards take the switch. */
bool pol_action_matches(const struct pol_action *a, const struct pol_request *r)
{
    if (!r->valid)
        return false;
    for (int i = 0; i < 3; i++) {
        const struct pol_seg *g = &a->seg[i];
        if (g->kind == POL_SEG_EXACT) {
            if (g->hash != r->hash[i] || g->len != r->len[i] || !bytes_eq(g->s, r->seg[i], g->len))
                return false;
        } else if (g->kind != POL_SEG_ANY && !seg_wild_matches(g, r->seg[i], r->len[i])) {
            return false;
        }
    }
    return true;
}

/* An action longer than POL_REQUEST_MAX matches nothing, so it is never
 * allowed: no IMS action comes near that. */
void pol_request_split(const char *action, struct pol_request *ret)
{
    ret->valid = false;
    ret->bit_s = ret->bit_sr = ret->bit_full = 0;
    if (!action)
        return;
    size_t n = strnlen(action, POL_REQUEST_MAX + 1);
    if (n > POL_REQUEST_MAX)
        return;
    for (size_t i = 0; i <= n; i++)
        ret->buf[i] = pol_lower(action[i]);
    const char *p = ret->buf;
    for (int i = 0; i < 3; i++) {
        size_t len = strcspn(p, ":");
        if (len == 0)
            return;
        ret->seg[i] = p;
        ret->len[i] = len;
        ret->hash[i] = pol_hash(p, len);
        p += len;
        if (i < 2) {
            if (*p != ':')
                return;
            p++;
        }
    }
    ret->valid = *p == 0;
    ret->bit_s = bloom_bit(ret->hash[0], 0, 0);
    ret->bit_sr = bloom_bit(ret->hash[0], ret->hash[1], 0);
    ret->bit_full = bloom_bit(ret->hash[0], ret->hash[1], ret->hash[2]);
}

/* -?digits[.digits]: no exponent, hex, inf or nan, which strtod would
 * take; what is left is read the same in any C locale we run in. */
bool pol_parse_number(const char *s, double *ret)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p || p - s > 64)
        return false;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return false;
    *ret = v;
    return true;
}

bool pol_parse_bool(const char *s, bool *ret)
{
    if (strcasecmp(s, "true") == 0)
        *ret = true;
    else if (strcasecmp(s, "false") == 0)
        *ret = false;
    else
        return false;
    return true;
}

/* Dotted quad, each part 0-255 without leading zeros (which some parsers
 * read as octal: "010" must not mean different things to different
 * readers). */
bool pol_parse_ipv4(const char *s, size_t n, uint32_t *ret)
{
    uint32_t addr = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return false;
        addr = addr << 8 | v;
    }
    if (i != n)
        return false;
    *ret = addr;
    return true;
}

/* "a.b.c.d/n" or a bare address (/32). Host bits are masked off, as IAM
 * and AWS accept "10.1.2.3/8" meaning 10.0.0.0/8. */
bool pol_parse_cidr(const char *s, uint32_t *ret_addr, uint32_t *ret_mask)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    uint32_t addr;
    if (!pol_parse_ipv4(s, n, &addr))
        return false;
    unsigned bits = 32;
    if (slash) {
        const char *b = slash + 1;
        if (!b[0] || (b[0] == '0' && b[1]) || strlen(b) > 2 || strspn(b, "0123456789") != strlen(b))
            return false;
        bits = (unsigned)atoi(b);
        if (bits > 32)
            return false;
    }
    uint32_t mask = bits == 0 ? 0 : UINT32_MAX << (32 - bits);
    *ret_addr = addr & mask;
    *ret_mask = mask;
    return true;
}
