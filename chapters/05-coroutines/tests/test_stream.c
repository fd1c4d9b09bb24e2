/*
 * test_stream.c - streams on socketpairs, pipes, files and loopback TCP,
 * on the fake clock.
 *
 * Each test drives one stream (st, on sv[0]) from Tasks that await one
 * operation each (op_t), and plays the peer by hand on sv[1].
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"
#include "net.h"
#include "stream.h"
#include "task.h"
#include "taskgroup.h"

/* Every epoll_ctl of this test binary comes here (a definition in the
 * program wins over the C library's), is counted, and goes on to the
 * kernel: the tests below count selector changes without strace. */
static long epoll_ctl_calls;

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    epoll_ctl_calls++;
    return (int)syscall(SYS_epoll_ctl, epfd, op, fd, event);
}

static fixture_t fx;
static int sv[2];
static stream_t st;

static void setup(void)
{
    fixture_start(&fx);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    stream_init(&st, fx.loop, sv[0]);
}

static void teardown(void)
{
    stream_abort(&st);
    if (sv[1] >= 0)
        close(sv[1]);
    fixture_stop(&fx);
}

TestSuite(stream, .init = setup, .fini = teardown, .timeout = 20);

/* ---- one operation in a Task -------------------------------------------- */

enum { READ, EXACT, LINE, UNTIL, DRAIN, CLOSED };

typedef struct op {
    coro_t co;
    stream_t *s;
    int kind;
    size_t n;            /* READ, EXACT: how many */
    const char *sep;     /* UNTIL */
    size_t seplen;
    task_t *task;        /* kept: the frame stays readable */
    int done;
    int err;
    intptr_t got;
    char buf[1024];      /* READ, EXACT: where; LINE, UNTIL: a copy */
} op_t;

static int op_body(coro_t *co)
{
    op_t *f = (op_t *)co;

    CORO_BEGIN(co);
    if (f->kind == READ)
        CORO_AWAIT_CORO_CATCH(co, stream_read(f->s, f->buf, f->n));
    else if (f->kind == EXACT)
        CORO_AWAIT_CORO_CATCH(co, stream_readexactly(f->s, f->buf, f->n));
    else if (f->kind == LINE)
        CORO_AWAIT_CORO_CATCH(co, stream_readline(f->s));
    else if (f->kind == UNTIL)
        CORO_AWAIT_CORO_CATCH(co, stream_readuntil(f->s, f->sep, f->seplen));
    else if (f->kind == DRAIN)
        AWAIT_CATCH(co, stream_drain(f->s));
    else
        AWAIT_CATCH(co, stream_wait_closed(f->s));
    f->err = co->err;
    f->got = co->err ? -1 : (intptr_t)co->in;
    if ((f->kind == LINE || f->kind == UNTIL) && stream_line(f->s) != NULL) {
        size_t len = f->err ? stream_partial(f->s) : (size_t)f->got;
        memcpy(f->buf, stream_line(f->s), len < 1024 ? len : 1024);
    }
    f->done = 1;
    CORO_FAIL(co, co->err);
    CORO_END(co);
}

/* Start one operation. The Task is kept (never released) so that its
 * frame can be read after it has finished. */
