/* SPDX-License-Identifier: Apache-2.0
 * A file body's socket keeps at most HTTP_UNSENT_LOWAT bytes unsent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../lib/http/http-int.h"

static int lowat_of(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len), 0);
    return v;
}

static void test_tcp_socket_gets_the_limit(void **state)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_not_equal(lowat_of(fd), HTTP_UNSENT_LOWAT); /* the system default is no limit */
    http_limit_unsent(fd);
    assert_int_equal(lowat_of(fd), HTTP_UNSENT_LOWAT);
    assert_int_equal(HTTP_UNSENT_LOWAT, 128 * 1024); /* libmicrohttpd's MHD_SENFILE_CHUNK_ */
    close(fd);
}

static void test_no_socket_is_a_no_op(void **state)
{
    http_limit_unsent(-1); /* MHD gave no descriptor: nothing to do, nothing to crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_socket_gets_the_limit),
        cmocka_unit_test(test_no_socket_is_a_no_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
