/* SPDX-License-Identifier: Apache-2.0
 * An authorization decision is explicit: Allow or Deny, where an Allow
 * holds (all enterprise projects, or those listed), and the statement (or
 * rule) that decided. A missing decision or a zeroed one is a Deny: no
 * check and no image list reads "nothing decided" as "unrestricted".
 * Runs the real service over SQLite and the file store in a temporary dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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
#include "ims/image.h"
#include "ims/kv.h"
#include "ims/images.h"
#include "ims/query.h"
#include "ims/service.h"
#include "ims/store.h"
#include "shell.h"

static char dir[] = "/tmp/test_authz-XXXXXX";
static struct ims_config cfg;
static struct ims_backends be;
static struct ims_service *svc;
static char *project, *user, *ep, *pol_allow, *pol_deny, *pol_ep;
static struct ims_principal caller;

static void ok(enum ims_rc rc, const struct ims_err *e, const char *what)
{
    if (rc != IMS_OK)
        fail_msg("%s: %s", what, e->msg);
}

static char *grant(const char *name, const char *doc, enum ims_scope_type scope, const char *ref)
{
    struct ims_err e = {0};
    char *gid = NULL, *pid = NULL;
    ok(ims_iam_create_group(svc, IMS_DEFAULT_DOMAIN_ID, name, "", &gid, &e), &e, "group");
    ok(ims_iam_add_user_to_group(svc, IMS_DEFAULT_DOMAIN_ID, gid, user, &e), &e, "member");
    ok(ims_iam_create_policy(svc, IMS_DEFAULT_DOMAIN_ID, name, "", doc, &pid, &e), &e, "policy");
    ok(ims_iam_grant(svc, IMS_DEFAULT_DOMAIN_ID, gid, pid, scope, ref, false, &e), &e, "grant");
    free(gid);
    return pid;
}

static int setup(void **state)
{
    (void)state;
    ims_log_set_level(IMS_LOG_WARN);
    if (!mkdtemp(dir))
        return -1;
    cfg = (struct ims_config){.data_dir = dir, .region = "RegionOne", .token_ttl = 3600, .max_image_size = 1 << 20,
                              .list_limit_default = 25, .list_limit_max = 1000, .quota_default = 100};
    be = (struct ims_backends){.sql = &ims_sqlite_ops, .sql_dsn = ims_xasprintf("%s/imsd.db", dir), .nstores = 1};
    struct ims_err e = {0};
    ok(ims_store_file_open(dir, true, &be.stores[0], &e), &e, "store");
    ok(ims_service_open(&cfg, &be, &svc, &e), &e, "open");
    char *pw = NULL;
    ok(ims_service_bootstrap(svc, "test-admin-pw", &pw, &e), &e, "bootstrap");
    free(pw);
    ok(ims_identity_create_project(svc, IMS_DEFAULT_DOMAIN_ID, "authzp", &project, &e), &e, "project");
    ok(ims_identity_create_user(svc, IMS_DEFAULT_DOMAIN_ID, "authzu", "authz-pw-1", project, "none", false, NULL, &user,
                                &e),
       &e, "user");
    ok(ims_iam_create_enterprise_project(svc, IMS_DEFAULT_DOMAIN_ID, "authzep", "", &ep, &e), &e, "ep");
    pol_allow = grant("allow-get", "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                                   "[\"ims:images:list\"]},{\"Effect\":\"Allow\",\"Action\":[\"ims:images:get\"]}]}",
                      IMS_SCOPE_PROJECT, project);
    pol_deny = grant("deny-delete", "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":"
                                    "[\"ims:images:delete\"]}]}",
                     IMS_SCOPE_PROJECT, project);
    pol_ep = grant("ep-update", "{\"Version\":\"1.1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                                "[\"ims:images:update\",\"ims:images:delete\"]}]}",
                   IMS_SCOPE_ENTERPRISE_PROJECT, ep);
    caller = (struct ims_principal){.issued_at = ims_now(), .expires_at = ims_now() + 3600};
    snprintf(caller.user_id, sizeof(caller.user_id), "%s", user);
    snprintf(caller.domain_id, sizeof(caller.domain_id), "%s", IMS_DEFAULT_DOMAIN_ID);
    snprintf(caller.project_id, sizeof(caller.project_id), "%s", project);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ims_service_close(svc);
    be.stores[0]->ops->close(be.stores[0]);
    free(be.sql_dsn);
    char *owned[] = {project, user, ep, pol_allow, pol_deny, pol_ep};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(owned); i++)
        free(owned[i]);
    return sh_status("rm -rf %s", dir) == 0 ? 0 : -1;
}

/* An Allow by a project grant holds everywhere and names its statement
 * (the policy's second statement, index 1). */
