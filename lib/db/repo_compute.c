/* SPDX-License-Identifier: Apache-2.0
 * The compute inventory's rows: servers, volumes, backups and their copies
 * (migration 14). Every write is one write transaction that states what it
 * changes; a server's revision follows its state and which volumes it has. */
#include <stdio.h>
#include <string.h>

#include "db-int.h"

#define SERVER_COLS "id, project_id, name, os_version, state, firmware, ram_mb, created_at, updated_at, revision"
#define VOLUME_COLS "id, project_id, server_id, position, size, disk, format, created_at"
#define BACKUP_COLS "id, server_id, project_id, server_name, os_version, firmware, created_at"

static void read_server(struct ims_q *q, void *rec, const void *arg)
{
    (void)arg;
    struct ims_server *s = rec;
    *s = (struct ims_server){0};
    snprintf(s->id, sizeof(s->id), "%s", ims_q_col_text(q, 0));
    s->project_id = ims_q_col_dup(q, 1);
    s->name = ims_q_col_dup(q, 2);
    s->os_version = ims_q_col_dup(q, 3);
    ims_server_state_parse(ims_q_col_text(q, 4), &s->state);
    ims_firmware_parse(ims_q_col_text(q, 5), &s->firmware);
    s->ram_mb = ims_q_col_int(q, 6);
    s->created_at = ims_q_col_int(q, 7);
    s->updated_at = ims_q_col_int(q, 8);
    s->revision = ims_q_col_int(q, 9);
}

static void read_volume(struct ims_q *q, void *rec, const void *arg)
{
    (void)arg;
    struct ims_volume *v = rec;
    *v = (struct ims_volume){0};
    snprintf(v->id, sizeof(v->id), "%s", ims_q_col_text(q, 0));
    v->project_id = ims_q_col_dup(q, 1);
    v->server_id = ims_q_col_dup(q, 2);
    v->position = ims_q_col_null(q, 3) ? -1 : (int)ims_q_col_int(q, 3);
    v->size = (uint64_t)ims_q_col_int(q, 4);
    v->disk = ims_q_col_dup(q, 5);
    v->format = ims_q_col_dup(q, 6);
    v->created_at = ims_q_col_int(q, 7);
}

static void read_backup(struct ims_q *q, void *rec, const void *arg)
{
    (void)arg;
    struct ims_backup *b = rec;
    *b = (struct ims_backup){0};
    snprintf(b->id, sizeof(b->id), "%s", ims_q_col_text(q, 0));
    snprintf(b->server_id, sizeof(b->server_id), "%s", ims_q_col_text(q, 1));
    b->project_id = ims_q_col_dup(q, 2);
    b->server_name = ims_q_col_dup(q, 3);
    b->os_version = ims_q_col_dup(q, 4);
    ims_firmware_parse(ims_q_col_text(q, 5), &b->firmware);
    b->created_at = ims_q_col_int(q, 6);
}

/* A backup's copy of a volume; the rest from the backup (arg). */
static void read_backup_volume(struct ims_q *q, void *rec, const void *arg)
{
    const struct ims_backup *b = arg;
    struct ims_volume *v = rec;
    *v = (struct ims_volume){0};
    snprintf(v->id, sizeof(v->id), "%s", ims_q_col_text(q, 0));
    v->position = (int)ims_q_col_int(q, 1);
    v->size = (uint64_t)ims_q_col_int(q, 2);
    v->disk = ims_q_col_dup(q, 3);
    v->format = ims_q_col_dup(q, 4);
    v->project_id = ims_xstrdup(b->project_id);
    v->server_id = ims_xstrdup(b->server_id);
    v->created_at = b->created_at;
}

/* The rows of `sql`, whose nparams `?` all take `param`, each read by `read`
 * (given arg) into a new array of `size`-byte records. */
static enum ims_rc read_rows(struct ims_dbc *c, const char *sql, const char *param, int nparams,
                             void (*read)(struct ims_q *, void *, const void *), const void *arg, size_t size,
                             void **ret, size_t *ret_n, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    for (int i = 0; i < nparams; i++)
        ims_q_text(&q, param);
    char *arr = NULL;
    size_t n = 0, cap = 0;
    enum ims_step st;
    while ((st = ims_q_step(&q)) == IMS_STEP_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            arr = ims_xrealloc(arr, cap * size);
        }
        read(&q, arr + n++ * size, arg);
    }
    enum ims_rc rc = st == IMS_STEP_DONE ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    *ret = arr; /* the rows read, even on failure: the caller frees them */
    *ret_n = n;
    return rc;
}

