/* SPDX-License-Identifier: Apache-2.0
 * imsctl server|volume|backup: the compute inventory from the command line
 * (the same core calls as the admin API, as the local administrator). */
#include "ctl_compute.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ims/compute_admin.h"
#include "ims/service.h"

#include "ctl_service.h"

struct cmd {
    const char *noun, *verb, *synopsis, *help;
    size_t npos; /* positional arguments after the verb */
};

static const struct cmd cmds[] = {
    {"server", "add",
     "server add NAME --project P --os-version V --disk FILE [--disk FILE ...]\n"
     "           [--state stopped|running] [--firmware bios|uefi] [--ram MB]",
     "Registers a server of project P (id or name). The first --disk is its system disk, the others its data\n"
     "disks, in order; a disk is a file qemu-img reads (checked by the format inspector now) or an object in\n"
     "object storage as bucket:object. V is an OS version of GET /v1/cloudimages/os_version. The state\n"
     "defaults to stopped, the firmware to bios. Prints the server's id, then its volumes' ids in order.\n",
     1},
    {"server", "ls", "server ls [--project P]", "Lists servers (of project P): id, name, project, state, disks.\n", 0},
    {"server", "show", "server show ID", "Prints the server and its disks in order (disk 0 is the system disk).\n", 1},
    {"server", "rm", "server rm ID",
     "Removes the server and its volumes' records; the disk files stay, and so do its backups.\n", 1},
    {"server", "set-state", "server set-state ID stopped|running", "Records the server's state.\n", 2},
    {"volume", "add", "volume add FILE --project P [--server S]",
     "Registers a disk of project P: a data disk of server S (appended after its disks) or a detached one.\n"
     "Prints the volume's id.\n",
     1},
    {"volume", "ls", "volume ls [--project P]", "Lists volumes (of project P).\n", 0},
    {"volume", "show", "volume show ID", "Prints the volume.\n", 1},
    {"volume", "rm", "volume rm ID", "Removes a detached volume's record (its file stays).\n", 1},
    {"backup", "create", "backup create --server S",
     "Copies server S's disks (reflinks where the file system can) into the data dir, so later changes of\n"
     "the server do not change the backup. Prints the backup's id.\n",
     0},
    {"backup", "ls", "backup ls [--project P]", "Lists backups (of project P).\n", 0},
    {"backup", "show", "backup show ID", "Prints the backup and its disk copies.\n", 1},
    {"backup", "rm", "backup rm ID", "Removes the backup and its copies.\n", 1},
};

bool imsctl_compute_noun(const char *noun)
{
    return !strcmp(noun, "server") || !strcmp(noun, "volume") || !strcmp(noun, "backup");
}

void imsctl_compute_usage(FILE *out)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cmds); i++)
        fprintf(out, "  %s\n", cmds[i].synopsis);
    fprintf(out, "                                       (imsctl server add --help: each command's help)\n");
}

#define MAX_DISKS IMS_SERVER_DISKS_MAX

struct cargs {
    const char *pos[3];
    size_t npos;
    const char *project, *os_version, *state, *firmware, *ram, *server;
    const char *disks[MAX_DISKS + 1];
    size_t ndisks;
    bool help;
};

static int parse(int argc, char **argv, struct cargs *a)
{
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            a->help = true;
            continue;
        }
        if (strncmp(k, "--", 2) != 0) {
            if (a->npos == IMS_ARRAY_SIZE(a->pos)) {
                fprintf(stderr, "imsctl: unexpected argument '%s' (see --help)\n", k);
                return -1;
            }
            a->pos[a->npos++] = k;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "imsctl: %s needs a value\n", k);
            return -1;
        }
        const char *v = argv[++i];
        const char **slot = !strcmp(k, "--project")      ? &a->project
                            : !strcmp(k, "--os-version") ? &a->os_version
                            : !strcmp(k, "--state")      ? &a->state
                            : !strcmp(k, "--firmware")   ? &a->firmware
                            : !strcmp(k, "--ram")        ? &a->ram
                            : !strcmp(k, "--server")     ? &a->server
                                                         : NULL;
        if (!strcmp(k, "--disk")) {
            if (a->ndisks == MAX_DISKS) {
                fprintf(stderr, "imsctl: at most %d disks\n", MAX_DISKS);
                return -1;
            }
            a->disks[a->ndisks++] = v;
        } else if (slot) {
            *slot = v;
        } else {
            fprintf(stderr, "imsctl: unknown option %s (see --help)\n", k);
            return -1;
        }
    }
    return 0;
}

/* A disk as the inventory takes it: a local file by its absolute path
 * (imsd may run elsewhere than here), or bucket:object as given. */
static char *disk_ref(const char *arg)
{
    char resolved[PATH_MAX];
    if (realpath(arg, resolved))
        return ims_xstrdup(resolved);
    if (arg[0] == '/' || ims_disk_ref_is_obs(arg))
        return ims_xstrdup(arg);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return ims_xstrdup(arg);
    return ims_xasprintf("%s/%s", cwd, arg);
}

/* A project, or "-" for a libvirt domain that belongs to none. */
static const char *proj(const char *p) { return p ? p : "-"; }

