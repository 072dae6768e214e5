/* SPDX-License-Identifier: Apache-2.0
 * imsctl metadefs load DIR: the namespaces of a directory of JSON files in
 * Glance's format (one namespace per file, as glance-manage
 * db_load_metadefs reads them), each parsed by the API's own parser and
 * created as the local administrator would through the API. */
#include "ctl_metadefs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ims/metadefs.h"
#include "ims/service.h"

#include "ctl_service.h"

#define FILE_MAX (1024 * 1024) /* the API's body cap: a file the API could not take is refused too */

void imsctl_metadefs_usage(FILE *out)
{
    fprintf(out, "  metadefs load DIR [--overwrite]      load the metadata definition namespaces of DIR/*.json\n"
                 "                                       (Glance's format); existing ones are kept unless --overwrite\n");
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The file's bytes (NUL-terminated), NULL with a message on stderr. */
static char *read_file(int dirfd, const char *name, size_t *ret_len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
        fprintf(stderr, "imsctl: %s: not a regular file of at most %d bytes\n", name, FILE_MAX);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *data = ims_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    data[got] = 0;
    *ret_len = got;
    return data;
}

static int load(struct ims_service *svc, const char *dir, bool overwrite)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "imsctl: cannot read directory %s\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = ims_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = ims_xstrdup(e->d_name);
    }
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    int status = 0;
    size_t loaded = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *data = read_file(dirfd(d), names[i], &len);
        struct ims_md_doc doc;
        struct ims_err err = {0};
        enum ims_rc rc = data ? ims_md_doc_parse(data, len, &doc, &err) : IMS_E_IO;
        free(data);
        if (rc == IMS_OK) {
            bool skip = false;
            rc = ims_md_load(svc, &doc, overwrite, &skip, &err);
            if (rc == IMS_OK && skip) {
                printf("skipped %s (%s: it exists; --overwrite replaces it)\n", doc.ns.name, names[i]);
                skipped++;
            } else if (rc == IMS_OK) {
                printf("loaded %s (%s): %zu properties, %zu objects, %zu tags, %zu resource types\n", doc.ns.name,
                       names[i], doc.nprops, doc.nobjects, doc.ntags, doc.nassocs);
                loaded++;
            }
            ims_md_doc_release(&doc);
        }
        if (rc != IMS_OK) {
            if (rc != IMS_E_IO || err.msg[0])
                fprintf(stderr, "imsctl: %s: %s\n", names[i], err.msg);
            status = 1;
        }
        free(names[i]);
    }
    free(names);
    closedir(d);
    printf("%zu loaded, %zu skipped, %s\n", loaded, skipped, status ? "some files refused" : "no file refused");
    return status;
}

int imsctl_metadefs(const struct ims_config *cfg, int argc, char **argv)
{
    const char *dir = NULL;
    bool overwrite = false, help = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--overwrite"))
            overwrite = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            help = true;
        else if (!dir && argv[i][0] != '-')
            dir = argv[i];
        else {
            fprintf(stderr, "imsctl: unexpected argument '%s' (see imsctl metadefs load --help)\n", argv[i]);
            return 2;
        }
    }
    if (argc < 1 || strcmp(argv[0], "load")) {
        fprintf(stderr, "imsctl: unknown command 'metadefs %s'\n", argc ? argv[0] : "");
        return 2;
    }
    if (help) {
        printf("Usage: imsctl metadefs load DIR [--overwrite]\n\n"
               "Loads every DIR/*.json, each one metadata definition namespace in Glance's format (what\n"
               "GET /v2/metadefs/namespaces/{ns} shows: namespace, display_name, description, visibility,\n"
               "protected, owner, resource_type_associations, properties, objects, tags). A namespace without an\n"
               "owner belongs to the admin project. One that exists is left as it is, unless --overwrite, which\n"
               "replaces it with all it holds. A file the API would refuse is refused, naming the member; the\n"
               "others load. Exit status 1 if any file was refused.\n");
        return 0;
    }
    if (!dir) {
        fprintf(stderr, "imsctl: 'metadefs load' takes a directory; usage: imsctl metadefs load DIR [--overwrite]\n");
        return 2;
    }
    struct ctl_service cs;
    if (ctl_service_open(cfg, &cs))
        return 1;
    int status = load(cs.svc, dir, overwrite);
    ctl_service_close(&cs);
    return status;
}
