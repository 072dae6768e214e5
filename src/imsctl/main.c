/* SPDX-License-Identifier: Apache-2.0
 * imsctl: administration on the same library as imsd, against the same
 * data dir and database (safe while imsd runs: the engine serialises writers). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/backends.h"
#include "../common/settings.h"
#include "ctl_obs.h"
#include "ctl_compute.h"
#include "ctl_metadefs.h"
#include "ctl_service.h"
#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/iam_admin.h"
#include "ims/identity.h"
#include "ims/quotas.h"
#include "ims/service.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: imsctl [--config FILE] [--data-dir DIR] COMMAND ...\n\n"
            "Commands:\n"
            "  init [--admin-password P]            initialise the data dir and the admin account\n"
            "  domain create NAME [--admin-password P]\n"
            "                                       create an account (domain); prints its id; with\n"
            "                                       --admin-password also its root user \"admin\" and\n"
            "                                       \"admin\" group (Tenant Administrator)\n"
            "  project create NAME [--domain D]     create a project in domain D (name or id, default\n"
            "                                       Default); prints its id\n"
            "  user create NAME --password P [--domain D] [--project PROJECT] [--role ROLE]\n"
            "                                       create a user; with --project it may log in to PROJECT\n"
            "                                       and ROLE (default member) maps onto IAM: member/admin =\n"
            "                                       Tenant Administrator, reader = Tenant Guest, none = nothing,\n"
            "                                       granted on PROJECT via the group PROJECT_ROLE\n"
            "  user unlock NAME [--domain D]        end NAME's login locks (from every address)\n"
            "  group create NAME [--domain D]       create a user group; prints its id\n"
            "  group add-user GROUP USER            add USER to GROUP (names or ids)\n"
            "  policy create NAME --file F          create a custom policy from a JSON document (- = stdin)\n"
            "  grant POLICY --group G (--project P | --all-projects | --domain-wide |\n"
            "        --enterprise-project E) [--revoke]\n"
            "                                       grant (or revoke) POLICY to G on that scope\n"
            "  ep create NAME                       create an enterprise project; prints its id\n"
            "  policy check USER ACTION[,ACTION..] [--project P] [--enterprise-project E]\n"
            "                                       print the decision and the statement that made it\n"
            "                                       (exit 0 allow, 3 deny)\n"
            "  quota set PROJECT N [--domain D]     set PROJECT's image quota (name or id; default:\n"
            "                                       [images] quota_default)\n"
            "  quota show PROJECT [--domain D]      print PROJECT's image quota and usage\n"
            "  config show                          print the effective configuration\n"
            "  db migrate                           bring the database's schema up to date (any start does too)\n"
            "  db copy --to CONNECTION              copy every row into a new database (e.g. postgresql://...);\n"
            "                                       stop imsd first, then point [database] connection at it\n"
            "  db check                             check the database and print a report\n");
    imsctl_obs_usage(out);
    imsctl_compute_usage(out);
    imsctl_metadefs_usage(out);
    fprintf(out,
            "\nOptions:\n"
            "  -c, --config FILE     INI configuration file (also IMSD_CONFIG)\n"
            "  -d, --data-dir DIR    data directory (also IMSD_DATA_DIR)\n"
            "  -h, --help            this help\n\n");
    ims_settings_help(out);
}

/* Sub-command arguments: positional words and --key value options. */
struct args {
    const char *pos[4];
    size_t npos;
    struct ims_kvlist opts;
};

static const char *const flag_opts[] = {"--all-projects", "--domain-wide", "--revoke"};

