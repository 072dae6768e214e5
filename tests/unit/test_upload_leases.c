/* SPDX-License-Identifier: Apache-2.0
 * Start-up recovery of uploads when several processes share the database:
 * an upload goes back to queued only when its owner is gone (a process of
 * this host that no longer runs), its lease ran out, or it has no owner
 * (left by a version before leases); a live owner's upload with a running
 * lease stays, whoever the owner is. A renewal extends only its owner's
 * uploads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ims/db.h"
#include "db_files.h"

static char path[64];

static void add_image(struct ims_dbc *c, const char *id)
{
    struct ims_image img;
    ims_image_init(&img);
    snprintf(img.id, sizeof(img.id), "%s", id);
    ims_set_str(&img.owner, "p1");
    struct ims_err err;
    if (ims_repo_image_insert(c, &img, -1, &err) != IMS_OK)
        fail_msg("insert: %s", err.msg);
    ims_image_release(&img);
}

static void claim(struct ims_dbc *c, const char *id, const char *owner, int64_t expires)
{
    struct ims_err err;
    if (ims_repo_image_upload_claim(c, id, id, owner, expires, &err) != IMS_OK)
        fail_msg("claim: %s", err.msg);
}

static const char *status_of(struct ims_dbc *c, const char *id, char buf[16])
{
    struct ims_image img;
    struct ims_err err;
    assert_int_equal(ims_repo_image_get(c, id, &img, &err), IMS_OK);
    snprintf(buf, 16, "%s", img.status);
    ims_image_release(&img);
    return buf;
}

static void test_recovery_takes_only_what_nobody_writes(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_upload_leases.%d.db", (int)getpid());
    unlink(path);
    struct ims_db *db;
    struct ims_err err;
    if (ims_db_open(&ims_sqlite_ops, path, &db, &err) != IMS_OK)
        fail_msg("open: %s", err.msg);
    struct ims_dbc *c = ims_db_conn(db);
    static const char *const ids[] = {
        "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444",
        "55555555-5555-4555-8555-555555555555",
    };
    for (size_t i = 0; i < 5; i++)
        add_image(c, ids[i]);
    const char *me = ims_process_owner();
    char dead[IMS_OWNER_MAX];
    snprintf(dead, sizeof(dead), "%.*s:999999999:0", (int)(strchr(me, ':') - me), me);
    int64_t now = 1000000;
    claim(c, ids[0], me, now + 60);                        /* live, leased: stays */
    claim(c, ids[1], "elsewhere:1:ab", now + 60);          /* another host, leased: stays */
    claim(c, ids[2], "elsewhere:1:ab", now - 1);           /* another host, lease over: recovered */
    claim(c, ids[3], dead, now + 60);                      /* this host, process gone: recovered */
    claim(c, ids[4], NULL, now + 60);                      /* no owner (before leases): recovered */
    /* a claim of an image already saving is refused */
    assert_int_equal(ims_repo_image_upload_claim(c, ids[0], "x", "elsewhere:1:ab", now + 60, &err), IMS_E_CONFLICT);

    /* renewal moves only the owner's leases: "elsewhere" renewed, then its
     * second lease is still over */
    assert_int_equal(ims_repo_uploads_renew(c, me, now + 120, &err), IMS_OK);
    int64_t n = -1;
    assert_int_equal(ims_repo_uploads_recover(c, now, &n, &err), IMS_OK);
    assert_int_equal(n, 3);
    char s[16];
    assert_string_equal(status_of(c, ids[0], s), "saving");
    assert_string_equal(status_of(c, ids[1], s), "saving");
    assert_string_equal(status_of(c, ids[2], s), "queued");
    assert_string_equal(status_of(c, ids[3], s), "queued");
    assert_string_equal(status_of(c, ids[4], s), "queued");
    /* my lease was renewed to now + 120: past now + 60 it still stays */
    assert_int_equal(ims_repo_uploads_recover(c, now + 90, &n, &err), IMS_OK);
    assert_int_equal(n, 1); /* only elsewhere's, whose lease ended at now + 60 */
    assert_string_equal(status_of(c, ids[0], s), "saving");
    assert_string_equal(status_of(c, ids[1], s), "queued");
    ims_db_close(db);
    db_files_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_takes_only_what_nobody_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
