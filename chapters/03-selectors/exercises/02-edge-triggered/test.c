/* Tests for exercise 02-edge-triggered. */
#define _GNU_SOURCE /* pipe2, epoll */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define TOTAL 40000

static char sent[TOTAL], got[TOTAL + 1];

/* Every read() of the answer goes through here: the exercise is linked
 * with -Wl,--wrap=read (see ldflags), so the test sees each call's size. */
ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __wrap_read(int fd, void *buf, size_t count);
static size_t largest_read, zero_reads;

ssize_t __wrap_read(int fd, void *buf, size_t count)
{
    if (count > largest_read)
        largest_read = count;
    if (count == 0)
        zero_reads++;
    return __real_read(fd, buf, count);
}

static void fill(void)
{
    for (int i = 0; i < TOTAL; i++)
        sent[i] = (char)(i * 7 + i / 251);
}

/* Call drain_on_readable() on every edge until half a second passes with
 * no event. */
static void pump(int ep, int fd, drain_sink_t *sink)
{
    struct epoll_event ev;
    int rounds = 0;
    while (epoll_wait(ep, &ev, 1, 500) == 1 && rounds++ < 1000) {
        cr_assert_eq(ev.data.fd, fd);
        cr_assert_eq(drain_on_readable(fd, sink), 0,
                     "drain_on_readable() failed: %s", strerror(errno));
        cr_assert_leq(largest_read, DRAIN_CHUNK, "a read() asked for %zu "
                      "bytes: at most DRAIN_CHUNK (%d) per call",
                      largest_read, DRAIN_CHUNK);
        if (sink->eof)
            break;
    }
}

static int edge_triggered_pipe(int p[2])
{
    cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
    int ep = epoll_create1(0);
    cr_assert_geq(ep, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = p[0]};
    cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
    return ep;
}

Test(edge_triggered, every_byte_of_one_write_arrives, .timeout = 20)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, TOTAL), TOTAL); /* one edge */
    drain_sink_t sink = {got, 0, sizeof got, 0};
    pump(ep, p[0], &sink);
    cr_assert_eq(sink.len, TOTAL, "got %zu of %d bytes: the rest was never "
                 "announced again", sink.len, TOTAL);
    cr_assert_arr_eq(got, sent, TOTAL);
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, every_byte_of_several_writes_arrives, .timeout = 20)
{
    /* Three edges, each bringing more than two reads can take. */
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    drain_sink_t sink = {got, 0, sizeof got, 0};
    for (int part = 0; part < 3; part++) {
        size_t from = (size_t)part * (TOTAL / 4);
        size_t n = part < 2 ? TOTAL / 4 : TOTAL - from;
        cr_assert_eq(write(p[1], sent + from, n), (ssize_t)n);
        pump(ep, p[0], &sink);
        cr_assert_eq(sink.len, from + n, "after write %d: got %zu of %zu "
                     "bytes: the rest was never announced again", part + 1,
                     sink.len, from + n);
    }
    cr_assert_arr_eq(got, sent, TOTAL);
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, a_full_sink_is_enobufs_not_end_of_file, .timeout = 20)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, 10000), 10000);
    drain_sink_t sink = {got, 0, 5000, 0}; /* room for half of it */
    struct epoll_event ev;
    cr_assert_eq(epoll_wait(ep, &ev, 1, 1000), 1);
    errno = 0;
    cr_assert_eq(drain_on_readable(p[0], &sink), -1, "10000 bytes waiting, "
                 "room for 5000: fill the sink, then return -1 with errno "
                 "ENOBUFS (got %zu bytes)", sink.len);
    cr_assert_eq(errno, ENOBUFS, "errno %d (%s), want ENOBUFS", errno,
                 strerror(errno));
    cr_assert_eq(sink.len, 5000);
    cr_assert_arr_eq(got, sent, 5000);
    cr_assert_eq(sink.eof, 0, "a read() of 0 bytes into a full sink returns "
                 "0, which is not end of file");
    cr_assert_eq(zero_reads, 0, "a read() of 0 bytes was asked for");
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, a_closed_writer_is_seen_after_the_data, .timeout = 20)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, 10000), 10000);
    close(p[1]);
    drain_sink_t sink = {got, 0, sizeof got, 0};
    pump(ep, p[0], &sink);
    cr_assert_eq(sink.len, 10000, "got %zu of 10000 bytes before the end of "
                 "file", sink.len);
    cr_assert_eq(sink.eof, 1, "end of file was never seen");
    close(ep);
    close(p[0]);
}
