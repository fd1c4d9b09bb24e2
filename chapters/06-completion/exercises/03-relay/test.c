/* Tests for exercise 03-relay: two socketpairs, the relay between their
 * inner ends (a, b), the tests at their outer ends (pa, pb). The loop
 * runs on a fake clock with its own proactor: a pool of 8 buffers of 16
 * KiB, more than the sockets (SO_SNDBUF 4096) take in one send (the tests
 * skip where io_uring is refused). */
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

#define POOL 8u

static fixture_t fx;
static proactor_t *pr;
static int pair_a[2] = {-1, -1}, pair_b[2] = {-1, -1};
#define A (pair_a[0])   /* the relay's */
#define PA (pair_a[1])  /* the test's, non-blocking */
#define B (pair_b[0])
#define PB (pair_b[1])

static relay_t *relay;
static int done_calls, done_err;

static double fake_clock(void *arg)
{
    return *(double *)arg;
}

static void ignore(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

static proactor_stats_t stats(void)
{
    proactor_stats_t s;

    proactor_get_stats(pr, &s);
    return s;
}

static void on_done(void *arg, int err)
{
    cr_assert_eq(arg, &fx, "done got another arg than relay_start()'s");
    cr_assert_eq(stats().in_flight, 0, "done came while %u operation(s) of "
                 "the relay were still in the kernel: the relay has not "
                 "let go of everything until each one's own completion "
                 "has arrived", stats().in_flight);
    cr_assert_eq(stats().pool_free, POOL, "done came with %u of %u pool "
                 "buffers back: a pool buffer it took was not given back",
                 stats().pool_free, POOL);
    done_calls++;
    done_err = err;
}

static void make_pair(int sv[2])
{
    int small = 4096;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
                            sizeof small), 0);
    cr_assert_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small,
                            sizeof small), 0);
    cr_assert_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
}

/* The fixture's loop, but with a proactor of our own options. */
/* Nothing in a test may block for ever: between the guards of its own
 * (each says what it waits for), this one holds. */
static void whole_test_guard(void)
{
    guard_arm(30, "the test did not end within 30 s: does a call of the "
              "relay block (a plain recv() or send() on a blocking socket, "
              "a loop that waits without turning the event loop)?");
}

static void setup(void)
{
    /* Buffers larger than a socket takes at once: short sends happen. */
    proactor_options_t o = {.pool_count = POOL, .pool_size = 16384};
    loop_t *with_defaults;

    fixture_start(&fx);
    with_defaults = fx.loop;
    loop_remove_reader(with_defaults, fx.awake[0]);
    loop_options_t lo = {.clock = fake_clock, .clock_arg = &fx.now};
    fx.loop = loop_create(&lo);
    cr_assert_not_null(fx.loop);
    cr_assert_eq(loop_add_reader(fx.loop, fx.awake[0], ignore, NULL), 0);
    loop_destroy(with_defaults);
    pr = proactor_attach(fx.loop, &o);
    make_pair(pair_a);
    make_pair(pair_b);
    relay = NULL;
    done_calls = done_err = 0;
    whole_test_guard();
}

static void teardown(void)
{
    guard_disarm();
    fixture_stop(&fx);
    close(A);
    close(PA);
    close(B);
    close(PB);
}

TestSuite(relay, .init = setup, .fini = teardown, .timeout = 60);

static void start(void)
{
    if (pr == NULL)
        cr_skip_test("%s", proactor_strerror(errno));
    relay = relay_start(pr, A, B, on_done, &fx);
    cr_assert_not_null(relay, "relay_start() failed: %s", strerror(errno));
    cr_assert_eq(done_calls, 0, "done was called from inside relay_start()");
}

