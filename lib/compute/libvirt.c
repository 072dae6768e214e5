/* SPDX-License-Identifier: Apache-2.0
 * The libvirt compute source: domains are servers, their file and block
 * disks are volumes, read through a read-only libvirt connection on every
 * call (the domains are libvirt's; nothing is cached, nothing written).
 *  - state: shutoff (and crashed) is stopped; every other state (running,
 *    paused, being shut down, ...) counts as running, since such a disk is
 *    not at rest;
 *  - disks: <disk device='disk'> with a <source file=...> or <source
 *    dev=...>, in the domain's order, except that the disk with the lowest
 *    <boot order=...> comes first (the system disk); the format is the
 *    driver's type, raw without one (as libvirt and QEMU read such a disk:
 *    they no longer probe), the size from the format inspector, which must
 *    find that format;
 *  - a volume's id is derived from the domain's UUID and the disk's target
 *    (stable while the domain keeps the disk there);
 *  - project and OS version from the domain's metadata element
 *    <ims:server xmlns:ims="IMS_LIBVIRT_METADATA_NS"><ims:project>
 *    <ims:os_version>, else the configured default project;
 *  - firmware: <os firmware='efi'> or a pflash loader is uefi, else bios;
 *  - backups are imsd's own (backups.c, as the inventory's), under
 *    <data dir>/compute/backups: a shut-off domain's disk files copied,
 *    recorded in the repository if the domain is still shut off and still
 *    has the disks that were copied. A running domain's disks would be
 *    copied torn (a qcow2's tables above all) if imsd copied them beside
 *    the hypervisor: the hypervisor writes them instead, as of one instant,
 *    through libvirt's backup API (libvirt_backup.c, a read-write
 *    connection of its own), where its driver can; elsewhere a running
 *    domain is refused (IMG.0008).
 * The domain XML is libvirt's own output, parsed with libxml2 (no network
 * access, no entity expansion). */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "libvirt-int.h"

struct lv_source {
    struct ims_compute_source base;
    virConnectPtr conn;
    char *uri;
    char *default_project; /* NULL: none */
    int64_t backup_stall_seconds; /* a running domain's backup that writes nothing this long fails */
    struct ims_backup_copies backups; /* dir: <data dir>/compute; db: the repository */
};

static struct lv_source *lv_of(struct ims_compute_source *s) { return (struct lv_source *)s; }

/* libvirt prints its errors to stderr by default; they go into err here. */
static void quiet(void *ctx, virErrorPtr e)
{
    (void)ctx;
    (void)e;
}

enum ims_rc ims_lv_fail(struct ims_err *err, const char *what)
{
    const char *m = ims_lv.virGetLastErrorMessage();
    return ims_fail(err, IMS_E_IO, "libvirt: %s: %s", what, m ? m : "unknown error");
}

/* A stable UUID-shaped id (version 8: custom) for (domain, target): two
 * FNV-1a hashes, mixed. */
void ims_lv_volume_id(const char *domain_uuid, const char *target, char out[IMS_COMPUTE_ID_CAP])
{
    uint64_t h1 = ims_hash_mix(ims_hash_str(ims_hash_str(IMS_HASH_SEED, domain_uuid), target));
    uint64_t h2 = ims_hash_mix(ims_hash_str(ims_hash_str(h1 ^ 0x9e3779b97f4a7c15ULL, target), domain_uuid));
    snprintf(out, IMS_COMPUTE_ID_CAP, "%08x-%04x-8%03x-%04x-%012llx", (unsigned)(h1 >> 32),
             (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff, (unsigned)((h2 >> 48) & 0x3fff) | 0x8000,
             (unsigned long long)(h2 & 0xffffffffffffULL));
}

char *ims_lv_xpath_string(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    char *ret = NULL;
    if (o && o->type == XPATH_NODESET && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        if (v && *v)
            ret = ims_xstrdup((const char *)v);
        xmlFree(v);
    }
    xmlXPathFreeObject(o);
    return ret;
}

static char *attr(xmlNodePtr n, const char *child, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, child))
            continue;
        xmlChar *v = xmlGetProp(c, (const xmlChar *)name);
        char *ret = v ? ims_xstrdup((const char *)v) : NULL;
        xmlFree(v);
        return ret;
    }
    return NULL;
}