static op_t *start_on(stream_t *s, int kind, size_t n)
{
    op_t *f;
    task_t *t = task_create(fx.loop, op_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->task = t;
    f->s = s;
    f->kind = kind;
    f->n = n;
    f->sep = "\n";
    f->seplen = 1;
    return f;
}

static op_t *start(int kind, size_t n)
{
    return start_on(&st, kind, n);
}

static void peer_write(const char *s)
{
    cr_assert_eq(write(sv[1], s, strlen(s)), (ssize_t)strlen(s));
}

static void expect_bytes(const op_t *f, const char *want)
{
    cr_assert(f->done, "the operation has not finished");
    cr_assert_eq(f->err, 0, "failed with %s", strerror(f->err));
    cr_assert_eq(f->got, (intptr_t)strlen(want), "got %ld bytes, not %zu",
                 (long)f->got, strlen(want));
    cr_assert_eq(memcmp(f->buf, want, strlen(want)), 0, "got \"%.*s\"",
                 (int)f->got, f->buf);
}

/* ---- read ---------------------------------------------------------------- */

Test(stream, read_waits_for_bytes_then_returns_them)
{
    op_t *r = start(READ, 64);

    fixture_settle(&fx);
    cr_assert(!r->done, "nothing was sent yet");
    peer_write("ping");
    fixture_settle(&fx);
    expect_bytes(r, "ping");
}

Test(stream, read_returns_at_most_n_and_keeps_the_rest_for_the_next_read)
{
    peer_write("abcdef\nrest");
    op_t *l = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(l, "abcdef\n");
    op_t *r = start(READ, 2);            /* from the buffer, no read() */
    fixture_settle(&fx);
    expect_bytes(r, "re");
    r = start(READ, 64);
    fixture_settle(&fx);
    expect_bytes(r, "st");
    cr_assert_null(st.rbuf, "an emptied read buffer is freed");
}

Test(stream, read_gives_zero_at_end_of_stream_and_at_eof_says_so)
{
    op_t *r = start(READ, 64);

    fixture_settle(&fx);
    cr_assert(!stream_at_eof(&st));
    shutdown(sv[1], SHUT_WR);
    fixture_settle(&fx);
    expect_bytes(r, "");
    cr_assert(stream_at_eof(&st));
    r = start(READ, 64);                 /* and again: still 0 */
    fixture_settle(&fx);
    expect_bytes(r, "");
}

Test(stream, read_of_zero_bytes_returns_zero_at_once)
{
    op_t *r = start(READ, 0);

    fixture_settle(&fx);
    expect_bytes(r, "");
    cr_assert(!stream_at_eof(&st), "a read of 0 is not an end of stream");
}

Test(stream, a_second_read_while_one_waits_fails_with_ebusy)
{
    op_t *a = start(READ, 64);
    fixture_settle(&fx);
    op_t *b = start(LINE, 0);
    fixture_settle(&fx);
    cr_assert(b->done);
    cr_assert_eq(b->err, EBUSY);
    cr_assert(!a->done, "the first read is untouched");
    peer_write("x");
    fixture_settle(&fx);
    expect_bytes(a, "x");
}

Test(stream, cancelling_a_read_loses_nothing_and_the_next_read_works)
{
    op_t *r = start(READ, 64);
    fixture_settle(&fx);
    task_cancel(r->task);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->err, ECANCELED);
    peer_write("after");
    r = start(READ, 64);
    fixture_settle(&fx);
    expect_bytes(r, "after");
}

/* ---- readexactly --------------------------------------------------------- */

Test(stream, readexactly_waits_until_all_n_bytes_are_there)
{
    op_t *r = start(EXACT, 4);

    peer_write("ab");
    fixture_settle(&fx);
    cr_assert(!r->done, "2 of 4 bytes");
    peer_write("cde");
    fixture_settle(&fx);
    expect_bytes(r, "abcd");
    r = start(READ, 64);
    fixture_settle(&fx);
    expect_bytes(r, "e");
}

Test(stream, readexactly_at_end_of_stream_fails_with_enodata_and_the_partial)
{
    op_t *r = start(EXACT, 8);

    peer_write("abc");
    shutdown(sv[1], SHUT_WR);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->err, ENODATA);
    cr_assert_eq(stream_partial(&st), 3);
    cr_assert_eq(memcmp(r->buf, "abc", 3), 0);
    cr_assert(stream_at_eof(&st));
}

Test(stream, cancelled_readexactly_puts_its_bytes_back_for_the_next_read)
{
    op_t *r = start(EXACT, 6);

    peer_write("abc");
    fixture_settle(&fx);
    cr_assert(!r->done);
    task_cancel(r->task);
    fixture_settle(&fx);
    cr_assert_eq(r->err, ECANCELED);
    peer_write("def");
    r = start(EXACT, 6);
    fixture_settle(&fx);
    expect_bytes(r, "abcdef");
}

/* ---- readline / readuntil ------------------------------------------------ */

Test(stream, readline_returns_one_line_at_a_time_with_its_newline)
{
    peer_write("one\ntwo\nthr");
    op_t *r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "one\n");
    r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "two\n");
    r = start(LINE, 0);
    fixture_settle(&fx);
    cr_assert(!r->done, "\"thr\" is not a line yet");
    peer_write("ee\n");
    fixture_settle(&fx);
    expect_bytes(r, "three\n");
    cr_assert_not_null(st.rbuf, "the line stays readable");
    r = start(LINE, 0);
    fixture_settle(&fx);
    cr_assert_null(st.rbuf, "nothing buffered while idle");
}

