/* Tests for exercise 01-close-while-pending, on a socketpair and the
 * chapter's proactor (the tests skip where io_uring is refused). */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "guard.h"

static fixture_t fx;
static proactor_t *pr;
static int sv[2] = {-1, -1};   /* sv[0]: the reader's end; sv[1]: the peer */

/* What the callbacks saw. */
static char got[256];
static size_t got_len;
static int data_calls, data_after_done, done_calls, done_err;
static int close_in_on_data;    /* on_data calls reader_close() */
static reader_t *reader;
static int reader_fd = -1;      /* the descriptor the reader reads */
static char buf[64];

static unsigned in_flight(void)
{
    proactor_stats_t s;

    proactor_get_stats(pr, &s);
    return s.in_flight;
}

static void on_data(void *arg, const char *data, size_t n)
{
    cr_assert_eq(arg, &fx, "on_data got another arg than reader_open()'s");
    cr_assert_eq(data, buf, "on_data was not given the caller's buffer");
    cr_assert(n > 0, "on_data got n = 0: a recv that completes with 0 "
              "means end of stream, which ends the reader");
    cr_assert(n <= sizeof buf, "on_data got n = %zu, more than the "
              "buffer holds", n);
    if (done_calls > 0)
        data_after_done++;
    if (got_len + n <= sizeof got) {
        memcpy(got + got_len, data, n);
        got_len += n;
    }
    data_calls++;
    if (close_in_on_data) {
        close_in_on_data = 0;
        reader_close(reader);
        cr_assert_eq(done_calls, 0, "on_done came from inside "
                     "reader_close(), called from on_data: the reader must "
                     "end after on_data returns (it is still running)");
    }
}

static void on_done(void *arg, int err)
{
    cr_assert_eq(arg, &fx, "on_done got another arg than reader_open()'s");
    /* Checked here, at once: a reader freed too early may crash later. */
    cr_assert_eq(in_flight(), 0, "on_done came while %u recv(s) of the "
                 "reader were still in the kernel: the buffer is the "
                 "kernel's until the recv's own completion arrives, and "
                 "on_done gives it back to the caller too early",
                 in_flight());
    done_calls++;
    done_err = err;
}

/* Nothing in a test may block for ever: between the guards of its own
 * (each says what it waits for), this one holds. */
static void whole_test_guard(void)
{
    guard_arm(30, "the test did not end within 30 s: does a call of the "
              "reader block (a plain recv() on the blocking socket, a loop "
              "that waits without turning the event loop)?");
}

static void setup(void)
{
    fixture_start(&fx);
    pr = proactor_get(fx.loop);
    got_len = 0;
    data_calls = data_after_done = done_calls = done_err = 0;
    close_in_on_data = 0;
    memset(buf, 0, sizeof buf);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    whole_test_guard();
}

static void teardown(void)
{
    guard_disarm();
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    fixture_stop(&fx);
}

TestSuite(close_while_pending, .init = setup, .fini = teardown,
          .timeout = 60);

static void need_uring(void)
{
    if (pr == NULL)
        cr_skip_test("%s", proactor_strerror(errno));
}

static void open_reader(void)
{
    reader_fd = sv[0];
    reader = reader_open(pr, sv[0], buf, sizeof buf, on_data, on_done, &fx);
    cr_assert_not_null(reader, "reader_open() failed: %s", strerror(errno));
    cr_assert_eq(data_calls + done_calls, 0, "reader_open() called back "
                 "before it returned; nothing may come before the loop runs");
}

static void peer_says(const char *text)
{
    cr_assert_eq(write(sv[1], text, strlen(text)), (ssize_t)strlen(text));
}

/* Turn the loop until on_done has come; a reader that never ends it
 * would spin here for ever: the guard ends the test instead. */
static void run_until_done(const char *what)
{
    guard_arm(5, what);
    while (done_calls == 0)
        loop_run_once(fx.loop);
    whole_test_guard();
    fixture_settle(&fx);
    cr_assert(fcntl(reader_fd, F_GETFD) != -1, "the reader's descriptor is "
              "closed after on_done: the reader never closes it, it stays "
              "the caller's");
}

static void assert_done_once_with(int err, const char *when)
{
    cr_assert_eq(done_calls, 1, "on_done was called %d times %s; it must "
                 "come exactly once", done_calls, when);
    cr_assert_eq(done_err, err, "on_done said %s (%d) %s; it must say %s",
                 strerror(done_err), done_err, when, strerror(err));
    cr_assert_eq(data_after_done, 0, "on_data was called after on_done");
}