xmlDocPtr ims_lv_parse(const char *xml)
{
    return xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

struct disk_row {
    struct ims_volume v;
    long boot; /* <boot order>; LONG_MAX when none */
};

static void disk_volume(xmlNodePtr disk, const struct ims_server *s, struct disk_row *row)
{
    char *file = attr(disk, "source", "file");
    if (!file)
        file = attr(disk, "source", "dev");
    char *target = attr(disk, "target", "dev");
    char *driver_type = attr(disk, "driver", "type");
    char *boot = attr(disk, "boot", "order");
    *row = (struct disk_row){.v = {.position = -1, .created_at = s->created_at}, .boot = LONG_MAX};
    ims_lv_volume_id(s->id, target ? target : file, row->v.id);
    row->v.project_id = s->project_id ? ims_xstrdup(s->project_id) : NULL;
    row->v.server_id = ims_xstrdup(s->id);
    row->v.disk = file;
    struct ims_err ignored;
    /* the driver's type is how the hypervisor reads the disk, raw when the
     * domain declares none (libvirt no longer probes a disk's format: a
     * guest could write any header into its raw disk); a raw one is raw
     * whatever its guest wrote at its start */
    if (!driver_type)
        driver_type = ims_xstrdup("raw");
    if (ims_compute_disk_inspect(file, driver_type, &row->v.format, &row->v.size, &ignored) != IMS_OK) {
        ims_debug("compute: libvirt disk %s of %s not inspected: %s", file, s->name, ignored.msg);
        row->v.format = driver_type;
        driver_type = NULL;
    }
    int64_t order;
    if (boot && ims_parse_i64(boot, 0, INT_MAX, &order))
        row->boot = (long)order;
    free(target);
    free(driver_type);
    free(boot);
}

/* The domain's disks in order, the boot disk first. */
static void domain_disks(xmlXPathContextPtr ctx, struct ims_server *s)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(
        (const xmlChar *)"/domain/devices/disk[@device='disk' or not(@device)][source/@file or source/@dev]", ctx);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
    if (n > IMS_SERVER_DISKS_MAX)
        n = IMS_SERVER_DISKS_MAX;
    struct disk_row *rows = ims_xcalloc((size_t)n + 1, sizeof(*rows));
    for (int i = 0; i < n; i++)
        disk_volume(o->nodesetval->nodeTab[i], s, &rows[i]);
    xmlXPathFreeObject(o);
    int first = 0;
    for (int i = 1; i < n; i++)
        if (rows[i].boot < rows[first].boot)
            first = i;
    s->volumes = ims_xcalloc((size_t)n + 1, sizeof(*s->volumes));
    s->nvolumes = (size_t)n;
    for (int i = 0, k = 1; i < n; i++) {
        int at = i == first ? 0 : k++;
        s->volumes[at] = rows[i].v;
        s->volumes[at].position = at;
    }
    free(rows);
}