/* The compute records kept here: how each is read, with what it holds. */
struct kind {
    const char *by_id, *by_project; /* SELECT ... WHERE id = ? / the list of a project (or all) */
    size_t size;
    void (*read)(struct ims_q *, void *, const void *);
    enum ims_rc (*children)(struct ims_dbc *, void *, struct ims_err *); /* NULL: none */
    void (*free_array)(void *, size_t);
    const char *notfound_code, *noun;
};

/* CAST: a parameter compared with nothing has no type on PostgreSQL */
#define BY_PROJECT " WHERE (CAST(? AS VARCHAR(64)) IS NULL OR project_id = ?) ORDER BY created_at, id"

/* Records of kind k (the one with id `key` or those of project `key`), with
 * what they hold, from one snapshot. */
static enum ims_rc kind_read(struct ims_dbc *c, const struct kind *k, bool by_id, const char *key, void **ret,
                             size_t *ret_n, struct ims_err *err)
{
    if (k->children)
        ims_db_read_begin(c);
    void *arr;
    size_t n;
    enum ims_rc rc = read_rows(c, by_id ? k->by_id : k->by_project, key, by_id ? 1 : 2, k->read, NULL, k->size,
                               &arr, &n, err);
    if (rc == IMS_OK && by_id && n == 0)
        rc = ims_fail_code(err, IMS_E_NOTFOUND, k->notfound_code, "No %s with id %s.", k->noun, key);
    for (size_t i = 0; k->children && rc == IMS_OK && i < n; i++)
        rc = k->children(c, (char *)arr + i * k->size, err);
    if (k->children)
        ims_db_read_end(c);
    if (rc != IMS_OK) {
        k->free_array(arr, n);
        return rc;
    }
    *ret = arr;
    *ret_n = n;
    return IMS_OK;
}

/* The record with that id into *ret. */
static enum ims_rc kind_get(struct ims_dbc *c, const struct kind *k, const char *id, void *ret, struct ims_err *err)
{
    void *arr;
    size_t n;
    enum ims_rc rc = kind_read(c, k, true, id, &arr, &n, err);
    if (rc == IMS_OK) {
        memcpy(ret, arr, k->size);
        free(arr);
    }
    return rc;
}

static enum ims_rc server_volumes(struct ims_dbc *c, void *rec, struct ims_err *err)
{
    struct ims_server *s = rec;
    void *arr;
    enum ims_rc rc = read_rows(c, "SELECT " VOLUME_COLS " FROM volumes WHERE server_id = ? ORDER BY position", s->id,
                               1, read_volume, NULL, sizeof(*s->volumes), &arr, &s->nvolumes, err);
    s->volumes = arr;
    return rc;
}

static enum ims_rc backup_volumes(struct ims_dbc *c, void *rec, struct ims_err *err)
{
    struct ims_backup *b = rec;
    void *arr;
    enum ims_rc rc = read_rows(c,
                               "SELECT volume_id, position, size, disk, format FROM backup_volumes "
                               "WHERE backup_id = ? ORDER BY position",
                               b->id, 1, read_backup_volume, b, sizeof(*b->volumes), &arr, &b->nvolumes, err);
    b->volumes = arr;
    return rc;
}

static void free_servers(void *arr, size_t n) { ims_server_array_free(arr, n); }
static void free_volumes(void *arr, size_t n) { ims_volume_array_free(arr, n); }
static void free_backups(void *arr, size_t n) { ims_backup_array_free(arr, n); }

static const struct kind servers = {
    "SELECT " SERVER_COLS " FROM servers WHERE id = ?", "SELECT " SERVER_COLS " FROM servers" BY_PROJECT,
    sizeof(struct ims_server), read_server, server_volumes, free_servers, "IMG.0005", "server"};
static const struct kind volumes = {
    "SELECT " VOLUME_COLS " FROM volumes WHERE id = ?", "SELECT " VOLUME_COLS " FROM volumes" BY_PROJECT,
    sizeof(struct ims_volume), read_volume, NULL, free_volumes, "IMG.0120", "volume"};
static const struct kind backups = {
    "SELECT " BACKUP_COLS " FROM backups WHERE id = ?", "SELECT " BACKUP_COLS " FROM backups" BY_PROJECT,
    sizeof(struct ims_backup), read_backup, backup_volumes, free_backups, "IMG.0020", "backup"};

static enum ims_rc insert_volume_row(struct ims_dbc *c, const struct ims_volume *v, const char *server_id,
                                     int position, struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "INSERT INTO volumes (" VOLUME_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)", err))
        return IMS_E_DB;
    ims_q_text(&q, v->id);
    ims_q_text(&q, v->project_id);
    ims_q_text(&q, server_id);
    if (position >= 0)
        ims_q_int(&q, position);
    else
        ims_q_text(&q, NULL);
    ims_q_int(&q, (int64_t)v->size);
    ims_q_text(&q, v->disk);
    ims_q_text(&q, v->format);
    ims_q_int(&q, v->created_at);
    return ims_q_exec(&q, err);
}

