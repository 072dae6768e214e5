/* SPDX-License-Identifier: Apache-2.0
 * Wall-clock time in the two ISO 8601 shapes our APIs print, and a parser
 * for the shapes clients send in filters; monotonic time and deadlines for
 * timed waits. */
#include "ims/base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ims_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

int64_t ims_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ims_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ims_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

struct timespec ims_mono_deadline(int64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + us * 1000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    return ts;
}

/* Days since 1970-01-01 to a proleptic Gregorian date by 400-year eras
 * (the well-known civil-from-days conversion): no libc call, no locale.
 * Image lists print two times per image; gmtime_r + strftime were a
 * measurable part of a page. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDTHH:MM:SS" (19 chars). The format has room for years 0..9999
 * only: times outside are written as the nearest end of that range (the
 * caller's array is the capacity, so nothing longer may be written). */
static void iso_base(int64_t t, char *out)
{
    if (t < -62167219200LL)
        t = -62167219200LL;
    if (t > 253402300799LL)
        t = 253402300799LL;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    unsigned secs = (unsigned)(t - days * 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    put2(out, (unsigned)(y / 100));
    put2(out + 2, (unsigned)(y % 100));
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, secs / 3600);
    out[13] = ':';
    put2(out + 14, secs / 60 % 60);
    out[16] = ':';
    put2(out + 17, secs % 60);
}

void ims_time_iso(int64_t t, char out[21])
{
    iso_base(t, out);
    memcpy(out + 19, "Z", 2);
}

void ims_time_iso_us(int64_t t, char out[28])
{
    iso_base(t, out);
    memcpy(out + 19, ".000000Z", 9);
}

static bool digits(const char *s, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

bool ims_time_parse(const char *s, int64_t *ret)
{
    int Y, M, D, h = 0, m = 0, sec = 0;
    size_t n = strlen(s);
    if (n < 10 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D))
        return false;
    const char *p = s + 10;
    long offset = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (strlen(p) < 5 || !digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &m))
            return false;
        p += 5;
        if (*p == ':') {
            if (!digits(p + 1, 2, &sec))
                return false;
            p += 3;
            if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                    return false;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (strlen(p) < 6 || !digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
                return false;
            if (oh > 23 || om > 59)
                return false;
            offset = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
            p += 6;
        }
    }
    if (*p)
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || Y < 1900 || Y > 9999)
        return false;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != D && sec != 60)
        return false; /* 2023-02-31 */
    *ret = (int64_t)t - offset;
    return true;
}
