/* SPDX-License-Identifier: Apache-2.0
 * base: the only module everything may use. Buffers with a hard cap, error
 * codes, ids, time, cleanup helpers. Depends on libc only. */
#ifndef IMS_BASE_H
#define IMS_BASE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define IMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void ims_freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(ims_freep)

/* Hands a pointer out of a _cleanup_ variable (systemd TAKE_PTR). */
#define IMS_TAKE_PTR(p)                                                        \
    ({                                                                         \
        __typeof__(p) _taken = (p);                                            \
        (p) = NULL;                                                            \
        _taken;                                                                \
    })

/* Allocation failure aborts: the daemon caps every input instead. */
void *ims_xmalloc(size_t n);
void *ims_xcalloc(size_t n, size_t m);
void *ims_xrealloc(void *p, size_t n);
/* For buffers handed to O_DIRECT I/O; freed with free(). */
void *ims_xaligned_alloc(size_t alignment, size_t n);
char *ims_xstrdup(const char *s);
char *ims_xstrndup(const char *s, size_t n);
char *ims_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- result codes ---- */
enum ims_rc {
    IMS_OK = 0,
    IMS_E_BADREQ,    /* malformed or invalid input: 400 */
    IMS_E_UNAUTH,    /* 401 */
    IMS_E_FORBIDDEN, /* 403 */
    IMS_E_NOTFOUND,  /* 404 */
    IMS_E_METHOD,    /* 405 */
    IMS_E_CONFLICT,  /* 409 */
    IMS_E_TOOLARGE,  /* 413 */
    IMS_E_MEDIA,     /* 415 */
    IMS_E_RANGE,     /* 416 */
    IMS_E_TOOMANY,   /* rate limited: 429 (err->retry_after) */
    IMS_E_BUSY,      /* a bounded queue is full: 503 (err->retry_after) */
    IMS_E_NOTIMPL,   /* 501 */
    IMS_E_IO,        /* storage failure: 500/503 */
    IMS_E_DB,        /* metadata repository failure: 500 */
    IMS_E_INTERNAL,
};

/* Human-readable detail travelling with a non-OK ims_rc. */
struct ims_err {
    char msg[512];
    char code[16]; /* the IMS error code (IMG.xxxx) the IMS API answers with, or "" */
    unsigned retry_after; /* seconds, for IMS_E_TOOMANY / IMS_E_BUSY (Retry-After); 0 = none */
};

/* Sets err->msg (if err is non-NULL), clears code and retry_after, and returns rc, so callers write
 * `return ims_fail(err, IMS_E_BADREQ, "bad %s", x);`. The message is always valid text: control
 * characters and bytes of no valid UTF-8 sequence (what a client sent, echoed) become '?'. */
