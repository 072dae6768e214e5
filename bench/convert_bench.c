/* SPDX-License-Identifier: Apache-2.0
 * What imsd's conversion adds to qemu-img (issue 11: a qcow2 -> raw import
 * within 10% of `qemu-img convert` alone). Makes a qcow2 of SIZE_MIB MiB
 * (half random data, half holes), then converts it to raw ROUNDS times
 * each way, interleaved: plain `qemu-img convert -f qcow2 -O raw` started
 * with posix_spawn, and ims_convert (inspection first, then qemu-img with
 * -p, limits, the poll loop and progress callbacks). Prints the medians
 * and their ratio (plain / imsd: 1.0 = as fast).
 *
 *     build/convert_bench [SIZE_MIB [ROUNDS]]     (TMPDIR: where files go)
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ims/convert.h"

extern char **environ;

static int run(char *const argv[])
{
    pid_t pid;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static unsigned progress_calls;
static void on_progress(void *ctx, unsigned pct) { progress_calls++; }

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 1024;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (mib < 2 || rounds < 1 || rounds > 50)
        return 2;
    ims_log_set_level(IMS_LOG_ERROR);
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *dir = ims_xasprintf("%s/imsd-convert-bench-XXXXXX", base);
    if (!mkdtemp(dir))
        return 1;
    char *raw = ims_xasprintf("%s/src.raw", dir), *qcow2 = ims_xasprintf("%s/src.qcow2", dir);
    char *plain_out = ims_xasprintf("%s/plain.raw", dir);

    /* the source: random MiBs and holes, alternating */
    int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0600), rnd = open("/dev/urandom", O_RDONLY);
    char *buf = ims_xmalloc(1 << 20);
    for (long i = 0; i < mib; i += 2) {
        if (read(rnd, buf, 1 << 20) != 1 << 20 || pwrite(fd, buf, 1 << 20, (off_t)i << 20) != 1 << 20)
            return 1;
    }
    if (ftruncate(fd, (off_t)mib << 20) != 0)
        return 1;
    close(fd);
    close(rnd);
    free(buf);
    char *mk[] = { "/usr/bin/qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2, NULL };
    if (run(mk) != 0)
        return 1;
    unlink(raw);

    int64_t *plain = ims_xcalloc((size_t)rounds, sizeof(int64_t)), *ours = ims_xcalloc((size_t)rounds, sizeof(int64_t));
    char *cv[] = { "/usr/bin/qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2, plain_out, NULL };
    for (int r = 0; r < rounds; r++) {
        for (int turn = 0; turn < 2; turn++) {
            bool ours_now = (turn == 0) == (r % 2 == 0); /* alternate who goes first */
            int64_t t0 = ims_mono_us();
            if (!ours_now) {
                if (run(cv) != 0)
                    return 1;
                plain[r] = ims_mono_us() - t0;
                unlink(plain_out);
                continue;
            }
            struct ims_format_info info;
            enum ims_format_refusal why;
            struct ims_err err = { 0 };
            if (ims_image_inspect_file(qcow2, NULL, "qcow2", &info, &why, &err) != IMS_OK)
                return 1;
            struct ims_convert_request req = { .input = qcow2, .input_format = info.format,
                                               .output_format = IMS_CONVERT_RAW, .tmp_dir = dir,
                                               .progress = on_progress };
            char *out = NULL;
            if (ims_convert(&req, &out, NULL, &err) != IMS_OK) {
                fprintf(stderr, "convert_bench: %s\n", err.msg);
                return 1;
            }
            ours[r] = ims_mono_us() - t0;
            unlink(out);
            free(out);
        }
    }
    qsort(plain, (size_t)rounds, sizeof(int64_t), cmp_i64);
    qsort(ours, (size_t)rounds, sizeof(int64_t), cmp_i64);
    double p = plain[rounds / 2] / 1e6, o = ours[rounds / 2] / 1e6;
    printf("convert_bench: qcow2 -> raw, %ld MiB (half data), %d rounds interleaved, medians\n", mib, rounds);
    printf("  qemu-img convert alone  %.3f s\n  ims_convert            %.3f s (%u progress callbacks in all)\n", p, o,
           progress_calls);
    printf("  ratio plain/imsd       %.2f (target >= 0.91: within 10%%)\n", p / o);
    unlink(qcow2);
    rmdir(dir);
    return 0;
}
