/* SPDX-License-Identifier: Apache-2.0
 * Internals shared by the files of lib/core. */
#ifndef IMS_CORE_INT_H
#define IMS_CORE_INT_H

#include <stdio.h>

#include "ims/base.h"
#include "ims/formats.h"

/* ---- image edits (image_edit.c) ----
 * An edit is one write transaction on one image: begin opens it and reads
 * the image inside it (so rules are checked against the row as it is
 * then); the caller changes edit->image, or writes through a repository
 * operation on edit->c; commit writes what changed and ends the
 * transaction. Every change of an image goes through an edit. */
struct ims_service;
struct ims_principal;
#include "ims/image.h"
#include "ims/image_cache.h"
struct ims_image_edit {
    struct ims_dbc *c;
    struct ims_image before; /* as read */
    struct ims_image image;  /* the caller's change */
};
/* The image as p sees it: 404 if invisible, 403 if the enterprise-project
 * grants do not cover it (as ims_images_get). The caller checks the rules
 * of its operation on edit->image and ends the edit on every path. */
enum ims_rc ims_image_edit_begin(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                 struct ims_image_edit *edit, struct ims_err *err);
/* For jobs and recovery: no access check. */
enum ims_rc ims_image_edit_begin_internal(struct ims_service *svc, const char *id, struct ims_image_edit *edit,
                                          struct ims_err *err);
/* Writes edit->image's differences (updated_at set now) and keeps the
 * transaction open, for repository operations that must follow the row's
 * change (a member added to an image just made shared). */
enum ims_rc ims_image_edit_write(struct ims_image_edit *edit, struct ims_err *err);
/* Writes edit->image's differences (updated_at set now) and commits; the
 * image as written goes to *ret if ret is not NULL. */
enum ims_rc ims_image_edit_commit(struct ims_image_edit *edit, struct ims_image *ret, struct ims_err *err);
/* Ends the edit without writing edit->image: commits what the caller wrote
 * through repository operations if rc is IMS_OK, rolls back otherwise.
 * Returns rc or the commit's failure. */
enum ims_rc ims_image_edit_end(struct ims_image_edit *edit, enum ims_rc rc, struct ims_err *err);
/* Gives err the IMS error code `code` unless it has one already, keeping
 * its message (ims_fail_code(err, .., "%s", err->msg) would read what it
 * writes). Returns rc. */
static inline enum ims_rc ims_err_default_code(struct ims_err *err, enum ims_rc rc, const char *code)
{
    if (err && !err->code[0])
        snprintf(err->code, sizeof(err->code), "%s", code);
    return rc;
}

struct ims_store_writer;
/* ---- blobs shared across processes (blobs.c) ---- */
/* A store writer whose blob is registered, under this process's lease,
 * before any byte is written (ims_blob_writer_abort gives it up). size:
 * the bytes it will be given when known in advance, else -1 (the store's
 * writer_open). */
enum ims_rc ims_blob_writer_open(struct ims_service *svc, int64_t size, struct ims_store_writer **ret,
                                 struct ims_err *err);
/* The same in one given store (copy-image's target) instead of the one
 * taking new data; its calls still go through svc->store. */
enum ims_rc ims_blob_writer_open_in(struct ims_service *svc, struct ims_store *store, int64_t size,
                                    struct ims_store_writer **ret, struct ims_err *err);
void ims_blob_writer_abort(struct ims_service *svc, struct ims_store_writer *w);
/* Commits w (freed whatever the result); on failure its claim ends.
 * ret_md5 (may be NULL): the store's md5 of the data, or "" (the store's
 * commit). */
enum ims_rc ims_blob_writer_commit(struct ims_service *svc, struct ims_store_writer *w, char **ret_location,
                                   char ret_md5[33], struct ims_err *err);
/* ims_blob_writer_commit for a producer that hashed md5 (md5_hex given)
 * or left it to the store (md5_hex "": its writer said md5_at_commit): then
 * the store's md5, else the md5 read back from the committed blob; on a
 * failure to read it the blob is unclaimed and no location given.
 * *ret_from (may be NULL): how the md5 was had, for the log. */
enum ims_rc ims_blob_writer_commit_md5(struct ims_service *svc, struct ims_store_writer *w, char **ret_location,
                                       char md5_hex[33], const char **ret_from, struct ims_err *err);
/* The md5 of a stored blob, read back from its store. */
enum ims_rc ims_blob_md5(struct ims_service *svc, const char *location, char md5[33], struct ims_err *err);
/* A file of the store's temporary area made a registered blob. md5_hex
 * NULL: no md5 wanted (the checksums come later); else as
 * ims_blob_writer_commit_md5's: the producer's md5, or "" to have the
 * store's (ims_blob_adopt_gives_md5 said it would) or the one read back. */
