/* Tests for exercise 02-send-all, on a socketpair with a small send
 * buffer (so that a big send is taken in many short pieces) and the
 * chapter's proactor (the tests skip where io_uring is refused). */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "guard.h"

#define BIG (1u << 20)  /* 1 MiB: far more than the socket takes at once */

static fixture_t fx;
static proactor_t *pr;
static int sv[2] = {-1, -1};    /* sv[0]: the sender; sv[1]: the peer */
static unsigned char *data;     /* BIG bytes, then BIG bytes of 0xEE */
static unsigned char *rx;       /* what the peer received */
static size_t rx_len;
static future_t *f;

/* Nothing in a test may block for ever: between the guards of its own
 * (each says what it waits for), this one holds. */
static void whole_test_guard(void)
{
    guard_arm(30, "the test did not end within 30 s: does sendall_start() "
              "block (a plain send() on the blocking socket, a loop that "
              "waits without turning the event loop)?");
}

static void setup(void)
{
    int small = 8192;

    fixture_start(&fx);
    pr = proactor_get(fx.loop);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
                            sizeof small), 0);
    cr_assert_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    data = malloc(2 * BIG);
    rx = malloc(2 * BIG);
    cr_assert(data != NULL && rx != NULL);
    for (size_t i = 0; i < BIG; i++) /* no two offsets alike for long */
        data[i] = (unsigned char)(i * 131 + (i >> 8) * 7 + (i >> 16));
    memset(data + BIG, 0xEE, BIG);   /* past the end: never to be sent */
    rx_len = 0;
    f = NULL;
    whole_test_guard();
}

static void teardown(void)
{
    guard_disarm();
    close(sv[0]);
    close(sv[1]);
    fixture_stop(&fx);      /* waits for any send still in the kernel */
    if (f != NULL && future_done(f))
        sendall_free(f);
    free(data);
    free(rx);
}

TestSuite(send_all, .init = setup, .fini = teardown, .timeout = 60);

static void need_uring(void)
{
    if (pr == NULL)
        cr_skip_test("%s", proactor_strerror(errno));
}

static proactor_stats_t stats(void)
{
    proactor_stats_t s;

    proactor_get_stats(pr, &s);
    return s;
}

static void start(const void *buf, size_t len)
{
    f = sendall_start(fx.loop, sv[0], buf, len);
    cr_assert_not_null(f, "sendall_start() failed: %s", strerror(errno));
}

/* Read what the peer has, without blocking; never more than was given. */
static void drain(void)
{
    for (;;) {
        ssize_t n = read(sv[1], rx + rx_len, 2 * BIG - rx_len);
        if (n <= 0)
            break;
        rx_len += (size_t)n;
        cr_assert(rx_len <= BIG, "the peer received more than the %u bytes "
                  "given (%zu so far): does each send ask for only the "
                  "bytes not sent yet?", BIG, rx_len);
    }
}

/* The peer's bytes must be the buffer's first rx_len bytes. */
static void assert_rx_is_prefix(void)
{
    for (size_t i = 0; i < rx_len; i++)
        cr_assert_eq(rx[i], data[i], "byte %zu the peer received is not "
                     "byte %zu of the buffer: after a short send, the next "
                     "send must start where the last one stopped", i, i);
}

/* After a cancel: let everything in flight land, then the peer must hold
 * exactly the @p sent bytes sendall_sent() counted, in order. */
static void assert_the_peer_got_what_was_counted(size_t sent)
{
    for (int i = 0; i < 8; i++) {
        fixture_settle(&fx);
        drain();
    }
    cr_assert_eq(rx_len, sent, "the peer got %zu bytes, and sendall_sent() "
                 "says %zu: either it miscounts, or a send was started "
                 "after future_cancel()", rx_len, sent);
    assert_rx_is_prefix();
}

static void run_draining_until_done(const char *what)
{
    guard_arm(10, what);
    while (!future_done(f)) {
        loop_run_once(fx.loop);
        drain();
    }
    whole_test_guard();
}

static intptr_t result(void)
{
    void *r = NULL;
    int err = 0;
    future_status_t st = future_result(f, &r, &err);

    cr_assert_eq(st, FUTURE_OK, "the Future did not finish with a result "
                 "(%s, error %s)", future_strerror(st), strerror(err));
    return (intptr_t)r;
}