static int parse_args(int argc, char **argv, int from, struct args *a)
{
    for (int i = from; i < argc; i++) {
        const char *k = argv[i];
        if (strncmp(k, "--", 2) != 0) {
            if (a->npos == IMS_ARRAY_SIZE(a->pos)) {
                fprintf(stderr, "imsctl: unexpected argument '%s' (see --help)\n", k);
                return -1;
            }
            a->pos[a->npos++] = k;
            continue;
        }
        bool flag = false;
        for (size_t f = 0; f < IMS_ARRAY_SIZE(flag_opts); f++)
            flag = flag || !strcmp(k, flag_opts[f]);
        if (flag) {
            ims_kvlist_set(&a->opts, k + 2, "1");
        } else if (i + 1 < argc) {
            ims_kvlist_set(&a->opts, k + 2, argv[++i]);
        } else {
            fprintf(stderr, "imsctl: %s needs a value\n", k);
            return -1;
        }
    }
    return 0;
}

static const char *opt(const struct args *a, const char *k) { return ims_kvlist_get(&a->opts, k); }

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

static enum ims_rc project_ref(struct ims_service *svc, const char *dom, const char *ref, struct ims_project *ret,
                               struct ims_err *e)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_repo_project_get(c, NULL, dom, ref, ret, e);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_project_get(c, ref, NULL, NULL, ret, e);
    return rc;
}

static enum ims_rc user_ref(struct ims_service *svc, const char *dom, const char *ref, struct ims_user *ret,
                            struct ims_err *e)
{
    struct ims_dbc *c = ims_db_conn(svc->db);
    enum ims_rc rc = ims_repo_user_get(c, NULL, dom, ref, ret, e);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_user_get(c, ref, NULL, NULL, ret, e);
    return rc;
}

/* Keystone-style roles on a project map onto IAM: the user joins the group
 * "<project>_<role>", which holds the matching system policy on that project. */
static enum ims_rc grant_role(struct ims_service *svc, const char *dom, const struct ims_project *proj,
                              const char *role, const char *user_id, struct ims_err *e)
{
    const char *policy = NULL;
    if (!strcmp(role, "member") || !strcmp(role, "admin"))
        policy = "Tenant Administrator";
    else if (!strcmp(role, "reader"))
        policy = "Tenant Guest";
    else if (strcmp(role, "none"))
        return ims_fail(e, IMS_E_BADREQ, "unknown role '%s' (member, admin, reader or none)", role);
    if (!policy)
        return IMS_OK;
    char group[200];
    snprintf(group, sizeof(group), "%s_%s", proj->name, role);
    char *gid = NULL;
    struct ims_group g;
    enum ims_rc rc = ims_repo_group_get(ims_db_conn(svc->db), NULL, dom, group, &g, e);
    if (rc == IMS_OK) {
        ims_group_release(&g);
    } else if (rc == IMS_E_NOTFOUND) {
        rc = ims_iam_create_group(svc, dom, group, "Project role group", &gid, e);
        if (rc == IMS_OK)
            rc = ims_iam_grant(svc, dom, gid, policy, IMS_SCOPE_PROJECT, proj->id, false, e);
        free(gid);
    }
    if (rc == IMS_OK)
        rc = ims_iam_add_user_to_group(svc, dom, group, user_id, e);
    return rc;
}

static char *read_file(const char *path, struct ims_err *e)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        ims_fail(e, IMS_E_BADREQ, "cannot read %s", path);
        return NULL;
    }
    struct ims_buf b;
    ims_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ims_buf_add(&b, chunk, n);
    if (f != stdin)
        fclose(f);
    return ims_buf_detach(&b, NULL);
}

static enum ims_rc cmd_user_create(struct ims_service *svc, const char *dom, const struct args *a, char **id,
                                   struct ims_err *e)
{
    struct ims_project proj = {0};
    enum ims_rc rc = IMS_OK;
    const char *role = opt(a, "role") ? opt(a, "role") : "member";
    if (opt(a, "project"))
        rc = project_ref(svc, dom, opt(a, "project"), &proj, e);
    if (rc == IMS_OK)
        rc = ims_identity_create_user(svc, dom, a->pos[0], opt(a, "password"), proj.id, role, false, NULL, id, e);
    if (rc == IMS_OK && proj.id)
        rc = grant_role(svc, dom, &proj, role, *id, e);
    ims_project_release(&proj);
    return rc;
}

