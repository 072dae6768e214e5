/* SPDX-License-Identifier: Apache-2.0
 * Login rate limits (lib/core/login_guard.c) and the deferred pool's
 * bounded queue and low priority (lib/http/deferred.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../lib/core/core-int.h"
#include "../../lib/http/http-int.h"
#include "ims/config.h"

static void test_address_bucket(void **state)
{
    struct ims_config cfg = {.login_rate_per_address = 3};
    struct ims_login_guard *g = ims_login_guard_new();
    struct ims_err err = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.1", &err), IMS_OK);
    assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.1", &err), IMS_E_TOOMANY);
    /* 3 a minute: the next token comes in 20 s */
    assert_true(err.retry_after >= 19 && err.retry_after <= 20);
    assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.2", &err), IMS_OK);
    ims_login_guard_free(g);
}

static void test_user_bucket_counts_failures_and_trusts_known_sources(void **state)
{
    struct ims_config cfg = {.login_rate_per_user = 2};
    struct ims_login_guard *g = ims_login_guard_new();
    struct ims_err err = {0};
    /* successes do not draw from the user's bucket */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.1", &err), IMS_OK);
        ims_login_guard_result(g, &cfg, "u1", "10.0.0.1", true);
    }
    ims_login_guard_result(g, &cfg, "u1", "10.0.0.9", false);
    ims_login_guard_result(g, &cfg, "u1", "10.0.0.8", false);
    assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.7", &err), IMS_E_TOOMANY);
    assert_true(err.retry_after >= 1 && err.retry_after <= 30);
    /* the address u1 logged in from still may; other users are untouched */
    assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.1", &err), IMS_OK);
    assert_int_equal(ims_login_guard_admit(g, &cfg, "u2", "10.0.0.7", &err), IMS_OK);
    ims_login_guard_free(g);
}

static void test_no_limits(void **state)
{
    struct ims_config cfg = {0};
    struct ims_login_guard *g = ims_login_guard_new();
    struct ims_err err = {0};
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(ims_login_guard_admit(g, &cfg, "u1", "10.0.0.1", &err), IMS_OK);
        ims_login_guard_result(g, &cfg, "u1", "10.0.0.1", false);
    }
    ims_login_guard_free(g);
}

/* ---- deferred pool ---- */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    atomic_int ran;
};

static void wait_gate(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    atomic_fetch_add(&g->ran, 1);
}

static void test_deferred_queue_is_bounded_and_drained(void **state)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
    struct ims_deferred *d = ims_deferred_start(1, 2, 0);
    assert_non_null(d);
    assert_true(ims_deferred_submit(d, wait_gate, &g)); /* taken by the worker (or queued) */
    int accepted = 1;
    for (int i = 0; i < 10; i++)
        accepted += ims_deferred_submit(d, wait_gate, &g);
    /* one running at most, two waiting */
    assert_true(accepted >= 2 && accepted <= 3);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    ims_deferred_stop(d); /* runs what was queued first */
    assert_int_equal(atomic_load(&g.ran), accepted);
}

/* The workers run below the event loop: SCHED_IDLE, or the nice value
 * asked for, so a waking event-loop thread preempts a password hash. */
struct sched_seen {
    int policy, nice;
};

static void record_sched(void *arg)
{
    struct sched_seen *s = arg;
    s->policy = sched_getscheduler(0);
    errno = 0;
    s->nice = getpriority(PRIO_PROCESS, (id_t)gettid());
}

static void test_deferred_workers_run_at_low_priority(void **state)
{
    int base = getpriority(PRIO_PROCESS, (id_t)gettid());
    struct sched_seen idle = {-1, 0}, nice = {-1, 0}, same = {-1, 0};
    struct ims_deferred *d = ims_deferred_start(1, 1, IMS_DEFERRED_IDLE);
    assert_non_null(d);
    assert_true(ims_deferred_submit(d, record_sched, &idle));
    ims_deferred_stop(d);
    assert_int_equal(idle.policy, SCHED_IDLE);
    d = ims_deferred_start(1, 1, 10);
    assert_true(ims_deferred_submit(d, record_sched, &nice));
    ims_deferred_stop(d);
    assert_int_equal(nice.policy, SCHED_OTHER);
    assert_int_equal(nice.nice, base + 10 > 19 ? 19 : base + 10);
    d = ims_deferred_start(1, 1, 0);
    assert_true(ims_deferred_submit(d, record_sched, &same));
    ims_deferred_stop(d);
    assert_int_equal(same.policy, SCHED_OTHER);
    assert_int_equal(same.nice, base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_bucket),
        cmocka_unit_test(test_user_bucket_counts_failures_and_trusts_known_sources),
        cmocka_unit_test(test_no_limits),
        cmocka_unit_test(test_deferred_queue_is_bounded_and_drained),
        cmocka_unit_test(test_deferred_workers_run_at_low_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
