/* SPDX-License-Identifier: Apache-2.0
 * Result codes and the detail message that travels with them. */
#include "ims/base.h"

#include <stdio.h>
#include <string.h>

/* Messages echo what clients sent (a name, a JSON parser's view of a bad
 * token) and go to clients and to the log: each byte that is a control
 * character or no part of valid UTF-8 (also a sequence cut by the message's
 * cap) becomes '?', so a message is always valid text and one log line. */
static void make_text(char *s)
{
    unsigned char *in = (unsigned char *)s, *out = in;
    size_t n = strlen(s);
    while (*in) {
        size_t len = ims_utf8_seq_len(in, n - (size_t)(in - (unsigned char *)s));
        bool control = len == 1 ? (*in < 0x20 || *in == 0x7F) : len == 2 && in[0] == 0xC2 && in[1] <= 0x9F;
        if (!len || control) {
            *out++ = '?';
            in += len ? len : 1;
            continue;
        }
        memmove(out, in, len);
        out += len;
        in += len;
    }
    *out = 0;
}

enum ims_rc ims_fail(struct ims_err *err, enum ims_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        make_text(err->msg);
        err->code[0] = 0;
        err->retry_after = 0;
    }
    return rc;
}

enum ims_rc ims_fail_code(struct ims_err *err, enum ims_rc rc, const char *code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        make_text(err->msg);
        snprintf(err->code, sizeof(err->code), "%s", code);
        err->retry_after = 0;
    }
    return rc;
}

const char *ims_rc_name(enum ims_rc rc)
{
    switch (rc) {
    case IMS_OK: return "ok";
    case IMS_E_BADREQ: return "bad request";
    case IMS_E_UNAUTH: return "unauthorized";
    case IMS_E_FORBIDDEN: return "forbidden";
    case IMS_E_NOTFOUND: return "not found";
    case IMS_E_METHOD: return "method not allowed";
    case IMS_E_CONFLICT: return "conflict";
    case IMS_E_TOOLARGE: return "request entity too large";
    case IMS_E_MEDIA: return "unsupported media type";
    case IMS_E_RANGE: return "range not satisfiable";
    case IMS_E_TOOMANY: return "too many requests";
    case IMS_E_BUSY: return "service busy";
    case IMS_E_NOTIMPL: return "not implemented";
    case IMS_E_IO: return "storage error";
    case IMS_E_DB: return "database error";
    case IMS_E_INTERNAL: return "internal error";
    }
    return "unknown";
}
