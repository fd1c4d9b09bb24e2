/* Tests for exercise 02-edge-triggered. */
#define _GNU_SOURCE /* pipe2, epoll */
#include "exercise.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#define TOTAL 40000

static char sent[TOTAL], got[TOTAL + 1];

/* Call drain_on_readable() on every edge until half a second passes with
 * no event. */
static void pump(int ep, int fd, drain_sink_t *sink)
{
    struct epoll_event ev;
    int rounds = 0;
    while (epoll_wait(ep, &ev, 1, 500) == 1 && rounds++ < 1000) {
        cr_assert_eq(ev.data.fd, fd);
        cr_assert_eq(drain_on_readable(fd, sink), 0);
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
    for (int i = 0; i < TOTAL; i++)
        sent[i] = (char)(i * 7 + i / 251);
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

Test(edge_triggered, a_closed_writer_is_seen_after_the_data, .timeout = 20)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    cr_assert_eq(write(p[1], sent, 10000), 10000);
    close(p[1]);
    drain_sink_t sink = {got, 0, sizeof got, 0};
    pump(ep, p[0], &sink);
    cr_assert_eq(sink.len, 10000);
    cr_assert_eq(sink.eof, 1, "end of file was never seen");
    close(ep);
    close(p[0]);
}
