/* SPDX-License-Identifier: Apache-2.0
 * core (lib/core/compute_admin.c): the compute source the service runs
 * with, and its administration (imsctl's server/volume/backup commands and
 * the admin API): cloud administrators only, projects that exist. Reads for
 * image creation take the source (ims_compute_of) and ask it for one
 * project's servers, volumes and backups. */
#ifndef IMS_COMPUTE_ADMIN_H
#define IMS_COMPUTE_ADMIN_H

#include "ims/auth.h"
#include "ims/compute.h"
#include "ims/service.h"

/* The configured compute source (never NULL once the service is open). */
struct ims_compute_source *ims_compute_of(struct ims_service *svc);

/* Every call below: p NULL is the local administrator (imsctl); otherwise
 * p must be a cloud administrator (the "admin" role on its project:
 * IMS_E_FORBIDDEN). Writes the source does not offer: IMS_E_NOTIMPL. */
enum ims_rc ims_compute_admin_check(const struct ims_principal *p, struct ims_err *err);

/* A project by id, or by name in the Default domain; *ret_id owned.
 * IMS_E_BADREQ (IMG.0001) when there is none. */
enum ims_rc ims_compute_project_resolve(struct ims_service *svc, const char *ref, char **ret_id, struct ims_err *err);

/* spec->project_id and a volume's project are project ids that must exist. */
enum ims_rc ims_compute_server_add(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_server_spec *spec, struct ims_server *ret, struct ims_err *err);
enum ims_rc ims_compute_server_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                      struct ims_err *err);
enum ims_rc ims_compute_server_set_state(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                         enum ims_server_state state, struct ims_err *err);
enum ims_rc ims_compute_volume_add(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_volume_spec *spec, struct ims_volume *ret, struct ims_err *err);
enum ims_rc ims_compute_volume_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                      struct ims_err *err);
enum ims_rc ims_compute_backup_create(struct ims_service *svc, const struct ims_principal *p, const char *server_id,
                                      struct ims_backup *ret, struct ims_err *err);
enum ims_rc ims_compute_backup_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                      struct ims_err *err);

/* Reads across projects (project_id NULL) or of one project. */
enum ims_rc ims_compute_server_list(struct ims_service *svc, const struct ims_principal *p, const char *project_id,
                                    struct ims_server **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_compute_server_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_server *ret, struct ims_err *err);
enum ims_rc ims_compute_volume_list(struct ims_service *svc, const struct ims_principal *p, const char *project_id,
                                    struct ims_volume **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_compute_volume_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_volume *ret, struct ims_err *err);
enum ims_rc ims_compute_backup_list(struct ims_service *svc, const struct ims_principal *p, const char *project_id,
                                    struct ims_backup **ret, size_t *ret_n, struct ims_err *err);
enum ims_rc ims_compute_backup_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_backup *ret, struct ims_err *err);

#endif
