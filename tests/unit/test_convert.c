/* SPDX-License-Identifier: Apache-2.0
 * Conversion with the real qemu-img: a chain qcow2 -> raw -> vhd -> vmdk
 * (and streamOptimized, vhdx, back to qcow2) whose every step `qemu-img
 * compare` finds identical to the source and the inspector recognises,
 * with progress reported; failures leave nothing behind. The kill paths
 * (wall clock, CPU limit, cancellation) run stand-in programs that never
 * finish, so they do not depend on how fast this machine converts. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ims/convert.h"
#include "o_direct.h"
#include "shell.h"

static char dir[64], tmp[96];

static char *path(const char *name)
{
    static char buf[8][256];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

static size_t entries_in(const char *d)
{
    DIR *dp = opendir(d);
    assert_non_null(dp);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        n += e->d_name[0] != '.';
    closedir(dp);
    return n;
}

struct watch {
    unsigned calls, last, between; /* calls, last percent, calls strictly inside (0, 100) */
    bool backwards;
    int cancel_after_polls; /* cancelled() answers true from this poll on; -1: never */
    int polls;
};

static void on_progress(void *ctx, unsigned pct)
{
    struct watch *w = ctx;
    if (w->calls && pct <= w->last)
        w->backwards = true;
    w->calls++;
    w->last = pct;
    w->between += pct > 0 && pct < 100;
}

static bool on_cancel(void *ctx)
{
    struct watch *w = ctx;
    return w->cancel_after_polls >= 0 && ++w->polls > w->cancel_after_polls;
}

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ims-test-convert-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
    assert_int_equal(mkdir(tmp, 0700), 0);
    /* 8 MiB: random data with zero holes, the shape of a real disk */
    assert_int_equal(sh_status("head -c 8388608 /dev/urandom > %s && truncate -s 16M %s", path("src.raw"),
                        path("src.raw")),
                     0);
    assert_int_equal(sh_status("dd if=/dev/zero of=%s bs=1M seek=2 count=2 conv=notrunc status=none", path("src.raw")),
                     0);
    assert_int_equal(sh_status("qemu-img convert -f raw -O qcow2 %s %s", path("src.raw"), path("src.qcow2")), 0);
    return 0;
}

static int teardown(void **state)
{
    sh_status("rm -rf %s", dir);
    return 0;
}

static char *convert_ok(const char *in, enum ims_convert_format to, struct watch *w)
{
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    if (ims_image_inspect_file(in, NULL, NULL, &info, &why, &err) != IMS_OK)
        fail_msg("%s: refused: %s", in, err.msg);
    struct ims_convert_request req = {
        .input = in,
        .input_format = info.format,
        .output_format = to,
        .tmp_dir = tmp,
        .progress = on_progress,
        .cancelled = on_cancel,
        .ctx = w,
    };
    char *out = NULL;
    struct ims_convert_outcome o;
    if (ims_convert(&req, &out, &o, &err) != IMS_OK)
        fail_msg("%s -> %s: %s (stderr: %s)", in, ims_convert_format_name(to), err.msg, o.stderr_tail);
    assert_int_equal(o.end, IMS_CONVERT_DONE);
    assert_int_equal(o.exit_status, 0);
    assert_true(ims_str_startswith(out, tmp));
    assert_non_null(strstr(out, ims_process_owner())); /* the store's temporary-file shape */
    return out;
}

