/* SPDX-License-Identifier: Apache-2.0
 * The supported OS versions (__os_version values) as data: data/os_versions.tsv,
 * compiled into the library by the Makefile. One table serves GET
 * /v1/cloudimages/os_version and the __os_version check at image creation.
 * Pure: no I/O. */
#ifndef IMS_OS_VERSION_H
#define IMS_OS_VERSION_H

#include "ims/base.h"
#include "ims/kv.h"

struct ims_os_version {
    char *platform;   /* the __platform value: "CentOS", "Red Hat", "Other", ... */
    char *os_version; /* "CentOS 7.6 64bit" */
    char *os_type;    /* Linux | Windows | Other */
    char *tags;       /* comma list: x86, arm, uefi, bms */
    int os_bit;       /* 32 | 64 */
};

struct ims_os_table {
    struct ims_os_version *v;
    size_t n;
};

/* Parses the TSV (header line "platform\tos_version\tos_bit\tos_type\ttags",
 * '#' comments, blank lines ignored). IMS_E_BADREQ names the bad line. */
enum ims_rc ims_os_table_parse(const char *tsv, struct ims_os_table *ret, struct ims_err *err);
void ims_os_table_release(struct ims_os_table *t);
/* The built-in table (parsed once, never freed). */
const struct ims_os_table *ims_os_table_builtin(void);
const struct ims_os_version *ims_os_table_find(const struct ims_os_table *t, const char *os_version);
bool ims_os_version_has_tag(const struct ims_os_version *v, const char *tag);
/* Image creation: when props hold __os_version it must be in the built-in
 * table (else IMS_E_BADREQ, IMG.0056), and __platform, __os_type and
 * __os_bit are set from the table. */
enum ims_rc ims_os_version_fill(struct ims_kvlist *props, struct ims_err *err);

#endif