Test(stream, readline_at_end_of_stream_returns_the_tail_then_zero)
{
    peer_write("last");
    shutdown(sv[1], SHUT_WR);
    op_t *r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "last");
    r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "");
    cr_assert(stream_at_eof(&st));
}

Test(stream, readline_limit_counts_the_bytes_before_the_newline)
{
    stream_set_limit(&st, 4);
    peer_write("abcd\nabcde\nok\n");
    op_t *r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "abcd\n");           /* 4 bytes: at the limit */
    r = start(LINE, 0);
    fixture_settle(&fx);
    cr_assert_eq(r->err, EMSGSIZE);      /* 5: over it */
    r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "ok\n");             /* the stream goes on */
}

Test(stream, an_over_long_line_is_dropped_up_to_its_late_newline)
{
    stream_set_limit(&st, 8);
    peer_write("0123456789abcdef");      /* no newline yet */
    op_t *r = start(LINE, 0);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->err, EMSGSIZE);
    cr_assert_null(st.rbuf, "the over-long bytes are not kept");
    peer_write("ghij");
    r = start(LINE, 0);
    fixture_settle(&fx);
    cr_assert(!r->done, "still inside the dropped line");
    peer_write("klm\nnext\n");
    fixture_settle(&fx);
    expect_bytes(r, "next\n");
}

Test(stream, readuntil_finds_a_separator_split_across_two_reads)
{
    op_t *r = start(UNTIL, 0);

    r->sep = "\r\n";
    r->seplen = 2;
    peer_write("a\r");
    fixture_settle(&fx);
    cr_assert(!r->done);
    peer_write("\nb");
    fixture_settle(&fx);
    expect_bytes(r, "a\r\n");
}

Test(stream, readuntil_at_end_of_stream_fails_with_enodata_and_the_partial)
{
    op_t *r = start(UNTIL, 0);

    r->sep = "END";
    r->seplen = 3;
    peer_write("abcEN");
    shutdown(sv[1], SHUT_WR);
    fixture_settle(&fx);
    cr_assert_eq(r->err, ENODATA);
    cr_assert_eq(stream_partial(&st), 5);
    cr_assert_eq(memcmp(r->buf, "abcEN", 5), 0);
}

Test(stream, readuntil_with_an_empty_separator_fails_with_einval)
{
    op_t *r = start(UNTIL, 0);

    r->seplen = 0;
    fixture_settle(&fx);
    cr_assert_eq(r->err, EINVAL);
    r = start(READ, 4);                  /* not left busy */
    peer_write("ok");
    fixture_settle(&fx);
    expect_bytes(r, "ok");
}

Test(stream, cancelling_a_readline_keeps_the_bytes_it_had)
{
    peer_write("ab");
    op_t *r = start(LINE, 0);
    fixture_settle(&fx);
    task_cancel(r->task);
    fixture_settle(&fx);
    cr_assert_eq(r->err, ECANCELED);
    peer_write("c\n");
    r = start(LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "abc\n");
}

/* ---- blocking descriptors and files -------------------------------------- */

Test(stream, a_blocking_pipe_is_waited_for_before_each_single_read)
{
    int p[2];
    stream_t ps;

    cr_assert_eq(pipe(p), 0);             /* blocking: a read() would hang */
    stream_init(&ps, fx.loop, p[0]);
    op_t *r = start_on(&ps, LINE, 0);
    fixture_settle(&fx);                  /* hangs here if it reads first */
    cr_assert(!r->done);
    cr_assert_eq(write(p[1], "a\nb", 3), 3);
    fixture_settle(&fx);
    expect_bytes(r, "a\n");
    r = start_on(&ps, LINE, 0);           /* "b" buffered: needs more */
    fixture_settle(&fx);
    cr_assert(!r->done);
    cr_assert_eq(write(p[1], "\n", 1), 1);
    fixture_settle(&fx);
    expect_bytes(r, "b\n");
    r = start_on(&ps, READ, 8);
    fixture_settle(&fx);
    cr_assert(!r->done);
    close(p[1]);
    fixture_settle(&fx);
    expect_bytes(r, "");
    cr_assert_eq(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0, "left blocking");
    stream_close(&ps);
}