static enum ims_rc read_domain(struct lv_source *lv, virDomainPtr dom, struct ims_server *ret, struct ims_err *err)
{
    struct ims_server s = {0};
    if (ims_lv.virDomainGetUUIDString(dom, s.id) != 0)
        return ims_lv_fail(err, "domain uuid");
    int state = 0, reason = 0;
    if (ims_lv.virDomainGetState(dom, &state, &reason, 0) != 0)
        return ims_lv_fail(err, "domain state");
    s.state = state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED ? IMS_SERVER_STOPPED : IMS_SERVER_RUNNING;
    char *xml = ims_lv.virDomainGetXMLDesc(dom, 0);
    if (!xml)
        return ims_lv_fail(err, "domain XML");
    xmlDocPtr doc = ims_lv_parse(xml);
    free(xml);
    if (!doc)
        return ims_fail(err, IMS_E_IO, "libvirt: the XML of domain %s does not parse", s.id);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, (const xmlChar *)"ims", (const xmlChar *)IMS_LIBVIRT_METADATA_NS);
    const char *name = ims_lv.virDomainGetName(dom);
    s.name = ims_xstrdup(name ? name : s.id);
    s.project_id = ims_lv_xpath_string(ctx, "/domain/metadata/ims:server/ims:project");
    if (!s.project_id && lv->default_project)
        s.project_id = ims_xstrdup(lv->default_project);
    s.os_version = ims_lv_xpath_string(ctx, "/domain/metadata/ims:server/ims:os_version");
    char *fw = ims_lv_xpath_string(ctx, "/domain/os/@firmware");
    char *loader = ims_lv_xpath_string(ctx, "/domain/os/loader/@type");
    s.firmware = ims_streq(fw, "efi") || ims_streq(loader, "pflash") ? IMS_FIRMWARE_UEFI : IMS_FIRMWARE_BIOS;
    free(fw);
    free(loader);
    unsigned long max_kib = ims_lv.virDomainGetMaxMemory(dom);
    s.ram_mb = (int64_t)(max_kib / 1024);
    domain_disks(ctx, &s);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    *ret = s;
    return IMS_OK;
}

/* Every domain, read; the caller frees the array. */
static enum ims_rc all_servers(struct lv_source *lv, struct ims_server **ret, size_t *ret_n, struct ims_err *err)
{
    virDomainPtr *doms = NULL;
    int n = ims_lv.virConnectListAllDomains(lv->conn, &doms, 0);
    if (n < 0)
        return ims_lv_fail(err, "listing domains");
    struct ims_server *arr = ims_xcalloc((size_t)n + 1, sizeof(*arr));
    size_t got = 0;
    enum ims_rc rc = IMS_OK;
    for (int i = 0; i < n; i++) {
        if (rc == IMS_OK && (rc = read_domain(lv, doms[i], &arr[got], err)) == IMS_OK)
            got++;
        ims_lv.virDomainFree(doms[i]);
    }
    free(doms);
    if (rc != IMS_OK) {
        ims_server_array_free(arr, got);
        return rc;
    }
    *ret = arr;
    *ret_n = got;
    return IMS_OK;
}

static bool in_project(const struct ims_server *s, const char *project_id)
{
    return !project_id || (s->project_id && strcmp(s->project_id, project_id) == 0);
}

static enum ims_rc lv_list_servers(struct ims_compute_source *src, const char *project_id, struct ims_server **ret,
                                   size_t *ret_n, struct ims_err *err)
{
    struct ims_server *all = NULL;
    size_t n = 0;
    enum ims_rc rc = all_servers(lv_of(src), &all, &n, err);
    if (rc != IMS_OK)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_project(&all[i], project_id))
            all[k++] = all[i];
        else
            ims_server_release(&all[i]);
    }
    *ret = all;
    *ret_n = k;
    return IMS_OK;
}

static enum ims_rc lv_get_server(struct ims_compute_source *src, const char *project_id, const char *id,
                                 struct ims_server *ret, struct ims_err *err)
{
    struct lv_source *lv = lv_of(src);
    if (!ims_uuid_valid(id))
        return ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %.64s.", id);
    virDomainPtr dom = ims_lv.virDomainLookupByUUIDString(lv->conn, id);
    if (!dom) {
        virErrorPtr e = ims_lv.virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN)
            return ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", id);
        return ims_lv_fail(err, "looking up a domain");
    }
    struct ims_server s;
    enum ims_rc rc = read_domain(lv, dom, &s, err);
    ims_lv.virDomainFree(dom);
    if (rc != IMS_OK)
        return rc;
    if (!in_project(&s, project_id)) {
        ims_server_release(&s);
        return ims_fail_code(err, IMS_E_FORBIDDEN, "IMG.0137", "Server %s belongs to another project.", id);
    }
    *ret = s;
    return IMS_OK;
}

