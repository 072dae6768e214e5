/* SPDX-License-Identifier: Apache-2.0
 * libvirt calls that talk to QEMU, waited for a bounded time: libvirt
 * waits for QEMU's monitor with no limit (a QEMU that is stopped, or stuck
 * in the kernel on its storage, answers nothing), and an image job must
 * not wait with it. Each call runs on a thread of its own; a call not
 * answered in time is left to finish there (libvirt answers once QEMU does,
 * or the daemon gives up), and the last of the caller and the thread frees
 * it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libvirt-int.h"

struct ims_lv_call {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* the caller's and the thread's */
    bool done;
    enum ims_lv_op op;
    virDomainPtr dom; /* a reference of the call's own */
    char *xml;        /* IMS_LV_BACKUP_BEGIN */
    int ret;
    int code;        /* libvirt's error code when ret < 0 */
    char why[512];   /* libvirt's message when ret < 0 */
};

static void unref(struct ims_lv_call *c)
{
    pthread_mutex_lock(&c->mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (!last)
        return;
    ims_lv.virDomainFree(c->dom);
    free(c->xml);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void *run(void *arg)
{
    struct ims_lv_call *c = arg;
    int ret = -1;
    switch (c->op) {
    case IMS_LV_BACKUP_BEGIN:
        ret = ims_lv.virDomainBackupBegin(c->dom, c->xml, NULL, VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL);
        break;
    case IMS_LV_ABORT_JOB:
        ret = ims_lv.virDomainAbortJob(c->dom);
        break;
    }
    pthread_mutex_lock(&c->mu);
    c->ret = ret;
    if (ret < 0) {
        /* libvirt's last error is the thread's own */
        virErrorPtr e = ims_lv.virGetLastError();
        c->code = e ? e->code : VIR_ERR_INTERNAL_ERROR;
        snprintf(c->why, sizeof(c->why), "%s", ims_lv.virGetLastErrorMessage());
    }
    c->done = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    unref(c);
    return NULL;
}

struct ims_lv_call *ims_lv_call_start(virDomainPtr dom, enum ims_lv_op op, const char *xml)
{
    struct ims_lv_call *c = ims_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    ims_cond_init_monotonic(&c->cv);
    c->op = op;
    c->refs = 2;
    c->xml = xml ? ims_xstrdup(xml) : NULL;
    ims_lv.virDomainRef(dom);
    c->dom = dom;
    if (ims_thread_start_detached(run, c) != 0) {
        c->ret = -1;
        c->code = VIR_ERR_INTERNAL_ERROR;
        snprintf(c->why, sizeof(c->why), "cannot start a thread for the call");
        c->done = true;
        c->refs = 1;
    }
    return c;
}

bool ims_lv_call_wait(struct ims_lv_call *c, int64_t deadline_us)
{
    struct timespec until = {.tv_sec = deadline_us / 1000000, .tv_nsec = (deadline_us % 1000000) * 1000};
    pthread_mutex_lock(&c->mu);
    while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0) {
    }
    bool done = c->done;
    pthread_mutex_unlock(&c->mu);
    return done;
}

int ims_lv_call_result(struct ims_lv_call *c, int *code, const char **why)
{
    pthread_mutex_lock(&c->mu);
    int ret = c->ret;
    pthread_mutex_unlock(&c->mu);
    if (code)
        *code = c->code;
    if (why)
        *why = c->why;
    return ret;
}

void ims_lv_call_drop(struct ims_lv_call *c)
{
    if (c)
        unref(c);
}
