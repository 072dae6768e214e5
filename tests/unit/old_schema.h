/* SPDX-License-Identifier: Apache-2.0
 * For the unit tests of migrations: a SQLite database as an earlier version
 * of imsd left it (the migrations before `version` applied, schema_version
 * saying so), statements run on it and single values read back. Include
 * after <cmocka.h>. Everything is static inline: each test program is one
 * file, and uses what it needs. */
#ifndef TESTS_UNIT_OLD_SCHEMA_H
#define TESTS_UNIT_OLD_SCHEMA_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

extern const char *const ims_migrations[];

static inline void old_schema_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Opens a new database at path at schema `version`; the caller adds its
 * rows and closes it. */
static inline sqlite3 *old_schema_create(const char *path, size_t version)
{
    unlink(path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    old_schema_exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL)");
    for (size_t v = 0; v < version; v++)
        old_schema_exec(db, ims_migrations[v]);
    char sql[96];
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version) VALUES (%zu)", version);
    old_schema_exec(db, sql);
    return db;
}

/* The first column of the one row sql selects from the database at path. */
static inline int64_t old_schema_scalar(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Removes the database at path and its side files. */
static inline void old_schema_remove(const char *path)
{
    unlink(path);
    char side[256];
    static const char *const suffixes[] = {"-wal", "-shm", "-signals"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
        unlink(side);
    }
}

#endif
