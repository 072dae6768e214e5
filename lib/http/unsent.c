/* SPDX-License-Identifier: Apache-2.0
 * A file body's socket holds at most one send's worth of unsent bytes
 * (TCP_NOTSENT_LOWAT). libmicrohttpd 0.9.75 sends a file 128 KiB per
 * event-loop turn (MHD_SENFILE_CHUNK_, no option; 2 MiB only in
 * thread-per-connection mode, which cannot be combined with epoll and hangs
 * suspended connections, bench/README.md Run NL). With the limit a spliced
 * download from the page cache ran 2.03x and 1.81x as fast per round
 * (medians of 16 and 24 loaded rounds, same process, same file), curl 1.27x,
 * and as fast as one blocking whole-file sendfile with the same limit. The
 * syscalls stay the same (8,192 sendfile + 8,195 epoll_wait per GiB, none short): what
 * changes is where the kernel does the receive work (the sender's CPU per
 * GiB rises from 0.08 to 0.11 s, the client's falls). The limit bounds only
 * bytes not yet sent, never those in flight, so a remote peer's window is
 * not capped; the sender sleeps on EPOLLOUT sooner instead of queueing MiBs. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "http-int.h"

void http_limit_unsent(int fd)
{
    const int lowat = HTTP_UNSENT_LOWAT;
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat); /* best effort */
}
