/* SPDX-License-Identifier: Apache-2.0
 * Backups of running libvirt domains: libvirt's backup API in push mode
 * (virDomainBackupBegin). The hypervisor writes every disk of the domain,
 * as it was at the instant the job started, into raw files imsd names
 * (QEMU's copy-before-write keeps what the guest overwrites meanwhile), so
 * the backup is crash-consistent across all of the domain's disks, which a
 * copy of the files beside the hypervisor is not.
 *  - whether the hypervisor can: its domain capabilities for the domain's
 *    emulator, architecture, machine and type say <backup
 *    supported='yes'/> (libvirt >= 7.2 with QEMU >= 4.2's blockdev); the
 *    test driver and the others cannot, and a running domain is then
 *    refused (IMG.0008), as before;
 *  - the backup XML names every disk of the domain: the volumes imsd
 *    lists (matched by their ids, derived from the disk's target) with
 *    their target file, every other disk (a cdrom) excluded;
 *  - the job is polled until it ends; its outcome is the completed job's
 *    statistics (a failed job's files are removed by libvirt);
 *  - bounded: a hypervisor that does not answer, or a job that writes
 *    nothing, for [compute] backup_stall_seconds fails the backup (IMG.0126)
 *    and cancels libvirt's job; the calls that talk to QEMU run on threads
 *    of their own (libvirt_call.c), the polling asks libvirt alone;
 *  - a read-write connection of its own per call (the source's reads go
 *    through a read-only one; libvirt refuses both calls on those). */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libvirt-int.h"

struct lv_domain {
    virConnectPtr conn;
    virDomainPtr dom;
    xmlDocPtr doc; /* the domain's XML */
    xmlXPathContextPtr ctx;
};

static void domain_close(struct lv_domain *d)
{
    xmlXPathFreeContext(d->ctx);
    xmlFreeDoc(d->doc);
    if (d->dom)
        ims_lv.virDomainFree(d->dom);
    if (d->conn)
        ims_lv.virConnectClose(d->conn);
}

static enum ims_rc domain_open(const char *uri, const char *uuid, struct lv_domain *d, struct ims_err *err)
{
    *d = (struct lv_domain){0};
    if (!(d->conn = ims_lv.virConnectOpen(uri)))
        return ims_lv_fail(err, "opening a read-write connection");
    if (!(d->dom = ims_lv.virDomainLookupByUUIDString(d->conn, uuid))) {
        virErrorPtr e = ims_lv.virGetLastError();
        enum ims_rc rc = e && e->code == VIR_ERR_NO_DOMAIN
                             ? ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", uuid)
                             : ims_lv_fail(err, "looking up a domain");
        domain_close(d);
        return rc;
    }
    char *xml = ims_lv.virDomainGetXMLDesc(d->dom, 0);
    if (!xml) {
        domain_close(d);
        return ims_lv_fail(err, "domain XML");
    }
    d->doc = ims_lv_parse(xml);
    free(xml);
    if (!d->doc) {
        domain_close(d);
        return ims_fail(err, IMS_E_IO, "libvirt: the XML of domain %s does not parse", uuid);
    }
    d->ctx = xmlXPathNewContext(d->doc);
    return IMS_OK;
}

static bool count_positive(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    bool yes = o && o->type == XPATH_NODESET && o->nodesetval && o->nodesetval->nodeNr > 0;
    xmlXPathFreeObject(o);
    return yes;
}

/* The domain capabilities of the domain's own emulator, machine and type
 * offer backups. */
static bool backup_supported(const struct lv_domain *d)
{
    char *emulator = ims_lv_xpath_string(d->ctx, "/domain/devices/emulator");
    char *arch = ims_lv_xpath_string(d->ctx, "/domain/os/type/@arch");
    char *machine = ims_lv_xpath_string(d->ctx, "/domain/os/type/@machine");
    char *virttype = ims_lv_xpath_string(d->ctx, "/domain/@type");
    char *caps = ims_lv.virConnectGetDomainCapabilities(d->conn, emulator, arch, machine, virttype, 0);
    free(emulator);
    free(arch);
    free(machine);
    free(virttype);
    if (!caps)
        return false;
    xmlDocPtr doc = ims_lv_parse(caps);
    free(caps);
    if (!doc)
        return false;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    bool yes = count_positive(ctx, "/domainCapabilities/features/backup[@supported='yes']");
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return yes;
}

