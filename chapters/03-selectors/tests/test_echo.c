/*
 * test_echo.c - one connection's echo state machine, driven by hand over a
 * non-blocking socketpair: what it reads, sends, buffers and asks for.
 */
#define _GNU_SOURCE /* SOCK_NONBLOCK */
#include "echo.h"
#include "selector.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

Test(echo, echoes_what_it_reads_at_once)
{
    int sv[2];
    echo_conn_t c;
    pair(sv);
    echo_init(&c, sv[0]);
    cr_assert_eq(echo_interest(&c), SELECTOR_READ);
    cr_assert_eq(write(sv[1], "hello", 5), 5);
    cr_assert_eq(echo_on_readable(&c), ECHO_OPEN);
    char buf[16];
    cr_assert_eq(read(sv[1], buf, sizeof buf), 5);
    cr_assert_arr_eq(buf, "hello", 5);
    cr_assert_eq(echo_pending(&c), 0);
    cr_assert_eq(echo_interest(&c), SELECTOR_READ);

    /* Nothing there (a stale readiness): not an error. */
    cr_assert_eq(echo_on_readable(&c), ECHO_OPEN);
    echo_deinit(&c);
    close(sv[0]);
    close(sv[1]);
}

Test(echo, half_close_is_answered_by_half_close_once_all_is_sent)
{
    int sv[2];
    echo_conn_t c;
    pair(sv);
    echo_init(&c, sv[0]);
    cr_assert_eq(write(sv[1], "bye", 3), 3);
    shutdown(sv[1], SHUT_WR);
    cr_assert_eq(echo_on_readable(&c), ECHO_OPEN); /* the data */
    cr_assert_eq(echo_on_readable(&c), ECHO_DONE); /* the end */
    char buf[8];
    cr_assert_eq(read(sv[1], buf, sizeof buf), 3);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 0); /* we shut down too */
    echo_deinit(&c);
    close(sv[0]);
    close(sv[1]);
}

/* A client that sends without reading: the buffer fills to the bound, then
 * the connection stops asking to read; it resumes once the client reads. */
Test(echo, stops_reading_at_the_bound_and_resumes_when_drained, .timeout = 20)
{
    int sv[2];
    echo_conn_t c;
    pair(sv);
    echo_init(&c, sv[0]);
    static char chunk[ECHO_CHUNK];
    memset(chunk, 'z', sizeof chunk);
    size_t written = 0;
    int rounds = 0;
    while (echo_interest(&c) & SELECTOR_READ) {
        ssize_t w = write(sv[1], chunk, sizeof chunk);
        if (w > 0)
            written += (size_t)w;
        cr_assert_eq(echo_on_readable(&c), ECHO_OPEN);
        cr_assert_leq(echo_pending(&c), ECHO_BUFFER_MAX);
        cr_assert_lt(++rounds, 10000, "never stopped reading");
    }
    cr_assert_eq(echo_interest(&c), SELECTOR_WRITE);
    cr_assert_eq(echo_pending(&c), ECHO_BUFFER_MAX);

    /* The client reads everything there is: the echo drains, and reading
     * resumes. */
    static char sink[1 << 20];
    size_t got = 0;
    for (int i = 0; i < 10000 && echo_pending(&c) > 0; i++) {
        ssize_t r = read(sv[1], sink, sizeof sink);
        if (r > 0)
            got += (size_t)r;
        cr_assert_eq(echo_on_writable(&c), ECHO_OPEN);
    }
    cr_assert_eq(echo_pending(&c), 0);
    cr_assert_eq(echo_interest(&c), SELECTOR_READ);
    echo_deinit(&c);
    close(sv[0]);
    close(sv[1]);
    cr_assert_gt(got, 0);
    cr_assert_geq(written, got);
}

Test(echo, a_vanished_client_is_a_failure_not_a_sigpipe)
{
    int sv[2];
    echo_conn_t c;
    pair(sv);
    echo_init(&c, sv[0]);
    cr_assert_eq(write(sv[1], "data", 4), 4);
    close(sv[1]);
    /* Reading the data and echoing it into a closed socket: EPIPE, and the
     * process is still alive (MSG_NOSIGNAL). */
    echo_status_t st = echo_on_readable(&c);
    cr_assert_eq(st, ECHO_FAILED);
    cr_assert(errno == EPIPE || errno == ECONNRESET, "errno %s", strerror(errno));
    echo_deinit(&c);
    close(sv[0]);
}
