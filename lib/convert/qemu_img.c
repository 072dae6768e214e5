/* SPDX-License-Identifier: Apache-2.0
 * qemu-img convert as a child process. fork + execve of an argument
 * vector (no shell, a fixed environment), the input format always explicit
 * (-f: qemu-img never probes an untrusted file), limits set in the child
 * before exec (CPU, address space, output size, no core), its own process
 * group so a kill reaches all of it, signals reset (imsd blocks SIGTERM and
 * ignores SIGPIPE; both would survive exec). The parent reads progress
 * ("(12.34/100%)\r" on stdout, -p) and the tail of stderr with poll, and
 * kills the group on the wall-clock limit or cancellation. It also polls a
 * pidfd of the child, so its exit is seen at once (a poll timeout there
 * cost up to 100 ms per conversion). The child dies with imsd: it asks for
 * SIGKILL when its parent goes (PR_SET_PDEATHSIG, checked against the race
 * with a parent that died before the call), so a killed imsd leaves no
 * qemu-img writing into a temporary file that recovery removes.
 *
 * The output is written past the page cache (-t none: O_DIRECT) where its
 * file system takes O_DIRECT: qemu-img's writes reach the disk while it
 * reads, so the fsync that follows (the store adopting the file, the
 * embedded object storage putting it) has nothing left to flush, instead
 * of the whole image at once behind whatever else the host is writing
 * (bench/README.md, Run AH). Where O_DIRECT is refused (tmpfs before
 * Linux 6.6, some network file systems) qemu-img keeps its default. An
 * output the caller reads right after and removes (req->read_after: an
 * export put to S3) is written through the page cache instead, qemu-img's
 * default (no flush: a temporary file), so that read costs no disk read
 * and the pages dropped with the file may never reach the disk
 * (bench/README.md, Run S3Q). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ims/convert.h"

#define DEFAULT_QEMU_IMG "/usr/bin/qemu-img"
#define DEFAULT_CPU_SECONDS 3600u
#define DEFAULT_MEMORY (2ull << 30)
#define DEFAULT_WALL_SECONDS 14400u
#define POLL_MS 100

static const struct {
    const char *name;
    enum ims_convert_format format;
} export_names[] = {
    { "raw", IMS_CONVERT_RAW },   { "qcow2", IMS_CONVERT_QCOW2 }, { "vhd", IMS_CONVERT_VHD },
    { "zvhd", IMS_CONVERT_VHD },  { "zvhd2", IMS_CONVERT_VHD },   { "vhdx", IMS_CONVERT_VHDX },
    { "vmdk", IMS_CONVERT_VMDK },
};

bool ims_convert_format_parse(const char *name, enum ims_convert_format *out)
{
    for (size_t i = 0; name && i < IMS_ARRAY_SIZE(export_names); i++) {
        if (strcasecmp(name, export_names[i].name) == 0) {
            *out = export_names[i].format;
            return true;
        }
    }
    return false;
}

const char *ims_convert_format_name(enum ims_convert_format f)
{
    switch (f) {
    case IMS_CONVERT_RAW: return "raw";
    case IMS_CONVERT_QCOW2: return "qcow2";
    case IMS_CONVERT_VHD: return "vhd";
    case IMS_CONVERT_VHDX: return "vhdx";
    case IMS_CONVERT_VMDK:
    case IMS_CONVERT_VMDK_STREAM: return "vmdk";
    }
    return "raw";
}

/* qemu-img's -O name and -o options for an output format. */
static void output_args(enum ims_convert_format f, const char **name, const char **opts)
{
    *opts = NULL;
    *name = "raw";
    switch (f) {
    case IMS_CONVERT_RAW: *name = "raw"; break;
    case IMS_CONVERT_QCOW2: *name = "qcow2", *opts = "compat=1.1"; break;
    /* force_size: the disk is exactly the source's size, not rounded up to a CHS geometry */
    case IMS_CONVERT_VHD: *name = "vpc", *opts = "subformat=dynamic,force_size=on"; break;
    case IMS_CONVERT_VHDX: *name = "vhdx", *opts = "subformat=dynamic"; break;
    case IMS_CONVERT_VMDK: *name = "vmdk", *opts = "subformat=monolithicSparse"; break;
    case IMS_CONVERT_VMDK_STREAM: *name = "vmdk", *opts = "subformat=streamOptimized"; break;
    }
}

