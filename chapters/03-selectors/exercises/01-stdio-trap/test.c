/* Tests for exercise 01-stdio-trap. */
#include "exercise.h"
#include "guard.h"
#include "selector.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Every read() of the answer goes through here: the exercise is linked
 * with -Wl,--wrap=read (see ldflags). stdio's reads happen inside the C
 * library and do not pass through it. */
ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __wrap_read(int fd, void *buf, size_t count);
static int reads;
static int empty_reads;  /* read() calls with a count of 0 */
static int fail_eintr;   /* this many next read() calls fail with EINTR */

ssize_t __wrap_read(int fd, void *buf, size_t count)
{
    reads++;
    if (count == 0)
        empty_reads++;
    if (fail_eintr > 0) {
        fail_eintr--;
        errno = EINTR; /* as if a signal came before any byte was read */
        return -1;
    }
    return __real_read(fd, buf, count);
}

#define SEEN_MAX 1000

/* What the callback got: every payload, one after the other. */
typedef struct seen {
    char bytes[SEEN_MAX * 600];
    size_t used;
    size_t len[SEEN_MAX];
    size_t at[SEEN_MAX];
    int count;
} seen_t;

static seen_t seen; /* large: not on the stack */

static void collect(const char *data, size_t len, void *arg)
{
    seen_t *s = arg;
    cr_assert_lt(s->count, SEEN_MAX, "more messages handed out than written");
    cr_assert_leq(len, MSG_MAX, "a message of %zu bytes, more than MSG_MAX",
                  len);
    cr_assert_leq(s->used + len, sizeof s->bytes, "more bytes handed out "
                  "than written");
    memcpy(s->bytes + s->used, data, len);
    s->at[s->count] = s->used;
    s->len[s->count] = len;
    s->used += len;
    s->count++;
}

/* One readiness: the answer must come back, after exactly one read(). */
static int on_readable(msg_reader_t *r)
{
    int before = reads;
    guard_arm(10, "msg_reader_on_readable() did not return: it waited "
                  "inside read() for the rest of a message. \"Readable\" "
                  "promises that one read() will not block, not two: read "
                  "once, keep what came, and return.");
    errno = 0;
    int rc = msg_reader_on_readable(r, collect, &seen);
    int err = errno;
    guard_disarm();
    cr_assert_eq(reads - before, 1, "%d read() calls for one readiness, "
                 "want exactly 1%s", reads - before,
                 reads == before ? " (stdio reads inside the C library, "
                 "into a buffer the selector cannot see: use read())" : "");
    cr_assert_eq(empty_reads, 0, "read() was asked for 0 bytes: your "
                 "buffer was full, and a read() of 0 bytes returns 0, which "
                 "looks like end of input. The unfinished message left in "
                 "the buffer can be up to 2 + MSG_MAX - 1 bytes: the buffer "
                 "needs room for that and for the next read()");
    errno = err;
    return rc;
}

/* Wait on the descriptor and call the reader whenever it is readable,
 * until `want` messages came, the reader said stop, a quiet second, or
 * `rounds` readinesses. Returns the reader's last answer. */
static int pump(int fd, msg_reader_t *r, int want, int rounds)
{
    selector_t *sel = selector_create(SELECTOR_POLL);
    cr_assert_not_null(sel);
    cr_assert_eq(selector_register(sel, fd, SELECTOR_READ, NULL), 0);
    int rc = 1;
    while (seen.count < want && rounds-- > 0 && selector_select(sel, 1000) > 0)
        if ((rc = on_readable(r)) <= 0)
            break;
    int err = errno;
    selector_destroy(sel);
    errno = err;
    return rc;
}

/* Append one message (header and payload) to out; returns its size. */
static size_t frame(char *out, const char *data, size_t len)
{
    out[0] = (char)(len >> 8);
    out[1] = (char)(len & 0xff);
    memcpy(out + 2, data, len);
    return 2 + len;
}

static void expect_message(int i, const char *data, size_t len)
{
    cr_assert_gt(seen.count, i, "message %d never came", i + 1);
    cr_assert_eq(seen.len[i], len, "message %d has %zu bytes, want %zu",
                 i + 1, seen.len[i], len);
    cr_assert_arr_eq(seen.bytes + seen.at[i], data, len, "message %d's bytes "
                     "are not the ones written", i + 1);
}

/* What the student reads when EMSGSIZE came from a stream whose lengths are
 * all within MSG_MAX: a length was taken from the wrong bytes, or decoded
 * wrongly. */
#define DECODE "EMSGSIZE, but no length written here is over MSG_MAX, so " \
               "a length was read wrongly: either a message that came in " \
               "pieces was lost or garbled (keep the bytes of an " \
               "unfinished message, even half a header, for the next " \
               "call), or the length was decoded wrongly (2 bytes, most " \
               "significant first, each a value from 0 to 255)"

