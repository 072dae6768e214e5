/* SPDX-License-Identifier: Apache-2.0
 * The inventory compute source over a real SQLite repository and real
 * files: servers with their volumes in order, project isolation on reads,
 * refusals of what cannot be a server, volumes appended to a server,
 * backups that keep their content after the server's disk changes, and a
 * backup recorded only while its server still has the disks it copied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ims/compute.h"
#include "ims/db.h"
#include "ims/obs.h"
#include "shell.h"

#define OS "Ubuntu 22.04 server 64bit"

static char dir[64], dbpath[96], sys_disk[96], data_disk[96];
static struct ims_db *db;
static struct ims_compute_source *inv;
static struct ims_obs *obs;

static void write_file(const char *path, const char *content, size_t size)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(truncate(path, (off_t)size), 0);
}

static char *read_head(const char *path, size_t n)
{
    char *buf = calloc(1, n + 1);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_true(fread(buf, 1, n, f) > 0);
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_compute.%d", (int)getpid());
    sh_ok("rm -rf %s", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dbpath, sizeof(dbpath), "%s/imsd.db", dir);
    snprintf(sys_disk, sizeof(sys_disk), "%s/sys.raw", dir);
    snprintf(data_disk, sizeof(data_disk), "%s/data.raw", dir);
    write_file(sys_disk, "system disk, first version", 1 << 20);
    write_file(data_disk, "data disk", 2 << 20);
    struct ims_err err;
    assert_int_equal(ims_db_open(&ims_sqlite_ops, dbpath, &db, &err), IMS_OK);
    char obs_dir[96];
    snprintf(obs_dir, sizeof(obs_dir), "%s/obs", dir);
    assert_int_equal(ims_obs_embedded_open(obs_dir, &obs, &err), IMS_OBS_OK);
    assert_int_equal(ims_obs_bucket_create(obs, "bucket-1", &err), IMS_OBS_OK);
    assert_int_equal(ims_compute_inventory_open(dir, 3600, obs, &inv, &err), IMS_OK);
    assert_int_equal(inv->ops->attach(inv, db, &err), IMS_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    inv->ops->close(inv);
    ims_obs_close(obs);
    ims_db_close(db);
    sh_ok("rm -rf %s", dir);
    return 0;
}

static void add_server(const char *name, const char *project, struct ims_server *ret)
{
    const char *disks[] = {sys_disk, data_disk};
    struct ims_server_spec spec = {.name = name, .project_id = project, .os_version = OS,
                                   .state = IMS_SERVER_STOPPED, .firmware = IMS_FIRMWARE_UEFI, .ram_mb = 1024,
                                   .disks = disks, .ndisks = 2};
    struct ims_err err;
    assert_int_equal(inv->ops->add_server(inv, &spec, ret, &err), IMS_OK);
}

static void server_with_volumes_in_order(void **state)
{
    (void)state;
    struct ims_server s, got;
    add_server("web", "pa", &s);
    struct ims_err err;
    assert_int_equal(inv->ops->get_server(inv, "pa", s.id, &got, &err), IMS_OK);
    assert_string_equal(got.name, "web");
    assert_string_equal(got.os_version, OS);
    assert_int_equal(got.firmware, IMS_FIRMWARE_UEFI);
    assert_int_equal(got.ram_mb, 1024);
    assert_int_equal(got.nvolumes, 2);
    assert_string_equal(got.volumes[0].disk, sys_disk);
    assert_string_equal(got.volumes[0].id, s.volumes[0].id);
    assert_int_equal(got.volumes[0].position, 0);
    assert_string_equal(got.volumes[1].disk, data_disk);
    assert_int_equal(got.volumes[1].size, 2 << 20);
    assert_string_equal(got.volumes[1].format, "raw");
    ims_server_release(&got);

    /* Another project neither reads nor lists it. */
    assert_int_equal(inv->ops->get_server(inv, "pb", s.id, &got, &err), IMS_E_FORBIDDEN);
    assert_int_equal(inv->ops->get_server(inv, "pa", "0b7a3c0e-0000-4000-8000-000000000000", &got, &err),
                     IMS_E_NOTFOUND);
    assert_string_equal(err.code, "IMG.0005");
    struct ims_volume v;
    assert_int_equal(inv->ops->get_volume(inv, "pb", s.volumes[1].id, &v, &err), IMS_E_FORBIDDEN);
    struct ims_server *list;
    size_t n;
    assert_int_equal(inv->ops->list_servers(inv, "pb", &list, &n, &err), IMS_OK);
    assert_int_equal(n, 0);
    free(list);
    assert_int_equal(inv->ops->list_servers(inv, "pa", &list, &n, &err), IMS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].nvolumes, 2);
    ims_server_array_free(list, n);

    /* State changes raise the revision. */
    assert_int_equal(inv->ops->set_server_state(inv, s.id, IMS_SERVER_RUNNING, &err), IMS_OK);
    assert_int_equal(inv->ops->get_server(inv, NULL, s.id, &got, &err), IMS_OK);
    assert_int_equal(got.state, IMS_SERVER_RUNNING);
    assert_int_equal(got.revision, 1);
    ims_server_release(&got);

    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_OK);
    assert_int_equal(inv->ops->get_volume(inv, NULL, s.volumes[0].id, &v, &err), IMS_E_NOTFOUND);
    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_E_NOTFOUND);
    ims_server_release(&s);
}