static enum ims_rc cmd_grant(struct ims_service *svc, const char *dom, const struct args *a, struct ims_err *e)
{
    enum ims_scope_type scope;
    const char *ref = NULL;
    if (opt(a, "project")) {
        scope = IMS_SCOPE_PROJECT;
        ref = opt(a, "project");
    } else if (opt(a, "enterprise-project")) {
        scope = IMS_SCOPE_ENTERPRISE_PROJECT;
        ref = opt(a, "enterprise-project");
    } else if (opt(a, "all-projects")) {
        scope = IMS_SCOPE_ALL_PROJECTS;
    } else if (opt(a, "domain-wide")) {
        scope = IMS_SCOPE_DOMAIN;
    } else {
        return ims_fail(e, IMS_E_BADREQ,
                        "grant needs a scope: --project P, --enterprise-project E, --all-projects or --domain-wide");
    }
    if (!opt(a, "group"))
        return ims_fail(e, IMS_E_BADREQ, "grant needs --group G");
    return ims_iam_grant(svc, dom, opt(a, "group"), a->pos[0], scope, ref, opt(a, "revoke") != NULL, e);
}

/* Prints the decision for USER doing ACTION, and what decided it. */
static int cmd_policy_check(struct ims_service *svc, const char *dom, const struct args *a)
{
    struct ims_err e = {0};
    struct ims_user u;
    if (user_ref(svc, dom, a->pos[0], &u, &e) != IMS_OK)
        return fail(&e);
    struct ims_principal p = {0};
    snprintf(p.user_id, sizeof(p.user_id), "%s", u.id);
    snprintf(p.domain_id, sizeof(p.domain_id), "%s", u.domain_id);
    ims_user_release(&u);
    if (opt(a, "project")) {
        struct ims_project proj;
        if (project_ref(svc, dom, opt(a, "project"), &proj, &e) != IMS_OK)
            return fail(&e);
        snprintf(p.project_id, sizeof(p.project_id), "%s", proj.id);
        ims_project_release(&proj);
    }
    const char *ep = opt(a, "enterprise-project");
    struct ims_authz_result acc;
    enum ims_rc rc = ims_authorize(svc, &p, a->pos[1], true, ep != NULL, &acc, &e);
    bool allowed = rc == IMS_OK && ims_authz_allows(&acc, ep);
    /* The decision says what decided it, allow or deny. */
    if (allowed)
        printf("allow %s: %s\n", a->pos[1], acc.deciding);
    else
        printf("deny %s: %s%s\n", a->pos[1], acc.deciding, rc == IMS_OK ? " (not in that enterprise project)" : "");
    ims_authz_result_release(&acc);
    return allowed ? 0 : 3;
}

static enum ims_rc cmd_quota(struct ims_service *svc, const char *dom, const char *verb, const struct args *a,
                             struct ims_err *e)
{
    struct ims_project proj;
    enum ims_rc rc = project_ref(svc, dom, a->pos[0], &proj, e);
    if (rc != IMS_OK)
        return rc;
    if (!strcmp(verb, "set")) {
        int64_t n;
        rc = ims_parse_i64(a->pos[1], IMS_QUOTA_MIN, IMS_QUOTA_MAX, &n)
                 ? ims_quota_set(svc, proj.id, n, e)
                 : ims_fail(e, IMS_E_BADREQ, "quota must be an integer between %d and %d", IMS_QUOTA_MIN,
                            IMS_QUOTA_MAX);
    } else {
        struct ims_quota_usage u;
        rc = ims_quota_get(svc, proj.id, &u, e);
        if (rc == IMS_OK)
            printf("project %s: %lld of %lld images\n", proj.id, (long long)u.used, (long long)u.quota);
    }
    ims_project_release(&proj);
    return rc;
}