static void test_allow_names_the_statement(void **state)
{
    (void)state;
    struct ims_authz_result r;
    struct ims_err e = {0};
    assert_int_equal(ims_authorize(svc, &caller, "ims:images:get", true, true, &r, &e), IMS_OK);
    assert_int_equal(r.effect, IMS_AUTHZ_ALLOW);
    assert_int_equal(r.scope, IMS_EP_SCOPE_ALL);
    char want[256];
    snprintf(want, sizeof(want), "Allow by policy %s statement 1 ", pol_allow);
    assert_non_null(strstr(r.deciding, want));
    assert_true(ims_authz_allows(&r, "0"));
    assert_true(ims_authz_allows(&r, ep));
    ims_authz_result_release(&r);
}

/* An explicit Deny names the Deny statement and the denied action; an Allow
 * on an enterprise project does not count where those grants do not. */
static void test_deny_names_the_statement(void **state)
{
    (void)state;
    struct ims_authz_result r;
    struct ims_err e = {0};
    assert_int_equal(ims_authorize(svc, &caller, "ims:images:get+ims:images:delete", true, false, &r, &e),
                     IMS_E_FORBIDDEN);
    assert_int_equal(r.effect, IMS_AUTHZ_DENY);
    assert_int_equal(r.scope, IMS_EP_SCOPE_NONE);
    assert_string_equal(r.denied_action, "ims:images:delete");
    char want[256];
    snprintf(want, sizeof(want), "Deny by policy %s statement 0 ", pol_deny);
    assert_non_null(strstr(r.deciding, want));
    assert_non_null(strstr(e.msg, "ims:images:delete"));
    assert_false(ims_authz_allows(&r, "0"));
    assert_false(ims_authz_allows(&r, ep));
    ims_authz_result_release(&r);
}

/* No statement at all: an implicit Deny, said so. */
static void test_implicit_deny(void **state)
{
    (void)state;
    struct ims_authz_result r;
    struct ims_err e = {0};
    assert_int_equal(ims_authorize(svc, &caller, "ims:images:create", true, true, &r, &e), IMS_E_FORBIDDEN);
    assert_int_equal(r.effect, IMS_AUTHZ_DENY);
    assert_string_equal(r.deciding, "implicit deny: no statement allows ims:images:create");
    assert_false(ims_authz_allows(&r, "0"));
    ims_authz_result_release(&r);
}

/* Allowed through an enterprise-project grant only: the scope lists that
 * enterprise project and nothing else. */
static void test_listed_enterprise_projects(void **state)
{
    (void)state;
    struct ims_authz_result r;
    struct ims_err e = {0};
    assert_int_equal(ims_authorize(svc, &caller, "ims:images:update", true, true, &r, &e), IMS_OK);
    assert_int_equal(r.effect, IMS_AUTHZ_ALLOW);
    assert_int_equal(r.scope, IMS_EP_SCOPE_LISTED);
    assert_int_equal(r.eps.n, 1);
    assert_string_equal(r.eps.items[0], ep);
    char want[256];
    snprintf(want, sizeof(want), "Allow by policy %s statement 0 ", pol_ep);
    assert_non_null(strstr(r.deciding, want));
    assert_true(ims_authz_allows(&r, ep));
    assert_false(ims_authz_allows(&r, "0"));
    assert_false(ims_authz_allows(&r, NULL)); /* no enterprise project named: the default "0" */
    ims_authz_result_release(&r);
    /* where enterprise-project grants do not count, the same call is denied */
    assert_int_equal(ims_authorize(svc, &caller, "ims:images:update", true, false, &r, &e), IMS_E_FORBIDDEN);
    assert_int_equal(r.effect, IMS_AUTHZ_DENY);
    ims_authz_result_release(&r);
}

/* The cloud admin and the account's root user pass, and the decision says
 * which rule let them. */