static void print_volume_line(const char *indent, const struct ims_volume *v)
{
    printf("%s%s  %s  %llu  %s\n", indent, v->id, v->format ? v->format : "-", (unsigned long long)v->size,
           v->disk);
}

static void print_server(const struct ims_server *s)
{
    printf("id: %s\nname: %s\nproject: %s\nos_version: %s\nstate: %s\nfirmware: %s\nram_mb: %lld\n", s->id, s->name,
           proj(s->project_id), s->os_version ? s->os_version : "", ims_server_state_name(s->state),
           ims_firmware_name(s->firmware), (long long)s->ram_mb);
    for (size_t i = 0; i < s->nvolumes; i++) {
        printf("disk %zu: ", i);
        print_volume_line("", &s->volumes[i]);
    }
}

static void print_volume(const struct ims_volume *v)
{
    printf("id: %s\nproject: %s\nserver: %s\nposition: %d\nsize: %llu\nformat: %s\ndisk: %s\n", v->id,
           proj(v->project_id), v->server_id ? v->server_id : "", v->position, (unsigned long long)v->size, v->format ? v->format : "",
           v->disk);
}

static void print_backup(const struct ims_backup *b)
{
    printf("id: %s\nserver: %s\nserver_name: %s\nproject: %s\nos_version: %s\nfirmware: %s\n", b->id, b->server_id,
           b->server_name, b->project_id, b->os_version ? b->os_version : "", ims_firmware_name(b->firmware));
    for (size_t i = 0; i < b->nvolumes; i++) {
        printf("disk %zu: ", i);
        print_volume_line("", &b->volumes[i]);
    }
}

static enum ims_rc server_add(struct ims_service *svc, const struct cargs *a, const char *project,
                              struct ims_err *e)
{
    struct ims_server_spec spec = {.name = a->pos[0], .project_id = project, .os_version = a->os_version};
    if (a->state && !ims_server_state_parse(a->state, &spec.state))
        return ims_fail(e, IMS_E_BADREQ, "invalid --state '%s' (stopped or running)", a->state);
    if (a->firmware && !ims_firmware_parse(a->firmware, &spec.firmware))
        return ims_fail(e, IMS_E_BADREQ, "invalid --firmware '%s' (bios or uefi)", a->firmware);
    if (a->ram && !ims_parse_i64(a->ram, 0, IMS_SERVER_RAM_MAX, &spec.ram_mb))
        return ims_fail(e, IMS_E_BADREQ, "invalid --ram '%s' (MB, 0 to %lld)", a->ram, (long long)IMS_SERVER_RAM_MAX);
    if (!a->os_version)
        return ims_fail(e, IMS_E_BADREQ, "server add needs --os-version V (see GET /v1/cloudimages/os_version)");
    if (!a->ndisks)
        return ims_fail(e, IMS_E_BADREQ, "server add needs --disk FILE (its system disk first)");
    char *disks[MAX_DISKS];
    for (size_t i = 0; i < a->ndisks; i++)
        disks[i] = disk_ref(a->disks[i]);
    spec.disks = (const char *const *)disks;
    spec.ndisks = a->ndisks;
    struct ims_server s;
    enum ims_rc rc = ims_compute_server_add(svc, NULL, &spec, &s, e);
    for (size_t i = 0; i < a->ndisks; i++)
        free(disks[i]);
    if (rc != IMS_OK)
        return rc;
    printf("%s\n", s.id);
    for (size_t i = 0; i < s.nvolumes; i++)
        printf("%s\n", s.volumes[i].id);
    ims_server_release(&s);
    return IMS_OK;
}

static enum ims_rc run_server(struct ims_service *svc, const char *verb, const struct cargs *a, const char *project,
                              struct ims_err *e)
{
    if (!strcmp(verb, "add"))
        return server_add(svc, a, project, e);
    if (!strcmp(verb, "rm"))
        return ims_compute_server_remove(svc, NULL, a->pos[0], e);
    if (!strcmp(verb, "set-state")) {
        enum ims_server_state st;
        if (!ims_server_state_parse(a->pos[1], &st))
            return ims_fail(e, IMS_E_BADREQ, "invalid state '%s' (stopped or running)", a->pos[1]);
        return ims_compute_server_set_state(svc, NULL, a->pos[0], st, e);
    }
    if (!strcmp(verb, "show")) {
        struct ims_server s;
        enum ims_rc rc = ims_compute_server_get(svc, NULL, a->pos[0], &s, e);
        if (rc == IMS_OK) {
            print_server(&s);
            ims_server_release(&s);
        }
        return rc;
    }
    struct ims_server *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_server_list(svc, NULL, project, &list, &n, e);
    for (size_t i = 0; rc == IMS_OK && i < n; i++)
        printf("%s  %s  %s  %s  %zu disk(s)\n", list[i].id, list[i].name, proj(list[i].project_id),
               ims_server_state_name(list[i].state), list[i].nvolumes);
    if (rc == IMS_OK)
        ims_server_array_free(list, n);
    return rc;
}

