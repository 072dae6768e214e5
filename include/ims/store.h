/* SPDX-License-Identifier: Apache-2.0
 * store: where image data lives. An interface (struct ims_store_ops) with
 * one file per implementation (store/file.c, store/s3.c). Blobs are
 * written to a temporary object, made durable by commit, immutable after.
 * A blob's location names its store: "<store name>://<key>" (file://ab/<uuid>),
 * so one service can read from several stores (router.c) and data can move
 * between them. */
#ifndef IMS_STORE_H
#define IMS_STORE_H

#include "ims/base.h"
#include "ims/kv.h"
#include "ims/obs.h"

struct ims_store;

/* The start of every implementation's writer: the store that opened it,
 * so a writer's calls reach its store whichever handle they came through,
 * and the location commit will give the blob, known from the start so the
 * blob can be registered (with its writer's lease) before any byte is
 * written. */
#define IMS_BLOB_LOCATION_MAX 96
struct ims_store_writer {
    struct ims_store *store;
    char location[IMS_BLOB_LOCATION_MAX];
    /* Set by writer_open: commit may learn the md5 of the data from the
     * store itself (S3: the answer of one PUT, on a service whose ETags
     * were proved md5s), so the producer may leave md5 out of its pass;
     * it still computes it when commit gives none. */
    bool md5_at_commit;
};

/* Writes whose buffer, length and offset are multiples of this bypass the
 * file store's page cache (O_DIRECT); any other write is buffered. */
#define IMS_DIRECT_IO_ALIGN 4096

/* How to read a blob: a file descriptor (sent with sendfile) or a reader
 * callback (remote stores, and the file store where it reads with O_DIRECT). */
struct ims_blob_reader {
    int fd; /* >= 0 when readable as a file; caller closes */
    uint64_t size;
    ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max);
    void (*close)(void *ctx);
    void *ctx;
};

/* How many locations recovery asks about in one question. */
#define IMS_BLOB_KNOWN_BATCH 256

/* Which of n locations (n <= IMS_BLOB_KNOWN_BATCH) name blobs the caller
 * knows (the repository's blobs table, one query for them all): ret[i]
 * for locations[i]; true when it cannot tell, so recovery keeps what it
 * is unsure of. */
struct ims_blob_known {
    void (*known)(void *ctx, const char *const *locations, size_t n, bool *ret);
    void *ctx;
};

struct ims_store_ops {
    const char *name; /* also the scheme of its locations */
    /* size: the bytes the writer will be given, when the producer knows
     * them in advance (an upload's Content-Length), else -1; a store may
     * fail a commit after another count. It may write a blob of known
     * size differently (S3: one streamed PUT instead of a multipart
     * upload). */
    enum ims_rc (*writer_open)(struct ims_store *s, int64_t size, struct ims_store_writer **ret,
                               struct ims_err *err);
    enum ims_rc (*write)(struct ims_store_writer *w, const void *p, size_t n, struct ims_err *err);
    /* Makes the data durable under a new location (owned by the caller). The
     * writer is freed whatever the result. ret_md5 (may be NULL): the md5
     * of the data in hex when the store knows it for certain (see
     * md5_at_commit), else "". */
    enum ims_rc (*commit)(struct ims_store_writer *w, char **ret_location, char ret_md5[33], struct ims_err *err);
    /* Discards the data and frees the writer. */
    void (*abort)(struct ims_store_writer *w);
    /* For producers that write a file themselves (qemu-img's output, a
     * hard link or reflink of an object-storage file): a fresh path in the
     * store's temporary area, named for this process so that recovery
     * removes it once the process is gone (owned by the caller; the file
     * does not exist yet). adopt makes such a file a blob as commit does
     * (fsync, rename into place: no copy) and removes it on failure; it
     * takes only paths temp_path gave. NULL in stores without local files:
     * their data goes through a writer. ret_md5 (may be NULL): as
     * commit's, the md5 of the data when the store knows it for certain
     * (S3: the proved ETag of the one PUT), else "". */
    enum ims_rc (*temp_path)(struct ims_store *s, char **ret_path, struct ims_err *err);
    enum ims_rc (*adopt)(struct ims_store *s, const char *path, char **ret_location, char ret_md5[33],
                         struct ims_err *err);
    /* Whether adopt will give (in all likelihood: commit's answer decides)
     * the md5 of a file of size bytes, so its producer may leave md5 out
     * of its pass (the writer's md5_at_commit, for files). NULL: never. */
    bool (*adopt_gives_md5)(struct ims_store *s, uint64_t size);
    /* A file holding location's blob, for a program that reads it by
     * path (qemu-img exporting it); the path is owned by the caller. The
     * file store gives the blob's own file (*ret_copy false); a remote
     * store downloads a copy into its temporary area (*ret_copy true: the
     * caller removes it). NULL in stores that cannot. */
    enum ims_rc (*local_path)(struct ims_store *s, const char *location, char **ret_path, bool *ret_copy,
                              struct ims_err *err);
    enum ims_rc (*open_read)(struct ims_store *s, const char *location, struct ims_blob_reader *ret,
                             struct ims_err *err);
    /* Removes the blob, and whatever a writer of it left (an S3 multipart
     * upload in progress): only called once no writer can be at work on it.
     * A missing blob is not an error. */
    enum ims_rc (*remove)(struct ims_store *s, const char *location, struct ims_err *err);
    /* Crash recovery, safe while other processes write to the store:
     * removes the temporary objects of writers that are gone
     * (ims_owner_gone) or older than grace_seconds, and the blobs older
     * than grace_seconds that `known` does not know (a blob is unknown
     * between its commit and its row's). known is asked only about those
     * old blobs, IMS_BLOB_KNOWN_BATCH at a time (lib/store/sweep.c), so
     * the sweep holds no list of every blob and costs one query per batch
     * of old blobs (a round trip on a remote database). Reports counts. */
    enum ims_rc (*recover)(struct ims_store *s, const struct ims_blob_known *known, int64_t grace_seconds,
                           int64_t *ret_temp, int64_t *ret_orphans, struct ims_err *err);
    void (*close)(struct ims_store *s);
};