Test(send_all, a_small_buffer_arrives_whole)
{
    need_uring();
    start("hello", 5);
    run_draining_until_done("the Future of a 5-byte send never finished");
    cr_assert_eq(result(), 5, "the Future's result is %ld, not the 5 bytes "
                 "given", (long)result());
    cr_assert_eq(rx_len, 5, "the peer got %zu bytes of 5", rx_len);
    cr_assert_eq(memcmp(rx, "hello", 5), 0, "the peer got \"%.5s\", not "
                 "\"hello\"", (const char *)rx);
    cr_assert_eq(sendall_sent(f), 5, "sendall_sent() says %zu, 5 were sent",
                 sendall_sent(f));
}

Test(send_all, a_big_buffer_arrives_whole_and_in_order)
{
    need_uring();
    uint64_t before = stats().completions;
    start(data, BIG);
    run_draining_until_done("the Future of a 1 MiB send never finished "
                            "while the peer read everything");
    intptr_t n = result();
    cr_assert_eq(n, (intptr_t)BIG, "the Future finished with %ld, not %u: "
                 "a short send is not the end, the rest must follow",
                 (long)n, BIG);
    fixture_settle(&fx);
    drain();
    cr_assert_eq(rx_len, BIG, "the peer received %zu bytes of %u", rx_len,
                 BIG);
    assert_rx_is_prefix();
    cr_assert(stats().completions - before >= 3, "the test meant the kernel "
              "to take the buffer in several short sends, but saw %lu "
              "completions", (unsigned long)(stats().completions - before));
    cr_assert_eq(sendall_sent(f), BIG, "sendall_sent() says %zu once the "
                 "Future finished, %u were sent", sendall_sent(f), BIG);
}

Test(send_all, it_finishes_only_when_the_kernel_took_every_byte)
{
    need_uring();
    start(data, BIG);
    fixture_settle(&fx);                      /* the peer reads nothing */
    cr_assert(!future_done(f), "the Future finished (%zu bytes sent) while "
              "the peer had read nothing and 1 MiB cannot fit in the "
              "socket: a short send is not the end, the rest must follow",
              sendall_sent(f));
    size_t sent = sendall_sent(f);
    cr_assert(sent > 0 && sent < BIG, "sendall_sent() says %zu: the kernel "
              "has taken a first piece by now, not all of it", sent);
    run_draining_until_done("the Future never finished once the peer read: "
                            "is the rest sent after each short send?");
    cr_assert_eq(result(), (intptr_t)BIG, "the Future finished with %ld, "
                 "not %u", (long)result(), BIG);
    assert_rx_is_prefix();
}

Test(send_all, a_failed_send_fails_it_and_nothing_more_is_sent)
{
    need_uring();
    start(data, BIG);
    fixture_settle(&fx);
    size_t first = sendall_sent(f);
    close(sv[1]);
    sv[1] = -1;
    guard_arm(10, "the Future never finished after the peer closed: does "
                  "a failed send (a negative result) end it?");
    while (!future_done(f))
        loop_run_once(fx.loop);
    whole_test_guard();
    int err = 0;
    future_status_t st = future_result(f, NULL, &err);
    cr_assert_eq(st, FUTURE_E_ERROR, "after the peer closed, the Future "
                 "finished with %s, not with the send's error",
                 future_strerror(st));
    cr_assert_eq(err, EPIPE, "the Future failed with %s, the send with "
                 "EPIPE", strerror(err));
    cr_assert_eq(sendall_sent(f), first, "sendall_sent() went from %zu to "
                 "%zu, but the peer had closed: a failed send takes nothing",
                 first, sendall_sent(f));
}

/* What the Future's end saw. */
static unsigned in_flight_at_end = 99;

static void note_end(future_t *future, void *arg)
{
    (void)future;
    (void)arg;
    in_flight_at_end = stats().in_flight;
}

