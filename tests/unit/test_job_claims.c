/* SPDX-License-Identifier: Apache-2.0
 * Job state transitions are compare-and-set: INIT -> RUNNING by one worker
 * only, and RUNNING -> SUCCESS/FAIL (or a save, or giving it back) only by
 * the worker holding the claim. Two workers of one process share the lease
 * owner, so the claim is the owner and the job's revision: a worker whose
 * lease ran out and whose job another worker took can no longer write it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ims/db.h"
#include "db_files.h"

#define NJOBS 40
#define NWORKERS 6
#define OWNER "host:1:abc" /* one process: every worker uses the same owner */

static char path[64];
static struct ims_db *db;

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_job_claims.%d.db", (int)getpid());
    unlink(path);
    struct ims_err err;
    assert_int_equal(ims_db_open(&ims_sqlite_ops, path, &db, &err), IMS_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ims_db_close(db);
    db_files_remove(path);
    return 0;
}

static void insert_job(const char *id, int64_t created)
{
    struct ims_job j = {.project_id = "p", .type = "test", .entities = "{}", .request = "{}",
                        .created_at = created};
    snprintf(j.id, sizeof(j.id), "%s", id);
    snprintf(j.status, sizeof(j.status), "INIT");
    struct ims_err err;
    assert_int_equal(ims_repo_job_insert(ims_db_conn(db), &j, &err), IMS_OK);
}

static void handed_over_job_is_not_written_by_its_first_worker(void **state)
{
    (void)state;
    struct ims_dbc *c = ims_db_conn(db);
    struct ims_err err;
    insert_job("handover", 1);
    struct ims_job a, b;
    /* worker A takes it with a 1 s lease, then stalls past the lease */
    assert_int_equal(ims_repo_job_claim(c, OWNER, 1000, 1000, &a, &err), IMS_OK);
    assert_string_equal(a.id, "handover");
    /* worker B of the same process finds the lease run out and takes it */
    assert_int_equal(ims_repo_job_claim(c, OWNER, 5000, 1000, &b, &err), IMS_OK);
    assert_string_equal(b.id, "handover");
    assert_int_equal(b.attempts, 2);
    /* A wakes up: none of its writes may land */
    a.progress = 7;
    assert_int_equal(ims_repo_job_save(c, &a, OWNER, &err), IMS_E_NOTFOUND);
    snprintf(a.status, sizeof(a.status), "FAIL");
    assert_int_equal(ims_repo_job_finish(c, &a, OWNER, &err), IMS_E_NOTFOUND);
    assert_int_equal(ims_repo_job_unlease(c, &a, OWNER, &err), IMS_E_NOTFOUND);
    /* B, which holds the claim, saves and finishes */
    b.progress = 3;
    assert_int_equal(ims_repo_job_save(c, &b, OWNER, &err), IMS_OK);
    b.progress = 4;
    assert_int_equal(ims_repo_job_save(c, &b, OWNER, &err), IMS_OK);
    snprintf(b.status, sizeof(b.status), "SUCCESS");
    assert_int_equal(ims_repo_job_finish(c, &b, OWNER, &err), IMS_OK);
    /* a finished job is finished: no second end, no save */
    assert_int_equal(ims_repo_job_finish(c, &b, OWNER, &err), IMS_E_NOTFOUND);
    struct ims_job got;
    assert_int_equal(ims_repo_job_get(c, "handover", &got, &err), IMS_OK);
    assert_string_equal(got.status, "SUCCESS");
    assert_int_equal(got.progress, 4);
    assert_int_equal(got.revision, b.revision);
    ims_job_release(&got);
    ims_job_release(&a);
    ims_job_release(&b);
}

static void finish_only_to_an_end_state(void **state)
{
    (void)state;
    struct ims_dbc *c = ims_db_conn(db);
    struct ims_err err;
    insert_job("ends", 2);
    struct ims_job j;
    assert_int_equal(ims_repo_job_claim(c, OWNER, 1000000, 60000, &j, &err), IMS_OK);
    assert_string_equal(j.id, "ends");
    snprintf(j.status, sizeof(j.status), "INIT");
    assert_int_equal(ims_repo_job_finish(c, &j, OWNER, &err), IMS_E_BADREQ);
    snprintf(j.status, sizeof(j.status), "FAIL");
    assert_int_equal(ims_repo_job_finish(c, &j, "another-process", &err), IMS_E_NOTFOUND);
    assert_int_equal(ims_repo_job_finish(c, &j, OWNER, &err), IMS_OK);
    ims_job_release(&j);
}

/* ---- many workers claiming at once ---- */

static char claimed[NWORKERS][NJOBS][65];
static int nclaimed[NWORKERS];

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    struct ims_dbc *c = ims_db_conn(db);
    for (;;) {
        struct ims_job j;
        struct ims_err err;
        enum ims_rc rc = ims_repo_job_claim(c, OWNER, 2000000, 600000, &j, &err);
        if (rc == IMS_E_NOTFOUND)
            break;
        if (rc != IMS_OK || nclaimed[w] == NJOBS)
            return (void *)1;
        snprintf(claimed[w][nclaimed[w]++], 65, "%s", j.id);
        ims_job_release(&j);
    }
    return NULL;
}

static void each_job_goes_to_one_worker(void **state)
{
    (void)state;
    for (int i = 0; i < NJOBS; i++) {
        char id[32];
        snprintf(id, sizeof(id), "many-%02d", i);
        insert_job(id, 100 + i);
    }
    pthread_t t[NWORKERS];
    for (int w = 0; w < NWORKERS; w++)
        assert_int_equal(pthread_create(&t[w], NULL, worker, (void *)(intptr_t)w), 0);
    for (int w = 0; w < NWORKERS; w++) {
        void *res;
        pthread_join(t[w], &res);
        assert_null(res);
    }
    int seen[NJOBS] = {0}, total = 0;
    for (int w = 0; w < NWORKERS; w++) {
        for (int k = 0; k < nclaimed[w]; k++) {
            int i = -1;
            assert_int_equal(sscanf(claimed[w][k], "many-%d", &i), 1);
            assert_true(i >= 0 && i < NJOBS);
            seen[i]++;
            total++;
        }
    }
    assert_int_equal(total, NJOBS);
    for (int i = 0; i < NJOBS; i++)
        assert_int_equal(seen[i], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handed_over_job_is_not_written_by_its_first_worker),
        cmocka_unit_test(finish_only_to_an_end_state),
        cmocka_unit_test(each_job_goes_to_one_worker),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
