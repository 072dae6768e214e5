/* SPDX-License-Identifier: Apache-2.0
 * `imsctl obs ...`: the configured object storage from the command line,
 * so users can put image files where imports find them and fetch exports.
 * Needs no database: only [obs] (and the data dir for the embedded one). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/backends.h"
#include "ctl_obs.h"

void imsctl_obs_usage(FILE *out)
{
    fprintf(out,
            "  obs mb BUCKET                        create a bucket in the object storage ([obs])\n"
            "  obs ls BUCKET [PREFIX] [--page-size N]\n"
            "                                       list objects: size, modified (UTC), name (asking for\n"
            "                                       N at a time, at most 1000)\n"
            "  obs put BUCKET OBJECT FILE           store FILE as OBJECT (replacing it)\n"
            "  obs put BUCKET OBJECT - --size N     store N bytes from stdin as OBJECT (fewer: nothing stored)\n"
            "  obs get BUCKET OBJECT FILE [--offset N] [--length N]\n"
            "                                       fetch OBJECT, or N bytes of it from offset N, into\n"
            "                                       FILE (- = stdout)\n"
            "  obs cp BUCKET OBJECT TO_BUCKET TO_OBJECT\n"
            "                                       copy OBJECT within the object storage (S3: CopyObject)\n"
            "  obs stat BUCKET OBJECT               print OBJECT's size, ETag and modification time\n"
            "  obs rm BUCKET OBJECT                 remove OBJECT\n"
            "                                       obs exit status: 0 done, 1 failed, 2 usage or invalid\n"
            "                                       name, 3 no such bucket or object, 4 access denied,\n"
            "                                       5 the bucket exists\n");
}

static int status_of(enum ims_obs_rc rc)
{
    switch (rc) {
    case IMS_OBS_OK: return 0;
    case IMS_OBS_BAD_NAME: return 2;
    case IMS_OBS_NO_BUCKET:
    case IMS_OBS_NO_OBJECT: return 3;
    case IMS_OBS_DENIED: return 4;
    case IMS_OBS_EXISTS: return 5;
    default: return 1;
    }
}

static int report(enum ims_obs_rc rc, const struct ims_err *e)
{
    if (rc != IMS_OBS_OK)
        fprintf(stderr, "imsctl: %s: %s\n", ims_obs_rc_name(rc), e->msg);
    return status_of(rc);
}

static int cmd_ls(struct ims_obs *o, const char *bucket, const char *prefix, size_t page)
{
    struct ims_err e = {0};
    char *token = NULL;
    enum ims_obs_rc rc;
    do {
        struct ims_obs_listing l;
        rc = ims_obs_list(o, bucket, prefix, token, page, &l, &e);
        free(token);
        token = NULL;
        if (rc)
            break;
        for (size_t i = 0; i < l.n; i++) {
            char when[21];
            ims_time_iso(l.items[i].mtime, when);
            printf("%12llu  %s  %s\n", (unsigned long long)l.items[i].size, when, l.items[i].key);
        }
        if (l.truncated)
            token = IMS_TAKE_PTR(l.next);
        ims_obs_listing_release(&l);
    } while (token);
    return report(rc, &e);
}

static ssize_t stdin_source(void *ctx, char *buf, size_t max)
{
    (void)ctx;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, max);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

/* A file, or exactly `size` bytes from stdin ("-"): a stream's size must be
 * known before it is sent (S3 takes no upload of unknown length). */
