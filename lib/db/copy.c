/* SPDX-License-Identifier: Apache-2.0
 * `imsctl db copy`: every row of one repository into another, whatever
 * their engines (an embedded SQLite installation moving to PostgreSQL).
 * Rows travel as text through the SQL interface, as every value does: the
 * target's engine types them by their columns. */
#include <stdio.h>
#include <string.h>

#include "db-int.h"

static enum ims_rc count(struct ims_dbc *c, const char *table, int64_t *ret, struct ims_err *err)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
    struct ims_q q;
    if (!ims_q_prepare(&q, c, sql, err))
        return IMS_E_DB;
    enum ims_step s = ims_q_step(&q);
    if (s == IMS_STEP_ROW)
        *ret = ims_q_col_int(&q, 0);
    enum ims_rc rc = s == IMS_STEP_ROW ? IMS_OK : ims_q_dberr(&q, err);
    ims_q_done(&q);
    return rc;
}

/* The INSERT for the columns of the row q stands on. */
static char *insert_sql(struct ims_q *q, const char *table)
{
    struct ims_buf b;
    ims_buf_init(&b, 1 << 20);
    int n = q->c->ops->col_count(q->st);
    ims_buf_printf(&b, "INSERT INTO %s (", table);
    for (int i = 0; i < n; i++)
        ims_buf_printf(&b, "%s%s", i ? ", " : "", q->c->ops->col_name(q->st, i));
    ims_buf_adds(&b, ") VALUES (");
    for (int i = 0; i < n; i++)
        ims_buf_adds(&b, i ? ", ?" : "?");
    ims_buf_adds(&b, ")");
    char *sql = ims_buf_detach(&b, NULL);
    ims_buf_release(&b);
    return sql;
}

static enum ims_rc copy_table(struct ims_dbc *src, struct ims_dbc *dst, const char *table, int64_t *ret_n,
                              struct ims_err *err)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
    struct ims_q q;
    if (!ims_q_prepare(&q, src, sql, err))
        return IMS_E_DB;
    char *insert = NULL;
    int64_t n = 0;
    enum ims_rc rc = IMS_OK;
    enum ims_step s = IMS_STEP_DONE;
    while (rc == IMS_OK && (s = ims_q_step(&q)) == IMS_STEP_ROW) {
        if (!insert)
            insert = insert_sql(&q, table);
        struct ims_q in;
        if (!ims_q_prepare(&in, dst, insert, err)) {
            rc = IMS_E_DB;
            break;
        }
        int cols = src->ops->col_count(q.st);
        for (int i = 0; i < cols; i++)
            ims_q_text(&in, ims_q_col_text(&q, i));
        if ((rc = ims_q_exec(&in, err)) == IMS_E_CONFLICT)
            rc = ims_fail(err, IMS_E_DB, "copying %s: %s", table, dst->ops->errmsg(dst->h));
        n++;
    }
    if (rc == IMS_OK && s != IMS_STEP_DONE)
        rc = ims_q_dberr(&q, err);
    ims_q_done(&q);
    free(insert);
    if (rc == IMS_OK)
        *ret_n = n;
    return rc;
}

enum ims_rc ims_db_copy(struct ims_db *from, struct ims_db *to, struct ims_buf *report, struct ims_err *err)
{
    struct ims_dbc *src = ims_db_conn(from), *dst = ims_db_conn(to);
    int vs = ims_db_schema_version(src), vd = ims_db_schema_version(dst);
    if (vs != vd)
        return ims_fail(err, IMS_E_DB, "schema versions differ: %d and %d", vs, vd);
    enum ims_rc rc = ims_db_begin(dst, err);
    if (rc != IMS_OK)
        return rc;
    /* the target is new: what it holds is what its migrations wrote */
    static const char *const must_be_empty[] = {"users", "images", "jobs"};
    for (size_t i = 0; rc == IMS_OK && i < IMS_ARRAY_SIZE(must_be_empty); i++) {
        int64_t n = 0;
        rc = count(dst, must_be_empty[i], &n, err);
        if (rc == IMS_OK && n > 0)
            rc = ims_fail(err, IMS_E_CONFLICT, "the target database is not empty: it has %lld rows in %s",
                          (long long)n, must_be_empty[i]);
    }
    for (size_t i = ims_ntables; rc == IMS_OK && i-- > 0;) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s", ims_tables[i]);
        rc = ims_q_run(dst, sql, err);
    }
    ims_db_read_begin(src);
    for (size_t i = 0; rc == IMS_OK && i < ims_ntables; i++) {
        int64_t n = 0;
        rc = copy_table(src, dst, ims_tables[i], &n, err);
        if (rc == IMS_OK)
            ims_buf_printf(report, "%s: %lld\n", ims_tables[i], (long long)n);
    }
    ims_db_read_end(src);
    return ims_db_end(dst, rc, err);
}
