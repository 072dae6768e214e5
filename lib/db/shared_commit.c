/* SPDX-License-Identifier: Apache-2.0
 * Writes of several threads committed together, on an engine with one
 * writer (SQLite). A commit writes every page its transaction changed to
 * the WAL, and an image insert changes a leaf in each of the indexes of
 * images (migration 17: one per list filter and sort key), the same
 * leaves whichever image it is (each index's newest end): most of what an
 * insert costs is its commit (Run Y). Inserts that wait at the same time
 * therefore share one transaction: the first to arrive leads, takes the
 * write lock, collects every write queued by then (those that arrived
 * while it waited for the lock too; alone, it yields the core once first,
 * so that threads about to write can join), runs them one after the other,
 * commits once, and answers them all. Every caller returns after the
 * commit that holds its write, as after a commit of its own.
 *
 * A write refuses (quota, an id taken) before it writes anything, so a
 * refusal leaves the others' rows as they were and answers its caller
 * only. A write that fails after writing (a database error) cannot be
 * undone alone without a savepoint per write, which costs more than the
 * shared commit saves (SQLite copies each page a savepoint's writes touch
 * into its sub-journal): the batch is rolled back and each of its writes
 * runs again in a transaction of its own.
 *
 * Where writes run side by side instead (PostgreSQL's row-locking
 * transactions, ims_db_begin_rows), or inside a caller's transaction,
 * each runs in a transaction of its own as before. */
#include <pthread.h>
#include <sched.h>

#include "db-int.h"

struct item {
    ims_shared_write_fn fn;
    void *arg;
    struct ims_err *err;
    enum ims_rc rc;
    bool done; /* under mu: rc is final, and the caller may return */
    struct item *next;
};

struct ims_shared_commit {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, **tail; /* waiting for a leader to take them */
    bool leading;
};

struct ims_shared_commit *ims_shared_commit_new(void)
{
    struct ims_shared_commit *s = ims_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->tail = &s->head;
    return s;
}

void ims_shared_commit_free(struct ims_shared_commit *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static enum ims_rc run_alone(struct ims_dbc *c, ims_shared_write_fn fn, void *arg, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin_rows(c, err);
    if (rc != IMS_OK)
        return rc;
    bool wrote = false;
    return ims_db_end(c, fn(c, arg, &wrote, err), err);
}

static void fail_all(struct item *batch, enum ims_rc rc, const struct ims_err *why)
{
    for (struct item *it = batch; it; it = it->next) {
        if (it->rc != IMS_OK)
            continue;
        it->rc = rc;
        if (it->err)
            *it->err = *why;
    }
}

enum ims_rc ims_db_shared_write(struct ims_dbc *c, ims_shared_write_fn fn, void *arg, struct ims_err *err)
{
    struct ims_shared_commit *s = ims_db_shared_commit(c->db);
    if (!s || c->txdepth > 0 || c->ops->begin_rows)
        return run_alone(c, fn, arg, err);
    struct item me = {.fn = fn, .arg = arg, .err = err};
    pthread_mutex_lock(&s->mu);
    *s->tail = &me;
    s->tail = &me.next;
    while (!me.done && s->leading)
        pthread_cond_wait(&s->cv, &s->mu);
    if (me.done) { /* a leader committed it */
        pthread_mutex_unlock(&s->mu);
        return me.rc;
    }
    s->leading = true;
    pthread_mutex_unlock(&s->mu);

    /* the write lock first: what queues meanwhile joins this commit */
    struct ims_err why;
    enum ims_rc begun = ims_db_begin(c, &why);
    pthread_mutex_lock(&s->mu);
    if (s->head == &me && !me.next) {
        /* alone: the threads about to write get the core once and join
         * (without it, 1.5 writes a commit under bench/create_cost.sh's
         * load; with it, 6.8) */
        pthread_mutex_unlock(&s->mu);
        sched_yield();
        pthread_mutex_lock(&s->mu);
    }
    struct item *batch = s->head; /* me among them: only a leader takes items */
    s->head = NULL;
    s->tail = &s->head;
    pthread_mutex_unlock(&s->mu);

    for (struct item *it = batch; it; it = it->next)
        it->rc = IMS_OK;
    bool broken = false; /* a write failed after writing */
    if (begun != IMS_OK) {
        fail_all(batch, begun, &why);
    } else {
        for (struct item *it = batch; it && !broken; it = it->next) {
            bool wrote = false;
            it->rc = it->fn(c, it->arg, &wrote, it->err);
            broken = it->rc != IMS_OK && wrote;
        }
        if (broken) {
            ims_db_rollback(c);
        } else {
            enum ims_rc committed = ims_db_commit(c, &why);
            if (committed != IMS_OK)
                fail_all(batch, committed, &why);
        }
    }
    if (broken) /* each again, alone */
        for (struct item *it = batch; it; it = it->next)
            it->rc = run_alone(c, it->fn, it->arg, it->err);

    pthread_mutex_lock(&s->mu);
    enum ims_rc rc = me.rc;
    for (struct item *it = batch, *next; it; it = next) {
        next = it->next; /* it may be gone once done */
        it->done = true;
    }
    s->leading = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