enum ims_rc ims_blob_adopt(struct ims_service *svc, const char *path, char **ret_location, char md5_hex[33],
                           const char **ret_from, struct ims_err *err);
/* Whether adopting a file of size bytes gives its md5, so that its
 * producer may leave md5 out of its pass. */
bool ims_blob_adopt_gives_md5(struct ims_service *svc, int64_t size);
/* Ends this process's claim on a blob it wrote but no image took, and
 * collects it. */
void ims_blob_unclaim(struct ims_service *svc, const char *location);
/* Removes a blob if no image references it and no writer holds it (after
 * the commit that dropped the last reference): the row goes first, then
 * the data. */
void ims_blob_release(struct ims_service *svc, const char *blob);
/* Collects every such blob (those whose writer died once its lease ran
 * out); returns how many. */
int64_t ims_blobs_collect(struct ims_service *svc);
/* Ends the claims of the blob writers known to be gone (processes of this
 * host that no longer run, ims_owner_gone), so a restart collects at once
 * what its predecessor was writing (S3: aborts its multipart uploads)
 * instead of when its lease runs out. Returns how many blobs it freed. */
int64_t ims_blobs_unclaim_gone_writers(struct ims_service *svc);
/* The format inspector over a stored blob where it is (bounded reads of
 * headers and tables: pread on the file store, ranged GETs on S3), and,
 * with declared, the check that it is that format (ims_format_inspect and
 * ims_format_check_declared). IMS_E_IO when the blob cannot be read. */
enum ims_rc ims_blob_inspect(struct ims_service *svc, const char *location, const struct ims_format_limits *limits,
                             const char *declared, struct ims_format_info *info, enum ims_format_refusal *why,
                             struct ims_err *err);
/* Glance's PATCH of /locations (image_locations.c): applies patch's
 * location operations to img (in its edit) with Glance's checks; the other
 * operations go to *ret_rest, borrowed from patch (free only its ops
 * array), for ims_patch_apply. */
struct ims_patch;
/* Before the edit: asks the stores for the data patch's locations name
 * (their sizes into *sizes, for the apply: the edit asks no store) and
 * reads (once, remembered) its digests if no holder has them, so the edit
 * reads no blob; IMS_E_CONFLICT while another request reads them. Image id
 * must be one p sees and may change before any read starts. The caller
 * releases *sizes (zeroed before). */
enum ims_rc ims_image_locations_prepare(struct ims_service *svc, const struct ims_principal *p, const char *id,
                                        const struct ims_patch *patch, struct ims_kvlist *sizes, struct ims_err *err);
enum ims_rc ims_image_locations_apply(struct ims_service *svc, const struct ims_principal *p, struct ims_image *img,
                                      const struct ims_patch *patch, const struct ims_kvlist *sizes,
                                      struct ims_patch *ret_rest, struct ims_err *err);
/* Adds every documented IMS attribute props lacks, with the value an image
 * gets when nothing else gives one (lib/core/images.c; spec/image-fields.tsv):
 * every path that makes an image row calls it. */
void ims_image_props_defaults(struct ims_kvlist *props);
static inline void ims_image_edit_abort(struct ims_image_edit *edit) { ims_image_edit_end(edit, IMS_E_CONFLICT, NULL); }

/* The upload's data pipe: md5 and sha512 of a stream and its delivery to
 * a sink (the store's write), off the caller's thread. The caller only
 * copies into a ring of 4 x 2 MiB blocks (memory stays flat);
 * one thread of the pipe computes md5, one sha512, one hands each block to
 * the sink, in order. On the event-loop thread, md5 and the write were the
 * upload's bottleneck. */
/* ---- login rate limits (login_guard.c) ---- */
struct ims_config;
struct ims_login_guard;
struct ims_login_guard *ims_login_guard_new(void);
void ims_login_guard_free(struct ims_login_guard *g);
/* May a login for user (an id, or the name as given; NULL: not known yet)
 * from source start now? IMS_E_TOOMANY with err->retry_after otherwise.
 * Draws one attempt from the address's bucket. */
enum ims_rc ims_login_guard_admit(struct ims_login_guard *g, const struct ims_config *cfg, const char *user,
                                  const char *source, struct ims_err *err);
/* Records the outcome: a failure draws from the user's bucket, a success
 * trusts the (user, source) pair. */