static enum ims_rc lv_list_volumes(struct ims_compute_source *src, const char *project_id, struct ims_volume **ret,
                                   size_t *ret_n, struct ims_err *err)
{
    struct ims_server *servers = NULL;
    size_t n = 0;
    enum ims_rc rc = lv_list_servers(src, project_id, &servers, &n, err);
    if (rc != IMS_OK)
        return rc;
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += servers[i].nvolumes;
    struct ims_volume *vols = ims_xcalloc(total + 1, sizeof(*vols));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < servers[i].nvolumes; j++)
            vols[k++] = servers[i].volumes[j];
        servers[i].nvolumes = 0; /* moved */
    }
    ims_server_array_free(servers, n);
    *ret = vols;
    *ret_n = k;
    return IMS_OK;
}

static enum ims_rc lv_get_volume(struct ims_compute_source *src, const char *project_id, const char *id,
                                 struct ims_volume *ret, struct ims_err *err)
{
    struct ims_volume *vols = NULL;
    size_t n = 0;
    enum ims_rc rc = lv_list_volumes(src, NULL, &vols, &n, err);
    if (rc != IMS_OK)
        return rc;
    rc = ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0120", "No volume with id %.64s.", id);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(vols[i].id, id) != 0)
            continue;
        if (project_id && !ims_streq(vols[i].project_id, project_id)) {
            rc = ims_fail_code(err, IMS_E_FORBIDDEN, "IMG.0120", "Volume %s belongs to another project.", id);
            break;
        }
        *ret = vols[i];
        vols[i] = (struct ims_volume){0};
        rc = IMS_OK;
        break;
    }
    ims_volume_array_free(vols, n);
    return rc;
}

static enum ims_rc lv_attach(struct ims_compute_source *src, struct ims_db *db, struct ims_err *err)
{
    return ims_backup_copies_attach(&lv_of(src)->backups, db, err);
}

static enum ims_rc lv_list_backups(struct ims_compute_source *src, const char *project_id, struct ims_backup **ret,
                                   size_t *ret_n, struct ims_err *err)
{
    return ims_backup_copies_list(&lv_of(src)->backups, project_id, ret, ret_n, err);
}

static enum ims_rc lv_get_backup(struct ims_compute_source *src, const char *project_id, const char *id,
                                 struct ims_backup *ret, struct ims_err *err)
{
    return ims_backup_copies_get(&lv_of(src)->backups, project_id, id, ret, err);
}

struct recheck {
    struct ims_compute_source *src;
    bool stopped; /* the disk files were copied: the domain must not have started meanwhile */
};

/* The domain still has the disks that were copied, in the same places
 * (libvirt keeps no revision to compare), and is still shut off if imsd
 * copied their files. */
static enum ims_rc same_disks(void *ctx, const struct ims_server *copied, struct ims_err *err)
{
    const struct recheck *r = ctx;
    struct ims_server now;
    enum ims_rc rc = lv_get_server(r->src, NULL, copied->id, &now, err);
    if (rc != IMS_OK)
        return rc;
    bool same = (!r->stopped || now.state == IMS_SERVER_STOPPED) && now.nvolumes == copied->nvolumes;
    for (size_t i = 0; same && i < now.nvolumes; i++)
        same = ims_streq(now.volumes[i].disk, copied->volumes[i].disk);
    ims_server_release(&now);
    return same ? IMS_OK
                : ims_fail(err, IMS_E_CONFLICT, "Server %s changed while its disks were copied; try again.",
                           copied->id);
}

/* A running domain's disks, written by the hypervisor. */
static enum ims_rc push(void *ctx, const struct ims_server *srv, char *const *paths, struct ims_err *err)
{
    const struct lv_source *lv = ctx;
    return ims_lv_backup_push(lv->uri, srv, paths, lv->backup_stall_seconds, err);
}