static enum ims_rc cannot(const struct lv_domain *d, const char *uuid, struct ims_err *err)
{
    const char *driver = ims_lv.virConnectGetType(d->conn);
    return ims_fail_code(err, IMS_E_BADREQ, "IMG.0008",
                         "The ECS %s is running, and its hypervisor (libvirt's %s driver) cannot back a running "
                         "domain up: stop it and try again.",
                         uuid, driver ? driver : "unknown");
}

enum ims_rc ims_lv_backup_check(const char *uri, const char *domain_uuid, struct ims_err *err)
{
    struct lv_domain d;
    enum ims_rc rc = domain_open(uri, domain_uuid, &d, err);
    if (rc != IMS_OK)
        return rc;
    if (!backup_supported(&d))
        rc = cannot(&d, domain_uuid, err);
    domain_close(&d);
    return rc;
}

/* <domainbackup mode='push'>: each volume of srv to its file, raw; every
 * other disk excluded. NULL (IMS_E_CONFLICT) when a volume of srv is no
 * longer a disk of the domain. */
static char *backup_xml(const struct lv_domain *d, const struct ims_server *srv, char *const *paths,
                        struct ims_err *err)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"domainbackup");
    xmlDocSetRootElement(doc, root);
    xmlSetProp(root, (const xmlChar *)"mode", (const xmlChar *)"push");
    xmlNodePtr disks = xmlNewChild(root, NULL, (const xmlChar *)"disks", NULL);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)"/domain/devices/disk/target/@dev", d->ctx);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
    size_t found = 0;
    for (int i = 0; i < n; i++) {
        xmlChar *target = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        char id[IMS_COMPUTE_ID_CAP];
        ims_lv_volume_id(srv->id, (const char *)target, id);
        size_t v = 0;
        while (v < srv->nvolumes && strcmp(srv->volumes[v].id, id) != 0)
            v++;
        xmlNodePtr disk = xmlNewChild(disks, NULL, (const xmlChar *)"disk", NULL);
        xmlSetProp(disk, (const xmlChar *)"name", target);
        xmlFree(target);
        if (v == srv->nvolumes) {
            xmlSetProp(disk, (const xmlChar *)"backup", (const xmlChar *)"no");
            continue;
        }
        found++;
        xmlSetProp(disk, (const xmlChar *)"backup", (const xmlChar *)"yes");
        xmlSetProp(disk, (const xmlChar *)"type", (const xmlChar *)"file");
        xmlNodePtr t = xmlNewChild(disk, NULL, (const xmlChar *)"target", NULL);
        xmlSetProp(t, (const xmlChar *)"file", (const xmlChar *)paths[v]);
        xmlNodePtr driver = xmlNewChild(disk, NULL, (const xmlChar *)"driver", NULL);
        xmlSetProp(driver, (const xmlChar *)"type", (const xmlChar *)"raw");
    }
    xmlXPathFreeObject(o);
    char *ret = NULL;
    if (found == srv->nvolumes) {
        xmlChar *text = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &text, &len);
        ret = ims_xstrdup((const char *)text);
        xmlFree(text);
    } else {
        ims_fail(err, IMS_E_CONFLICT, "Server %s changed its disks while being backed up; try again.", srv->id);
    }
    xmlFreeDoc(doc);
    return ret;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The domain's backup job: 1 running (its XML in *xml when asked), 0 none,
 * -1 libvirt failed. libvirt answers from its own records, without asking
 * QEMU, so a stuck QEMU does not hold this call. */
static int backup_running(virDomainPtr dom, char **xml)
{
    char *x = ims_lv.virDomainBackupGetXMLDesc(dom, 0);
    if (x) {
        if (xml)
            *xml = x;
        else
            free(x);
        return 1;
    }
    virErrorPtr e = ims_lv.virGetLastError();
    return e && e->code == VIR_ERR_NO_DOMAIN_BACKUP ? 0 : -1;
}

/* What the job has written: the allocated bytes of its files (QEMU writes
 * them as it copies; read beside it, as libvirt's own count would ask the
 * stuck QEMU). */
static int64_t written(size_t n, char *const *paths)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0)
            sum += (int64_t)st.st_blocks * 512;
    }
    return sum;
}

/* Cancels the domain's backup job (waiting for libvirt, and for the job to
 * end, up to `patience` each); false when either did not happen in time
 * (QEMU stuck: the cancel is queued and takes effect once QEMU answers). */