void ims_login_guard_result(struct ims_login_guard *g, const struct ims_config *cfg, const char *user,
                            const char *source, bool success);

/* ---- a service thread that runs step(arg) at once and then every
 * period_ms until stopped (ticker.c) ---- */
struct ims_ticker;
enum ims_rc ims_ticker_start(const char *what, void (*step)(void *arg), void *arg, int64_t period_ms,
                             struct ims_ticker **ret, struct ims_err *err);
void ims_ticker_stop(struct ims_ticker *t); /* NULL: nothing */

/* ---- upload leases (upload_leases.c) ---- */
struct ims_service;
/* Renews the leases of this process's uploads every third of a lease until
 * stopped (ims_ticker_stop). */
enum ims_rc ims_upload_leases_start(struct ims_service *svc, struct ims_ticker **ret, struct ims_err *err);

/* ---- the node-local image cache (image_cache.c: its directory; cache_fill.c:
 * filling it from downloads and from the queue) ---- */
struct ims_image_cache;
struct ims_cache_fill;
struct ims_blob_reader;
struct ims_kvlist;
struct ims_strlist;
/* Makes dir and its areas; removes what fills of gone processes left. */
enum ims_rc ims_image_cache_open(const char *dir, uint64_t max_size, struct ims_image_cache **ret,
                                 struct ims_err *err);
void ims_image_cache_close(struct ims_image_cache *c);
uint64_t ims_image_cache_max_size(const struct ims_image_cache *c);
/* The key of img's data; false when it has none. */
bool ims_image_cache_key(const struct ims_image *img, char key[IMS_CACHE_KEY_MAX]);
/* A read-only descriptor of key's file if cached with this size (a hit:
 * counted, and the file becomes the most recently used), else -1. */
int ims_image_cache_lookup(struct ims_image_cache *c, const char *key, uint64_t size);
void ims_image_cache_remove_key(struct ims_image_cache *c, const char *key);
/* Removes the image's files (every image's with image_id NULL). */
void ims_image_cache_drop_image(struct ims_image_cache *c, const char *image_id);
/* A fill of key: NULL when another fill of it runs, it is cached already,
 * it is larger than the cache or has no md5. Bytes come in order from 0
 * (write false otherwise, or once the cache closes: abort then); end
 * verifies the md5 of the file as written, renames it into place and
 * evicts the least recently used files past the bound; abort leaves
 * nothing. Both free the fill. Close waits for every fill's end. */
struct ims_cache_fill *ims_image_cache_fill_begin(struct ims_image_cache *c, const char *key, const char *md5_hex,
                                                  uint64_t size);
bool ims_image_cache_fill_write(struct ims_cache_fill *f, uint64_t pos, const void *p, size_t n);
enum ims_rc ims_image_cache_fill_end(struct ims_cache_fill *f, struct ims_err *err);
void ims_image_cache_fill_abort(struct ims_cache_fill *f);
/* A fill's own thread (cache_filler.c): offer copies the download's next
 * bytes for it and never waits for it unless patient (false: not the next
 * bytes, or the filler gave up; offer no more then); once it holds every
 * byte the thread ends the fill, on its own. leave: the download offers no
 * more (patient: waits for the thread's end); the fill is abandoned if
 * bytes are missing. Takes fill; NULL (fill aborted) if no thread starts. */
struct ims_cache_filler;
struct ims_cache_filler *ims_cache_filler_start(struct ims_cache_fill *fill, uint64_t size, bool patient);
bool ims_cache_filler_offer(struct ims_cache_filler *f, uint64_t pos, const char *p, size_t n);
void ims_cache_filler_leave(struct ims_cache_filler *f);
/* The slots (1 MiB) all fillers of the process may hold together. */
void ims_cache_fillers_budget(long slots);
/* The files in the cache (any order). */
void ims_image_cache_scan(struct ims_image_cache *c, struct ims_cached_list *ret);
/* The queue: image ids marked for the prefetcher (cache_fill.c). */
bool ims_image_cache_enqueue(struct ims_image_cache *c, const char *image_id);
void ims_image_cache_dequeue(struct ims_image_cache *c, const char *image_id); /* NULL: all */
void ims_image_cache_queued(struct ims_image_cache *c, struct ims_strlist *ret);

/* cache_fill.c: whether img's data is cached by this node (a remote store's
 * active image with an md5); the download's reader from the cache (a hit)
 * or a reader that fills it while the client reads (a miss). */
bool ims_image_cache_wanted(const struct ims_service *svc, const struct ims_image *img);
enum ims_rc ims_image_cache_open_read(struct ims_service *svc, const struct ims_image *img,
                                      struct ims_blob_reader *ret, struct ims_err *err);
