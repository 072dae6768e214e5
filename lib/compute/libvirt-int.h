/* SPDX-License-Identifier: Apache-2.0
 * Internals the libvirt source's files share (libvirt.c reads domains,
 * libvirt_backup.c backs running ones up): libvirt's errors as results,
 * XPath over a domain's XML, volume ids. */
#ifndef IMS_COMPUTE_LIBVIRT_INT_H
#define IMS_COMPUTE_LIBVIRT_INT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/xpath.h>

#include "compute-int.h"

/* ---- libvirt_api.c: libvirt, loaded when a libvirt source opens ---- */
#define IMS_LV_SONAME "libvirt.so.0"
/* Every libvirt function the source calls; each is called as ims_lv.<name>. */
#define IMS_LV_FUNCTIONS(X)                                                                                            \
    X(virConnectClose) X(virConnectGetDomainCapabilities) X(virConnectGetType) X(virConnectListAllDomains)           \
    X(virConnectOpen) X(virConnectOpenReadOnly) X(virDomainAbortJob) X(virDomainBackupBegin)                         \
    X(virDomainBackupGetXMLDesc) X(virDomainFree) X(virDomainGetJobStats) X(virDomainGetMaxMemory)                   \
    X(virDomainGetName) X(virDomainGetState) X(virDomainGetUUIDString) X(virDomainGetXMLDesc)                        \
    X(virDomainLookupByUUIDString) X(virDomainRef) X(virGetLastError) X(virGetLastErrorMessage) X(virSetErrorFunc)  \
    X(virTypedParamsFree) X(virTypedParamsGetInt) X(virTypedParamsGetString)
struct ims_lv_api {
#define IMS_LV_MEMBER(f) __typeof__(f) *f;
    IMS_LV_FUNCTIONS(IMS_LV_MEMBER)
#undef IMS_LV_MEMBER
};
extern struct ims_lv_api ims_lv;
/* Loads libvirt and finds every function above (once per process); IMS_E_IO
 * saying what is missing when it cannot. Before any other call here. */
enum ims_rc ims_lv_load(struct ims_err *err);

/* IMS_E_IO naming what failed and libvirt's last error. */
enum ims_rc ims_lv_fail(struct ims_err *err, const char *what);
/* The text of the first node expr selects (owned), NULL when none or empty. */
char *ims_lv_xpath_string(xmlXPathContextPtr ctx, const char *expr);
/* Parses a domain's (or libvirt's) XML: no network, no entities; NULL when
 * it does not parse. */
xmlDocPtr ims_lv_parse(const char *xml);
/* A stable UUID-shaped id for the disk at target of the domain. */
void ims_lv_volume_id(const char *domain_uuid, const char *target, char out[IMS_COMPUTE_ID_CAP]);

/* ---- libvirt_backup.c: running domains ---- */
/* IMS_OK when the hypervisor behind uri can back the domain up while it
 * runs (libvirt's backup API); IMS_E_BADREQ with IMG.0008 when it cannot. */
enum ims_rc ims_lv_backup_check(const char *uri, const char *domain_uuid, struct ims_err *err);
/* Backs the running domain srv up through libvirt's backup API (push
 * mode): the hypervisor writes each volume i of srv, as of one instant for
 * all, to the raw file paths[i] (absolute; must not exist: made here, in a
 * directory the hypervisor's user can pass through), and returns
 * once it has; the files are fsynced. IMS_E_BADREQ (IMG.0008) when the
 * hypervisor cannot, IMS_E_CONFLICT when the domain stopped or changed its
 * disks since srv was read, IMS_E_IO when the job failed; IMS_E_IO with
 * IMG.0126 when the hypervisor did not answer, or the job wrote nothing,
 * for stall_seconds (libvirt's job is then cancelled). A job of the
 * domain's that writes to paths (an attempt of a process killed meanwhile)
 * is cancelled first. */
enum ims_rc ims_lv_backup_push(const char *uri, const struct ims_server *srv, char *const *paths,
                               int64_t stall_seconds, struct ims_err *err);

/* ---- libvirt_call.c: calls that talk to QEMU, waited for a bounded time ---- */
enum ims_lv_op { IMS_LV_BACKUP_BEGIN, IMS_LV_ABORT_JOB };
struct ims_lv_call;
/* Starts op on dom (virDomainBackupBegin with xml, into files that exist:
 * REUSE_EXTERNAL; virDomainAbortJob) on a thread of its own; never NULL. */
struct ims_lv_call *ims_lv_call_start(virDomainPtr dom, enum ims_lv_op op, const char *xml);
/* Whether the call has returned, waiting for it until deadline_us
 * (ims_mono_us) at most. */
bool ims_lv_call_wait(struct ims_lv_call *c, int64_t deadline_us);
/* A returned call's result (libvirt's: < 0 failed, with libvirt's error
 * code and message, valid until the call is dropped). */
int ims_lv_call_result(struct ims_lv_call *c, int *code, const char **why);
/* The caller is done with c; a call still running frees itself when it
 * returns. */
void ims_lv_call_drop(struct ims_lv_call *c);

#endif