/* What the student reads when a message that came in pieces went wrong. */
#define PIECES "a message that came in pieces was lost or garbled: keep " \
               "the bytes of an unfinished message, even half a header, " \
               "for the next call"

static msg_reader_t *reader(int fd)
{
    msg_reader_t *r = msg_reader_create(fd);
    cr_assert_not_null(r, "msg_reader_create() returned NULL");
    return r;
}

Test(stdio_trap, every_message_of_one_write_is_handed_out, .timeout = 30)
{
    int p[2];
    char wire[600], big[300];
    cr_assert_eq(pipe(p), 0);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i % 7 == 0 ? '\n' : i % 11 == 0 ? '\0' : 'a' + i % 26);
    size_t n = frame(wire, "hi", 2);
    n += frame(wire + n, "", 0);
    n += frame(wire + n, big, sizeof big);
    msg_reader_t *r = reader(p[0]);
    cr_assert_eq(write(p[1], wire, n), (ssize_t)n); /* one write, three messages */
    int rc = pump(p[0], r, 3, 100);
    cr_assert(rc != -1 || errno != EMSGSIZE, "%s", DECODE);
    cr_assert_neq(seen.count, 0, "none of the 3 messages written at once "
                  "came out: is the length decoded as 2 bytes, most "
                  "significant first, and is a message handed out once its "
                  "header and that many bytes are there?");
    cr_assert_eq(seen.count, 3, "got %d of the 3 messages written at once: "
                 "after a read(), hand out every complete message your "
                 "buffer holds, not just the first; the selector will not "
                 "report bytes that already left the kernel", seen.count);
    expect_message(0, "hi", 2);
    expect_message(1, "", 0);
    expect_message(2, big, sizeof big);
    msg_reader_destroy(r);
    close(p[0]);
    close(p[1]);
}

Test(stdio_trap, a_message_split_anywhere_comes_out_whole, .timeout = 30)
{
    /* The pipe stays blocking: an answer that waits for the rest of a
     * message inside read() hangs here, and the guard says so. */
    int p[2];
    char wire[64];
    cr_assert_eq(pipe(p), 0);
    size_t n = frame(wire, "0123456789", 10);
    n += frame(wire + n, "ok", 2);
    msg_reader_t *r = reader(p[0]);
    cr_assert_eq(write(p[1], wire, 1), 1); /* half of the length */
    int rc = pump(p[0], r, 1, 1);
    cr_assert_eq(rc, 1, "after half a header came, msg_reader_on_readable() "
                 "must return 1 (keep watching), not %d (%s)", rc,
                 strerror(errno));
    cr_assert_eq(write(p[1], wire + 1, 4), 4); /* the rest of it, 3 bytes */
    rc = pump(p[0], r, 1, 1);
    cr_assert(rc != -1 || errno != EMSGSIZE, "%s", DECODE);
    cr_assert_eq(rc, 1, "msg_reader_on_readable() returned %d (%s) when "
                 "the rest of a header came: " PIECES, rc, strerror(errno));
    cr_assert_eq(seen.count, 0, "a message was handed out before its last "
                 "byte came (%zu bytes of it)", seen.len[0]);
    cr_assert_eq(write(p[1], wire + 5, n - 5), (ssize_t)(n - 5));
    pump(p[0], r, 2, 100);
    cr_assert_eq(seen.count, 2, "got %d messages, want 2: " PIECES,
                 seen.count);
    expect_message(0, "0123456789", 10);
    expect_message(1, "ok", 2);
    msg_reader_destroy(r);
    close(p[0]);
    close(p[1]);
}

Test(stdio_trap, a_long_stream_in_odd_pieces_comes_out_in_order,
     .timeout = 60)
{
    /* 600 messages of every size, written 777 bytes at a time, so that
     * reads end anywhere: inside a header, a payload, between two. */
    static char wire[SEEN_MAX * 600], data[MSG_MAX];
    int p[2];
    size_t n = 0;
    int count = 600;
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
    for (int i = 0; i < count; i++) {
        size_t len = (size_t)(i * 397) % (MSG_MAX + 1);
        for (size_t j = 0; j < len; j++)
            data[j] = (char)(i + j);
        n += frame(wire + n, data, len);
    }
    msg_reader_t *r = reader(p[0]);
    size_t written = 0;
    int rc = 1;
    while (written < n && rc == 1) {
        size_t chunk = n - written < 777 ? n - written : 777;
        ssize_t w = write(p[1], wire + written, chunk);
        if (w > 0)
            written += (size_t)w;
        rc = pump(p[0], r, count, 1);
    }
    cr_assert(rc != -1 || errno != EMSGSIZE, "%s", DECODE);
    cr_assert_eq(rc, 1, "msg_reader_on_readable() returned %d (%s) in the "
                 "middle of the stream: " PIECES "?", rc, strerror(errno));
    close(p[1]); /* end of input, right after the last message */
    rc = pump(p[0], r, count + 1, 1000);
    cr_assert_eq(seen.count, count, "got %d of %d messages", seen.count,
                 count);
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        at += 2;
        expect_message(i, wire + at, seen.len[i]);
        cr_assert_eq(seen.len[i], (size_t)(i * 397) % (MSG_MAX + 1),
                     "message %d has the wrong length", i + 1);
        at += seen.len[i];
    }
    cr_assert_eq(rc, 0, "input ended right after the last message: "
                 "msg_reader_on_readable() must return 0 (returned %d)", rc);
    msg_reader_destroy(r);
    close(p[0]);
}