static int cmd_put(struct ims_obs *o, const char *bucket, const char *key, const char *path, const char *size)
{
    struct ims_err e = {0};
    if (!strcmp(path, "-")) {
        int64_t n;
        if (!size || !ims_parse_i64(size, 0, INT64_MAX, &n)) {
            fprintf(stderr, "imsctl: 'obs put BUCKET OBJECT -' needs --size N (the number of bytes on stdin)\n");
            return 2;
        }
        return report(ims_obs_put(o, bucket, key, (uint64_t)n, stdin_source, NULL, &e), &e);
    }
    if (size) {
        fprintf(stderr, "imsctl: --size is for stdin (-) only: a file's size is its own\n");
        return 2;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "imsctl: cannot read %s: %s\n", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    enum ims_obs_rc rc = ims_obs_put_file(o, bucket, key, fd, &e);
    close(fd);
    return report(rc, &e);
}

static bool parse_u64(const char *s, uint64_t *ret)
{
    int64_t v;
    if (!s)
        return true;
    if (!ims_parse_i64(s, 0, INT64_MAX, &v))
        return false;
    *ret = (uint64_t)v;
    return true;
}

/* Into a temporary file beside path, renamed over it when complete: a
 * failed download leaves no partial file behind. */
static int cmd_get(struct ims_obs *o, const char *bucket, const char *key, const char *path, const char *offset,
                   const char *length)
{
    uint64_t off = 0, len = UINT64_MAX;
    if (!parse_u64(offset, &off) || !parse_u64(length, &len)) {
        fprintf(stderr, "imsctl: --offset and --length take a number of bytes\n");
        return 2;
    }
    struct ims_err e = {0};
    if (!strcmp(path, "-"))
        return report(ims_obs_get_file(o, bucket, key, off, len, STDOUT_FILENO, &e), &e);
    char *tmp = ims_xasprintf("%s.%d.part", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "imsctl: cannot create %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return 1;
    }
    enum ims_obs_rc rc = ims_obs_get_file(o, bucket, key, off, len, fd, &e);
    if (!rc && (fsync(fd) || close(fd) || rename(tmp, path))) {
        fprintf(stderr, "imsctl: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return 1;
    }
    if (rc) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return report(rc, &e);
}

int imsctl_obs(const struct ims_config *cfg, int argc, char **argv)
{
    /* words, then --offset/--length for get */
    const char *pos[5] = {0}, *offset = NULL, *length = NULL, *page = NULL, *size = NULL;
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--offset")      ? &offset
                           : !strcmp(argv[i], "--length")    ? &length
                           : !strcmp(argv[i], "--page-size") ? &page
                           : !strcmp(argv[i], "--size")      ? &size
                                                             : NULL;
        if (dst && i + 1 < argc) {
            *dst = argv[++i];
        } else if (dst || !strncmp(argv[i], "--", 2) || npos == (int)IMS_ARRAY_SIZE(pos)) {
            fprintf(stderr, "imsctl: unexpected argument '%s' (see --help)\n", argv[i]);
            return 2;
        } else {
            pos[npos++] = argv[i];
        }
    }
    static const struct {
        const char *verb;
        int min, max;
    } verbs[] = {{"mb", 2, 2}, {"ls", 2, 3}, {"put", 4, 4}, {"get", 4, 4}, {"stat", 3, 3}, {"rm", 3, 3}, {"cp", 5, 5}};
    size_t v = 0;
    while (v < IMS_ARRAY_SIZE(verbs) && !ims_streq(pos[0], verbs[v].verb))
        v++;
    if (v == IMS_ARRAY_SIZE(verbs)) {
        fprintf(stderr, "imsctl: unknown command 'obs %s' (mb, ls, put, get, cp, stat or rm; see --help)\n",
                pos[0] ? pos[0] : "");
        return 2;
    }
    int64_t page_size = IMS_OBS_LIST_MAX;
    if (npos < verbs[v].min || npos > verbs[v].max || ((offset || length) && strcmp(pos[0], "get")) ||
        (page && (strcmp(pos[0], "ls") || !ims_parse_i64(page, 1, IMS_OBS_LIST_MAX, &page_size))) ||
        (size && strcmp(pos[0], "put"))) {
        fprintf(stderr, "imsctl: wrong arguments for 'obs %s' (see --help)\n", pos[0]);
        return 2;
    }
    char err[512];
    struct ims_obs *o;
    if (ims_backends_open_obs(cfg, &o, err, sizeof(err))) {
        fprintf(stderr, "imsctl: %s\n", err);
        return 1;
    }
    struct ims_err e = {0};
    struct ims_obs_info info;
    enum ims_obs_rc rc = IMS_OBS_OK;
    int ret;
    const char *verb = pos[0], *bucket = pos[1], *key = pos[2];
    if (!strcmp(verb, "mb")) {
        ret = report(ims_obs_bucket_create(o, bucket, &e), &e);
    } else if (!strcmp(verb, "ls")) {
        ret = cmd_ls(o, bucket, pos[2] ? pos[2] : "", (size_t)page_size);
    } else if (!strcmp(verb, "put")) {
        ret = cmd_put(o, bucket, key, pos[3], size);
    } else if (!strcmp(verb, "get")) {
        ret = cmd_get(o, bucket, key, pos[3], offset, length);
    } else if (!strcmp(verb, "cp")) {
        ret = report(ims_obs_copy(o, bucket, key, pos[3], pos[4], &e), &e);
    } else if (!strcmp(verb, "stat")) {
        rc = ims_obs_head(o, bucket, key, &info, &e);
        if (!rc) {
            char when[21];
            ims_time_iso(info.mtime, when);
            printf("size: %llu\netag: %s\nmodified: %s\n", (unsigned long long)info.size, info.etag, when);
        }
        ret = report(rc, &e);
    } else {
        /* S3 removes a missing object silently; the command says so */
        rc = ims_obs_head(o, bucket, key, &info, &e);
        if (!rc)
            rc = ims_obs_remove(o, bucket, key, &e);
        ret = report(rc, &e);
    }
    ims_obs_close(o);
    return ret;
}