static void test_chain_identical(void **state)
{
    static const struct {
        enum ims_convert_format to;
        enum ims_image_format detected;
        const char *variant;
    } chain[] = {
        { IMS_CONVERT_RAW, IMS_FORMAT_RAW, "" },
        { IMS_CONVERT_VHD, IMS_FORMAT_VHD, "dynamic" },
        { IMS_CONVERT_VMDK, IMS_FORMAT_VMDK, "monolithicSparse" },
        { IMS_CONVERT_VMDK_STREAM, IMS_FORMAT_VMDK, "streamOptimized" },
        { IMS_CONVERT_VHDX, IMS_FORMAT_VHDX, "" },
        { IMS_CONVERT_QCOW2, IMS_FORMAT_QCOW2, "v3" },
    };
    char *in = ims_xstrdup(path("src.qcow2"));
    bool saw_between = false;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(chain); i++) {
        struct watch w = { .cancel_after_polls = -1 };
        char *out = convert_ok(in, chain[i].to, &w);
        /* what came out is what was asked for, with the source's size */
        struct ims_format_info info;
        enum ims_format_refusal why;
        struct ims_err err = { 0 };
        if (ims_image_inspect_file(out, NULL, ims_convert_format_name(chain[i].to), &info, &why, &err) != IMS_OK)
            fail_msg("step %zu (%s): output refused: %s", i, ims_convert_format_name(chain[i].to), err.msg);
        assert_int_equal(info.format, chain[i].detected);
        assert_string_equal(info.variant, chain[i].variant);
        assert_int_equal(info.virtual_size, 16 << 20);
        /* and holds the same disk as the raw source (sizes checked above) */
        if (sh_status("qemu-img compare -q -f raw -F %s %s %s", ims_format_qemu_name(info.format), path("src.raw"),
               out) != 0)
            fail_msg("step %zu (%s): not identical to the source", i, ims_convert_format_name(chain[i].to));
        /* progress: increasing, ending at 100 */
        assert_false(w.backwards);
        assert_true(w.calls >= 2);
        assert_int_equal(w.last, 100);
        saw_between |= w.between > 0;
        if (i > 0)
            unlink(in);
        free(in);
        in = out;
    }
    assert_true(saw_between); /* qemu-img's -p figures reached the callback, not only our final 100 */
    unlink(in);
    free(in);
    assert_int_equal(entries_in(tmp), 0);
}

/* Every input format qemu-img is told (-f) from the inspector's answer. */
static void test_every_input_format(void **state)
{
    static const char *const made[][2] = {
        { "in.qcow", "-O qcow" },
        { "in.vdi", "-O vdi" },
        { "in.qed", "-O qed" },
        { "in.vhdx", "-O vhdx" },
        { "in.vhd", "-O vpc -o subformat=fixed,force_size=on" },
        { "in.vmdk", "-O vmdk -o subformat=streamOptimized" },
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(made); i++) {
        assert_int_equal(sh_status("qemu-img convert -f raw %s %s %s", made[i][1], path("src.raw"), path(made[i][0])), 0);
        struct watch w = { .cancel_after_polls = -1 };
        char *out = convert_ok(path(made[i][0]), IMS_CONVERT_RAW, &w);
        if (sh_status("qemu-img compare -q -f raw -F raw %s %s", path("src.raw"), out) != 0)
            fail_msg("%s -> raw: not identical to the source", made[i][0]);
        unlink(out);
        free(out);
    }
}

static void expect_failure(struct ims_convert_request *req, enum ims_rc want_rc, enum ims_convert_end want_end)
{
    char *out = NULL;
    struct ims_convert_outcome o;
    struct ims_err err = { 0 };
    size_t before = entries_in(tmp);
    enum ims_rc rc = ims_convert(req, &out, &o, &err);
    if (rc != want_rc || o.end != want_end)
        fail_msg("expected %s/%d, got %s/%d: %s (stderr: %s)", ims_rc_name(want_rc), want_end, ims_rc_name(rc), o.end,
                 err.msg, o.stderr_tail);
    assert_null(out);
    assert_int_equal(entries_in(tmp), before); /* nothing left behind */
    assert_null(strstr(err.msg, dir));        /* no server paths in what users read */
}