Test(stdio_trap, input_ending_inside_a_message_is_an_error, .timeout = 30)
{
    int p[2];
    char wire[64];
    cr_assert_eq(pipe(p), 0);
    size_t n = frame(wire, "hello", 5);
    n += frame(wire + n, "0123456789", 10);
    msg_reader_t *r = reader(p[0]);
    cr_assert_eq(write(p[1], wire, n - 6), (ssize_t)(n - 6)); /* 4 of 10 */
    close(p[1]);
    int rc = pump(p[0], r, 100, 100);
    int err = errno;
    expect_message(0, "hello", 5);
    cr_assert_eq(seen.count, 1, "a message was handed out although only 4 "
                 "of its 10 bytes came");
    cr_assert_eq(rc, -1, "input ended inside a message (4 of its 10 bytes "
                 "came): that is an error, -1 with errno EPROTO, not a "
                 "clean end (returned %d)", rc);
    cr_assert_eq(err, EPROTO, "errno %d (%s) when input ended inside a "
                 "message, want EPROTO", err, strerror(err));
    msg_reader_destroy(r);
    close(p[0]);
}

Test(stdio_trap, a_length_over_msg_max_is_refused, .timeout = 30)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    msg_reader_t *r = reader(p[0]);
    cr_assert_eq(write(p[1], "\xff\xff" "abc", 5), 5);
    int rc = pump(p[0], r, 1, 1);
    int err = errno;
    cr_assert_eq(rc, -1, "a length of 65535 (over MSG_MAX) came: return -1 "
                 "with EMSGSIZE at once, not wait for the bytes (returned "
                 "%d)", rc);
    cr_assert_eq(err, EMSGSIZE, "errno %d (%s), want EMSGSIZE", err,
                 strerror(err));
    msg_reader_destroy(r);
    close(p[0]);
    close(p[1]);
}

Test(stdio_trap, nothing_to_read_is_not_an_error, .timeout = 30)
{
    /* A readiness report is a hint: the bytes may be gone by the time the
     * handler runs. On a non-blocking pipe, read() then says EAGAIN. */
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    msg_reader_t *r = reader(p[0]);
    int rc = on_readable(r);
    cr_assert_eq(rc, 1, "read() said EAGAIN (nothing to read yet): that is "
                 "\"keep watching\", 1, not an error or the end (returned "
                 "%d)", rc);
    msg_reader_destroy(r);
    close(p[0]);
    close(p[1]);
}

Test(stdio_trap, a_read_a_signal_interrupted_is_made_again, .timeout = 30)
{
    /* The contract: EINTR, and only EINTR, is retried inside the call. */
    int p[2];
    char wire[16];
    cr_assert_eq(pipe(p), 0);
    size_t n = frame(wire, "hello", 5);
    cr_assert_eq(write(p[1], wire, n), (ssize_t)n);
    msg_reader_t *r = reader(p[0]);
    int before = reads;
    fail_eintr = 1;
    guard_arm(10, "msg_reader_on_readable() did not return after a read() "
                  "that a signal interrupted");
    errno = 0;
    int rc = msg_reader_on_readable(r, collect, &seen);
    int err = errno;
    guard_disarm();
    fail_eintr = 0;
    cr_assert(rc != -1 || err != EINTR, "read() failed with EINTR (a signal "
              "came before any byte) and msg_reader_on_readable() returned "
              "-1: EINTR is no error, the read() is made again");
    cr_assert_eq(rc, 1, "returned %d (%s) after an interrupted read()", rc,
                 strerror(err));
    cr_assert_eq(reads - before, 2, "read() failed with EINTR and was not "
                 "made again (%d read() call): the bytes that made the "
                 "descriptor readable are still waiting; make the read() "
                 "again, EINTR is the one error retried", reads - before);
    cr_assert_eq(seen.count, 1, "the message waiting after the interrupted "
                 "read() was not handed out");
    expect_message(0, "hello", 5);
    msg_reader_destroy(r);
    close(p[0]);
    close(p[1]);
}
