/* SPDX-License-Identifier: Apache-2.0
 * Authorization cost (issue: under 5 µs per decision for a user in 10
 * groups holding 100 policy statements). Sets up a throwaway data dir with
 * such a user, then times ims_authorize() for an allowed action, a denied
 * one and an enterprise-project-only one, against a baseline measured in the
 * same run: validating the caller's token (HMAC + revocation lookup), which
 * every request pays anyway. Prints µs per call and the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ims/auth.h"
#include "ims/authz.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/db.h"
#include "ims/iam_admin.h"
#include "ims/identity.h"
#include "ims/service.h"
#include "ims/store.h"

#define ROUNDS 200000

static double per_call_us(int64_t start, int n) { return (double)(ims_mono_us() - start) / n; }

static void die(const char *what, const struct ims_err *e)
{
    fprintf(stderr, "authz_bench: %s: %s\n", what, e->msg);
    exit(1);
}

int main(void)
{
    ims_log_set_level(IMS_LOG_WARN); /* every Deny is logged at info: not what is measured */
    char dir[] = "/tmp/imsd-authz-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct ims_config cfg = {.data_dir = dir, .region = "RegionOne", .token_ttl = 3600,
                             .max_image_size = 1 << 30, .list_limit_default = 25, .list_limit_max = 1000};
    /* The backends imsd uses by default: SQLite and the file store in dir. */
    struct ims_backends be = {.sql = &ims_sqlite_ops, .sql_dsn = ims_xasprintf("%s/imsd.db", dir), .nstores = 1};
    struct ims_service *svc;
    struct ims_err e = {0};
    if (ims_store_file_open(dir, true, &be.stores[0], &e) != IMS_OK ||
        ims_service_open(&cfg, &be, &svc, &e) != IMS_OK)
        die("open", &e);
    char *pw = NULL, *project = NULL, *user = NULL, *ep = NULL;
    if (ims_service_bootstrap(svc, "bench-admin-pw", &pw, &e) != IMS_OK ||
        ims_identity_create_project(svc, IMS_DEFAULT_DOMAIN_ID, "benchp", &project, &e) != IMS_OK ||
        ims_identity_create_user(svc, IMS_DEFAULT_DOMAIN_ID, "bench", "bench-pw", project, "none", false, NULL, &user, &e) !=
            IMS_OK ||
        ims_iam_create_enterprise_project(svc, IMS_DEFAULT_DOMAIN_ID, "benchep", "", &ep, &e) != IMS_OK)
        die("setup", &e);
    /* 10 groups x 1 policy x 10 statements = 100 statements; one of them
     * allows what we ask, the others allow other services' actions. */
    for (int g = 0; g < 10; g++) {
        char gname[32], pname[32], doc[4096];
        snprintf(gname, sizeof(gname), "g%d", g);
        snprintf(pname, sizeof(pname), "p%d", g);
        int n = snprintf(doc, sizeof(doc), "{\"Version\":\"1.1\",\"Statement\":[");
        for (int s = 0; s < 10; s++)
            n += snprintf(doc + n, sizeof(doc) - (size_t)n,
                          "%s{\"Effect\":\"Allow\",\"Action\":[\"svc%d:res%d:op*\",\"ecs:servers:get\"],"
                          "\"Condition\":{\"StringEquals\":{\"g:ProjectName\":[\"benchp\"]}}}",
                          s ? "," : "", g, s);
        if (g == 9)
            n += snprintf(doc + n, sizeof(doc) - (size_t)n,
                          ",{\"Effect\":\"Allow\",\"Action\":[\"ims:images:get\",\"ims:images:list\"]}");
        snprintf(doc + n, sizeof(doc) - (size_t)n, "]}");
        char *gid = NULL, *pid = NULL;
        if (ims_iam_create_group(svc, IMS_DEFAULT_DOMAIN_ID, gname, "", &gid, &e) != IMS_OK ||
            ims_iam_add_user_to_group(svc, IMS_DEFAULT_DOMAIN_ID, gid, user, &e) != IMS_OK ||
            ims_iam_create_policy(svc, IMS_DEFAULT_DOMAIN_ID, pname, "", doc, &pid, &e) != IMS_OK ||
            ims_iam_grant(svc, IMS_DEFAULT_DOMAIN_ID, gid, pid, g < 8 ? IMS_SCOPE_PROJECT : IMS_SCOPE_ENTERPRISE_PROJECT,
                          g < 8 ? project : ep, false, &e) != IMS_OK)
            die("policies", &e);
        if (g == 9 && ims_iam_grant(svc, IMS_DEFAULT_DOMAIN_ID, gid, pid, IMS_SCOPE_PROJECT, project, false, &e) != IMS_OK)
            die("grant", &e);
        free(gid);
        free(pid);
    }
    struct ims_principal p = {.issued_at = ims_now(), .expires_at = ims_now() + 3600};
    snprintf(p.user_id, sizeof(p.user_id), "%s", user);
    snprintf(p.domain_id, sizeof(p.domain_id), "%s", IMS_DEFAULT_DOMAIN_ID);
    snprintf(p.project_id, sizeof(p.project_id), "%s", project);
    ims_hexid_new(p.token_id, 16);
    char token[IMS_TOKEN_MAX + 1];
    ims_identity_issue(svc, &p, token, sizeof(token), &e);

    struct ims_authz_result acc;
    if (ims_authorize(svc, &p, "ims:images:get", true, true, &acc, &e) != IMS_OK || acc.scope != IMS_EP_SCOPE_ALL)
        die("expected allow", &e);
    ims_authz_result_release(&acc);

    int64_t t = ims_mono_us();
    for (int i = 0; i < ROUNDS; i++) {
        struct ims_principal q;
        ims_identity_validate(svc, token, &q, &e);
    }
    double baseline = per_call_us(t, ROUNDS);

    static const struct {
        const char *what, *actions;
        bool ep;
    } cases[] = {
        {"allowed (ims:images:get)", "ims:images:get", true},
        {"two actions (get+list)", "ims:images:get+ims:images:list", true},
        {"denied (ims:images:delete)", "ims:images:delete", false},
        {"enterprise-project only (ecs:servers:get)", "ecs:servers:get", true},
    };
    printf("authorization, user in 10 groups with 100+ statements (%d rounds each)\n", ROUNDS);
    printf("  baseline: token validation       %7.2f us/call\n", baseline);
    for (size_t c = 0; c < IMS_ARRAY_SIZE(cases); c++) {
        t = ims_mono_us();
        for (int i = 0; i < ROUNDS; i++) {
            ims_authorize(svc, &p, cases[c].actions, true, cases[c].ep, &acc, &e);
            ims_authz_result_release(&acc);
        }
        double us = per_call_us(t, ROUNDS);
        printf("  %-34s %7.2f us/call  (%.2fx baseline)  target < 5 us: %s\n", cases[c].what, us, us / baseline,
               us < 5 ? "met" : "NOT met");
    }
    ims_service_close(svc);
    be.stores[0]->ops->close(be.stores[0]);
    free(be.sql_dsn);
    free(pw);
    free(project);
    free(user);
    free(ep);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