Test(stream, a_regular_file_is_read_without_waiting)
{
    char path[] = "/tmp/test_stream_XXXXXX";
    int fd = mkstemp(path);
    stream_t fs;

    cr_assert_geq(fd, 0);
    unlink(path);
    cr_assert_eq(write(fd, "line1\nline2", 11), 11);
    lseek(fd, 0, SEEK_SET);
    stream_init(&fs, fx.loop, fd);
    op_t *r = start_on(&fs, LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "line1\n");
    r = start_on(&fs, LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "line2");
    r = start_on(&fs, LINE, 0);
    fixture_settle(&fx);
    expect_bytes(r, "");
    stream_close(&fs);
}

/* ---- write and drain ----------------------------------------------------- */

/* A recognisable byte pattern, so a lost or reordered byte shows. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 2654435761u) >> 24);
}

static unsigned char *patterned(size_t n)
{
    unsigned char *p = malloc(n);

    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(i);
    return p;
}

/* The peer reads what is there, up to max; checks the pattern from *at. */
static size_t peer_read_some(size_t *at, size_t max)
{
    unsigned char buf[4096];
    size_t total = 0;

    while (total < max) {
        size_t want = max - total < sizeof buf ? max - total : sizeof buf;
        ssize_t n = read(sv[1], buf, want);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            cr_assert_eq(buf[i], pattern(*at + (size_t)i),
                         "byte %zu out of order", *at + (size_t)i);
        *at += (size_t)n;
        total += (size_t)n;
    }
    return total;
}

