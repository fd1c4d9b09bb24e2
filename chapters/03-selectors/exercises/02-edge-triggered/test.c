/* Tests for exercise 02-edge-triggered. */
#define _GNU_SOURCE /* pipe2, epoll */
#include "exercise.h"
#include "guard.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define TOTAL 40000

static char sent[TOTAL], got[TOTAL + 1];

/* Every read() of the answer goes through here: the exercise is linked
 * with -Wl,--wrap=read (see ldflags), so the test sees each call's size
 * and can play the signal that interrupts one. */
ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __wrap_read(int fd, void *buf, size_t count);
static size_t largest_read, zero_reads, reads, eof_reads;
static size_t eintr_at; /* the read() call (1, 2, ...) that fails with EINTR */
static size_t eio_at;   /* the read() call that fails with EIO */
static const drain_sink_t *watched; /* the sink of the call under way */
static size_t overflow; /* the most bytes a read() asked past sink->cap */

ssize_t __wrap_read(int fd, void *buf, size_t count)
{
    reads++;
    if (count > largest_read)
        largest_read = count;
    if (count == 0)
        zero_reads++;
    if (reads == eintr_at) {
        errno = EINTR; /* as if a signal arrived before any byte was read */
        return -1;
    }
    if (reads == eio_at) {
        errno = EIO; /* a device error: nothing the answer can retry */
        return -1;
    }
    if (watched != NULL && (char *)buf >= watched->data &&
        (char *)buf + count > watched->data + watched->cap) {
        /* Past the sink's end: note it, and read only what fits, so that
         * the test reports the mistake instead of crashing on it. */
        size_t past = (size_t)((char *)buf + count -
                               (watched->data + watched->cap));
        if (past > overflow)
            overflow = past;
        count -= past < count ? past : count;
    }
    ssize_t n = __real_read(fd, buf, count);
    if (n == 0 && count > 0)
        eof_reads++;
    return n;
}

static void fill(void)
{
    for (int i = 0; i < TOTAL; i++)
        sent[i] = (char)(i * 7 + i / 251);
}

/* One call of the answer, which must come back: the descriptor is
 * non-blocking, so only a loop that never stops can keep it. */
static int drain(int fd, drain_sink_t *sink)
{
    guard_arm(10, "drain_on_readable() did not return: it keeps calling "
                  "read() after read() said EAGAIN (nothing left for now) "
                  "or 0 (end of file)? Either one means: stop and return.");
    errno = 0;
    watched = sink;
    int rc = drain_on_readable(fd, sink);
    int err = errno;
    watched = NULL;
    guard_disarm();
    cr_assert_eq(overflow, 0, "a read() asked for %zu bytes more than the "
                 "sink had room for: it would write past sink->cap; ask for "
                 "at most the room left (cap - len)", overflow);
    errno = err;
    return rc;
}

/* Call drain_on_readable() on every edge until half a second passes with
 * no event. */