static void test_failures_leave_nothing(void **state)
{
    /* the wrong input format: qemu-img refuses to read it */
    struct ims_convert_request req = {
        .input = path("src.raw"),
        .input_format = IMS_FORMAT_QCOW2,
        .output_format = IMS_CONVERT_RAW,
        .tmp_dir = tmp,
    };
    expect_failure(&req, IMS_E_BADREQ, IMS_CONVERT_FAILED);
    /* an output size limit smaller than the disk: SIGXFSZ */
    req.input_format = IMS_FORMAT_RAW;
    req.limits.max_output_size = 1 << 20;
    expect_failure(&req, IMS_E_TOOLARGE, IMS_CONVERT_FSIZE_LIMIT);
    /* an address space too small for qemu-img to run */
    req.limits.max_output_size = 0;
    req.limits.memory_bytes = 8 << 20;
    char *out = NULL;
    struct ims_convert_outcome o;
    struct ims_err err = { 0 };
    size_t before = entries_in(tmp);
    assert_int_not_equal(ims_convert(&req, &out, &o, &err), IMS_OK);
    assert_int_not_equal(o.end, IMS_CONVERT_DONE);
    assert_int_equal(entries_in(tmp), before);
    /* relative paths are not run at all */
    req.limits.memory_bytes = 0;
    req.input = "src.raw";
    expect_failure(&req, IMS_E_INTERNAL, IMS_CONVERT_NOT_RUN);
    /* a program that is not there */
    req.input = path("src.raw");
    req.qemu_img = "/nonexistent/qemu-img";
    expect_failure(&req, IMS_E_INTERNAL, IMS_CONVERT_FAILED);
}

static void test_limits_and_cancellation_kill(void **state)
{
    /* stand-ins for a conversion that never ends: one sleeps (in a child
     * of its own, so the kill must reach the process group), one spins */
    FILE *f = fopen(path("sleeper"), "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nsleep 60.4321 &\nwait\n", f);
    fclose(f);
    f = fopen(path("spinner"), "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nwhile :; do :; done\n", f);
    fclose(f);
    assert_int_equal(sh_status("chmod +x %s %s", path("sleeper"), path("spinner")), 0);

    struct ims_convert_request req = {
        .input = path("src.raw"),
        .input_format = IMS_FORMAT_RAW,
        .output_format = IMS_CONVERT_QCOW2,
        .tmp_dir = tmp,
        .qemu_img = path("sleeper"),
        .limits = { .wall_seconds = 1 },
    };
    int64_t t0 = ims_mono_us();
    expect_failure(&req, IMS_E_TOOLARGE, IMS_CONVERT_TIMED_OUT);
    int64_t took = ims_mono_us() - t0;
    assert_true(took >= 1000000 && took < 5000000);
    /* the sleeper's own child went with it */
    assert_int_not_equal(sh_status("pgrep -f '^sleep 60.4321$' >/dev/null"), 0);

    struct watch w = { .cancel_after_polls = 3 };
    req.limits.wall_seconds = 0;
    req.cancelled = on_cancel;
    req.ctx = &w;
    t0 = ims_mono_us();
    expect_failure(&req, IMS_E_CONFLICT, IMS_CONVERT_CANCELLED);
    assert_true(ims_mono_us() - t0 < 3000000);

    req.cancelled = NULL;
    req.qemu_img = path("spinner");
    req.limits.cpu_seconds = 1;
    t0 = ims_mono_us();
    expect_failure(&req, IMS_E_TOOLARGE, IMS_CONVERT_CPU_LIMIT);
    assert_true(ims_mono_us() - t0 < 10000000);
}

/* The arguments a stand-in qemu-img was given, converting into out_dir
 * (read_after: the request's). */
static void recorded_args_with(const char *out_dir, bool read_after, char *args, size_t cap)
{
    FILE *f = fopen(path("recorder"), "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho \"$*\" > %s\n", path("args"));
    fclose(f);
    assert_int_equal(sh_status("chmod +x %s", path("recorder")), 0);
    struct ims_convert_request req = {
        .input = path("src.raw"), .input_format = IMS_FORMAT_RAW, .output_format = IMS_CONVERT_QCOW2,
        .tmp_dir = out_dir, .qemu_img = path("recorder"), .read_after = read_after,
    };
    char *out = NULL;
    struct ims_err err = {0};
    assert_int_equal(ims_convert(&req, &out, NULL, &err), IMS_OK);
    unlink(out);
    free(out);
    f = fopen(path("args"), "r");
    assert_non_null(f);
    assert_non_null(fgets(args, (int)cap, f));
    fclose(f);
}

