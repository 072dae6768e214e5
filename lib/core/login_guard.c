/* SPDX-License-Identifier: Apache-2.0
 * Login rate limits, in memory per process: a token bucket per client
 * address (every attempt draws from it) and one per user (failed attempts
 * draw from it), each refilled at its configured rate per minute and
 * holding at most a minute's worth. A (user, address) pair that logged in
 * successfully is remembered for a day and skips the user's bucket, so a
 * flood of wrong passwords from elsewhere slows guessing without keeping
 * the user (an administrator included) out from where they usually log in.
 *
 * Fixed-size table: an entry whose bucket has refilled (and whose trust has
 * expired) says nothing and may be reused; when a key's slots are all busy
 * the one touched longest ago goes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core-int.h"
#include "ims/auth.h"
#include "ims/config.h"

#define SLOTS 4096
#define PROBES 8
#define TRUST_US (86400LL * 1000000)

struct slot {
    uint64_t hash;
    char key[2 * IMS_ID_MAX + 80];
    double tokens;          /* bucket level when last_us was taken */
    int64_t last_us;
    int64_t trusted_until;  /* (user, address) pairs only */
};

struct ims_login_guard {
    pthread_mutex_t mu;
    struct slot slots[SLOTS];
};

struct ims_login_guard *ims_login_guard_new(void)
{
    struct ims_login_guard *g = ims_xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

void ims_login_guard_free(struct ims_login_guard *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static double level(const struct slot *s, int64_t rate, int64_t now_us)
{
    double t = s->tokens + (double)(now_us - s->last_us) * (double)rate / 60e6;
    return t > (double)rate ? (double)rate : t;
}

/* The key's slot; a new one (a full bucket) if it had none and create is
 * set, else NULL. Every bucket refills from empty within a minute, so an
 * entry untouched that long (and not trusted) says nothing: reused first. */
static struct slot *find(struct ims_login_guard *g, const char *key, int64_t rate, int64_t now_us, bool create)
{
    uint64_t h = ims_hash_str(IMS_HASH_SEED, key);
    struct slot *victim = NULL;
    bool victim_idle = false;
    for (unsigned i = 0; i < PROBES; i++) {
        struct slot *s = &g->slots[(h + i) % SLOTS];
        if (s->last_us && s->hash == h && strcmp(s->key, key) == 0)
            return s;
        bool idle = !s->last_us || (s->trusted_until < now_us && now_us - s->last_us >= 60000000);
        if (idle && !victim_idle) {
            victim = s;
            victim_idle = true;
        } else if (!victim_idle && (!victim || s->last_us < victim->last_us)) {
            victim = s;
        }
    }
    if (!create)
        return NULL;
    *victim = (struct slot){.hash = h, .tokens = (double)rate, .last_us = now_us};
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    return victim;
}

/* Seconds until the bucket holds a whole token again (at least 1). */
static unsigned wait_seconds(double tokens, int64_t rate)
{
    double s = (1.0 - tokens) * 60.0 / (double)rate;
    return s < 1 ? 1 : (unsigned)(s + 0.999);
}

static bool draw(struct ims_login_guard *g, const char *key, int64_t rate, bool take, unsigned *retry_after)
{
    int64_t now = ims_mono_us();
    struct slot *s = find(g, key, rate, now, true);
    double t = level(s, rate, now);
    s->tokens = t;
    s->last_us = now;
    if (t < 1.0) {
        *retry_after = wait_seconds(t, rate);
        return false;
    }
    if (take)
        s->tokens = t - 1.0;
    return true;
}

static void pair_key(char *out, size_t cap, const char *user, const char *source)
{
    snprintf(out, cap, "t\n%s\n%s", user, source);
}

enum ims_rc ims_login_guard_admit(struct ims_login_guard *g, const struct ims_config *cfg, const char *user,
                                  const char *source, struct ims_err *err)
{
    char key[sizeof(((struct slot *)0)->key)];
    unsigned retry = 0;
    bool ok = true;
    pthread_mutex_lock(&g->mu);
    if (cfg->login_rate_per_address > 0) {
        snprintf(key, sizeof(key), "a\n%s", source);
        ok = draw(g, key, cfg->login_rate_per_address, true, &retry);
    }
    if (ok && user && cfg->login_rate_per_user > 0) {
        pair_key(key, sizeof(key), user, source);
        int64_t now = ims_mono_us();
        struct slot *pair = find(g, key, 1, now, false);
        bool trusted = pair && pair->trusted_until > now;
        if (!trusted) {
            snprintf(key, sizeof(key), "u\n%s", user);
            ok = draw(g, key, cfg->login_rate_per_user, false, &retry);
        }
    }
    pthread_mutex_unlock(&g->mu);
    if (ok)
        return IMS_OK;
    ims_fail(err, IMS_E_TOOMANY, "Too many login attempts; retry in %u seconds.", retry);
    err->retry_after = retry;
    return IMS_E_TOOMANY;
}

void ims_login_guard_result(struct ims_login_guard *g, const struct ims_config *cfg, const char *user,
                            const char *source, bool success)
{
    char key[sizeof(((struct slot *)0)->key)];
    unsigned ignored;
    pthread_mutex_lock(&g->mu);
    if (success) {
        pair_key(key, sizeof(key), user, source);
        int64_t now = ims_mono_us();
        struct slot *pair = find(g, key, 1, now, true);
        pair->trusted_until = now + TRUST_US;
        pair->last_us = now;
    } else if (cfg->login_rate_per_user > 0) {
        snprintf(key, sizeof(key), "u\n%s", user);
        draw(g, key, cfg->login_rate_per_user, true, &ignored);
    }
    pthread_mutex_unlock(&g->mu);
}