enum ims_rc ims_fail(struct ims_err *err, enum ims_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, also naming the IMS error code (spec/ims-error-codes.tsv)
 * the IMS routes answer with; ims_fail clears it. */
enum ims_rc ims_fail_code(struct ims_err *err, enum ims_rc rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *ims_rc_name(enum ims_rc rc);

/* ---- growable byte buffer with a mandatory cap (curl dynbuf) ----
 * data is always NUL-terminated (data[len] == 0) once anything is added. */
struct ims_buf {
    char *data;
    size_t len, cap, max;
    bool overflow; /* an append would have passed max: contents truncated */
};
void ims_buf_init(struct ims_buf *b, size_t max);
void ims_buf_release(struct ims_buf *b);
void ims_buf_reset(struct ims_buf *b);
bool ims_buf_add(struct ims_buf *b, const void *p, size_t n);
bool ims_buf_adds(struct ims_buf *b, const char *s);
bool ims_buf_addc(struct ims_buf *b, char c);
/* Room for `extra` more bytes in one allocation (false past the cap). */
bool ims_buf_reserve(struct ims_buf *b, size_t extra);
/* Room for n more bytes, counted as written: the caller fills them. NULL
 * (and overflow set) past the maximum. */
char *ims_buf_append_space_grow(struct ims_buf *b, size_t n);
static inline char *ims_buf_append_space(struct ims_buf *b, size_t n)
{
    /* Inline while the room is already allocated (cap > len once anything
     * is held, and len <= max): the JSON writer reserves once per member,
     * some thirty times per image a page renders, and the two calls were
     * ~3 % of a miss-heavy page's instructions (bench/README.md Run JW). */
    if (!b->overflow && n < b->cap - b->len && n <= b->max - b->len) {
        char *p = b->data + b->len;
        b->len += n;
        b->data[b->len] = 0;
        return p;
    }
    return ims_buf_append_space_grow(b, n);
}
bool ims_buf_printf(struct ims_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool ims_buf_vprintf(struct ims_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the data out (caller frees) and resets b. */
char *ims_buf_detach(struct ims_buf *b, size_t *ret_len);
static inline void ims_buf_releasep(struct ims_buf *b) { ims_buf_release(b); }

/* ---- ids and time ---- */
#define IMS_UUID_LEN 36
/* Random RFC 4122 v4 UUID, lower case, out must hold 37 bytes. */
void ims_uuid_new(char out[IMS_UUID_LEN + 1]);
bool ims_uuid_valid(const char *s);
/* The size of the array a; does not compile when a is a pointer, so a
 * capacity is never the size of a pointer by mistake. */
#define IMS_ARRAY_CAP(a)                                                       \
    (sizeof(a) + 0 * sizeof(struct {                                           \
         _Static_assert(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])), \
                        "IMS_ARRAY_CAP needs an array, not a pointer");        \
         int unused;                                                           \
     }))
/* Random hex id of 2*nbytes chars (Keystone-style ids: 32 hex) into the
 * array `out`, whose size is taken with IMS_ARRAY_CAP. */
#define ims_hexid_new(out, nbytes) ims_hexid_fill((out), IMS_ARRAY_CAP(out), (nbytes))
/* Aborts when 2*nbytes+1 chars do not fit in outcap (a programming error:
 * sizes are constants at every call). */
void ims_hexid_fill(char *out, size_t outcap, size_t nbytes);
#define IMS_PROJECT_ID_LEN 32
/* Whether s has the shape of the project ids imsd makes (ims_hexid_new of
 * 16 bytes: 32 lower-case hex digits); says nothing of whether it exists. */
bool ims_project_id_valid(const char *s);
void ims_random_bytes(void *p, size_t n);

/* This process, as the owner of leases and temporary files shared with
 * other processes on the same data: "<host>:<pid>:<random>", at most
 * IMS_OWNER_MAX - 1 characters, the same for the whole process. */
#define IMS_OWNER_MAX 64
const char *ims_process_owner(void);
/* Whether the owner is known to be gone: a process of this host that no
 * longer runs. false when unsure (another host, a malformed id, a live
 * process, maybe a reused pid): then only a lease or a grace period ends
 * what it owns. */
bool ims_owner_gone(const char *owner);
/* The owner a temporary file's name carries ("<uuid>.<owner>.part", as
 * the file store and the embedded object storage name them); false for a
 * name of another shape. */
bool ims_temp_name_owner(const char *name, char ret[IMS_OWNER_MAX]);

/* Seconds since the epoch, UTC. */
/* FNV-1a of s, continuing from h (start from IMS_HASH_SEED): for the
 * in-process hash tables and caches. */
#define IMS_HASH_SEED 1469598103934665603ULL
uint64_t ims_hash_str(uint64_t h, const char *s);
/* Every input bit of h reaching every output bit (splitmix64's finaliser).
 * FNV-1a's low bits depend only on the low bits of the bytes hashed: a
 * table indexed by its value modulo a power of two wants this first (ids
 * that differ in a few hex digits filled 32 of 128 sets of a cache). */
uint64_t ims_hash_mix(uint64_t h);
/* n bytes at p, continuing from h, a word at a time and mixed (no
 * ims_hash_mix needed): for long keys such as a statement's SQL text. */
uint64_t ims_hash_bytes(uint64_t h, const void *p, size_t n);

int64_t ims_now(void);
/* Microseconds since the epoch, UTC. */
int64_t ims_now_us(void);
/* Microseconds, monotonic. */
int64_t ims_mono_us(void);
/* A condition variable whose timed waits count on the monotonic clock (a
 * wall-clock step neither cuts nor stretches them), and the deadline for
 * such a wait us microseconds from now. */
void ims_cond_init_monotonic(pthread_cond_t *cv);
struct timespec ims_mono_deadline(int64_t us);
/* Starts run(arg) on a thread nobody joins; pthread_create's result. */
int ims_thread_start_detached(void *(*run)(void *), void *arg);
/* "YYYY-MM-DDTHH:MM:SSZ" (Glance's format); out must hold 21 bytes. Times
 * outside years 0..9999 are written as the nearest end of that range. */
void ims_time_iso(int64_t t, char out[21]);
/* Keystone's "YYYY-MM-DDTHH:MM:SS.000000Z"; out must hold 28 bytes. */
void ims_time_iso_us(int64_t t, char out[28]);
/* Parses ISO 8601 date-times Glance accepts (Z or +hh:mm offsets, optional
 * fraction, date-only). Returns false on anything else. */
bool ims_time_parse(const char *s, int64_t *ret);

/* ---- strings ---- */
bool ims_streq(const char *a, const char *b); /* NULL-safe */
bool ims_str_startswith(const char *s, const char *prefix);
/* Strict decimal parse of the whole string into [min,max]. */
bool ims_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);
/* Decodes %XX and '+' (if plus_is_space) in place; false on bad escapes,
 * NUL, or a result that is not ims_text_valid. */