/* imsctl db copy --to CONNECTION: the configured database into a new one. */
static int db_copy(struct ims_service *svc, const struct ims_config *cfg, const char *to)
{
    if (!to || !*to) {
        fprintf(stderr, "imsctl: db copy needs --to CONNECTION (e.g. postgresql://user@host/db)\n");
        return 2;
    }
    const struct ims_sql_ops *ops;
    char *dsn = NULL, msg[512];
    if (ims_backends_sql(to, cfg->data_dir, &ops, &dsn, msg, sizeof(msg))) {
        fprintf(stderr, "imsctl: %s\n", msg);
        return 2;
    }
    struct ims_err e = {0};
    struct ims_db *target = NULL;
    int ret = 1;
    if (ims_db_open(ops, dsn, &target, &e) == IMS_OK) {
        struct ims_buf report;
        ims_buf_init(&report, 1 << 20);
        if (ims_db_copy(svc->db, target, &report, &e) == IMS_OK) {
            fputs(report.data ? report.data : "", stdout);
            printf("copied into %s database at schema version %d\n", ims_db_engine(ims_db_conn(target)),
                   ims_db_schema_version(ims_db_conn(target)));
            ret = 0;
        }
        ims_buf_release(&report);
        ims_db_close(target);
    }
    if (ret)
        fail(&e);
    free(dsn);
    return ret;
}