/* A store's id is the scheme of its locations ("<id>://<key>"): by default
 * its type's name (file, s3), or the id [stores] enabled gives it, so two
 * stores of one type keep apart locations. Letters, digits and '-', a
 * letter first (a URI scheme), at most IMS_STORE_ID_MAX. */
#define IMS_STORE_ID_MAX 31
struct ims_store {
    const struct ims_store_ops *ops;
    char id[IMS_STORE_ID_MAX + 1]; /* "" = ops->name */
};
const char *ims_store_id(const struct ims_store *s);
/* Whether id may be a store's (IMS_E_BADREQ names the rule it breaks): it
 * is also a directory's name (<data_dir>/stores/<id>), so it is checked
 * before anything is made of it. */
enum ims_rc ims_store_id_check(const char *id, struct ims_err *err);
/* Gives s the id (checked as ims_store_id_check); before any use. */
enum ims_rc ims_store_set_id(struct ims_store *s, const char *id, struct ims_err *err);

/* How many blob stores one service can read from at once (the stores
 * [stores] enabled names, and one behind them holding older data). */
#define IMS_STORES_MAX 8

/* One store made of several (at most IMS_STORES_MAX, ids distinct): new
 * blobs go to stores[0]; a location is read and removed by the store its
 * scheme names (IMS_E_IO for a location no store has); recovery runs in
 * every store. The
 * stores stay the caller's and must outlive the router. */
enum ims_rc ims_store_router_open(struct ims_store *const *stores, size_t n, struct ims_store **ret,
                                  struct ims_err *err);

/* The key of location in store s ("file://ab/x" -> "ab/x"), or NULL when
 * the location belongs to another store. */
const char *ims_store_location_key(const struct ims_store *s, const char *location);
/* The store of router's that location names, or NULL. */
struct ims_store *ims_store_router_find(const struct ims_store *router, const char *location);
/* The store of router's that takes new blobs (and adopts files). */
struct ims_store *ims_store_router_first(const struct ims_store *router);
/* Whether s keeps its blobs as local files (the file store). */
bool ims_store_is_local(const struct ims_store *s);

/* The embedded store: blobs under dir/images, temporary data under dir/tmp.
 * With direct_io, image data is written with O_DIRECT where the file
 * system has it, and through the page cache where it has not; it is always
 * read through the page cache. */
enum ims_rc ims_store_file_open(const char *dir, bool direct_io, struct ims_store **ret, struct ims_err *err);

/* The S3 store: blob <uuid> is the object images/<uuid> of bucket
 * (made at open if missing), its location s3://<uuid>; uploads stream as
 * multipart uploads in parts of part_size (5 MiB to 1 GiB; three parts per
 * writer in memory, so at most 10,000 x part_size per blob), reads are
 * ranged GETs. A writer told its size, larger than part_size and at most
 * single_put_max (at most 5 GiB; 0: never), streams one PUT instead (no
 * part held; no retry once its body started). Files of producers that
 * write files (temp_path, adopt, local_path) live in dir/tmp, the file
 * store's temporary area. */
struct ims_store_s3_config {
    struct ims_obs_s3_config s3; /* the service, through lib/obs's client */
    const char *bucket;
    const char *dir;
    uint64_t part_size;
    uint64_t single_put_max;
    /* A single PUT's md5 taken from its ETag when a probe proved the
     * service's ETags md5s (ims_obs_s3_etag_md5 says which answers);
     * false: always computed locally. The probe runs at open with
     * probe_at_open (imsd, which takes uploads), else on the process's
     * first writer that can use it (imsctl: most commands upload nothing). */
    bool md5_from_etag, probe_at_open;
};
enum ims_rc ims_store_s3_open(const struct ims_store_s3_config *cfg, struct ims_store **ret, struct ims_err *err);

#endif