static void pump(int ep, int fd, drain_sink_t *sink)
{
    struct epoll_event ev;
    int rounds = 0;
    while (epoll_wait(ep, &ev, 1, 500) == 1 && rounds++ < 1000) {
        cr_assert_eq(ev.data.fd, fd);
        int rc = drain(fd, sink);
        int err = errno;
        cr_assert_neq(rc == -1 && err == EINTR, 1, "drain_on_readable() "
                      "returned -1 with EINTR: a read() interrupted by a "
                      "signal is not an error; read again");
        cr_assert_neq(rc == -1 && (err == EAGAIN || err == EWOULDBLOCK), 1,
                      "drain_on_readable() returned -1 with EAGAIN: EAGAIN "
                      "means everything was taken, which is success (0)");
        cr_assert_eq(rc, 0, "drain_on_readable() returned %d (errno %d, %s) "
                     "with the sink not full", rc, err, strerror(err));
        cr_assert_eq(zero_reads, 0, "a read() asked for 0 bytes");
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

Test(edge_triggered, every_byte_of_one_write_arrives, .timeout = 30)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, TOTAL), TOTAL); /* one edge */
    drain_sink_t sink = {got, 0, sizeof got, 0};
    pump(ep, p[0], &sink);
    cr_assert_eq(sink.len, TOTAL, "got %zu of %d bytes: under edge "
                 "triggering, bytes left in the pipe after an event are "
                 "never announced again", sink.len, TOTAL);
    cr_assert_arr_eq(got, sent, TOTAL, "the bytes arrived out of order or "
                     "changed: append each read() after the bytes already "
                     "in the sink");
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, every_byte_of_several_writes_arrives, .timeout = 30)
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
                     "bytes: under edge triggering, bytes left in the pipe "
                     "after an event are never announced again", part + 1,
                     sink.len, from + n);
    }
    cr_assert_arr_eq(got, sent, TOTAL, "the bytes arrived out of order or "
                     "changed: append each read() after the bytes already "
                     "in the sink");
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, an_interrupted_read_is_retried, .timeout = 30)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, 10000), 10000);
    eintr_at = 2; /* the second read() is "interrupted by a signal" */
    drain_sink_t sink = {got, 0, sizeof got, 0};
    pump(ep, p[0], &sink);
    cr_assert_geq(reads, 2, "only %zu read() call(s) for 10000 bytes",
                  reads);
    cr_assert_eq(sink.len, 10000, "got %zu of 10000 bytes when one read() "
                 "was interrupted by a signal (EINTR): an interrupted "
                 "read() read nothing, and the bytes are still there",
                 sink.len);
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, an_empty_pipe_is_success_not_an_error, .timeout = 30)
{
    /* A readiness report is a hint: by the time the handler runs, the
     * bytes may be gone. */
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
    drain_sink_t sink = {got, 0, sizeof got, 0};
    int rc = drain(p[0], &sink);
    int err = errno;
    cr_assert_eq(rc, 0, "drain_on_readable() on an empty pipe returned %d "
                 "(errno %d, %s): EAGAIN at once just means there is "
                 "nothing to take, which is success (0)", rc, err,
                 strerror(err));
    cr_assert_eq(sink.len, 0);
    cr_assert_eq(sink.eof, 0, "an empty pipe whose writer is still open "
                 "is not at end of file");
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, a_full_sink_is_enobufs_not_end_of_file, .timeout = 30)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, 10000), 10000);
    drain_sink_t sink = {got, 0, 5000, 0}; /* room for half of it */
    struct epoll_event ev;
    cr_assert_eq(epoll_wait(ep, &ev, 1, 1000), 1);
    int rc = drain(p[0], &sink);
    int err = errno;
    cr_assert_eq(zero_reads, 0, "a read() asked for 0 bytes when the sink "
                 "was full: read() then returns 0, which looks like end "
                 "of file; a full sink is ENOBUFS");
    cr_assert_eq(rc, -1, "10000 bytes waiting, room for 5000: fill the "
                 "sink, then return -1 with errno ENOBUFS (returned %d, "
                 "%zu bytes in the sink)", rc, sink.len);
    cr_assert_eq(err, ENOBUFS, "errno %d (%s) for a full sink, want ENOBUFS",
                 err, strerror(err));
    cr_assert_eq(sink.len, 5000, "the sink holds %zu bytes, want all 5000 "
                 "that fit", sink.len);
    cr_assert_arr_eq(got, sent, 5000);
    cr_assert_eq(sink.eof, 0, "a full sink is not end of file");
    close(ep);
    close(p[0]);
    close(p[1]);
}

Test(edge_triggered, a_closed_writer_is_seen_after_the_data, .timeout = 30)
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
    cr_assert_neq(eof_reads, 0, "end of file was never seen: your answer "
                  "returned before a read() said EAGAIN or 0 (end of file). "
                  "A read() that returns fewer bytes than asked does not "
                  "say what comes next; here, end of file did, and no event "
                  "will come for it again");
    cr_assert_eq(sink.eof, 1, "end of file was never seen: read() returning "
                 "0 means end of file (set sink->eof), not \"nothing for "
                 "now\" (that is EAGAIN); no event will come for it again");
    close(ep);
    close(p[0]);
}

Test(edge_triggered, a_read_error_is_the_calls_failure, .timeout = 30)
{
    int p[2];
    int ep = edge_triggered_pipe(p);
    fill();
    cr_assert_eq(write(p[1], sent, 10000), 10000);
    eio_at = 2; /* the second read() fails with EIO */
    drain_sink_t sink = {got, 0, sizeof got, 0};
    struct epoll_event ev;
    cr_assert_eq(epoll_wait(ep, &ev, 1, 1000), 1);
    int rc = drain(p[0], &sink);
    int err = errno;
    cr_assert_eq(rc, -1, "a read() failed with EIO and drain_on_readable() "
                 "returned %d: only EAGAIN (nothing left) and EINTR (a "
                 "signal) are not failures; any other error is returned, -1 "
                 "with read()'s errno", rc);
    cr_assert_eq(err, EIO, "a read() failed with EIO, but errno is %d (%s) "
                 "when drain_on_readable() returned", err, strerror(err));
    cr_assert_eq(sink.eof, 0, "a read error is not end of file");
    close(ep);
    close(p[0]);
    close(p[1]);
}