Test(close_while_pending, every_chunk_goes_to_on_data_in_order)
{
    need_uring();
    open_reader();
    fixture_settle(&fx);
    cr_assert_eq(in_flight(), 1, "after reader_open() and a few turns of "
                 "the loop, %u recvs are in the kernel; one must be pending "
                 "while the reader waits", in_flight());
    peer_says("hello ");
    fixture_settle(&fx);
    peer_says("world");
    fixture_settle(&fx);
    cr_assert_eq(got_len, 11, "on_data got %zu bytes in all, 11 were sent: "
                 "is a new recv started after each chunk?", got_len);
    cr_assert_eq(memcmp(got, "hello world", 11), 0,
                 "on_data got \"%.*s\", not \"hello world\"", (int)got_len,
                 got);
    cr_assert_eq(done_calls, 0, "on_done came while the peer was still "
                 "connected and nobody closed the reader");
    cr_assert_eq(in_flight(), 1, "%u recvs in the kernel after two chunks; "
                 "one must be", in_flight());
    reader_close(reader);
    run_until_done("on_done never came after reader_close(): once the "
                   "cancelled recv's completion arrives, the reader must "
                   "end, not start another recv");
}

Test(close_while_pending, end_of_stream_ends_it_with_0)
{
    need_uring();
    open_reader();
    peer_says("bye");
    fixture_settle(&fx);
    shutdown(sv[1], SHUT_WR);
    run_until_done("on_done never came after the peer ended the stream: "
                   "does a recv that completes with 0 (end of stream) end "
                   "the reader, or start another recv?");
    assert_done_once_with(0, "at end of stream");
    cr_assert_eq(got_len, 3, "on_data got %zu bytes before the end, 3 "
                 "were sent", got_len);
}

Test(close_while_pending, a_failed_recv_ends_it_with_its_errno)
{
    int pipefd[2];

    need_uring();
    cr_assert_eq(pipe(pipefd), 0);
    reader_fd = pipefd[0];
    /* recv() on a pipe: ENOTSOCK, from the completion */
    reader = reader_open(pr, pipefd[0], buf, sizeof buf, on_data, on_done,
                         &fx);
    if (reader != NULL)
        run_until_done("on_done never came after a recv failed: does an "
                       "error (a negative result) end the reader?");
    close(pipefd[0]);
    close(pipefd[1]);
    cr_assert_not_null(reader, "reader_open() failed at once (%s): the "
                       "error comes with the recv's completion, in on_done",
                       strerror(errno));
    assert_done_once_with(ENOTSOCK, "after a recv on a pipe failed");
}

/* The heart of it: the recv is in the kernel when the reader is closed. */
Test(close_while_pending, close_waits_for_the_recv_s_own_completion)
{
    need_uring();
    open_reader();
    fixture_settle(&fx);                     /* the recv is in the kernel */
    cr_assert_eq(in_flight(), 1, "after reader_open() and a few turns of "
                 "the loop, %u recvs are in the kernel; one must be pending "
                 "while the reader waits", in_flight());
    reader_close(reader);
    cr_assert_eq(done_calls, 0, "on_done came from inside reader_close(), "
                 "while the recv was still in the kernel: cancelling only "
                 "asks; the buffer is the kernel's until the recv's own "
                 "completion arrives");
    run_until_done("on_done never came after reader_close(): is the "
                   "pending recv cancelled (future_cancel() on its "
                   "Future), and does its completion end the reader?");
    assert_done_once_with(ECANCELED, "after reader_close()");
    cr_assert_eq(data_calls, 0, "on_data was called, but nothing was sent");
}

Test(close_while_pending, after_on_done_the_buffer_is_the_caller_s)
{
    need_uring();
    open_reader();
    fixture_settle(&fx);
    reader_close(reader);
    run_until_done("on_done never came after reader_close()");
    memset(buf, '#', sizeof buf);
    peer_says("intruder");
    fixture_settle(&fx);
    for (size_t i = 0; i < sizeof buf; i++)
        cr_assert_eq(buf[i], '#', "the kernel wrote into the buffer after "
                     "on_done: a recv of the reader was still pending (was "
                     "one started after reader_close()?)");
    cr_assert_eq(data_calls, 0, "on_data came after on_done");
}

/* The recv and the cancel reach the kernel in one batch, the recv first,
 * with bytes already there: the recv completes with them before the
 * cancel can find it. Those bytes are the caller's, not lost. */