static void refusals(void **state)
{
    (void)state;
    struct ims_server s;
    struct ims_err err;
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing.qcow2", dir);
    const char *disks[] = {missing};
    struct ims_server_spec spec = {.name = "x", .project_id = "pa", .os_version = OS, .disks = disks, .ndisks = 1};
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0057");
    assert_non_null(strstr(err.msg, "missing.qcow2"));

    disks[0] = sys_disk;
    spec.os_version = "Windows 3.1";
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0056");

    spec.os_version = OS;
    spec.ndisks = 0;
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_E_BADREQ);

    /* Neither a path nor bucket:object. */
    const char *bad[] = {"relative/disk.qcow2"};
    spec.disks = bad;
    spec.ndisks = 1;
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0057");

    /* A qcow2 with a backing file is refused by the inspector. */
    char backed[128];
    snprintf(backed, sizeof(backed), "%s/backed.qcow2", dir);
    sh_ok("qemu-img create -q -f qcow2 -F raw -b %s %s >/dev/null", sys_disk, backed);
    const char *refused[] = {backed};
    spec.disks = refused;
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0057");

    /* An object that is not in object storage. */
    const char *missing_obj[] = {"bucket-1:images/none.qcow2"};
    spec.disks = missing_obj;
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_E_BADREQ);
    assert_string_equal(err.code, "IMG.0057");
    assert_non_null(strstr(err.msg, "cannot be read from object storage: no such object"));
}

/* A disk in object storage: inspected through ranged reads of the object
 * (format, virtual size), copied by a backup, which then keeps its content
 * when the object is replaced. */
static void object_storage_disks(void **state)
{
    (void)state;
    struct ims_err err;
    char qcow[128];
    snprintf(qcow, sizeof(qcow), "%s/obj.qcow2", dir);
    sh_ok("qemu-img create -q -f qcow2 %s 48M", qcow);
    FILE *f = fopen(qcow, "r");
    assert_non_null(f);
    assert_int_equal(ims_obs_put_file(obs, "bucket-1", "images/sys.qcow2", fileno(f), &err), IMS_OBS_OK);
    fclose(f);
    const char *disks[] = {"bucket-1:images/sys.qcow2", data_disk};
    struct ims_server_spec spec = {.name = "o", .project_id = "pa", .os_version = OS, .disks = disks, .ndisks = 2};
    struct ims_server s;
    assert_int_equal(inv->ops->add_server(inv, &spec, &s, &err), IMS_OK);
    assert_string_equal(s.volumes[0].format, "qcow2");
    assert_int_equal(s.volumes[0].size, 48 << 20);
    assert_string_equal(s.volumes[0].disk, "bucket-1:images/sys.qcow2");

    struct ims_backup b;
    assert_int_equal(inv->ops->create_backup(inv, s.id, NULL, &b, &err), IMS_OK);
    write_file(qcow, "not a qcow2 any more", 4096);
    f = fopen(qcow, "r");
    assert_int_equal(ims_obs_put_file(obs, "bucket-1", "images/sys.qcow2", fileno(f), &err), IMS_OBS_OK);
    fclose(f);
    char *head = read_head(b.volumes[0].disk, 4);
    assert_memory_equal(head, "QFI\xfb", 4); /* still the qcow2 that was backed up */
    free(head);
    assert_int_equal(inv->ops->remove_backup(inv, b.id, &err), IMS_OK);
    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_OK);
    ims_backup_release(&b);
    ims_server_release(&s);
}

