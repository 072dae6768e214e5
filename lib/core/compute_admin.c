/* SPDX-License-Identifier: Apache-2.0
 * Administration of the compute source: who may (cloud administrators, or
 * imsctl on the data dir), projects that exist, and the source's own
 * checks behind. The rules of image creation from servers live with that
 * creation; this file only registers and reads. */
#include <string.h>

#include "ims/backends.h"
#include "ims/compute_admin.h"
#include "ims/db.h"
#include "ims/service.h"

struct ims_compute_source *ims_compute_of(struct ims_service *svc) { return svc->backends->compute; }

enum ims_rc ims_compute_admin_check(const struct ims_principal *p, struct ims_err *err)
{
    if (p && !p->is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN,
                        "Only cloud administrators (the admin role) may manage servers, volumes and backups.");
    return IMS_OK;
}

enum ims_rc ims_compute_project_resolve(struct ims_service *svc, const char *ref, char **ret_id, struct ims_err *err)
{
    if (!ref || !*ref || !ims_text_valid(ref))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "A project is required.");
    struct ims_dbc *c = ims_db_conn(svc->db);
    struct ims_project proj;
    enum ims_rc rc = ims_repo_project_get(c, ref, NULL, NULL, &proj, err);
    if (rc == IMS_E_NOTFOUND)
        rc = ims_repo_project_get(c, NULL, IMS_DEFAULT_DOMAIN_ID, ref, &proj, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "No project '%.100s'.", ref);
    if (rc != IMS_OK)
        return rc;
    *ret_id = ims_xstrdup(proj.id);
    ims_project_release(&proj);
    return IMS_OK;
}

/* The project must exist as given (an id): the admin API and imsctl both
 * pass ids here (imsctl resolves names first). */
static enum ims_rc project_exists(struct ims_service *svc, const char *id, struct ims_err *err)
{
    if (!id || !*id)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "A project id is required.");
    struct ims_project proj;
    enum ims_rc rc = ims_repo_project_get(ims_db_conn(svc->db), id, NULL, NULL, &proj, err);
    if (rc == IMS_E_NOTFOUND)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "No project with id '%.100s'.", id);
    if (rc == IMS_OK)
        ims_project_release(&proj);
    return rc;
}

/* The source, for an administrator. */
static enum ims_rc admin_source(struct ims_service *svc, const struct ims_principal *p,
                                struct ims_compute_source **ret, struct ims_err *err)
{
    enum ims_rc rc = ims_compute_admin_check(p, err);
    if (rc != IMS_OK)
        return rc;
    if (!(*ret = ims_compute_of(svc)))
        return ims_fail(err, IMS_E_NOTIMPL, "No compute source is configured.");
    return IMS_OK;
}

static enum ims_rc read_only(const struct ims_compute_source *s, struct ims_err *err)
{
    return ims_fail(err, IMS_E_NOTIMPL, "The %s compute source is read-only: its servers are managed with its own tools.",
                    s->ops->name);
}

/* s: the source, for an administrator, offering `op` (else return). */
#define SOURCE_FOR(op)                                                                                              \
    struct ims_compute_source *s = NULL;                                                                           \
    enum ims_rc rc = admin_source(svc, p, &s, err);                                                                \
    if (rc == IMS_OK && !s->ops->op)                                                                               \
        rc = read_only(s, err);                                                                                    \
    if (rc != IMS_OK)                                                                                               \
        return rc

enum ims_rc ims_compute_server_add(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_server_spec *spec, struct ims_server *ret, struct ims_err *err)
{
    SOURCE_FOR(add_server);
    if ((rc = project_exists(svc, spec->project_id, err)) != IMS_OK)
        return rc;
    return s->ops->add_server(s, spec, ret, err);
}

enum ims_rc ims_compute_server_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                      struct ims_err *err)
{
    SOURCE_FOR(remove_server);
    return s->ops->remove_server(s, id, err);
}

enum ims_rc ims_compute_server_set_state(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                         enum ims_server_state state, struct ims_err *err)
{
    SOURCE_FOR(set_server_state);
    return s->ops->set_server_state(s, id, state, err);
}

enum ims_rc ims_compute_volume_add(struct ims_service *svc, const struct ims_principal *p,
                                   const struct ims_volume_spec *spec, struct ims_volume *ret, struct ims_err *err)
{
    SOURCE_FOR(add_volume);
    if ((rc = project_exists(svc, spec->project_id, err)) != IMS_OK)
        return rc;
    return s->ops->add_volume(s, spec, ret, err);
}

enum ims_rc ims_compute_volume_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                      struct ims_err *err)
{
    SOURCE_FOR(remove_volume);
    return s->ops->remove_volume(s, id, err);
}

enum ims_rc ims_compute_backup_create(struct ims_service *svc, const struct ims_principal *p, const char *server_id,
                                      struct ims_backup *ret, struct ims_err *err)
{
    SOURCE_FOR(create_backup);
    return s->ops->create_backup(s, server_id, NULL, ret, err);
}

enum ims_rc ims_compute_backup_remove(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                      struct ims_err *err)
{
    SOURCE_FOR(remove_backup);
    return s->ops->remove_backup(s, id, err);
}

enum ims_rc ims_compute_server_list(struct ims_service *svc, const struct ims_principal *p, const char *project_id,
                                    struct ims_server **ret, size_t *ret_n, struct ims_err *err)
{
    SOURCE_FOR(list_servers);
    return s->ops->list_servers(s, project_id, ret, ret_n, err);
}

enum ims_rc ims_compute_server_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_server *ret, struct ims_err *err)
{
    SOURCE_FOR(get_server);
    return s->ops->get_server(s, NULL, id, ret, err);
}

enum ims_rc ims_compute_volume_list(struct ims_service *svc, const struct ims_principal *p, const char *project_id,
                                    struct ims_volume **ret, size_t *ret_n, struct ims_err *err)
{
    SOURCE_FOR(list_volumes);
    return s->ops->list_volumes(s, project_id, ret, ret_n, err);
}

enum ims_rc ims_compute_volume_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_volume *ret, struct ims_err *err)
{
    SOURCE_FOR(get_volume);
    return s->ops->get_volume(s, NULL, id, ret, err);
}

enum ims_rc ims_compute_backup_list(struct ims_service *svc, const struct ims_principal *p, const char *project_id,
                                    struct ims_backup **ret, size_t *ret_n, struct ims_err *err)
{
    SOURCE_FOR(list_backups);
    return s->ops->list_backups(s, project_id, ret, ret_n, err);
}

enum ims_rc ims_compute_backup_get(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                   struct ims_backup *ret, struct ims_err *err)
{
    SOURCE_FOR(get_backup);
    return s->ops->get_backup(s, NULL, id, ret, err);
}