Test(stream, write_sends_at_once_without_queueing_when_the_socket_has_room)
{
    char buf[16];

    cr_assert_eq(stream_write(&st, "hello", 5), 0);
    cr_assert_eq(stream_write_buffer_size(&st), 0);
    cr_assert_null(st.wbuf, "no queue was made");
    /* The loop has not run: the bytes went out in the call itself. */
    cr_assert_eq(read(sv[1], buf, sizeof buf), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    op_t *d = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert(d->done);
    cr_assert_eq(d->err, 0);
}

Test(stream, drain_waits_above_high_water_and_resumes_at_low_water)
{
    enum { TOTAL = 4 << 20 };
    unsigned char *data = patterned(TOTAL);
    size_t at = 0;

    stream_set_write_limits(&st, 65536, 16384);
    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    size_t queued = stream_write_buffer_size(&st);
    cr_assert_gt(queued, 65536, "the socket cannot take 4 MiB at once");
    cr_assert_lt(queued, TOTAL, "it took what it could at once");
    op_t *d = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert(!d->done, "above high water: drain waits");
    /* A slow peer: a little at a time, the loop running in between. */
    while (!d->done) {
        cr_assert_gt(stream_write_buffer_size(&st), 16384,
                     "drain still waits at or below low water");
        peer_read_some(&at, 8192);
        fixture_settle(&fx);
    }
    cr_assert_eq(d->err, 0);
    cr_assert_leq(stream_write_buffer_size(&st), 16384);
    while (at < TOTAL) {                 /* the rest arrives, in order */
        peer_read_some(&at, TOTAL);
        fixture_settle(&fx);
    }
    cr_assert_null(st.wbuf, "the sent queue is freed");
    free(data);
}

Test(stream, drain_at_or_below_high_water_is_finished_at_once)
{
    enum { TOTAL = 1 << 20 };
    unsigned char *data = patterned(TOTAL);

    stream_set_write_limits(&st, TOTAL, TOTAL / 4);
    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    cr_assert_gt(stream_write_buffer_size(&st), 0);
    future_t *f = stream_drain(&st);
    cr_assert(future_done(f), "at or below high water");
    free(data);
}

Test(stream, writes_behind_a_queue_keep_their_order)
{
    enum { TOTAL = 2 << 20, PIECE = 1000 };
    unsigned char *data = patterned(TOTAL);
    size_t at = 0;

    cr_assert_eq(stream_write(&st, data, TOTAL / 2), 0);
    cr_assert_gt(stream_write_buffer_size(&st), 0);
    for (size_t i = TOTAL / 2; i < TOTAL; i += PIECE) {
        size_t n = TOTAL - i < PIECE ? TOTAL - i : PIECE;
        cr_assert_eq(stream_write(&st, data + i, n), 0);
        if (i % (64 * PIECE) == 0) {
            peer_read_some(&at, 65536);
            fixture_settle(&fx);
        }
    }
    while (at < TOTAL) {
        peer_read_some(&at, TOTAL);
        fixture_settle(&fx);
    }
    free(data);
}

Test(stream, cancelling_a_drain_keeps_every_queued_byte)
{
    enum { TOTAL = 4 << 20 };
    unsigned char *data = patterned(TOTAL);
    size_t at = 0;

    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    size_t queued = stream_write_buffer_size(&st);
    op_t *d = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert(!d->done);
    task_cancel(d->task);
    fixture_settle(&fx);
    cr_assert_eq(d->err, ECANCELED);
    cr_assert_eq(stream_write_buffer_size(&st), queued);
    while (at < TOTAL) {
        peer_read_some(&at, TOTAL);
        fixture_settle(&fx);
    }
    d = start(DRAIN, 0);                 /* a new drain works */
    fixture_settle(&fx);
    cr_assert(d->done);
    cr_assert_eq(d->err, 0);
    free(data);
}

Test(stream, a_second_drain_while_one_waits_fails_with_ebusy)
{
    enum { TOTAL = 4 << 20 };
    unsigned char *data = patterned(TOTAL);

    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    op_t *a = start(DRAIN, 0);
    fixture_settle(&fx);
    op_t *b = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert_eq(b->err, EBUSY);
    cr_assert(!a->done, "the first drain is untouched");
    free(data);
}

Test(stream, write_eof_sends_the_queue_then_the_end_of_stream)
{
    enum { TOTAL = 2 << 20 };
    unsigned char *data = patterned(TOTAL);
    size_t at = 0;
    char c;

    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    cr_assert_eq(stream_write_eof(&st), 0);
    cr_assert_eq(stream_write_eof(&st), 0, "again: nothing more");
    cr_assert_eq(stream_write(&st, "x", 1), -1);
    cr_assert_eq(errno, EPIPE);
    while (at < TOTAL) {
        peer_read_some(&at, TOTAL);
        fixture_settle(&fx);
    }
    cr_assert_eq(read(sv[1], &c, 1), 0, "end of stream after the data");
    /* Reading goes on after write_eof. */
    peer_write("reply");
    op_t *r = start(READ, 64);
    fixture_settle(&fx);
    expect_bytes(r, "reply");
    free(data);
}

Test(stream, write_eof_on_a_pipe_fails_with_enotsock)
{
    int p[2];
    stream_t ps;

    cr_assert_eq(pipe(p), 0);
    stream_init(&ps, fx.loop, p[1]);
    cr_assert_eq(stream_write_eof(&ps), -1);
    cr_assert_eq(errno, ENOTSOCK);
    cr_assert_eq(stream_write(&ps, "ok", 2), 0, "a pipe is written");
    stream_close(&ps);
    close(p[0]);
}

Test(stream, a_vanished_peer_gives_epipe_to_write_and_drain_and_after)
{
    close(sv[1]);
    sv[1] = -1;
    cr_assert_eq(stream_write(&st, "x", 1), -1);  /* no SIGPIPE either */
    cr_assert_eq(errno, EPIPE);
    op_t *d = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert_eq(d->err, EPIPE);
    cr_assert_eq(stream_write(&st, "y", 1), -1);
    cr_assert_eq(errno, EPIPE);
}

Test(stream, a_peer_that_goes_while_bytes_are_queued_fails_the_waiting_drain)
{
    enum { TOTAL = 4 << 20 };
    unsigned char *data = patterned(TOTAL);

    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    op_t *d = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert(!d->done);
    close(sv[1]);
    sv[1] = -1;
    fixture_settle(&fx);
    cr_assert(d->done);
    cr_assert(d->err == EPIPE || d->err == ECONNRESET, "%s",
              strerror(d->err));
    cr_assert_null(st.wbuf, "nothing can go out: the queue is freed");
    cr_assert_eq(stream_write(&st, "x", 1), -1);
    cr_assert_eq(errno, d->err);
    free(data);
}

/* ---- close ---------------------------------------------------------------- */

Test(stream, write_and_drain_after_close_fail_with_epipe)
{
    stream_close(&st);
    cr_assert_eq(st.fd, -1, "nothing queued: closed at once");
    cr_assert_eq(stream_write(&st, "x", 1), -1);
    cr_assert_eq(errno, EPIPE);
    op_t *d = start(DRAIN, 0);
    fixture_settle(&fx);
    cr_assert_eq(d->err, EPIPE);
    cr_assert_eq(stream_write_eof(&st), -1);
    cr_assert_eq(errno, EPIPE);
}

Test(stream, close_wakes_a_waiting_read_with_end_of_stream)
{
    op_t *r = start(READ, 64);
    op_t *c = start(CLOSED, 0);
    fixture_settle(&fx);
    cr_assert(!r->done);
    cr_assert(!c->done);
    stream_close(&st);
    fixture_settle(&fx);
    expect_bytes(r, "");
    cr_assert(c->done);
    cr_assert_eq(c->err, 0);
    char ch;
    cr_assert_eq(read(sv[1], &ch, 1), 0, "the peer sees the end");
}

Test(stream, close_sends_what_is_queued_before_closing)
{
    enum { TOTAL = 4 << 20 };
    unsigned char *data = patterned(TOTAL);
    size_t at = 0;
    char ch;

    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    stream_close(&st);
    op_t *c = start(CLOSED, 0);
    fixture_settle(&fx);
    cr_assert(!c->done, "bytes are still queued");
    cr_assert_geq(st.fd, 0);
    while (at < TOTAL) {
        peer_read_some(&at, TOTAL);
        fixture_settle(&fx);
    }
    cr_assert(c->done);
    cr_assert_eq(c->err, 0);
    cr_assert_eq(read(sv[1], &ch, 1), 0);
    free(data);
}

Test(stream, cancelling_wait_closed_aborts_and_drops_the_queue)
{
    enum { TOTAL = 4 << 20 };
    unsigned char *data = patterned(TOTAL);

    cr_assert_eq(stream_write(&st, data, TOTAL), 0);
    stream_close(&st);
    op_t *c = start(CLOSED, 0);
    fixture_settle(&fx);
    task_cancel(c->task);
    fixture_settle(&fx);
    cr_assert_eq(c->err, ECANCELED);
    cr_assert_eq(st.fd, -1, "closed at once");
    cr_assert_null(st.wbuf, "the queue is dropped");
    free(data);
}

/* ---- loopback TCP ---------------------------------------------------------- */

/* A port on 127.0.0.1 from a listening socket made for the test. */
static unsigned short port_of(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;

    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    if (a.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

/* A connected TCP pair: *mine non-blocking for a stream, *peer blocking. */
static void tcp_pair(int *mine, int *peer)
{
    char where[NET_ADDRSTR_MAX];
    int lfd = net_listen("127.0.0.1", 0, where);
    struct sockaddr_in a = {.sin_family = AF_INET};

    cr_assert_geq(lfd, 0);
    a.sin_port = htons(port_of(lfd));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *peer = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(*peer, (struct sockaddr *)&a, sizeof a), 0);
    *mine = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    cr_assert_geq(*mine, 0);
    close(lfd);
}

/* The peer resets the connection (SO_LINGER 0: RST, not FIN). */
static void reset_by_peer(int peer)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    cr_assert_eq(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(peer);
}

Test(stream, a_reset_connection_fails_read_then_write_and_drain_with_econnreset)
{
    int mine, peer;
    stream_t ts;

    tcp_pair(&mine, &peer);
    stream_init(&ts, fx.loop, mine);
    op_t *r = start_on(&ts, READ, 64);
    fixture_settle(&fx);
    reset_by_peer(peer);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->err, ECONNRESET);
    cr_assert_eq(stream_write(&ts, "x", 1), -1);
    cr_assert_eq(errno, ECONNRESET, "the stored error: %s", strerror(errno));
    op_t *d = start_on(&ts, DRAIN, 0);
    fixture_settle(&fx);
    cr_assert_eq(d->err, ECONNRESET);
    r = start_on(&ts, READ, 64);
    fixture_settle(&fx);
    cr_assert_eq(r->err, ECONNRESET, "and every later read");
    stream_close(&ts);
}

Test(stream, a_reset_while_bytes_are_queued_fails_the_drain_with_the_error)
{
    enum { TOTAL = 16 << 20 };
    unsigned char *data = patterned(TOTAL);
    int mine, peer;
    stream_t ts;

    tcp_pair(&mine, &peer);
    stream_init(&ts, fx.loop, mine);
    cr_assert_eq(stream_write(&ts, data, TOTAL), 0);
    cr_assert_gt(stream_write_buffer_size(&ts), 0);
    op_t *d = start_on(&ts, DRAIN, 0);
    fixture_settle(&fx);
    cr_assert(!d->done);
    reset_by_peer(peer);
    fixture_settle(&fx);
    cr_assert(d->done);
    cr_assert(d->err == ECONNRESET || d->err == EPIPE, "%s",
              strerror(d->err));
    cr_assert_eq(stream_write(&ts, "x", 1), -1);
    cr_assert_eq(errno, d->err);
    stream_close(&ts);
    free(data);
}

/* ---- open_connection -------------------------------------------------------- */

typedef struct client {
    coro_t co;
    stream_connect_t conn;
    stream_t stream;
    const char *host;
    unsigned short port;
    task_t *task;
    int done;
    int err;
} client_t;

static int client_body(coro_t *co)
{
    client_t *f = (client_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, stream_open_connection(&f->conn, fx.loop,
                                                     f->host, f->port,
                                                     &f->stream));
    f->err = co->err;
    f->done = 1;
    CORO_END(co);
}

static client_t *connect_to(const char *host, unsigned short port)
{
    client_t *f;
    task_t *t = task_create(fx.loop, client_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->task = t;
    f->host = host;
    f->port = port;
    return f;
}

/* Connect to a listening socket on @p host, exchange a few bytes. */
static void connect_and_talk(const char *host, const char *bind_to)
{
    char where[NET_ADDRSTR_MAX], buf[8];
    int lfd = net_listen(bind_to, 0, where);

    cr_assert_geq(lfd, 0, "listen on %s: %s", bind_to, strerror(errno));
    client_t *c = connect_to(host, port_of(lfd));
    fixture_settle(&fx);
    cr_assert(c->done);
    cr_assert_eq(c->err, 0, "%s", strerror(c->err));
    int peer = accept(lfd, NULL, NULL);
    cr_assert_geq(peer, 0);
    cr_assert_eq(stream_write(&c->stream, "hi", 2), 0);
    cr_assert_eq(read(peer, buf, sizeof buf), 2);
    cr_assert_eq(write(peer, "yo", 2), 2);
    op_t *r = start_on(&c->stream, READ, 8);
    fixture_settle(&fx);
    expect_bytes(r, "yo");
    stream_close(&c->stream);
    close(peer);
    close(lfd);
}

Test(stream, open_connection_connects_over_ipv4)
{
    connect_and_talk("127.0.0.1", "127.0.0.1");
}

Test(stream, open_connection_connects_over_ipv6)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};

    a.sin6_addr = in6addr_loopback;
    if (probe < 0 || bind(probe, (struct sockaddr *)&a, sizeof a) < 0)
        cr_skip_test("no IPv6 loopback here");
    close(probe);
    connect_and_talk("::1", "::1");
}