static void volumes_join_their_server(void **state)
{
    (void)state;
    struct ims_server s;
    add_server("db", "pa", &s);
    struct ims_err err;
    struct ims_volume v, w;
    struct ims_volume_spec vs = {.disk = data_disk, .project_id = "pa", .server_id = s.id};
    assert_int_equal(inv->ops->add_volume(inv, &vs, &v, &err), IMS_OK);
    assert_int_equal(v.position, 2);
    /* A volume of another project cannot join the server. */
    vs.project_id = "pb";
    assert_int_equal(inv->ops->add_volume(inv, &vs, &w, &err), IMS_E_FORBIDDEN);
    /* A detached volume. */
    vs.server_id = NULL;
    assert_int_equal(inv->ops->add_volume(inv, &vs, &w, &err), IMS_OK);
    assert_int_equal(w.position, -1);
    assert_null(w.server_id);

    struct ims_server got;
    assert_int_equal(inv->ops->get_server(inv, NULL, s.id, &got, &err), IMS_OK);
    assert_int_equal(got.nvolumes, 3);
    assert_string_equal(got.volumes[2].id, v.id);
    assert_int_equal(got.revision, 1); /* the server's disks changed */
    ims_server_release(&got);

    assert_int_equal(inv->ops->remove_volume(inv, v.id, &err), IMS_E_CONFLICT);
    assert_int_equal(inv->ops->remove_volume(inv, w.id, &err), IMS_OK);
    struct ims_volume gone;
    assert_int_equal(inv->ops->get_volume(inv, NULL, w.id, &gone, &err), IMS_E_NOTFOUND);
    ims_volume_release(&w);
    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_OK);
    ims_volume_release(&v);
    ims_server_release(&s);
}

static void backup_keeps_its_content(void **state)
{
    (void)state;
    struct ims_server s;
    add_server("app", "pa", &s);
    struct ims_err err;
    struct ims_backup b, got;
    assert_int_equal(inv->ops->create_backup(inv, s.id, NULL, &b, &err), IMS_OK);
    assert_int_equal(b.nvolumes, 2);
    /* The server's system disk changes after the backup. */
    write_file(sys_disk, "system disk, SECOND version", 1 << 20);

    assert_int_equal(inv->ops->get_backup(inv, "pa", b.id, &got, &err), IMS_OK);
    assert_int_equal(got.nvolumes, 2);
    assert_string_equal(got.volumes[0].id, s.volumes[0].id);
    assert_string_equal(got.server_name, "app");
    assert_true(strncmp(got.volumes[0].disk, dir, strlen(dir)) == 0);
    assert_string_not_equal(got.volumes[0].disk, sys_disk);
    char *head = read_head(got.volumes[0].disk, 26);
    assert_string_equal(head, "system disk, first version");
    free(head);
    head = read_head(sys_disk, 27);
    assert_string_equal(head, "system disk, SECOND version");
    free(head);
    struct ims_backup other;
    assert_int_equal(inv->ops->get_backup(inv, "pb", b.id, &other, &err), IMS_E_FORBIDDEN);

    /* A backup is recorded only for the server it copied: a stale revision
     * conflicts. */
    struct ims_backup stale = {.project_id = "pa", .server_name = "app"};
    snprintf(stale.id, sizeof(stale.id), "0b7a3c0e-0000-4000-8000-0000000000aa");
    snprintf(stale.server_id, sizeof(stale.server_id), "%s", s.id);
    assert_int_equal(inv->ops->set_server_state(inv, s.id, IMS_SERVER_RUNNING, &err), IMS_OK);
    assert_int_equal(ims_repo_backup_insert(ims_db_conn(db), &stale, 0, &err), IMS_E_CONFLICT);

    /* Removing the backup removes its copies; removing the server keeps backups. */
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", got.volumes[0].disk);
    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_OK);
    struct ims_backup *list;
    size_t n;
    assert_int_equal(inv->ops->list_backups(inv, "pa", &list, &n, &err), IMS_OK);
    assert_int_equal(n, 1);
    ims_backup_array_free(list, n);
    assert_int_equal(inv->ops->remove_backup(inv, b.id, &err), IMS_OK);
    assert_int_not_equal(access(copy, F_OK), 0);
    assert_int_equal(inv->ops->get_backup(inv, NULL, b.id, &other, &err), IMS_E_NOTFOUND);
    ims_backup_release(&b);
    ims_backup_release(&got);
    ims_server_release(&s);
}

/* A backup made with the id its caller recorded first: an attempt's
 * leftover copies are replaced, an existing backup is never touched. */