Test(send_all, cancel_waits_for_the_send_in_the_kernel)
{
    future_callback_t record;

    need_uring();
    start(data, BIG);
    fixture_settle(&fx);                  /* a send waits for room */
    cr_assert_eq(stats().in_flight, 1, "%u sends in the kernel while the "
                 "peer reads nothing; one must be, with the rest",
                 stats().in_flight);
    future_add_done_callback(f, &record, note_end, NULL);
    cr_assert_eq(future_cancel(f), 1, "future_cancel() said the Future was "
                 "not pending");
    cr_assert(!future_done(f), "the Future finished inside future_cancel(), "
              "while its send was still in the kernel, holding the "
              "buffer: cancelling only asks, the send's own completion "
              "ends it");
    guard_arm(10, "the Future never finished after future_cancel() while "
                  "the peer read nothing: is the send in the kernel "
                  "cancelled?");
    while (!future_done(f))
        loop_run_once(fx.loop);
    whole_test_guard();
    cr_assert_eq(in_flight_at_end, 0, "the Future finished while %u "
                 "send(s) were still in the kernel: the buffer is the "
                 "kernel's until then", in_flight_at_end);
    cr_assert_eq(future_state(f), FUTURE_CANCELLED, "the Future was not "
                 "cancelled (state %d), yet not every byte was sent",
                 (int)future_state(f));
    size_t sent = sendall_sent(f);
    assert_the_peer_got_what_was_counted(sent);
}

/* The send and the cancel reach the kernel in one batch, the send first:
 * it takes both bytes before the cancel can find it. */
Test(send_all, a_cancel_too_late_leaves_the_result)
{
    need_uring();
    start("hi", 2);
    future_cancel(f);
    run_draining_until_done("the Future never finished after a cancel that "
                            "came too late");
    cr_assert_eq(rx_len, 2, "the peer got %zu bytes of 2", rx_len);
    cr_assert_eq(future_state(f), FUTURE_RESULT, "the peer got both bytes "
                 "(the send beat the cancel), yet the Future says %s: a "
                 "cancel that comes too late leaves the result",
                 future_state(f) == FUTURE_CANCELLED ? "cancelled"
                                                    : "failed");
    cr_assert_eq(result(), 2, "the Future's result is %ld, not the 2 bytes "
                 "sent", (long)result());
}

/* The first send and the cancel reach the kernel in one batch, the send
 * first: it takes what fits in the empty socket, a first piece, before the
 * cancel can find it. The cancel came too late for that send, not for the
 * rest: nothing more may be sent. */
Test(send_all, a_cancel_after_a_short_send_starts_nothing_more)
{
    need_uring();
    start(data, BIG);
    future_cancel(f);
    cr_assert(!future_done(f), "the Future finished inside future_cancel(), "
              "while its send was still to reach the kernel");
    run_draining_until_done("the Future never finished after a cancel that "
                            "came too late for the first send, while the "
                            "peer read: was another send started after it?");
    size_t sent = sendall_sent(f);
    cr_assert(sent > 0, "the test meant the first send to take a piece of "
              "the buffer before the cancel reached the kernel, but "
              "sendall_sent() says 0");
    cr_assert(future_state(f) != FUTURE_RESULT, "the Future finished with "
              "its result: the whole 1 MiB went, though future_cancel() was "
              "called when the first send had not even reached the kernel: "
              "after a cancel, a short send is the end; no send may start "
              "after future_cancel()");
    cr_assert_eq(future_state(f), FUTURE_CANCELLED, "the Future was not "
                 "cancelled (state %d), yet not every byte was sent",
                 (int)future_state(f));
    assert_the_peer_got_what_was_counted(sent);
}

Test(send_all, an_empty_buffer_sends_nothing)
{
    need_uring();
    start("", 0);
    cr_assert_eq(stats().in_flight, 0, "sending 0 bytes started %u "
                 "operation(s)", stats().in_flight);
    fixture_settle(&fx);
    cr_assert(future_done(f), "sending 0 bytes did not finish the Future");
    cr_assert_eq(result(), 0, "sending 0 bytes gave the result %ld, not 0",
                 (long)result());
}

/* A refused call says why: errno EINVAL. */
static void assert_errno_einval(void)
{
    int e = errno;

    cr_assert_eq(e, EINVAL, "the call was refused, but errno is %d (%s), "
                 "not EINVAL: a bad argument must say EINVAL", e,
                 e == 0 ? "not set" : strerror(e));
}

Test(send_all, bad_arguments_are_refused)
{
    need_uring();
    errno = 0;
    cr_assert_null(sendall_start(NULL, sv[0], "x", 1),
                   "sendall_start() took a NULL loop");
    assert_errno_einval();
    errno = 0;
    cr_assert_null(sendall_start(fx.loop, sv[0], NULL, 4),
                   "sendall_start() took a NULL buffer of 4 bytes");
    assert_errno_einval();
}
