/* SPDX-License-Identifier: Apache-2.0
 * Reading a blob with O_DIRECT for a download: chunks go into the reader's
 * own two buffers, and while one is being sent the next is already being
 * read (POSIX AIO), so the disk and the network work at the same time. A
 * read at any other position (a Range request) waits for nothing it does
 * not need: it reads its chunk synchronously and starts read-ahead from
 * there. */
#include <aio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "store-int.h"

#define CHUNK (4 * 1024 * 1024)

struct chunk {
    unsigned char *buf; /* CHUNK bytes, aligned for O_DIRECT */
    uint64_t pos;       /* file offset of buf[0] */
    size_t len;         /* bytes of the file in buf; 0 = empty */
};

struct direct_reader {
    int fd;
    uint64_t size;
    struct chunk chunks[2];
    int cur;            /* the chunk being served */
    struct aiocb ahead; /* reading into chunks[!cur] while busy */
    bool busy;
};

static bool holds(const struct chunk *c, uint64_t pos)
{
    return c->len && pos >= c->pos && pos < c->pos + c->len;
}

/* Waits for the read-ahead; its chunk is empty if it failed. */
static void finish_ahead(struct direct_reader *r)
{
    if (!r->busy)
        return;
    const struct aiocb *list[1] = {&r->ahead};
    while (aio_error(&r->ahead) == EINPROGRESS)
        aio_suspend(list, 1, NULL);
    ssize_t n = aio_return(&r->ahead);
    r->chunks[!r->cur].len = n > 0 ? (size_t)n : 0;
    r->busy = false;
}

static void start_ahead(struct direct_reader *r)
{
    const struct chunk *c = &r->chunks[r->cur];
    uint64_t next = c->pos + c->len;
    if (r->busy || c->len < CHUNK || next >= r->size)
        return;
    struct chunk *o = &r->chunks[!r->cur];
    o->pos = next;
    o->len = 0;
    r->ahead = (struct aiocb){
        .aio_fildes = r->fd, .aio_offset = (off_t)next, .aio_buf = o->buf, .aio_nbytes = CHUNK,
        .aio_sigevent.sigev_notify = SIGEV_NONE};
    r->busy = aio_read(&r->ahead) == 0; /* if it cannot start, the next chunk is read when needed */
}

static bool read_sync(struct direct_reader *r, struct chunk *c, uint64_t pos)
{
    uint64_t at = pos & ~(uint64_t)(IMS_DIRECT_IO_ALIGN - 1);
    ssize_t n;
    do
        n = pread(r->fd, c->buf, CHUNK, (off_t)at);
    while (n < 0 && errno == EINTR);
    c->pos = at;
    c->len = n > 0 ? (size_t)n : 0;
    return holds(c, pos); /* false on an error, or if the file shrank under us */
}

static ssize_t direct_read(void *ctx, uint64_t pos, char *out, size_t max)
{
    struct direct_reader *r = ctx;
    if (pos >= r->size)
        return 0;
    struct chunk *c = &r->chunks[r->cur];
    if (!holds(c, pos)) {
        finish_ahead(r);
        if (holds(&r->chunks[!r->cur], pos))
            r->cur = !r->cur;
        else if (!read_sync(r, c, pos))
            return -1;
        c = &r->chunks[r->cur];
        start_ahead(r);
    }
    size_t avail = (size_t)(c->pos + c->len - pos);
    size_t n = avail < max ? avail : max;
    memcpy(out, c->buf + (pos - c->pos), n);
    return (ssize_t)n;
}

static void direct_close(void *ctx)
{
    struct direct_reader *r = ctx;
    finish_ahead(r); /* its buffer must outlive the read */
    close(r->fd);
    for (int i = 0; i < 2; i++)
        free(r->chunks[i].buf);
    free(r);
}

void ims_direct_reader_new(int fd, uint64_t size, struct ims_blob_reader *ret)
{
    struct direct_reader *r = ims_xcalloc(1, sizeof(*r));
    r->fd = fd;
    r->size = size;
    for (int i = 0; i < 2; i++)
        r->chunks[i].buf = ims_xaligned_alloc(IMS_DIRECT_IO_ALIGN, CHUNK);
    *ret = (struct ims_blob_reader){.fd = -1, .size = size, .read = direct_read, .close = direct_close, .ctx = r};
}