static void backup_with_a_chosen_id(void **state)
{
    (void)state;
    struct ims_server s;
    add_server("chosen", "pa", &s);
    struct ims_err err;
    const char *id = "0b7a3c0e-0000-4000-8000-0000000000bb";
    char dirpath[256], left[300];
    snprintf(dirpath, sizeof(dirpath), "%s/compute/backups/%s", dir, id);
    snprintf(left, sizeof(left), "%s/disk0", dirpath);
    assert_int_equal(mkdir(dirpath, 0750), 0);
    write_file(left, "half a copy", 11); /* an interrupted attempt */
    struct ims_backup b, again;
    assert_int_equal(inv->ops->create_backup(inv, s.id, id, &b, &err), IMS_OK);
    assert_string_equal(b.id, id);
    char *want = read_head(sys_disk, 20), *head = read_head(b.volumes[0].disk, 20);
    assert_string_equal(head, want);
    free(head);
    assert_int_equal(inv->ops->create_backup(inv, s.id, id, &again, &err), IMS_E_CONFLICT);
    head = read_head(b.volumes[0].disk, 20); /* untouched */
    assert_string_equal(head, want);
    free(head);
    free(want);
    assert_int_equal(inv->ops->create_backup(inv, s.id, "not-a-uuid", &again, &err), IMS_E_INTERNAL);
    assert_int_equal(inv->ops->remove_backup(inv, id, &err), IMS_OK);
    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_OK);
    ims_backup_release(&b);
    ims_server_release(&s);
}

static void make_orphan(const char *id, int64_t age, char *path, size_t cap)
{
    snprintf(path, cap, "%s/compute/backups/%s", dir, id);
    assert_int_equal(mkdir(path, 0750), 0);
    char file[256];
    snprintf(file, sizeof(file), "%s/disk0", path);
    write_file(file, "copy", 4096);
    struct timespec t[2] = {{.tv_sec = time(NULL) - age}, {.tv_sec = time(NULL) - age}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Copies of a backup killed before its row: removed at attach once older
 * than the grace period; recorded backups and young directories stay. */
static void interrupted_backups_are_recovered(void **state)
{
    (void)state;
    struct ims_server s;
    add_server("rec", "pa", &s);
    struct ims_err err;
    struct ims_backup kept;
    assert_int_equal(inv->ops->create_backup(inv, s.id, NULL, &kept, &err), IMS_OK);
    char kept_dir[256], old[256], young[256];
    snprintf(kept_dir, sizeof(kept_dir), "%s/compute/backups/%s", dir, kept.id);
    struct timespec t[2] = {{.tv_sec = time(NULL) - 7200}, {.tv_sec = time(NULL) - 7200}};
    assert_int_equal(utimensat(AT_FDCWD, kept_dir, t, 0), 0);
    make_orphan("0b7a3c0e-0000-4000-8000-0000000000b1", 7200, old, sizeof(old));
    make_orphan("0b7a3c0e-0000-4000-8000-0000000000b2", 60, young, sizeof(young));
    assert_int_equal(inv->ops->attach(inv, db, &err), IMS_OK);
    assert_int_not_equal(access(old, F_OK), 0);
    assert_int_equal(access(young, F_OK), 0);
    assert_int_equal(access(kept_dir, F_OK), 0);
    assert_int_equal(inv->ops->remove_backup(inv, kept.id, &err), IMS_OK);
    assert_int_equal(inv->ops->remove_server(inv, s.id, &err), IMS_OK);
    ims_backup_release(&kept);
    ims_server_release(&s);
}

static void disk_references(void **state)
{
    (void)state;
    struct ims_err err;
    assert_int_equal(ims_disk_ref_check("/var/lib/disk.qcow2", &err), IMS_OK);
    assert_int_equal(ims_disk_ref_check("my-bucket:dir/obj.qcow2", &err), IMS_OK);
    assert_true(ims_disk_ref_is_obs("my-bucket:dir/obj.qcow2"));
    assert_false(ims_disk_ref_is_obs("/a:b"));
    assert_int_equal(ims_disk_ref_check("", &err), IMS_E_BADREQ);
    assert_int_equal(ims_disk_ref_check("ab:x", &err), IMS_E_BADREQ);    /* bucket too short */
    assert_int_equal(ims_disk_ref_check("Bucket:x", &err), IMS_E_BADREQ); /* upper case */
    assert_int_equal(ims_disk_ref_check("bucket:", &err), IMS_E_BADREQ);  /* no object */
    assert_int_equal(ims_disk_ref_check("/a\x01b", &err), IMS_E_BADREQ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_with_volumes_in_order),
        cmocka_unit_test(refusals),
        cmocka_unit_test(object_storage_disks),
        cmocka_unit_test(volumes_join_their_server),
        cmocka_unit_test(backup_keeps_its_content),
        cmocka_unit_test(backup_with_a_chosen_id),
        cmocka_unit_test(interrupted_backups_are_recovered),
        cmocka_unit_test(disk_references),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
