/* SPDX-License-Identifier: Apache-2.0
 * Internals the libvirt source's files share (libvirt.c reads domains,
 * libvirt_backup.c backs running ones up): libvirt's errors as results,
 * XPath over a domain's XML, volume ids. */
#ifndef IMS_COMPUTE_LIBVIRT_INT_H
#define IMS_COMPUTE_LIBVIRT_INT_H

#include <libxml/xpath.h>

#include "compute-int.h"

/* IMS_E_IO naming what failed and libvirt's last error. */
enum ims_rc ims_lv_fail(struct ims_err *err, const char *what);
/* The text of the first node expr selects (owned), NULL when none or empty. */
char *ims_lv_xpath_string(xmlXPathContextPtr ctx, const char *expr);
/* Parses a domain's (or libvirt's) XML: no network, no entities; NULL when
 * it does not parse. */
xmlDocPtr ims_lv_parse(const char *xml);
/* A stable UUID-shaped id for the disk at target of the domain. */
void ims_lv_volume_id(const char *domain_uuid, const char *target, char out[IMS_COMPUTE_ID_CAP]);

/* ---- libvirt_backup.c: running domains ---- */
/* IMS_OK when the hypervisor behind uri can back the domain up while it
 * runs (libvirt's backup API); IMS_E_BADREQ with IMG.0008 when it cannot. */
enum ims_rc ims_lv_backup_check(const char *uri, const char *domain_uuid, struct ims_err *err);
/* Backs the running domain srv up through libvirt's backup API (push
 * mode): the hypervisor writes each volume i of srv, as of one instant for
 * all, to the raw file paths[i] (absolute; must not exist), and returns
 * once it has; the files are fsynced. IMS_E_BADREQ (IMG.0008) when the
 * hypervisor cannot, IMS_E_CONFLICT when the domain stopped or changed its
 * disks since srv was read, IMS_E_IO when the job failed. */
enum ims_rc ims_lv_backup_push(const char *uri, const struct ims_server *srv, char *const *paths,
                               struct ims_err *err);

#endif