static enum ims_rc run_volume(struct ims_service *svc, const char *verb, const struct cargs *a, const char *project,
                              struct ims_err *e)
{
    if (!strcmp(verb, "add")) {
        char *disk = disk_ref(a->pos[0]);
        struct ims_volume_spec spec = {.disk = disk, .project_id = project, .server_id = a->server};
        struct ims_volume v;
        enum ims_rc rc = ims_compute_volume_add(svc, NULL, &spec, &v, e);
        free(disk);
        if (rc == IMS_OK) {
            printf("%s\n", v.id);
            ims_volume_release(&v);
        }
        return rc;
    }
    if (!strcmp(verb, "rm"))
        return ims_compute_volume_remove(svc, NULL, a->pos[0], e);
    if (!strcmp(verb, "show")) {
        struct ims_volume v;
        enum ims_rc rc = ims_compute_volume_get(svc, NULL, a->pos[0], &v, e);
        if (rc == IMS_OK) {
            print_volume(&v);
            ims_volume_release(&v);
        }
        return rc;
    }
    struct ims_volume *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_volume_list(svc, NULL, project, &list, &n, e);
    for (size_t i = 0; rc == IMS_OK && i < n; i++)
        print_volume_line("", &list[i]);
    if (rc == IMS_OK)
        ims_volume_array_free(list, n);
    return rc;
}

static enum ims_rc run_backup(struct ims_service *svc, const char *verb, const struct cargs *a, const char *project,
                              struct ims_err *e)
{
    if (!strcmp(verb, "create")) {
        if (!a->server)
            return ims_fail(e, IMS_E_BADREQ, "backup create needs --server S");
        struct ims_backup b;
        enum ims_rc rc = ims_compute_backup_create(svc, NULL, a->server, &b, e);
        if (rc == IMS_OK) {
            printf("%s\n", b.id);
            ims_backup_release(&b);
        }
        return rc;
    }
    if (!strcmp(verb, "rm"))
        return ims_compute_backup_remove(svc, NULL, a->pos[0], e);
    if (!strcmp(verb, "show")) {
        struct ims_backup b;
        enum ims_rc rc = ims_compute_backup_get(svc, NULL, a->pos[0], &b, e);
        if (rc == IMS_OK) {
            print_backup(&b);
            ims_backup_release(&b);
        }
        return rc;
    }
    struct ims_backup *list = NULL;
    size_t n = 0;
    enum ims_rc rc = ims_compute_backup_list(svc, NULL, project, &list, &n, e);
    for (size_t i = 0; rc == IMS_OK && i < n; i++)
        printf("%s  %s  %s  %zu disk(s)\n", list[i].id, list[i].server_id, list[i].project_id, list[i].nvolumes);
    if (rc == IMS_OK)
        ims_backup_array_free(list, n);
    return rc;
}

int imsctl_compute(const struct ims_config *cfg, int argc, char **argv)
{
    const char *noun = argv[0], *verb = argc > 1 ? argv[1] : "";
    const struct cmd *cmd = NULL;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cmds); i++)
        if (!strcmp(cmds[i].noun, noun) && !strcmp(cmds[i].verb, verb))
            cmd = &cmds[i];
    if (!cmd) {
        fprintf(stderr, "imsctl: unknown command '%s %s'; the %s commands:\n", noun, verb, noun);
        for (size_t i = 0; i < IMS_ARRAY_SIZE(cmds); i++)
            if (!strcmp(cmds[i].noun, noun))
                fprintf(stderr, "  imsctl %s\n", cmds[i].synopsis);
        return 2;
    }
    struct cargs a = {0};
    if (parse(argc - 2, argv + 2, &a))
        return 2;
    if (a.help) {
        printf("Usage: imsctl %s\n\n%s", cmd->synopsis, cmd->help);
        return 0;
    }
    if (a.npos != cmd->npos) {
        fprintf(stderr, "imsctl: '%s %s' takes %zu argument(s); usage: imsctl %s\n", noun, verb, cmd->npos,
                cmd->synopsis);
        return 2;
    }
    bool needs_project = !strcmp(verb, "add");
    if (needs_project && !a.project) {
        fprintf(stderr, "imsctl: '%s %s' needs --project P; usage: imsctl %s\n", noun, verb, cmd->synopsis);
        return 2;
    }
    struct ctl_service cs;
    if (ctl_service_open(cfg, &cs))
        return 1;
    struct ims_service *svc = cs.svc;
    struct ims_err e = {0};
    enum ims_rc rc = IMS_OK;
    char *project = NULL;
    if (a.project)
        rc = ims_compute_project_resolve(svc, a.project, &project, &e);
    if (rc == IMS_OK) {
        if (!strcmp(noun, "server"))
            rc = run_server(svc, verb, &a, project, &e);
        else if (!strcmp(noun, "volume"))
            rc = run_volume(svc, verb, &a, project, &e);
        else
            rc = run_backup(svc, verb, &a, project, &e);
    }
    free(project);
    ctl_service_close(&cs);
    if (rc != IMS_OK) {
        fprintf(stderr, "imsctl: %s\n", e.msg);
        return 1;
    }
    return 0;
}