static void test_admin_rules_are_named(void **state)
{
    (void)state;
    struct ims_principal admin = caller;
    admin.is_admin = true;
    struct ims_authz_result r;
    struct ims_err e = {0};
    assert_int_equal(ims_authorize(svc, &admin, "ims:images:create", true, false, &r, &e), IMS_OK);
    assert_int_equal(r.effect, IMS_AUTHZ_ALLOW);
    assert_int_equal(r.scope, IMS_EP_SCOPE_ALL);
    assert_string_equal(r.deciding, "role admin");
    ims_authz_result_release(&r);
}

/* A missing decision (NULL) and a zeroed one deny everywhere. */
static void test_missing_decision_is_deny(void **state)
{
    (void)state;
    assert_false(ims_authz_allows(NULL, "0"));
    assert_false(ims_authz_allows(NULL, ep));
    struct ims_authz_result zero = {0};
    assert_int_equal(zero.effect, IMS_AUTHZ_DENY);
    assert_int_equal(zero.scope, IMS_EP_SCOPE_NONE);
    assert_false(ims_authz_allows(&zero, "0"));
    assert_false(ims_authz_allows(&zero, NULL));
    /* an Allow must say where it holds: one without a scope allows nothing */
    struct ims_authz_result unscoped = {.effect = IMS_AUTHZ_ALLOW};
    assert_false(ims_authz_allows(&unscoped, "0"));
}

/* The image operations read the caller's decision: with none they create
 * nothing, show nothing and list nothing; a listed scope lists only the
 * images of those enterprise projects. */
static void test_images_follow_the_decision(void **state)
{
    (void)state;
    struct ims_err e = {0};
    struct ims_authz_result all = {.effect = IMS_AUTHZ_ALLOW, .scope = IMS_EP_SCOPE_ALL, .deciding = "test"};
    struct ims_principal p = caller;

    struct ims_image draft;
    ims_image_init(&draft);
    ims_set_str(&draft.name, "img");
    p.authz = NULL;
    assert_int_equal(ims_images_create(svc, &p, &draft, &e), IMS_E_FORBIDDEN);
    p.authz = &all;
    ok(ims_images_create(svc, &p, &draft, &e), &e, "create");
    char id[sizeof(draft.id)];
    snprintf(id, sizeof(id), "%s", draft.id);
    ims_image_release(&draft);

    struct ims_image img;
    p.authz = NULL;
    assert_int_equal(ims_images_get(svc, &p, id, &img, &e), IMS_E_FORBIDDEN);
    p.authz = &all;
    ok(ims_images_get(svc, &p, id, &img, &e), &e, "get");
    ims_image_release(&img);

    struct ims_kvlist none = {0};
    struct ims_query_limits lim = {.default_limit = 25, .max_limit = 1000};
    struct ims_image_query q;
    ok(ims_image_query_parse(&none, &lim, &q, &e), &e, "query");
    struct ims_authz_result listed_other = {.effect = IMS_AUTHZ_ALLOW, .scope = IMS_EP_SCOPE_LISTED};
    ims_strlist_add(&listed_other.eps, ep);
    struct ims_authz_result listed_default = {.effect = IMS_AUTHZ_ALLOW, .scope = IMS_EP_SCOPE_LISTED};
    ims_strlist_add(&listed_default.eps, "0");
    struct ims_authz_result denied = {.effect = IMS_AUTHZ_DENY, .scope = IMS_EP_SCOPE_NONE};
    static const struct {
        const char *what;
        size_t want;
    } cases[] = {{"no decision", 0}, {"all", 1}, {"listed: another ep", 0}, {"listed: its ep", 1}, {"deny", 0}};
    const struct ims_authz_result *decisions[] = {NULL, &all, &listed_other, &listed_default, &denied};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
        p.authz = decisions[i];
        struct ims_image *list = NULL;
        size_t n = 99;
        ok(ims_images_list(svc, &p, &q, &list, &n, &e), &e, cases[i].what);
        if (n != cases[i].want)
            fail_msg("%s: %zu images listed, want %zu", cases[i].what, n, cases[i].want);
        for (size_t j = 0; j < n; j++)
            ims_image_release(&list[j]);
        free(list);
    }
    ims_image_query_release(&q);
    ims_strlist_release(&listed_other.eps);
    ims_strlist_release(&listed_default.eps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_names_the_statement),   cmocka_unit_test(test_deny_names_the_statement),
        cmocka_unit_test(test_implicit_deny),               cmocka_unit_test(test_listed_enterprise_projects),
        cmocka_unit_test(test_admin_rules_are_named),       cmocka_unit_test(test_missing_decision_is_deny),
        cmocka_unit_test(test_images_follow_the_decision),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