/* Progress: the number in the last complete "(NN.NN/100%)". */
struct progress {
    char buf[32];
    size_t len;
    bool open;
    int last; /* last percent reported, -1 before the first */
};

static void progress_feed(struct progress *p, const char *data, size_t n, const struct ims_convert_request *req)
{
    for (size_t i = 0; i < n; i++) {
        char ch = data[i];
        if (ch == '(') {
            p->open = true;
            p->len = 0;
        } else if (p->open && ch == ')') {
            p->open = false;
            p->buf[p->len] = 0;
            char *end = NULL;
            double v = strtod(p->buf, &end);
            if (end != p->buf && strcmp(end, "/100%") == 0 && v >= 0 && v <= 100) {
                int pct = (int)v;
                if (pct > p->last) {
                    p->last = pct;
                    if (req->progress)
                        req->progress(req->ctx, (unsigned)pct);
                }
            }
        } else if (p->open) {
            if (p->len + 1 < sizeof(p->buf))
                p->buf[p->len++] = ch;
            else
                p->open = false;
        }
    }
}

/* Keeps the last bytes of stderr, NUL-terminated. */
static void tail_feed(char *tail, size_t cap, const char *data, size_t n)
{
    size_t have = strlen(tail);
    if (n >= cap - 1) {
        memcpy(tail, data + n - (cap - 1), cap - 1);
        tail[cap - 1] = 0;
        return;
    }
    if (have + n > cap - 1) {
        size_t drop = have + n - (cap - 1);
        memmove(tail, tail + drop, have - drop);
        have -= drop;
    }
    memcpy(tail + have, data, n);
    tail[have + n] = 0;
}

/* qemu-img names the extent in a VMDK's embedded descriptor after the
 * output file: the temporary name, with this host and pid in it. An
 * exported VMDK should say neither, and the inspector refuses the ':' in
 * it (a protocol prefix in other descriptors), so the name becomes
 * "disk.vmdk". The descriptor is text in its own sectors after the header;
 * the new line is shorter and the rest stays NUL padding. */
static bool vmdk_rename_extent(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = false;
    uint8_t h[512];
    char *desc = NULL;
    if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "KDMV", 4) != 0)
        goto out;
    uint64_t off = 0, sectors = 0;
    for (int i = 7; i >= 0; i--) {
        off = off << 8 | h[28 + i];
        sectors = sectors << 8 | h[36 + i];
    }
    if (off == 0 || sectors == 0 || sectors > 128)
        goto out;
    size_t len = (size_t)sectors * 512;
    desc = ims_xcalloc(1, len + 1);
    if (pread(fd, desc, len, (off_t)(off * 512)) != (ssize_t)len)
        goto out;
    char *sparse = strstr(desc, " SPARSE \"");
    char *name = sparse ? sparse + 9 : NULL;
    char *end = name ? strchr(name, '"') : NULL;
    static const char clean[] = "disk.vmdk";
    if (!end || (size_t)(end - name) < strlen(clean))
        goto out;
    size_t rest = strlen(end);
    memmove(name + strlen(clean), end, rest + 1);
    memcpy(name, clean, strlen(clean));
    size_t used = strlen(desc);
    memset(desc + used, 0, len - used);
    ok = pwrite(fd, desc, len, (off_t)(off * 512)) == (ssize_t)len;