static enum ims_rc lv_backup_possible(struct ims_compute_source *src, const struct ims_server *srv,
                                      struct ims_err *err)
{
    return srv->state == IMS_SERVER_STOPPED ? IMS_OK : ims_lv_backup_check(lv_of(src)->uri, srv->id, err);
}

static enum ims_rc lv_create_backup(struct ims_compute_source *src, const char *server_id, const char *id,
                                    struct ims_backup *ret, struct ims_err *err)
{
    struct ims_server srv;
    enum ims_rc rc = lv_get_server(src, NULL, server_id, &srv, err);
    if (rc != IMS_OK)
        return rc;
    if (!srv.project_id)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0067",
                           "Domain %s belongs to no project (its metadata names none, and no [compute] "
                           "default_project is set): a backup is a project's.",
                           server_id);
    else if (srv.state != IMS_SERVER_STOPPED)
        rc = ims_lv_backup_check(lv_of(src)->uri, srv.id, err);
    if (rc != IMS_OK) {
        ims_server_release(&srv);
        return rc;
    }
    bool running = srv.state != IMS_SERVER_STOPPED;
    struct recheck again = {.src = src, .stopped = !running};
    struct ims_backup_recheck recheck = {.fn = same_disks, .ctx = &again};
    struct ims_backup_copier hypervisor = {.fn = push, .ctx = lv_of(src), .format = "raw"};
    rc = ims_backup_copies_create(&lv_of(src)->backups, &srv, -1, &recheck, running ? &hypervisor : NULL, id, ret,
                                  err);
    ims_server_release(&srv);
    return rc;
}

static enum ims_rc lv_remove_backup(struct ims_compute_source *src, const char *id, struct ims_err *err)
{
    return ims_backup_copies_remove(&lv_of(src)->backups, id, err);
}

static void lv_close(struct ims_compute_source *src)
{
    if (!src)
        return;
    struct lv_source *lv = lv_of(src);
    if (lv->conn)
        ims_lv.virConnectClose(lv->conn);
    free(lv->uri);
    free(lv->default_project);
    free(lv->backups.dir);
    free(lv);
}

static const struct ims_compute_ops libvirt_ops = {
    .name = "libvirt",
    .backup_possible = lv_backup_possible,
    .attach = lv_attach,
    .list_servers = lv_list_servers,
    .get_server = lv_get_server,
    .list_volumes = lv_list_volumes,
    .get_volume = lv_get_volume,
    .list_backups = lv_list_backups,
    .get_backup = lv_get_backup,
    .create_backup = lv_create_backup,
    .remove_backup = lv_remove_backup,
    .close = lv_close,
};

enum ims_rc ims_compute_libvirt_open(const char *uri, const char *default_project, const char *dir,
                                     int64_t grace_seconds, int64_t backup_stall_seconds,
                                     struct ims_compute_source **ret, struct ims_err *err)
{
    if (!dir || !*dir)
        return ims_fail(err, IMS_E_INTERNAL, "the libvirt source needs a directory for its backups");
    if (!uri || !*uri)
        return ims_fail(err, IMS_E_BADREQ, "the libvirt compute source needs [compute] uri");
    enum ims_rc rc = ims_lv_load(err);
    if (rc != IMS_OK)
        return rc;
    xmlInitParser();
    ims_lv.virSetErrorFunc(NULL, quiet);
    virConnectPtr conn = ims_lv.virConnectOpenReadOnly(uri);
    if (!conn)
        return ims_lv_fail(err, uri);
    struct lv_source *lv = ims_xcalloc(1, sizeof(*lv));
    lv->base.ops = &libvirt_ops;
    lv->conn = conn;
    lv->uri = ims_xstrdup(uri);
    lv->backup_stall_seconds = backup_stall_seconds > 0 ? backup_stall_seconds : 300;
    lv->default_project = default_project && *default_project ? ims_xstrdup(default_project) : NULL;
    lv->backups = (struct ims_backup_copies){.dir = ims_xasprintf("%s/compute", dir), .grace_seconds = grace_seconds};
    *ret = &lv->base;
    return IMS_OK;
}
