/* SPDX-License-Identifier: Apache-2.0
 * Internals of the policy engine: the compiled form of a document that
 * parse.c and condition.c build and eval.c walks, plus the matching helpers
 * both sides share. Everything a decision needs is precomputed at parse
 * time (lower-cased action patterns, numbers, times, CIDRs) so evaluation
 * never allocates. Not part of the public API. */
#ifndef IMS_POLICY_INT_H
#define IMS_POLICY_INT_H

#include <jansson.h>

#include "ims/policy.h"

/* ---- actions ---- */

/* How one segment of "service:resource:operation" is matched; the common
 * shapes get a fast path, anything else goes through the glob matcher. */
enum pol_seg_kind {
    POL_SEG_ANY,    /* "*" */
    POL_SEG_EXACT,  /* no '*' */
    POL_SEG_PREFIX, /* "get*": s is "get" */
    POL_SEG_SUFFIX, /* "*Images": s is "images" */
    POL_SEG_GLOB,   /* anything else, s is the whole segment */
};

struct pol_seg {
    enum pol_seg_kind kind;
    uint32_t hash; /* of s, for POL_SEG_EXACT: most mismatches end here */
    size_t len;
    const char *s; /* lower case, points into pol_action.text */
};

struct pol_action {
    struct pol_seg seg[3];
    char *text; /* the lower-cased pattern with ':' replaced by NUL */
};

/* Longest requested action the matcher takes; real ones are ~30 bytes. */
#define POL_REQUEST_MAX 255

/* A requested action lower-cased, split and hashed once per decision, not
 * once per pattern. */
struct pol_request {
    char buf[POL_REQUEST_MAX + 1];
    const char *seg[3]; /* into buf */
    size_t len[3];
    uint32_t hash[3];
    uint64_t bit_s, bit_sr, bit_full; /* see struct pol_stmt */
    bool valid; /* exactly three non-empty segments, not too long */
};

/* ---- conditions ---- */

enum pol_cond_type {
    POL_C_STRING,
    POL_C_NUMBER,
    POL_C_DATE,
    POL_C_BOOL,
    POL_C_IP,
    POL_C_NULL,          /* Null: the key is absent */
    POL_C_NULL_OR_EMPTY, /* IsNullOrEmpty: absent or only empty strings */
};

/* Comparison within a type (the negated operators share them). */
enum pol_cmp {
    POL_CMP_EQ,
    POL_CMP_EQ_IC,
    POL_CMP_LIKE,
    POL_CMP_START,
    POL_CMP_START_IC,
    POL_CMP_END,
    POL_CMP_END_IC,
    POL_CMP_LT,
    POL_CMP_LE,
    POL_CMP_GT,
    POL_CMP_GE,
    POL_CMP_IN, /* IpAddress */
};

struct pol_op {
    const char *name;
    enum pol_cond_type type;
    enum pol_cmp cmp;
    bool negated;
};

enum pol_qualifier { POL_Q_NONE, POL_Q_ANY_VALUE, POL_Q_ALL_VALUES };

struct pol_value {
    const char *s; /* as written (the IgnoreCase compares fold on the fly) */
    size_t len;
    double num;
    int64_t time;
    uint32_t addr, mask;
    bool b;
};

struct pol_cond {
    const struct pol_op *op;
    enum pol_qualifier qualifier;
    bool if_exists;
    bool current_time; /* key is g:CurrentTime: ctx->now stands in when absent */
    char *key;
    struct pol_value *values;
    size_t nvalues;
};

/* ---- documents ---- */

struct pol_stmt {
    enum ims_effect effect;
    /* A 64-bit Bloom filter of the statement's actions, so most statements
     * are skipped without looking at a pattern: fully exact actions set a
     * bit of their service:resource:operation hash, "svc:res:*"-like ones
     * of service:resource, "svc:*:*"-like ones of the service; any_service
     * when some pattern has a wildcard in its service. */
    bool any_service;
    uint64_t mask_s, mask_sr, mask_full;
    struct pol_action *actions;
    size_t nactions;
    struct pol_cond *conds;
    size_t nconds;
    /* Resource as written; IMS has no resource-level authorization, so only
     * whether a statement names resources matters (see eval.c). */
    char **resources;
    size_t nresources;
};

struct ims_policy {
    char version[4];
    struct pol_stmt *stmts;
    size_t nstmts;
    bool has_deny; /* some statement denies: see ims_policy_decide */
    char **depends; /* display names from "Depends" (1.0 roles) */
    size_t ndepends;
};

/* ---- shared helpers (match.c) ---- */

static inline char pol_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c; }

/* '*' matches any run (also empty), '?' (if qmark) one character; case
 * sensitive (action patterns and requests are both lower-cased first). */
bool pol_glob(const char *p, size_t pn, const char *s, size_t sn, bool qmark);
bool pol_action_matches(const struct pol_action *a, const struct pol_request *r);
void pol_request_split(const char *action, struct pol_request *ret);
/* FNV-1a: cheap, and only ever compared for equality. */
uint32_t pol_hash(const char *s, size_t n);
/* Builds the statement's filter once its actions are compiled. */
void pol_stmt_index(struct pol_stmt *s);
/* False only if no action of s can match r. */
static inline bool pol_stmt_may_match(const struct pol_stmt *s, const struct pol_request *r)
{
    return s->any_service || (s->mask_s & r->bit_s) || (s->mask_sr & r->bit_sr) || (s->mask_full & r->bit_full);
}

/* Strict parses: the whole string or nothing. */
bool pol_parse_number(const char *s, double *ret);
bool pol_parse_bool(const char *s, bool *ret);
bool pol_parse_ipv4(const char *s, size_t n, uint32_t *ret);
bool pol_parse_cidr(const char *s, uint32_t *ret_addr, uint32_t *ret_mask);

/* ---- condition parsing and evaluation (condition.c, eval.c) ---- */

/* Parses stmt.Condition (an object) into *ret; path is "Statement[i]". */
enum ims_rc pol_conditions_parse(json_t *cond, const char *path, struct pol_cond **ret, size_t *ret_n,
                                  struct ims_err *err);
void pol_conditions_free(struct pol_cond *c, size_t n);
bool pol_condition_holds(const struct pol_cond *c, const struct ims_policy_ctx *ctx);

#endif