static bool cancel_job(virDomainPtr dom, const char *uuid, int64_t patience_us)
{
    struct ims_lv_call *abort = ims_lv_call_start(dom, IMS_LV_ABORT_JOB, NULL);
    bool answered = ims_lv_call_wait(abort, ims_mono_us() + patience_us);
    const char *why = NULL;
    if (answered && ims_lv_call_result(abort, NULL, &why) < 0)
        ims_warn("compute: cancelling the backup job of domain %s: %s", uuid, why);
    ims_lv_call_drop(abort);
    if (!answered)
        return false;
    int64_t until = ims_mono_us() + patience_us;
    for (long ms = 10; ims_mono_us() < until; ms = ms < 200 ? ms * 2 : 200) {
        if (backup_running(dom, NULL) == 0)
            return true;
        sleep_ms(ms);
    }
    return false;
}

static enum ims_rc stalled(virDomainPtr dom, const char *uuid, int64_t stall_seconds, const char *what,
                           struct ims_err *err)
{
    /* the cancel waits as long as the stall did, at most 30 s */
    bool cancelled = cancel_job(dom, uuid, (stall_seconds < 30 ? stall_seconds : 30) * 1000000);
    return ims_fail_code(err, IMS_E_IO, "IMG.0126",
                         "The backup of ECS %s failed: its hypervisor %s for %lld s; libvirt's backup job %s.", uuid,
                         what, (long long)stall_seconds,
                         cancelled ? "was cancelled"
                                   : "was asked to stop, which takes effect once the hypervisor answers (its "
                                     "files are removed now)");
}

/* Waits for the domain's job to end while it writes, then reads how the
 * backup ended. */
static enum ims_rc wait_job(const struct lv_domain *d, const struct ims_server *srv, char *const *paths,
                            int64_t stall_seconds, struct ims_err *err)
{
    int64_t seen = -1, moved = ims_mono_us();
    for (long ms = 10;; ms = ms < 200 ? ms * 2 : 200) {
        int running = backup_running(d->dom, NULL);
        if (running < 0)
            return ims_lv_fail(err, "reading the backup job");
        if (!running)
            break;
        int64_t now = ims_mono_us(), w = written(srv->nvolumes, paths);
        if (w != seen) {
            seen = w;
            moved = now;
        } else if (now - moved >= stall_seconds * 1000000) {
            return stalled(d->dom, srv->id, stall_seconds, "wrote nothing", err);
        }
        sleep_ms(ms);
    }
    int type = VIR_DOMAIN_JOB_NONE, nparams = 0, op = -1;
    virTypedParameterPtr params = NULL;
    /* the ended job's record, kept by libvirt (QEMU is not asked) */
    if (ims_lv.virDomainGetJobStats(d->dom, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) != 0)
        return ims_lv_fail(err, "reading the ended backup job");
    const char *why = NULL;
    ims_lv.virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
    ims_lv.virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &why);
    enum ims_rc rc = IMS_OK;
    if (op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
        rc = ims_fail(err, IMS_E_IO, "libvirt: the backup job of domain %s ended, and how is unknown", srv->id);
    else if (type != VIR_DOMAIN_JOB_COMPLETED)
        rc = ims_fail(err, IMS_E_IO, "libvirt: the backup job of domain %s %s: %s", srv->id,
                      type == VIR_DOMAIN_JOB_CANCELLED ? "was cancelled" : "failed", why ? why : "no reason given");
    ims_lv.virTypedParamsFree(params, nparams);
    return rc;
}

/* A backup job of the domain that writes into this backup's directory is
 * an attempt of a process killed meanwhile (a job resumed after imsd's
 * restart makes the same backup again): it is cancelled, and its files
 * removed, before the backup starts again. */
static enum ims_rc cancel_stale(const struct lv_domain *d, const struct ims_server *srv, char *const *paths,
                                int64_t stall_seconds, struct ims_err *err)
{
    char *xml = NULL;
    if (!srv->nvolumes || backup_running(d->dom, &xml) != 1)
        return IMS_OK; /* none (or unreadable: starting reports it) */
    const char *slash = strrchr(paths[0], '/');
    size_t dirlen = slash ? (size_t)(slash - paths[0]) + 1 : 0;
    bool ours = false;
    for (const char *at = xml; dirlen && !ours && (at = strstr(at, "file='")) != NULL; at += 6)
        ours = strncmp(at + 6, paths[0], dirlen) == 0;
    free(xml);
    if (!ours)
        return IMS_OK; /* another's: starting reports the conflict */
    ims_warn("compute: domain %s still runs an earlier attempt of this backup: cancelling it", srv->id);
    if (!cancel_job(d->dom, srv->id, stall_seconds * 1000000))
        return ims_fail_code(err, IMS_E_IO, "IMG.0126",
                             "The backup of ECS %s failed: an earlier attempt's backup job did not end within %lld s.",
                             srv->id, (long long)stall_seconds);
    for (size_t i = 0; i < srv->nvolumes; i++)
        if (unlink(paths[i]) != 0 && errno != ENOENT)
            return ims_fail(err, IMS_E_IO, "cannot remove %s: %s", paths[i], strerror(errno));
    return IMS_OK;
}