bool ims_url_decode(char *s, bool plus_is_space);
/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, surrogates or code points above U+10FFFF), 0 if there is none. */
size_t ims_utf8_seq_len(const unsigned char *s, size_t n);
bool ims_utf8_valid(const char *s, size_t n);
/* Code points in valid UTF-8 (Python's len() of a str). */
size_t ims_utf8_chars(const char *s);
/* Text fit to store and echo as a name: valid UTF-8 without control
 * characters (C0, DEL, C1). */
bool ims_text_valid(const char *s);
/* Every encoder and decoder takes its output's capacity and writes nothing
 * past it: encoders return the length written (NUL excluded), or -1 with
 * nothing written when the output and its NUL do not fit in outcap. */
/* Lower-case hex: needs 2*n+1. */
long ims_hex_encode(const unsigned char *in, size_t n, char *out, size_t outcap);
/* Hex digits (either case) in[0, n) to bytes: the decoded length, or -1
 * for an odd count, a non-hex character or more than outcap bytes. */
long ims_hex_decode(const char *in, size_t n, unsigned char *out, size_t outcap);
/* base64url without padding: needs ceil(4*n/3)+1. */
long ims_b64url_encode(const unsigned char *in, size_t n, char *out, size_t outcap);
/* Returns the decoded length, or -1 on invalid input or when the decoded
 * bytes would not fit in outcap (nothing is written past out[outcap-1]). */
long ims_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outcap);
/* base64 with padding: needs 4*ceil(n/3)+1. */
long ims_b64_encode(const unsigned char *in, size_t n, char *out, size_t outcap);

/* ---- logging (stderr, one line per event) ---- */
enum ims_log_level { IMS_LOG_DEBUG, IMS_LOG_INFO, IMS_LOG_WARN, IMS_LOG_ERROR };
void ims_log_set_level(enum ims_log_level lvl);
void ims_log(enum ims_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ims_debug(...) ims_log(IMS_LOG_DEBUG, __VA_ARGS__)
#define ims_info(...) ims_log(IMS_LOG_INFO, __VA_ARGS__)
#define ims_warn(...) ims_log(IMS_LOG_WARN, __VA_ARGS__)
#define ims_error(...) ims_log(IMS_LOG_ERROR, __VA_ARGS__)

#endif