static void recorded_args(const char *out_dir, char *args, size_t cap)
{
    recorded_args_with(out_dir, false, args, cap);
}

static void test_output_past_the_page_cache(void **state)
{
    /* -t none (O_DIRECT) exactly where the output's file system takes it:
     * the test's directory (ext4, xfs, btrfs do), and /dev/shm (tmpfs:
     * only since Linux 6.6) */
    char args[1024], shm[] = "/dev/shm/ims-test-convert-XXXXXX";
    recorded_args(tmp, args, sizeof(args));
    assert_non_null(strstr(args, dir_takes_o_direct(tmp) ? "convert -p -t none -f raw -O qcow2 " : "convert -p -f raw -O qcow2 "));
    if (!mkdtemp(shm))
        skip();
    recorded_args(shm, args, sizeof(args));
    bool shm_direct = dir_takes_o_direct(shm);
    rmdir(shm);
    assert_non_null(strstr(args, shm_direct ? "convert -p -t none -f raw -O qcow2 " : "convert -p -f raw -O qcow2 "));
}

static void test_output_read_after_through_the_page_cache(void **state)
{
    /* an output read once right after (a put to S3) is left to qemu-img's
     * default cache, even where O_DIRECT is possible */
    char args[1024];
    recorded_args_with(tmp, true, args, sizeof(args));
    assert_non_null(strstr(args, "convert -p -f raw -O qcow2 "));
    assert_null(strstr(args, "-t "));
}

static void test_names(void **state)
{
    static const struct {
        const char *name;
        enum ims_convert_format f;
        const char *disk_format;
    } names[] = {
        { "qcow2", IMS_CONVERT_QCOW2, "qcow2" }, { "raw", IMS_CONVERT_RAW, "raw" },
        { "vhd", IMS_CONVERT_VHD, "vhd" },       { "zvhd", IMS_CONVERT_VHD, "vhd" },
        { "ZVHD2", IMS_CONVERT_VHD, "vhd" },     { "vmdk", IMS_CONVERT_VMDK, "vmdk" },
        { "vhdx", IMS_CONVERT_VHDX, "vhdx" },
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(names); i++) {
        enum ims_convert_format f = 99;
        assert_true(ims_convert_format_parse(names[i].name, &f));
        assert_int_equal(f, names[i].f);
        assert_string_equal(ims_convert_format_name(f), names[i].disk_format);
    }
    enum ims_convert_format f;
    assert_false(ims_convert_format_parse("iso", &f));
    assert_false(ims_convert_format_parse("qed", &f));
    assert_false(ims_convert_format_parse(NULL, &f));
}

static void test_inspect_file(void **state)
{
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    assert_int_equal(ims_image_inspect_file(path("src.qcow2"), NULL, "raw", &info, &why, &err), IMS_E_BADREQ);
    assert_int_equal(why, IMS_FORMAT_R_MISMATCH);
    assert_int_equal(ims_image_inspect_file(dir, NULL, NULL, &info, &why, &err), IMS_E_IO);
    assert_int_equal(why, IMS_FORMAT_R_READ);
    assert_null(strstr(err.msg, dir));
    assert_int_equal(ims_image_inspect_file(path("src.qcow2"), NULL, "qcow2", &info, &why, &err), IMS_OK);
    assert_int_equal(info.virtual_size, 16 << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_identical),
        cmocka_unit_test(test_every_input_format),
        cmocka_unit_test(test_failures_leave_nothing),
        cmocka_unit_test(test_limits_and_cancellation_kill),
        cmocka_unit_test(test_output_past_the_page_cache),
        cmocka_unit_test(test_output_read_after_through_the_page_cache),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_inspect_file),
    };
    return cmocka_run_group_tests_name("convert", tests, setup, teardown);
}