enum ims_rc ims_repo_server_insert(struct ims_dbc *c, const struct ims_server *s, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (!ims_q_prepare(&q, c, "INSERT INTO servers (" SERVER_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", err))
        return ims_db_end(c, IMS_E_DB, err);
    ims_q_text(&q, s->id);
    ims_q_text(&q, s->project_id);
    ims_q_text(&q, s->name);
    ims_q_text(&q, s->os_version);
    ims_q_text(&q, ims_server_state_name(s->state));
    ims_q_text(&q, ims_firmware_name(s->firmware));
    ims_q_int(&q, s->ram_mb);
    ims_q_int(&q, s->created_at);
    ims_q_int(&q, s->updated_at);
    rc = ims_q_exec(&q, err);
    for (size_t i = 0; rc == IMS_OK && i < s->nvolumes; i++)
        rc = insert_volume_row(c, &s->volumes[i], s->id, (int)i, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_server_get(struct ims_dbc *c, const char *id, struct ims_server *ret, struct ims_err *err)
{
    return kind_get(c, &servers, id, ret, err);
}

enum ims_rc ims_repo_server_list(struct ims_dbc *c, const char *project_id, struct ims_server **ret, size_t *ret_n,
                                 struct ims_err *err)
{
    void *arr;
    enum ims_rc rc = kind_read(c, &servers, false, project_id, &arr, ret_n, err);
    if (rc == IMS_OK)
        *ret = arr;
    return rc;
}

static enum ims_rc exec_id(struct ims_dbc *c, const char *sql, const char *id, int64_t *ret_changes,
                           struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    ims_q_text(&q, id);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && ret_changes)
        *ret_changes = c->ops->changes(c->h);
    return rc;
}

enum ims_rc ims_repo_server_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    int64_t n = 0;
    rc = exec_id(c, "DELETE FROM servers WHERE id = ?", id, &n, err);
    if (rc == IMS_OK && n == 0)
        rc = ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", id);
    if (rc == IMS_OK)
        rc = exec_id(c, "DELETE FROM volumes WHERE server_id = ?", id, NULL, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_server_set_state(struct ims_dbc *c, const char *id, enum ims_server_state state, int64_t now,
                                      struct ims_err *err)
{
    struct ims_q q;
    if (!ims_q_prepare(&q, c,
                       "UPDATE servers SET state = ?, updated_at = ?, revision = revision + 1 WHERE id = ?", err))
        return IMS_E_DB;
    ims_q_text(&q, ims_server_state_name(state));
    ims_q_int(&q, now);
    ims_q_text(&q, id);
    enum ims_rc rc = ims_q_exec(&q, err);
    if (rc == IMS_OK && c->ops->changes(c->h) == 0)
        rc = ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", id);
    return rc;
}

enum ims_rc ims_repo_volume_insert(struct ims_dbc *c, const struct ims_volume *v, int *ret_position,
                                   struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    int position = -1;
    if (v->server_id) {
        /* The server as it is now, in this transaction: its project, and
         * the position after its last disk. */
        struct ims_q q;
        if (!ims_q_prepare(&q, c,
                           "SELECT s.project_id, (SELECT COALESCE(MAX(position) + 1, 0) FROM volumes "
                           "WHERE server_id = s.id) FROM servers s WHERE s.id = ?",
                           err))
            return ims_db_end(c, IMS_E_DB, err);
        ims_q_text(&q, v->server_id);
        enum ims_step st = ims_q_step(&q);
        if (st == IMS_STEP_ROW) {
            if (!ims_streq(ims_q_col_text(&q, 0), v->project_id))
                rc = ims_fail_code(err, IMS_E_FORBIDDEN, "IMG.0137", "Server %s belongs to another project.",
                                   v->server_id);
            position = (int)ims_q_col_int(&q, 1);
        } else {
            rc = st == IMS_STEP_DONE
                     ? ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", v->server_id)
                     : ims_q_dberr(&q, err);
        }
        ims_q_done(&q);
        if (rc == IMS_OK && position >= IMS_SERVER_DISKS_MAX)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Server %s already has %d disks.", v->server_id,
                               IMS_SERVER_DISKS_MAX);
        if (rc == IMS_OK)
            rc = exec_id(c, "UPDATE servers SET revision = revision + 1 WHERE id = ?", v->server_id, NULL, err);
    }
    if (rc == IMS_OK)
        rc = insert_volume_row(c, v, v->server_id, position, err);
    rc = ims_db_end(c, rc, err);
    if (rc == IMS_OK)
        *ret_position = position;
    return rc;
}

enum ims_rc ims_repo_volume_get(struct ims_dbc *c, const char *id, struct ims_volume *ret, struct ims_err *err)
{
    return kind_get(c, &volumes, id, ret, err);
}

enum ims_rc ims_repo_volume_list(struct ims_dbc *c, const char *project_id, struct ims_volume **ret, size_t *ret_n,
                                 struct ims_err *err)
{
    void *arr;
    enum ims_rc rc = kind_read(c, &volumes, false, project_id, &arr, ret_n, err);
    if (rc == IMS_OK)
        *ret = arr;
    return rc;
}

enum ims_rc ims_repo_volume_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_volume v;
    rc = ims_repo_volume_get(c, id, &v, err);
    if (rc == IMS_OK) {
        if (v.server_id)
            rc = ims_fail(err, IMS_E_CONFLICT, "Volume %s is a disk of server %s: remove the server instead.", id,
                          v.server_id);
        ims_volume_release(&v);
    }
    if (rc == IMS_OK)
        rc = exec_id(c, "DELETE FROM volumes WHERE id = ?", id, NULL, err);
    return ims_db_end(c, rc, err);
}

enum ims_rc ims_repo_backup_insert(struct ims_dbc *c, const struct ims_backup *b, int64_t server_revision,
                                   struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_q q;
    if (server_revision >= 0) {
        if (!ims_q_prepare(&q, c, "SELECT revision FROM servers WHERE id = ?", err))
            return ims_db_end(c, IMS_E_DB, err);
        ims_q_text(&q, b->server_id);
        enum ims_step st = ims_q_step(&q);
        if (st == IMS_STEP_ROW && ims_q_col_int(&q, 0) != server_revision)
            rc = ims_fail(err, IMS_E_CONFLICT, "Server %s changed while its disks were copied; try again.",
                          b->server_id);
        else if (st == IMS_STEP_DONE)
            rc = ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0005", "No server with id %s.", b->server_id);
        else if (st != IMS_STEP_ROW)
            rc = ims_q_dberr(&q, err);
        ims_q_done(&q);
    }
    if (rc == IMS_OK && !ims_q_prepare(&q, c, "INSERT INTO backups (" BACKUP_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                                       err))
        rc = IMS_E_DB;
    if (rc == IMS_OK) {
        ims_q_text(&q, b->id);
        ims_q_text(&q, b->server_id);
        ims_q_text(&q, b->project_id);
        ims_q_text(&q, b->server_name);
        ims_q_text(&q, b->os_version);
        ims_q_text(&q, ims_firmware_name(b->firmware));
        ims_q_int(&q, b->created_at);
        rc = ims_q_exec(&q, err);
    }
    for (size_t i = 0; rc == IMS_OK && i < b->nvolumes; i++) {
        const struct ims_volume *v = &b->volumes[i];
        if (!ims_q_prepare(&q, c,
                           "INSERT INTO backup_volumes (backup_id, position, volume_id, size, disk, format) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           err)) {
            rc = IMS_E_DB;
            break;
        }
        ims_q_text(&q, b->id);
        ims_q_int(&q, (int64_t)i);
        ims_q_text(&q, v->id);
        ims_q_int(&q, (int64_t)v->size);
        ims_q_text(&q, v->disk);
        ims_q_text(&q, v->format);
        rc = ims_q_exec(&q, err);
    }
    return ims_db_end(c, rc, err);
}



enum ims_rc ims_repo_backup_get(struct ims_dbc *c, const char *id, struct ims_backup *ret, struct ims_err *err)
{
    return kind_get(c, &backups, id, ret, err);
}

enum ims_rc ims_repo_backup_list(struct ims_dbc *c, const char *project_id, struct ims_backup **ret, size_t *ret_n,
                                 struct ims_err *err)
{
    void *arr;
    enum ims_rc rc = kind_read(c, &backups, false, project_id, &arr, ret_n, err);
    if (rc == IMS_OK)
        *ret = arr;
    return rc;
}

enum ims_rc ims_repo_backup_delete(struct ims_dbc *c, const char *id, struct ims_err *err)
{
    enum ims_rc rc = ims_db_begin(c, err);
    if (rc != IMS_OK)
        return rc;
    int64_t n = 0;
    rc = exec_id(c, "DELETE FROM backups WHERE id = ?", id, &n, err);
    if (rc == IMS_OK && n == 0)
        rc = ims_fail_code(err, IMS_E_NOTFOUND, "IMG.0020", "No backup with id %s.", id);
    if (rc == IMS_OK)
        rc = exec_id(c, "DELETE FROM backup_volumes WHERE backup_id = ?", id, NULL, err);
    return ims_db_end(c, rc, err);
}