Test(close_while_pending, bytes_that_beat_the_cancel_are_not_lost)
{
    need_uring();
    peer_says("late");
    open_reader();
    reader_close(reader);
    run_until_done("on_done never came after a recv that beat the cancel: "
                   "after a completion with bytes, a closed reader must "
                   "end, not start another recv");
    cr_assert_eq(data_calls, 1, "the recv beat the cancel and completed "
                 "with 4 bytes, and on_data was called %d times: those bytes "
                 "were lost; a completion after a cancel may still be a "
                 "success", data_calls);
    cr_assert_eq(got_len, 4, "on_data got %zu bytes in all; the recv that "
                 "beat the cancel brought 4", got_len);
    cr_assert_eq(memcmp(got, "late", 4), 0, "on_data got \"%.*s\", not "
                 "\"late\"", (int)got_len, got);
    assert_done_once_with(ECANCELED, "after reader_close()");
}

/* Closed, then a completion that is no success comes: end of stream or
 * an error. The recv and its cancel reach the kernel in one batch, the
 * recv first, with the end (or the error) already there: the recv
 * completes with it before the cancel can find it. The reader was closed,
 * so what it reports is the close, whatever the completion says. */
Test(close_while_pending, a_late_end_of_stream_still_says_ecanceled)
{
    need_uring();
    shutdown(sv[1], SHUT_WR);               /* end of stream, already */
    open_reader();
    reader_close(reader);
    cr_assert_eq(done_calls, 0, "on_done came from inside reader_close(), "
                 "while the recv was still in the kernel");
    run_until_done("on_done never came when the recv of a closed reader "
                   "completed with 0 (end of stream): does that completion "
                   "end the reader?");
    cr_assert_eq(done_calls, 1, "on_done was called %d times; it must come "
                 "exactly once", done_calls);
    cr_assert_eq(done_err, ECANCELED, "the reader was closed, then its recv "
                 "completed with 0 (end of stream), and on_done said %s (%d): "
                 "after reader_close() on_done must say ECANCELED, even when "
                 "the late completion is an end of stream",
                 strerror(done_err), done_err);
    cr_assert_eq(data_calls, 0, "on_data was called, but nothing was sent");
}

Test(close_while_pending, a_late_error_still_says_ecanceled)
{
    need_uring();
    /* A byte the peer never reads, then the peer closes: its end resets
     * the connection, and the reader's next recv fails, ECONNRESET. */
    cr_assert_eq(write(sv[0], "x", 1), 1);
    if (sv[1] >= 0)
        close(sv[1]);
    sv[1] = -1;
    open_reader();
    reader_close(reader);
    cr_assert_eq(done_calls, 0, "on_done came from inside reader_close(), "
                 "while the recv was still in the kernel");
    run_until_done("on_done never came when the recv of a closed reader "
                   "failed (ECONNRESET): does a failed completion end the "
                   "reader?");
    cr_assert_eq(done_calls, 1, "on_done was called %d times; it must come "
                 "exactly once", done_calls);
    cr_assert_eq(done_err, ECANCELED, "the reader was closed, then its recv "
                 "failed with ECONNRESET, and on_done said %s (%d): after "
                 "reader_close() on_done must say ECANCELED, even when the "
                 "late completion is an error", strerror(done_err), done_err);
    cr_assert_eq(data_calls, 0, "on_data was called, but nothing was sent");
}

Test(close_while_pending, close_from_inside_on_data_stops_at_once)
{
    need_uring();
    open_reader();
    close_in_on_data = 1;
    peer_says("one");
    run_until_done("on_done never came after reader_close() was called "
                   "from inside on_data: then no recv is pending, and "
                   "nothing more will complete");
    peer_says("two");
    fixture_settle(&fx);
    cr_assert_eq(data_calls, 1, "on_data was called %d times; after "
                 "reader_close() from inside on_data, no recv may start",
                 data_calls);
    assert_done_once_with(ECANCELED, "after reader_close() from on_data");
}

/* A refused call says why: errno EINVAL. */
static void assert_errno_einval(void)
{
    int e = errno;

    cr_assert_eq(e, EINVAL, "the call was refused, but errno is %d (%s), "
                 "not EINVAL: a bad argument must say EINVAL", e,
                 e == 0 ? "not set" : strerror(e));
}

Test(close_while_pending, bad_arguments_are_refused)
{
    need_uring();
    errno = 0;
    cr_assert_null(reader_open(pr, sv[0], buf, 0, on_data, on_done, &fx),
                   "reader_open() took a buffer of size 0");
    assert_errno_einval();
    errno = 0;
    cr_assert_null(reader_open(pr, sv[0], NULL, 8, on_data, on_done, &fx),
                   "reader_open() took a NULL buffer");
    assert_errno_einval();
    errno = 0;
    cr_assert_null(reader_open(NULL, sv[0], buf, 8, on_data, on_done, &fx),
                   "reader_open() took a NULL proactor");
    assert_errno_einval();
    cr_assert_eq(in_flight(), 0, "a refused reader_open() left a recv in "
                 "the kernel");
}