/* The job's files, made by imsd (empty, each of its disk's size) and
 * reused by libvirt (VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL): left to
 * libvirt, QEMU makes them, which its user under qemu:///system
 * (libvirt-qemu) may not do in imsd's directory; an existing file libvirt
 * hands to QEMU's user for the job and back to imsd's after it
 * (dynamic_ownership), so the files imsd keeps are its own. */
static enum ims_rc make_targets(const struct ims_server *srv, char *const *paths, struct ims_err *err)
{
    for (size_t i = 0; i < srv->nvolumes; i++) {
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return ims_fail(err, IMS_E_IO, "cannot create %s: %s", paths[i], strerror(errno));
        int bad = ftruncate(fd, (off_t)srv->volumes[i].size) != 0 ? errno : 0;
        close(fd);
        if (bad)
            return ims_fail(err, IMS_E_IO, "cannot size %s: %s", paths[i], strerror(bad));
    }
    return IMS_OK;
}

/* virDomainBackupBegin, waited for stall_seconds at most. */
static enum ims_rc begin(const struct lv_domain *d, const struct ims_server *srv, const char *xml,
                         int64_t stall_seconds, struct ims_err *err)
{
    struct ims_lv_call *call = ims_lv_call_start(d->dom, IMS_LV_BACKUP_BEGIN, xml);
    if (!ims_lv_call_wait(call, ims_mono_us() + stall_seconds * 1000000)) {
        ims_lv_call_drop(call);
        return stalled(d->dom, srv->id, stall_seconds, "did not answer", err);
    }
    int code = VIR_ERR_INTERNAL_ERROR;
    const char *why = NULL;
    enum ims_rc rc = IMS_OK;
    if (ims_lv_call_result(call, &code, &why) < 0) {
        if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_ARGUMENT_UNSUPPORTED || code == VIR_ERR_OPERATION_UNSUPPORTED)
            rc = cannot(d, srv->id, err);
        else if (code == VIR_ERR_OPERATION_INVALID)
            rc = ims_fail(err, IMS_E_CONFLICT, "Server %s changed state while being backed up (%s); try again.",
                          srv->id, why);
        else
            rc = ims_fail(err, IMS_E_IO, "libvirt: starting the backup job: %s", why);
    }
    ims_lv_call_drop(call);
    return rc;
}

/* The hypervisor wrote the files; they are on disk before the backup is
 * recorded. */
static enum ims_rc sync_files(size_t n, char *const *paths, struct ims_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return ims_fail(err, IMS_E_IO, "the backup's copy %s is missing", paths[i]);
        int bad = fsync(fd);
        close(fd);
        if (bad)
            return ims_fail(err, IMS_E_IO, "fsync %s failed", paths[i]);
    }
    return IMS_OK;
}

enum ims_rc ims_lv_backup_push(const char *uri, const struct ims_server *srv, char *const *paths,
                               int64_t stall_seconds, struct ims_err *err)
{
    struct lv_domain d;
    enum ims_rc rc = domain_open(uri, srv->id, &d, err);
    if (rc != IMS_OK)
        return rc;
    char *xml = backup_xml(&d, srv, paths, err);
    if (!xml) {
        domain_close(&d);
        return IMS_E_CONFLICT;
    }
    int64_t started = ims_mono_us();
    if ((rc = cancel_stale(&d, srv, paths, stall_seconds, err)) == IMS_OK &&
        (rc = make_targets(srv, paths, err)) == IMS_OK && (rc = begin(&d, srv, xml, stall_seconds, err)) == IMS_OK &&
        (rc = wait_job(&d, srv, paths, stall_seconds, err)) == IMS_OK)
        rc = sync_files(srv->nvolumes, paths, err);
    if (rc == IMS_OK)
        ims_info("compute: libvirt backup job of domain %s: %zu disk(s) in %.2f s", srv->id, srv->nvolumes,
                 (double)(ims_mono_us() - started) / 1e6);
    free(xml);
    domain_close(&d);
    return rc;
}
