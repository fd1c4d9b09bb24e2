/*
 * test_errlog.c - log lines on a pipe: written whole when there is room,
 * dropped at once and counted when the pipe is full, and the count told
 * with the next line that fits.
 */
#include "errlog.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* A pipe, read end non-blocking so that a test can drain it. */
static void make_pipe(int p[2])
{
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

/* Fill the pipe to the last byte, then make its write end blocking again,
 * as a stderr nobody reads would be. */
static void fill(int fd)
{
    static const char junk[4096];
    cr_assert_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    while (write(fd, junk, sizeof junk) > 0)
        ;
    while (write(fd, junk, 1) > 0)
        ;
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(fcntl(fd, F_SETFL, 0), 0);
}

/* Everything the pipe holds; returns its length. */
static size_t drain(int fd, char *buf, size_t size)
{
    size_t got = 0;
    ssize_t n;
    while (got < size && (n = read(fd, buf + got, size - got)) > 0)
        got += (size_t)n;
    return got;
}

Test(errlog, writes_a_line_with_its_newline)
{
    int p[2];
    make_pipe(p);
    errlog_t log = ERRLOG_INIT(p[1]);
    char buf[512];

    cr_assert_eq(errlog_printf(&log, "client %d: %s", 7, "done"), 1);
    size_t n = drain(p[0], buf, sizeof buf);
    cr_assert_eq(n, strlen("client 7: done\n"));
    cr_assert_arr_eq(buf, "client 7: done\n", n);
    close(p[0]);
    close(p[1]);
}

Test(errlog, drops_and_counts_lines_a_full_pipe_cannot_take, .timeout = 10)
{
    int p[2];
    make_pipe(p);
    fill(p[1]);
    errlog_t log = ERRLOG_INIT(p[1]);
    static char buf[1 << 20];

    /* A blocking write would hang here until the timeout. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(errlog_printf(&log, "line %d", i), 0);
    cr_assert_eq(log.dropped, 3);

    drain(p[0], buf, sizeof buf);
    cr_assert_eq(errlog_printf(&log, "back"), 1);
    cr_assert_eq(log.dropped, 0);
    size_t n = drain(p[0], buf, sizeof buf);
    static const char want[] =
        "[3 log lines dropped: stderr could not take them]\nback\n";
    cr_assert_eq(n, sizeof want - 1);
    cr_assert_arr_eq(buf, want, n);
    close(p[0]);
    close(p[1]);
}

Test(errlog, cuts_a_long_line_but_keeps_its_newline)
{
    int p[2];
    make_pipe(p);
    errlog_t log = ERRLOG_INIT(p[1]);
    char text[3 * ERRLOG_LINE_MAX];
    char buf[4 * ERRLOG_LINE_MAX];

    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    cr_assert_eq(errlog_printf(&log, "%s", text), 1);
    size_t n = drain(p[0], buf, sizeof buf);
    cr_assert_eq(n, ERRLOG_LINE_MAX);
    cr_assert_eq(buf[n - 1], '\n');
    cr_assert_eq(buf[n - 2], 'x');
    close(p[0]);
    close(p[1]);
}

Test(errlog, counts_a_line_to_a_closed_pipe_as_dropped)
{
    int p[2];
    make_pipe(p);
    close(p[0]); /* nobody will ever read: POLLERR, and write() is EPIPE */
    errlog_t log = ERRLOG_INIT(p[1]);
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ignore, &old);

    cr_assert_eq(errlog_printf(&log, "into the void"), 0);
    cr_assert_eq(log.dropped, 1);
    sigaction(SIGPIPE, &old, NULL);
    close(p[1]);
}
