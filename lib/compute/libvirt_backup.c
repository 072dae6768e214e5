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
 *  - a read-write connection of its own per call (the source's reads go
 *    through a read-only one; libvirt refuses both calls on those). */
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <string.h>
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
        virDomainFree(d->dom);
    if (d->conn)
        virConnectClose(d->conn);
}

static enum ims_rc domain_open(const char *uri, const char *uuid, struct lv_domain *d, struct ims_err *err)
{
    *d = (struct lv_domain){0};
    if (!(d->conn = virConnectOpen(uri)))
        return ims_lv_fail(err, "opening a read-write connection");
    if (!(d->dom = virDomainLookupByUUIDString(d->conn, uuid))) {
        virErrorPtr e = virGetLastError();
        enum ims_rc rc = e && e->code == VIR_ERR_NO_DOMAIN
                             ? ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", uuid)
                             : ims_lv_fail(err, "looking up a domain");
        domain_close(d);
        return rc;
    }
    char *xml = virDomainGetXMLDesc(d->dom, 0);
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
    char *caps = virConnectGetDomainCapabilities(d->conn, emulator, arch, machine, virttype, 0);
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
    const char *driver = virConnectGetType(d->conn);
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

/* Waits for the domain's job to end, then reads how the backup ended. */
static enum ims_rc wait_job(const struct lv_domain *d, const char *uuid, struct ims_err *err)
{
    for (long ms = 10;; ms = ms < 200 ? ms * 2 : 200) {
        virDomainJobInfo info;
        if (virDomainGetJobInfo(d->dom, &info) != 0)
            return ims_lv_fail(err, "reading the backup job");
        if (info.type == VIR_DOMAIN_JOB_NONE)
            break;
        sleep_ms(ms);
    }
    int type = VIR_DOMAIN_JOB_NONE, nparams = 0, op = -1;
    virTypedParameterPtr params = NULL;
    if (virDomainGetJobStats(d->dom, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) != 0)
        return ims_lv_fail(err, "reading the ended backup job");
    const char *why = NULL;
    virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
    virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &why);
    enum ims_rc rc = IMS_OK;
    if (op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
        rc = ims_fail(err, IMS_E_IO, "libvirt: the backup job of domain %s ended, and how is unknown", uuid);
    else if (type != VIR_DOMAIN_JOB_COMPLETED)
        rc = ims_fail(err, IMS_E_IO, "libvirt: the backup job of domain %s %s: %s", uuid,
                      type == VIR_DOMAIN_JOB_CANCELLED ? "was cancelled" : "failed", why ? why : "no reason given");
    virTypedParamsFree(params, nparams);
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
                               struct ims_err *err)
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
    if (virDomainBackupBegin(d.dom, xml, NULL, 0) != 0) {
        virErrorPtr e = virGetLastError();
        int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;
        if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_ARGUMENT_UNSUPPORTED ||
            code == VIR_ERR_OPERATION_UNSUPPORTED)
            rc = cannot(&d, srv->id, err);
        else if (code == VIR_ERR_OPERATION_INVALID)
            rc = ims_fail(err, IMS_E_CONFLICT, "Server %s changed state while being backed up (%s); try again.",
                          srv->id, virGetLastErrorMessage());
        else
            rc = ims_lv_fail(err, "starting the backup job");
    } else if ((rc = wait_job(&d, srv->id, err)) == IMS_OK) {
        rc = sync_files(srv->nvolumes, paths, err);
    }
    if (rc == IMS_OK)
        ims_info("compute: libvirt backup job of domain %s: %zu disk(s) in %.2f s", srv->id, srv->nvolumes,
                 (double)(ims_mono_us() - started) / 1e6);
    free(xml);
    domain_close(&d);
    return rc;
}