out:
    free(desc);
    close(fd);
    return ok;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child(pid_t parent, const char *prog, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
      const struct rlimit *cpu, const struct rlimit *as, const struct rlimit *fsize)
{
    setpgid(0, 0);
    /* Killed when the thread that forked it ends (it waits for the child,
     * so that is when imsd dies). A parent gone before the call leaves the
     * child reparented: getppid() tells, and it stops here. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(126);
    static const int reset[] = { SIGPIPE, SIGXCPU, SIGXFSZ, SIGTERM, SIGINT, SIGHUP, SIGCHLD };
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(reset); i++)
        sigaction(reset[i], &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct rlimit zero = { 0, 0 };
    if (setrlimit(RLIMIT_CPU, cpu) != 0 || setrlimit(RLIMIT_AS, as) != 0 || setrlimit(RLIMIT_CORE, &zero) != 0 ||
        (fsize && setrlimit(RLIMIT_FSIZE, fsize) != 0))
        _exit(126);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    close_range(3, ~0u, 0);
    execve(prog, argv, envp);
    _exit(127);
}

static enum ims_rc not_run(struct ims_convert_outcome *o, struct ims_err *err, enum ims_rc rc, const char *what)
{
    o->end = IMS_CONVERT_NOT_RUN;
    return ims_fail(err, rc, "image conversion could not start: %s", what);
}

enum ims_rc ims_convert(const struct ims_convert_request *req, char **out_path, struct ims_convert_outcome *outcome,
                        struct ims_err *err)
{
    struct ims_convert_outcome local;
    struct ims_convert_outcome *o = outcome ? outcome : &local;
    memset(o, 0, sizeof(*o));
    o->exit_status = -1;
    const char *in_fmt = ims_format_qemu_name(req->input_format);
    if (!req->input || req->input[0] != '/' || !req->tmp_dir || req->tmp_dir[0] != '/')
        return not_run(o, err, IMS_E_INTERNAL, "paths must be absolute");
    if (!*in_fmt)
        return not_run(o, err, IMS_E_INTERNAL, "the input format is unknown");
    const char *prog = req->qemu_img ? req->qemu_img : DEFAULT_QEMU_IMG;
    const char *out_fmt, *out_opts;
    output_args(req->output_format, &out_fmt, &out_opts);

    /* The output's name is taken with O_EXCL before qemu-img opens it. */
    char id[IMS_UUID_LEN + 1];
    ims_uuid_new(id);
    _cleanup_free_ char *path = ims_xasprintf("%s/%s.%s.part", req->tmp_dir, id, ims_process_owner());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        ims_warn("convert: cannot create %s: %s", path, strerror(errno));
        return not_run(o, err, IMS_E_IO, "cannot create the output file");
    }
    close(fd);
    bool direct = false;
    if (!req->read_after) {
        int probe = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
        direct = probe >= 0;
        if (probe >= 0)
            close(probe);
    }

    const char *argv[16];
    size_t argc = 0;
    argv[argc++] = prog;
    argv[argc++] = "convert";
    argv[argc++] = "-p";
    if (direct) {
        argv[argc++] = "-t";
        argv[argc++] = "none";
    }
    argv[argc++] = "-f";
    argv[argc++] = in_fmt;
    argv[argc++] = "-O";
    argv[argc++] = out_fmt;
    if (out_opts) {
        argv[argc++] = "-o";
        argv[argc++] = out_opts;
    }
    argv[argc++] = req->input;
    argv[argc++] = path;
    argv[argc] = NULL;
    /* A fixed environment: nothing of imsd's reaches qemu-img. Two malloc
     * arenas keep its address space small under RLIMIT_AS. */
    static const char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", "MALLOC_ARENA_MAX=2", NULL };

    unsigned cpu_s = req->limits.cpu_seconds ? req->limits.cpu_seconds : DEFAULT_CPU_SECONDS;
    uint64_t mem = req->limits.memory_bytes ? req->limits.memory_bytes : DEFAULT_MEMORY;
    unsigned wall_s = req->limits.wall_seconds ? req->limits.wall_seconds : DEFAULT_WALL_SECONDS;
    /* SIGXCPU at the soft limit, SIGKILL a little later if it is caught */
    struct rlimit cpu = { cpu_s, (rlim_t)cpu_s + 5 };
    struct rlimit as = { (rlim_t)mem, (rlim_t)mem };
    struct rlimit fsize = { (rlim_t)req->limits.max_output_size, (rlim_t)req->limits.max_output_size };

    int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        int e = errno;
        if (devnull >= 0)
            close(devnull);
        for (int i = 0; i < 2; i++) {
            if (out_pipe[i] >= 0)
                close(out_pipe[i]);
            if (err_pipe[i] >= 0)
                close(err_pipe[i]);
        }
        unlink(path);
        ims_warn("convert: pipes: %s", strerror(e));
        return not_run(o, err, IMS_E_INTERNAL, "cannot set up the child process");
    }
    int64_t start = ims_mono_us();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child(parent, prog, (char *const *)argv, (char *const *)envp, devnull, out_pipe[1], err_pipe[1], &cpu, &as,
              req->limits.max_output_size ? &fsize : NULL);
    int fork_errno = errno;
    close(devnull);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (pid < 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        unlink(path);
        ims_warn("convert: fork: %s", strerror(fork_errno));
        return not_run(o, err, IMS_E_INTERNAL, "cannot start qemu-img");
    }
    /* Also in the parent, so a kill cannot race the child's own setpgid. */
    setpgid(pid, pid);

    /* readable when the child exits; -1 on kernels without pidfds (short sleeps then) */
    int pidfd = pidfd_open(pid, 0);
    struct pollfd fds[3] = { { out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 }, { pidfd, POLLIN, 0 } };
    struct progress prog_state = { .last = -1 };
    enum ims_convert_end killed_for = IMS_CONVERT_DONE;
    int status = 0;
    struct rusage ru = {0}; /* the child's CPU time: was a SIGKILL the CPU limit's? */
    bool exited = false;
    int64_t deadline = start + (int64_t)wall_s * 1000000;
    while (!exited) {
        nfds_t open_fds = 0;
        for (int i = 0; i < 2; i++)
            open_fds += fds[i].fd >= 0;
        if (open_fds || pidfd >= 0) {
            int n = poll(fds, 3, POLL_MS);
            if (n < 0 && errno != EINTR)
                break;
            for (int i = 0; i < 2 && n > 0; i++) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                char buf[4096];
                ssize_t r = read(fds[i].fd, buf, sizeof(buf));
                if (r > 0 && i == 0)
                    progress_feed(&prog_state, buf, (size_t)r, req);
                else if (r > 0)
                    tail_feed(o->stderr_tail, sizeof(o->stderr_tail), buf, (size_t)r);
                else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                    close(fds[i].fd);
                    fds[i].fd = -1; /* poll ignores negative fds */
                }
            }
        } else {
            poll(NULL, 0, 5);
        }
        if (killed_for == IMS_CONVERT_DONE) {
            if (ims_mono_us() > deadline)
                killed_for = IMS_CONVERT_TIMED_OUT;
            else if (req->cancelled && req->cancelled(req->ctx))
                killed_for = IMS_CONVERT_CANCELLED;
            if (killed_for != IMS_CONVERT_DONE)
                kill(-pid, SIGKILL);
        }
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid)
            exited = true;
        else if (w < 0 && errno != EINTR)
            break;
    }
    if (!exited) {
        kill(-pid, SIGKILL);
        pid_t w;
        while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
            ;
        /* never reaped (SIGCHLD ignored by someone?): no status to trust */
        if (w != pid) {
            status = W_EXITCODE(0, SIGKILL);
            if (killed_for == IMS_CONVERT_DONE)
                killed_for = IMS_CONVERT_SIGNALLED;
        }
    }
    /* what is left in the pipes after the exit */
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd < 0)
            continue;
        char buf[4096];
        ssize_t r;
        while ((r = read(fds[i].fd, buf, sizeof(buf))) > 0) {
            if (i == 0)
                progress_feed(&prog_state, buf, (size_t)r, req);
            else
                tail_feed(o->stderr_tail, sizeof(o->stderr_tail), buf, (size_t)r);
        }
        close(fds[i].fd);
    }
    if (pidfd >= 0)
        close(pidfd);
    o->elapsed_ms = (ims_mono_us() - start) / 1000;

    enum ims_rc rc;
    if (WIFEXITED(status)) {
        o->exit_status = WEXITSTATUS(status);
        o->end = o->exit_status == 0 && killed_for == IMS_CONVERT_DONE ? IMS_CONVERT_DONE
                 : killed_for != IMS_CONVERT_DONE                       ? killed_for
                                                                         : IMS_CONVERT_FAILED;
    } else if (WIFSIGNALED(status)) {
        o->signal = WTERMSIG(status);
        if (killed_for != IMS_CONVERT_DONE)
            o->end = killed_for;
        else if (o->signal == SIGXCPU || (o->signal == SIGKILL && ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1 >=
                                                                   (time_t)cpu_s))
            o->end = IMS_CONVERT_CPU_LIMIT; /* the soft limit's signal, or the hard limit's kill */
        else if (o->signal == SIGKILL || o->signal == SIGTERM)
            o->end = IMS_CONVERT_KILLED; /* by someone else: an operator, the OOM killer */
        else if (o->signal == SIGXFSZ)
            o->end = IMS_CONVERT_FSIZE_LIMIT;
        else
            o->end = IMS_CONVERT_SIGNALLED;
    } else {
        o->end = IMS_CONVERT_SIGNALLED;
    }

    switch (o->end) {
    case IMS_CONVERT_DONE:
        rc = IMS_OK;
        if ((req->output_format == IMS_CONVERT_VMDK || req->output_format == IMS_CONVERT_VMDK_STREAM) &&
            !vmdk_rename_extent(path))
            rc = ims_fail(err, IMS_E_IO, "the converted VMDK could not be finished");
        break;
    case IMS_CONVERT_FAILED:
        if (o->exit_status == 127 || o->exit_status == 126)
            rc = ims_fail(err, IMS_E_INTERNAL, "image conversion could not run qemu-img");
        else if (strstr(o->stderr_tail, "No space left on device") || strstr(o->stderr_tail, "Disk quota exceeded"))
            rc = ims_fail_code(err, IMS_E_IO, "IMG.0061", "No space is left for the converted image.");
        else if (req->limits.max_output_size && strstr(o->stderr_tail, "File too large")) {
            /* qemu-img ignores SIGXFSZ: the limit shows as EFBIG */
            o->end = IMS_CONVERT_FSIZE_LIMIT;
            rc = ims_fail(err, IMS_E_TOOLARGE, "the converted image exceeds the size limit");
        } else
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "the image file could not be converted");
        break;
    case IMS_CONVERT_TIMED_OUT:
        rc = ims_fail(err, IMS_E_TOOLARGE, "image conversion exceeded its time limit of %u s", wall_s);
        break;
    case IMS_CONVERT_CPU_LIMIT:
        rc = ims_fail(err, IMS_E_TOOLARGE, "image conversion exceeded its CPU time limit of %u s", cpu_s);
        break;
    case IMS_CONVERT_FSIZE_LIMIT:
        rc = ims_fail(err, IMS_E_TOOLARGE, "the converted image exceeds the size limit");
        break;
    case IMS_CONVERT_CANCELLED:
        rc = ims_fail(err, IMS_E_CONFLICT, "image conversion was cancelled");
        break;
    case IMS_CONVERT_KILLED:
        rc = ims_fail_code(err, IMS_E_IO, "IMG.0061", "The image conversion was killed (signal %d) before it finished.",
                           o->signal);
        break;
    default:
        rc = ims_fail(err, IMS_E_TOOLARGE, "image conversion stopped (signal %d; memory limit?)", o->signal);
        break;
    }
    if (rc != IMS_OK) {
        unlink(path);
        ims_warn("convert: qemu-img %s -> %s of %s failed after %lld ms (exit %d, signal %d): %s", in_fmt, out_fmt,
                 req->input, (long long)o->elapsed_ms, o->exit_status, o->signal, o->stderr_tail);
        return rc;
    }
    if (req->progress && prog_state.last < 100)
        req->progress(req->ctx, 100);
    *out_path = IMS_TAKE_PTR(path);
    return IMS_OK;
}
