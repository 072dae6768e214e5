/* SPDX-License-Identifier: Apache-2.0
 * imsctl: administration on the same library as imsd, against the same
 * data dir (safe while imsd runs: SQLite WAL serialises writers). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/settings.h"
#include "ims/service.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: imsctl [--config FILE] [--data-dir DIR] COMMAND ...\n\n"
            "Commands:\n"
            "  init [--admin-password P]            initialise the data dir and the admin account\n"
            "  domain create NAME                   create an account (domain); prints its id\n"
            "  project create NAME [--domain D]     create a project in domain D (name or id, default\n"
            "                                       Default); prints its id\n"
            "  user create NAME --password P [--domain D] [--project PROJECT] [--role ROLE]\n"
            "                                       create a user, optionally with ROLE (default member)\n"
            "                                       on PROJECT (name in D, or id); prints its id\n"
            "  config show                          print the effective configuration\n"
            "  db check                             check the database and print a report\n\n"
            "Options:\n"
            "  -c, --config FILE     INI configuration file (also IMSD_CONFIG)\n"
            "  -d, --data-dir DIR    data directory (also IMSD_DATA_DIR)\n"
            "  -h, --help            this help\n\n");
    ims_settings_help(out);
}

/* Sub-command options, parsed from argv[from..]. */
struct args {
    const char *password, *domain, *project, *role, *admin_password;
};

static int parse_args(int argc, char **argv, int from, struct args *a, const char **ret_name)
{
    *ret_name = NULL;
    for (int i = from; i < argc; i++) {
        const char *k = argv[i];
        const char **dst = NULL;
        if (!strcmp(k, "--password")) dst = &a->password;
        else if (!strcmp(k, "--domain")) dst = &a->domain;
        else if (!strcmp(k, "--project")) dst = &a->project;
        else if (!strcmp(k, "--role")) dst = &a->role;
        else if (!strcmp(k, "--admin-password")) dst = &a->admin_password;
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "imsctl: %s needs a value\n", k);
                return -1;
            }
            *dst = argv[++i];
        } else if (k[0] == '-' || *ret_name) {
            fprintf(stderr, "imsctl: unexpected argument '%s' (see --help)\n", k);
            return -1;
        } else {
            *ret_name = k;
        }
    }
    return 0;
}

static int fail(const struct ims_err *e)
{
    fprintf(stderr, "imsctl: %s\n", e->msg);
    return 1;
}

static enum ims_rc domain_id(struct ims_service *svc, const char *ref, char **ret, struct ims_err *e)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_domain d;
    if (!ref)
        ref = IMS_DEFAULT_DOMAIN_NAME;
    enum ims_rc rc = ims_repo_domain_get(c, NULL, ref, &d, e);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_domain_get(c, ref, NULL, &d, e);
    if (rc != IMS_OK)
        return rc;
    *ret = ims_xstrdup(d.id);
    ims_domain_release(&d);
    return IMS_OK;
}

static enum ims_rc project_id(struct ims_service *svc, const char *dom, const char *ref, char **ret, struct ims_err *e)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_project p;
    enum ims_rc rc = ims_repo_project_get(c, NULL, dom, ref, &p, e);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_project_get(c, ref, NULL, NULL, &p, e);
    if (rc != IMS_OK)
        return rc;
    *ret = ims_xstrdup(p.id);
    ims_project_release(&p);
    return IMS_OK;
}

static int run(struct ims_service *svc, const char *noun, const char *verb, const struct args *a, const char *name)
{
    struct ims_err e = {0};
    char *id = NULL, *dom = NULL, *proj = NULL;
    enum ims_rc rc;
    if (!strcmp(noun, "domain") && !strcmp(verb, "create")) {
        rc = ims_identity_create_domain(svc, name, &id, &e);
    } else if (!strcmp(noun, "project") && !strcmp(verb, "create")) {
        rc = domain_id(svc, a->domain, &dom, &e);
        if (rc == IMS_OK)
            rc = ims_identity_create_project(svc, dom, name, &id, &e);
    } else if (!strcmp(noun, "user") && !strcmp(verb, "create")) {
        rc = domain_id(svc, a->domain, &dom, &e);
        if (rc == IMS_OK && a->project)
            rc = project_id(svc, dom, a->project, &proj, &e);
        if (rc == IMS_OK)
            rc = ims_identity_create_user(svc, dom, name, a->password, proj, a->role, &id, &e);
    } else {
        fprintf(stderr, "imsctl: unknown command '%s %s' (see --help)\n", noun, verb);
        return 2;
    }
    free(dom);
    free(proj);
    if (rc != IMS_OK)
        return fail(&e);
    printf("%s\n", id);
    free(id);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *data_dir = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "+c:d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c': config = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    struct ims_config cfg;
    char err[512];
    if (ims_settings_load(&cfg, config, err, sizeof(err)) ||
        (data_dir && ims_settings_set(&cfg, "storage", "data_dir", data_dir, err, sizeof(err)))) {
        fprintf(stderr, "imsctl: %s\n", err);
        return 2;
    }
    ims_log_set_level(IMS_LOG_WARN);
    const char *noun = argv[optind];
    const char *verb = optind + 1 < argc ? argv[optind + 1] : "";
    if (!strcmp(noun, "config") && !strcmp(verb, "show")) {
        ims_settings_print(&cfg, stdout);
        ims_settings_release(&cfg);
        return 0;
    }
    struct args a = {0};
    const char *name = NULL;
    int first_arg = !strcmp(noun, "init") ? optind + 1 : optind + 2;
    if (parse_args(argc, argv, first_arg, &a, &name))
        return 2;
    bool needs_name = strcmp(noun, "init") && strcmp(noun, "db");
    if (needs_name && !name) {
        fprintf(stderr, "imsctl: '%s %s' needs a NAME (see --help)\n", noun, verb);
        return 2;
    }
    struct ims_service *svc;
    struct ims_err e = {0};
    if (ims_service_open(&cfg, &svc, &e) != IMS_OK)
        return fail(&e);
    int ret;
    if (!strcmp(noun, "init")) {
        char *pw = NULL;
        const char *want = a.admin_password ? a.admin_password : cfg.admin_password;
        ret = ims_service_bootstrap(svc, want, &pw, &e) == IMS_OK ? 0 : fail(&e);
        if (!ret)
            printf(pw ? "initialised %s: admin password %s\n" : "%s is already initialised%s\n", cfg.data_dir,
                   pw ? pw : "");
        free(pw);
    } else if (!strcmp(noun, "db") && !strcmp(verb, "check")) {
        struct ims_buf report;
        ims_buf_init(&report, 1 << 20);
        ret = ims_db_check(ims_db_conn(svc->db), &report, &e) == IMS_OK ? 0 : 1;
        fputs(report.data ? report.data : "", stdout);
        if (ret)
            fprintf(stderr, "imsctl: %s\n", e.msg);
        ims_buf_release(&report);
    } else {
        ret = run(svc, noun, verb, &a, name);
    }
    ims_service_close(svc);
    ims_settings_release(&cfg);
    return ret;
}