/* The prefetcher: fills queued images on a thread of its own, and drops
 * files of images whose data is gone (stopped by ims_ticker_stop). */
enum ims_rc ims_cache_prefetcher_start(struct ims_service *svc, struct ims_ticker **ret, struct ims_err *err);
/* Fills img's file now (the prefetcher's step). */
enum ims_rc ims_image_cache_fill_now(struct ims_service *svc, const struct ims_image *img, struct ims_err *err);
/* Removes the files of images that no longer exist or whose data changed. */
void ims_image_cache_sweep(struct ims_service *svc);

typedef enum ims_rc (*ims_pipe_sink)(void *ctx, const void *p, size_t n, struct ims_err *err);
struct ims_hash_pipe;
/* sink may be NULL (digests only). NULL if threads cannot start. */
struct ims_hash_pipe *ims_hash_pipe_new(ims_pipe_sink sink, void *sink_ctx);
/* The same with only the digests asked for: one not asked for is given
 * as "" by ims_hash_pipe_final (whose pointer for it may be NULL). */
struct ims_hash_pipe *ims_hash_pipe_new_digests(ims_pipe_sink sink, void *sink_ctx, bool md5, bool sha512);
/* Blocks only while the ring is full. False once a digest or the sink
 * failed (ims_hash_pipe_error says why); the data is then discarded. */
bool ims_hash_pipe_update(struct ims_hash_pipe *h, const void *p, size_t n);
/* The bytes update takes now without waiting. When none, and wake is
 * given, wake(arg) is called once, on a pipe thread, as soon as some are
 * free (the caller suspends meanwhile instead of blocking in update). */
size_t ims_hash_pipe_room(struct ims_hash_pipe *h, void (*wake)(void *arg), void *arg);
/* Waits until every block is hashed and delivered; hex digests out. Call once. */
bool ims_hash_pipe_final(struct ims_hash_pipe *h, char md5_hex[33], char sha512_hex[129]);
/* The md5 and sha512 of the data r reads (lib/core/image_stores.c); sha
 * NULL: the md5 only. */
enum ims_rc ims_blob_digests(const struct ims_blob_reader *r, char md5[33], char sha[129], bool (*keep_going)(void *ctx),
                             void *ctx, struct ims_err *err);
/* Closes what open_read opened for r. */
void ims_blob_reader_close(struct ims_blob_reader *r);
/* Digests read in the background for locations (digest_reads.c): a slot
 * reserved for url before its claim (false: url has one already, READS_MAX
 * are taken, or stopping) and given back if the claim fails; the read of
 * url's data started on a thread of its own once claimed (it gives the
 * slot back when done; false: it could not start, the slot given back);
 * whether this process reads url now (a claim of this process's without
 * a slot was left behind); a wait of up to ms for any read to end. A read
 * that failed is kept on its blob's row this long: requests meanwhile get
 * its error at once, none reads the data again up to the failure. */
#define IMS_DIGEST_FAILURE_SECONDS 60
struct ims_digest_reads *ims_digest_reads_new(void);
void ims_digest_reads_stop(struct ims_digest_reads *dr);
bool ims_digest_read_reserve(struct ims_service *svc, const char *url);
void ims_digest_read_unreserve(struct ims_service *svc, const char *url);
bool ims_digest_read_start(struct ims_service *svc, const char *url);
bool ims_digest_read_running(struct ims_service *svc, const char *url);
void ims_digest_reads_wait(struct ims_service *svc, int ms);
/* Why the pipe failed (its ims_rc and message); IMS_OK if it did not. */
enum ims_rc ims_hash_pipe_error(struct ims_hash_pipe *h, struct ims_err *err);
/* Stops the threads (if still running) and frees. NULL-safe. */
void ims_hash_pipe_free(struct ims_hash_pipe *h);

/* The attributes every image made from a server's disk carries
 * (lib/core/server_images.c), shared by full-ECS images (whole_images.c). */
struct ims_server_image_request;
struct ims_server_draft {
    const struct ims_server_image_request *r; /* enterprise project, memory, type */
    const char *id, *name, *description;
    const struct ims_strlist *tags;           /* NULL: none */
    uint64_t disk_size;                       /* bytes: min_disk in whole GB */
    bool data;                                /* a data-disk image */
    const char *origin;                       /* __data_origin */
    const char *os_version, *firmware;        /* NULL: unknown */
};
void ims_server_draft_base(struct ims_image *d, const struct ims_server_draft *b);

#endif