static void say(int fd, const char *text)
{
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Turn the loop until @p fd has @p want bytes to read (bounded), and
 * compare them with @p text. */
static void expect(int fd, const char *text, const char *where)
{
    char got[256] = {0};
    size_t want = strlen(text), n = 0;

    for (int i = 0; i < 200 && n < want; i++) {
        loop_run_once(fx.loop);
        ssize_t r = read(fd, got + n, want - n);
        if (r > 0)
            n += (size_t)r;
    }
    cr_assert_eq(n, want, "%s got %zu bytes of \"%s\" through the relay",
                 where, n, text);
    cr_assert_str_eq(got, text, "%s got \"%s\", not \"%s\"", where, got,
                     text);
}

/* Whether the peer @p fd sees end of stream within a few turns. */
static int sees_eof(int fd)
{
    char c;

    for (int i = 0; i < 200; i++) {
        loop_run_once(fx.loop);
        ssize_t r = read(fd, &c, 1);
        if (r == 0)
            return 1;
        cr_assert(r < 0, "a byte arrived where end of stream was expected");
    }
    return 0;
}

static void run_until_done(const char *what)
{
    guard_arm(5, what);
    while (done_calls == 0)
        loop_run_once(fx.loop);
    whole_test_guard();
}

static void assert_idle(const char *when)
{
    fixture_settle(&fx);
    cr_assert_eq(stats().pool_free, POOL, "%s, the relay holds %u pool "
                 "buffer(s): an idle relay holds none (a pooled recv takes "
                 "one only when data arrives, and each goes back once its "
                 "bytes are sent)", when, POOL - stats().pool_free);
    cr_assert_eq(stats().in_flight, 2, "%s, %u operations of the relay are "
                 "in the kernel; an idle relay has one recv pending on each "
                 "side", when, stats().in_flight);
}

Test(relay, bytes_go_both_ways)
{
    start();
    assert_idle("started");
    say(PA, "ping");
    expect(PB, "ping", "b's peer");
    say(PB, "pong");
    expect(PA, "pong", "a's peer");
    assert_idle("after a message each way");
    cr_assert_eq(done_calls, 0, "done came while both sides were open");
    relay_cancel(relay);
    run_until_done("done never came after relay_cancel(): are the "
                   "operations in the kernel cancelled, and does their "
                   "completion end the relay?");
}

/* Pattern byte @p i of direction @p dir: no two offsets alike for long. */
static unsigned char pattern(int dir, size_t i)
{
    return (unsigned char)(i * 131 + (i >> 8) * 7 + (i >> 16) + dir * 89);
}

/* Write up to @p total pattern bytes to @p fd as room allows; @p *put
 * counts them. */
static void feed(int fd, int dir, size_t *put, size_t total)
{
    unsigned char chunk[1024];

    while (*put < total) {
        size_t n = total - *put < sizeof chunk ? total - *put : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern(dir, *put + i);
        ssize_t w = write(fd, chunk, n);
        if (w <= 0)
            break;
        *put += (size_t)w;
    }
}

/* Read what @p fd has and check it against the pattern of @p dir. */
static void take(int fd, int dir, size_t *got, size_t total)
{
    unsigned char chunk[1024];
    ssize_t r;

    while ((r = read(fd, chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            size_t at = *got + (size_t)i;
            cr_assert(at < total, "more bytes came through than were sent "
                      "(%zu): are some sent twice?", at + 1);
            cr_assert_eq(chunk[i], pattern(dir, at), "byte %zu came through "
                         "wrong: bytes were lost, sent twice or out of order "
                         "(after a short send, the rest of the buffer must "
                         "follow, from where the kernel stopped)", at);
        }
        *got += (size_t)r;
    }
}

static void assert_one_buffer_per_direction(void)
{
    unsigned held = POOL - stats().pool_free;

    cr_assert(held <= 2, "the relay holds %u pool buffers at once, more "
              "than one per direction: it must not receive more while the "
              "send of the last bytes is still in the kernel", held);
}

Test(relay, much_data_both_ways_arrives_whole_and_in_order)
{
    enum { TOTAL = 128 * 1024 };
    size_t put[2] = {0, 0}, got[2] = {0, 0};

    start();
    guard_arm(20, "128 KiB each way never all came through: does each "
                  "direction go on receiving after each send completes?");
    while (got[0] < TOTAL || got[1] < TOTAL) {
        feed(PA, 0, &put[0], TOTAL);
        feed(PB, 1, &put[1], TOTAL);
        loop_run_once(fx.loop);
        assert_one_buffer_per_direction();
        take(PB, 0, &got[0], TOTAL);
        take(PA, 1, &got[1], TOTAL);
    }
    whole_test_guard();
    assert_idle("after 128 KiB each way");
}

/* b's peer reads nothing: the relay's send to b waits in the kernel. */
static size_t stall(void)
{
    size_t put = 0, before;

    do {
        before = put;
        feed(PA, 0, &put, 1u << 20);
        for (int i = 0; i < 20; i++)
            loop_run_once(fx.loop);
        assert_one_buffer_per_direction();
    } while (put > before);
    return put;
}

Test(relay, a_reader_that_stalls_stops_the_relay_reading)
{
    size_t got = 0;

    start();
    size_t put = stall();
    cr_assert(put < (1u << 20), "1 MiB went into a's socket while b's "
              "reader read nothing: the relay does not stop reading");
    cr_assert_eq(POOL - stats().pool_free, 1, "while the send of relayed "
                 "bytes waits in the kernel, %u pool buffers are lent out, "
                 "not 1: the bytes must be sent from the pool buffer they "
                 "were received into, and that buffer goes back to the pool "
                 "only after the send's completion",
                 POOL - stats().pool_free);
    guard_arm(10, "the bytes held back never came through once b's reader "
                  "read again: does the relay receive again after each "
                  "send completes?");
    while (got < put) {
        loop_run_once(fx.loop);
        take(PB, 0, &got, put);
    }
    whole_test_guard();
    assert_idle("after the stalled bytes went through");
}

Test(relay, end_of_stream_goes_through_after_the_last_byte)
{
    start();
    say(PA, "last words");
    shutdown(PA, SHUT_WR);
    expect(PB, "last words", "b's peer");
    cr_assert(sees_eof(PB), "a's peer ended its stream, but b's peer does "
              "not see the end after the last byte: shut b down for writing "
              "(shutdown(2))");
    fixture_settle(&fx);
    cr_assert_eq(done_calls, 0, "done came when only one direction had "
                 "ended; the other was still open");
    uint64_t before = stats().completions;
    fixture_settle(&fx);
    cr_assert_eq(stats().completions, before, "nothing was sent, yet %lu "
                 "operations of the relay completed while it waited: a "
                 "direction that has reached end of stream starts nothing "
                 "more (a recv after the end completes with 0 at once, "
                 "again and again)",
                 (unsigned long)(stats().completions - before));
    say(PB, "reply");
    expect(PA, "reply", "a's peer, after its own end of stream,");
    shutdown(PB, SHUT_WR);
    cr_assert(sees_eof(PA), "b's peer ended its stream too, but a's peer "
              "does not see the end");
    run_until_done("done never came after both directions had ended");
    cr_assert_eq(done_err, 0, "done said %s after both sides ended "
                 "normally; it must say 0", strerror(done_err));
    cr_assert_eq(done_calls, 1, "done was called %d times; it must come "
                 "exactly once", done_calls);
    cr_assert(fcntl(A, F_GETFD) != -1 && fcntl(B, F_GETFD) != -1,
              "the relay closed a descriptor it does not own: a and b stay "
              "the caller's (end of stream: shutdown(2), not close(2))");
}

/* a's peer goes away with bytes unread: a's recv fails (ECONNRESET);
 * b's recv, still pending, must be cancelled for the relay to end. */
Test(relay, a_failure_stops_both_directions)
{
    start();
    say(PB, "unread");
    expect(PA, "u", "a's peer (the first byte)");
    close(PA);
    pair_a[1] = -1;
    run_until_done("done never came after a's recv failed: does a failure "
                   "cancel the operations of the other direction too?");
    cr_assert_eq(done_err, ECONNRESET, "done said %s (%d), not the failed "
                 "recv's ECONNRESET", strerror(done_err), done_err);
}

/* b's peer stops reading for good while the relay's send to b waits in
 * the kernel: that send fails (EPIPE); b's recv, still pending, must be
 * cancelled for the relay to end. */
Test(relay, a_failed_send_stops_both_directions)
{
    start();
    stall();
    cr_assert_eq(shutdown(PB, SHUT_RD), 0);
    run_until_done("done never came after the send to b failed (EPIPE): "
                   "does a failed send stop both directions, or is it "
                   "taken for a short send and sent again?");
    cr_assert_eq(done_err, EPIPE, "done said %s (%d), not the failed "
                 "send's EPIPE", strerror(done_err), done_err);
    cr_assert_eq(done_calls, 1, "done was called %d times; it must come "
                 "exactly once", done_calls);
}

Test(relay, cancel_of_an_idle_relay)
{
    start();
    fixture_settle(&fx);
    relay_cancel(relay);
    cr_assert_eq(done_calls, 0, "done came from inside relay_cancel(), "
                 "while the relay's recvs were still in the kernel");
    run_until_done("done never came after relay_cancel(): are the recvs "
                   "in the kernel cancelled?");
    cr_assert_eq(done_err, ECANCELED, "done said %s after relay_cancel()",
                 strerror(done_err));
    say(PA, "after");
    fixture_settle(&fx);
    char c;
    cr_assert_eq(read(PB, &c, 1), -1, "bytes went through the relay after "
                 "done: an operation was started after the cancel");
}

/* The recvs and their cancels reach the kernel in one batch, the recvs
 * first, with bytes already there for a's: that recv completes with them,
 * into a pool buffer, before the cancel can find it. The relay was
 * cancelled: those bytes go nowhere, and the buffer goes back. */
Test(relay, bytes_that_beat_the_cancel_are_dropped)
{
    say(PA, "late");
    start();
    relay_cancel(relay);
    cr_assert_eq(done_calls, 0, "done came from inside relay_cancel(), "
                 "while the relay's recvs were still to reach the kernel");
    run_until_done("done never came after relay_cancel(), with a recv that "
                   "beat the cancel: does its completion end the relay?");
    cr_assert_eq(done_err, ECANCELED, "done said %s after relay_cancel()",
                 strerror(done_err));
    fixture_settle(&fx);
    char c;
    cr_assert_eq(read(PB, &c, 1), -1, "the bytes of a recv that beat the "
                 "cancel went through to b: after relay_cancel() the relay "
                 "starts no send; those bytes are dropped");
}

Test(relay, cancel_while_a_send_waits_gives_its_buffer_back)
{
    start();
    stall();
    relay_cancel(relay);
    run_until_done("done never came after relay_cancel() while a send "
                   "waited for b's reader: is that send cancelled too?");
    cr_assert_eq(done_err, ECANCELED, "done said %s (%d) after "
                 "relay_cancel(); it must say ECANCELED", strerror(done_err),
                 done_err);
}

/* A refused call says why: errno EINVAL. */
static void assert_errno_einval(void)
{
    int e = errno;

    cr_assert_eq(e, EINVAL, "the call was refused, but errno is %d (%s), "
                 "not EINVAL: a bad argument must say EINVAL", e,
                 e == 0 ? "not set" : strerror(e));
}

Test(relay, bad_arguments_are_refused)
{
    if (pr == NULL)
        cr_skip_test("%s", proactor_strerror(errno));
    errno = 0;
    cr_assert_null(relay_start(pr, A, A, on_done, &fx),
                   "relay_start() joined a socket to itself");
    assert_errno_einval();
    errno = 0;
    cr_assert_null(relay_start(NULL, A, B, on_done, &fx),
                   "relay_start() took a NULL proactor");
    assert_errno_einval();
    errno = 0;
    cr_assert_null(relay_start(pr, -1, B, on_done, &fx),
                   "relay_start() took descriptor -1");
    assert_errno_einval();
    cr_assert_eq(stats().in_flight, 0, "a refused relay_start() left "
                 "operations in the kernel");
}
