/* SPDX-License-Identifier: Apache-2.0
 * Connections from this host carry no pacing. With BBR, a common default,
 * the kernel paces every TCP socket itself when the interface has no fq
 * qdisc (loopback has none): each send arms an hrtimer, which on a VM is an
 * exit to the host. On loopback there is no queue to spare and no loss, so
 * pacing buys nothing and halves a download (bench/README.md, Run DL: the
 * sender's CPU per GiB 0.20-0.44 s with BBR, 0.08-0.15 s unpaced). A
 * loopback peer's socket is switched to reno, the congestion control every
 * user may choose (tcp_allowed_congestion_control always holds it), which
 * never paces; a remote peer keeps the system's choice. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "http-int.h"

static bool is_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

void http_unpace_loopback(int fd, const struct sockaddr *peer)
{
    static const char reno[] = "reno";
    if (fd >= 0 && is_loopback(peer))
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, reno, (socklen_t)strlen(reno)); /* best effort */
}