static int run(struct ims_service *svc, const char *noun, const char *verb, const struct args *a)
{
    static const struct {
        const char *noun, *verb;
        size_t npos;
    } usage_of[] = {
        {"domain", "create", 1}, {"project", "create", 1}, {"user", "create", 1},   {"user", "unlock", 1}, {"group", "create", 1},
        {"group", "add-user", 2}, {"policy", "create", 1}, {"policy", "check", 2}, {"grant", NULL, 1},
        {"ep", "create", 1}, {"quota", "set", 2}, {"quota", "show", 1},
    };
    bool known = false;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(usage_of); i++) {
        if (strcmp(noun, usage_of[i].noun) || (usage_of[i].verb && strcmp(verb, usage_of[i].verb)))
            continue;
        known = true;
        size_t have = a->npos;
        if (have != usage_of[i].npos) {
            fprintf(stderr, "imsctl: '%s %s' takes %zu argument(s) (see --help)\n", noun, verb, usage_of[i].npos);
            return 2;
        }
    }
    if (!known) {
        fprintf(stderr, "imsctl: unknown command '%s %s' (see --help)\n", noun, verb);
        return 2;
    }
    struct ims_err e = {0};
    char *id = NULL, *dom = NULL;
    enum ims_rc rc = domain_id(svc, opt(a, "domain"), &dom, &e);
    if (rc == IMS_OK && !strcmp(noun, "policy") && !strcmp(verb, "check")) {
        int r = cmd_policy_check(svc, dom, a);
        free(dom);
        return r;
    }
    if (rc != IMS_OK) {
    } else if (!strcmp(noun, "domain")) {
        rc = ims_identity_create_domain(svc, a->pos[0], &id, &e);
        char *admin_id = NULL;
        if (rc == IMS_OK && opt(a, "admin-password"))
            rc = ims_account_admin_create(svc, id, opt(a, "admin-password"), NULL, &admin_id, &e);
        free(admin_id);
    } else if (!strcmp(noun, "project")) {
        rc = ims_identity_create_project(svc, dom, a->pos[0], &id, &e);
    } else if (!strcmp(noun, "user") && !strcmp(verb, "unlock")) {
        struct ims_user u;
        rc = user_ref(svc, dom, a->pos[0], &u, &e);
        if (rc == IMS_OK) {
            rc = ims_identity_unlock(svc, u.id, &e);
            ims_user_release(&u);
        }
    } else if (!strcmp(noun, "user")) {
        rc = cmd_user_create(svc, dom, a, &id, &e);
    } else if (!strcmp(noun, "group") && !strcmp(verb, "create")) {
        rc = ims_iam_create_group(svc, dom, a->pos[0], opt(a, "description") ? opt(a, "description") : "", &id, &e);
    } else if (!strcmp(noun, "group")) {
        struct ims_user u;
        rc = user_ref(svc, dom, a->pos[1], &u, &e);
        if (rc == IMS_OK) {
            rc = ims_iam_add_user_to_group(svc, dom, a->pos[0], u.id, &e);
            ims_user_release(&u);
        }
    } else if (!strcmp(noun, "policy")) {
        char *doc = opt(a, "file") ? read_file(opt(a, "file"), &e) : NULL;
        rc = doc ? ims_iam_create_policy(svc, dom, a->pos[0], opt(a, "description") ? opt(a, "description") : "",
                                         doc, &id, &e)
                 : ims_fail(&e, IMS_E_BADREQ, "policy create needs --file FILE (a JSON policy document, - for stdin)");
        free(doc);
    } else if (!strcmp(noun, "grant")) {
        rc = cmd_grant(svc, dom, a, &e);
    } else if (!strcmp(noun, "quota")) {
        rc = cmd_quota(svc, dom, verb, a, &e);
    } else if (!strcmp(noun, "ep")) {
        rc = ims_iam_create_enterprise_project(svc, dom, a->pos[0],
                                               opt(a, "description") ? opt(a, "description") : "", &id, &e);
    }
    free(dom);
    if (rc != IMS_OK)
        return fail(&e);
    if (id)
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
        ims_settings_release(&cfg);
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
    if (!strcmp(noun, "obs")) {
        int r = imsctl_obs(&cfg, argc - optind - 1, argv + optind + 1);
        ims_settings_release(&cfg);
        return r;
    }
    if (!strcmp(noun, "metadefs")) {
        int r = imsctl_metadefs(&cfg, argc - optind - 1, argv + optind + 1);
        ims_settings_release(&cfg);
        return r;
    }
    if (imsctl_compute_noun(noun)) {
        int r = imsctl_compute(&cfg, argc - optind, argv + optind);
        ims_settings_release(&cfg);
        return r;
    }
    struct args a = {0};
    /* "grant POLICY ..." has no verb; every other command is "noun verb". */
    bool no_verb = !strcmp(noun, "init") || !strcmp(noun, "grant");
    if (no_verb)
        verb = "";
    if (parse_args(argc, argv, no_verb ? optind + 1 : optind + 2, &a))
        return 2;
    struct ctl_service cs;
    if (ctl_service_open(&cfg, &cs))
        return 1;
    struct ims_service *svc = cs.svc;
    struct ims_err e = {0};
    int ret;
    if (!strcmp(noun, "init")) {
        char *pw = NULL;
        const char *want = opt(&a, "admin-password") ? opt(&a, "admin-password") : cfg.admin_password;
        ret = ims_service_bootstrap(svc, want, &pw, &e) == IMS_OK ? 0 : fail(&e);
        if (!ret)
            printf(pw ? "initialised %s: admin password %s\n" : "%s is already initialised%s\n", cfg.data_dir,
                   pw ? pw : "");
        free(pw);
    } else if (!strcmp(noun, "db") && !strcmp(verb, "migrate")) {
        /* opening the service ran the pending migrations, under the write lock */
        struct ims_dbc *c = ims_db_conn(svc->db);
        printf("%s database at schema version %d\n", ims_db_engine(c), ims_db_schema_version(c));
        ret = 0;
    } else if (!strcmp(noun, "db") && !strcmp(verb, "copy")) {
        ret = db_copy(svc, &cfg, opt(&a, "to"));
    } else if (!strcmp(noun, "db") && !strcmp(verb, "check")) {
        struct ims_buf report;
        ims_buf_init(&report, 1 << 20);
        ret = ims_db_check(ims_db_conn(svc->db), &report, &e) == IMS_OK ? 0 : 1;
        fputs(report.data ? report.data : "", stdout);
        if (ret)
            fprintf(stderr, "imsctl: %s\n", e.msg);
        ims_buf_release(&report);
    } else {
        ret = run(svc, noun, verb, &a);
    }
    ctl_service_close(&cs);
    ims_settings_release(&cfg);
    ims_kvlist_release(&a.opts);
    return ret;
}