Test(stream, open_connection_resolves_a_name)
{
    connect_and_talk("localhost", "127.0.0.1");
}

Test(stream, open_connection_to_a_closed_port_fails_with_econnrefused)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);  /* bound, not listening */
    struct sockaddr_in a = {.sin_family = AF_INET};

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    client_t *c = connect_to("127.0.0.1", port_of(fd));
    fixture_settle(&fx);
    cr_assert(c->done);
    cr_assert_eq(c->err, ECONNREFUSED, "%s", strerror(c->err));
    close(fd);
}

Test(stream, open_connection_to_a_bad_address_fails_with_eaddrnotavail)
{
    client_t *c = connect_to("256.1.2.3.4", 80);

    fixture_settle(&fx);
    cr_assert(c->done);
    cr_assert_eq(c->err, EADDRNOTAVAIL, "%s", strerror(c->err));
}

/* Count the descriptors this process has open. */
static int open_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

Test(stream, cancelling_open_connection_closes_the_socket_it_was_connecting)
{
    char where[NET_ADDRSTR_MAX];
    int lfd = net_listen("127.0.0.1", 0, where);
    int filler[8];
    int nfill = 0;

    /* A backlog that is full: the next connect stays in progress. */
    cr_assert_eq(listen(lfd, 0), 0);
    for (; nfill < 8; nfill++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_port = htons(port_of(lfd));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        filler[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(filler[nfill], (struct sockaddr *)&a, sizeof a);
    }
    int before = open_fds();
    client_t *c = connect_to("127.0.0.1", port_of(lfd));
    fixture_settle(&fx);
    if (c->done)
        cr_skip_test("the kernel completed the connect (%s)",
                     strerror(c->err));
    cr_assert_eq(open_fds(), before + 1, "one socket being connected");
    task_cancel(c->task);
    fixture_settle(&fx);
    cr_assert(c->done);
    cr_assert_eq(c->err, ECANCELED);
    cr_assert_eq(open_fds(), before, "and it was closed");
    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    close(lfd);
}
