/*
 * test.c - exercise 04-nonblocking-stdout: the writer on a pipe whose
 * reader stops and comes back. The pipe is made small (4 KiB) where Linux
 * allows it, so it fills after a few lines.
 *
 * Most tests run the loop on the fake clock (exercises/fakeclock.h) and
 * never wait. Two use the real clock on purpose, to see whether the loop
 * sleeps when it should: they count iterations during a 0.1 s timer. A
 * loop that sleeps needs one or two; the bound is 20, and a busy loop
 * goes round thousands of times even on a loaded machine.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeclock.h"
#include "guard.h"

#define LINE_LEN 32
#define LINES 8192 /* 256 KiB: many times a full pipe */

/* ---- the scene: a loop, a writer, a pipe, what the reader expects ---- */

typedef struct scene {
    loop_t *loop;
    writer_t *w;
    int rd, wr;     /* the pipe; rd is the reader's, non-blocking */
    char *want;     /* every byte the writer took, in order */
    size_t nwant;
    char *got;      /* what the reader read */
    size_t ngot;
} scene_t;

static void nothing(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/* One iteration that does not wait. */
static void spin(loop_t *loop)
{
    loop_call_soon(loop, nothing, NULL);
    loop_run_once(loop);
}

static void open_scene(scene_t *s, loop_t *loop, size_t limit)
{
    int p[2];

    signal(SIGPIPE, SIG_IGN);
    memset(s, 0, sizeof *s);
    s->loop = loop;
    cr_assert_eq(pipe(p), 0);
#ifdef F_SETPIPE_SZ
    fcntl(p[1], F_SETPIPE_SZ, 4096); /* best effort: the tests do not rely
                                        on it, only run faster */
#endif
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    s->rd = p[0];
    s->wr = p[1];
    s->want = malloc(2 * LINES * LINE_LEN);
    s->got = malloc(2 * LINES * LINE_LEN);
    cr_assert(s->want != NULL && s->got != NULL);
    s->w = writer_create(loop, s->wr, limit);
    cr_assert_not_null(s->w, "writer_create() returned NULL (%s)",
                       strerror(errno));
}

static void close_scene(scene_t *s)
{
    writer_destroy(s->w);
    loop_destroy(s->loop);
    close(s->rd);
    if (s->wr >= 0)
        close(s->wr);
    free(s->want);
    free(s->got);
}

/* Line i: 31 characters and a newline, its number first. */
static void make_line(char *line, int i)
{
    snprintf(line, LINE_LEN, "%06d ", i);
    for (int k = 7; k < LINE_LEN - 1; k++)
        line[k] = (char)('a' + (i + k) % 26);
    line[LINE_LEN - 1] = '\n';
}

/* writer_write() one buffer, remembering it if it was taken; returns
 * what writer_write() returned. */
static int put(scene_t *s, const char *data, size_t len)
{
    guard_arm(10, "writer_write() did not return while nobody read the "
                  "pipe: a full pipe must not stall the caller. Is the "
                  "descriptor blocking, or does it retry write() until the "
                  "pipe takes the bytes?");
    int r = writer_write(s->w, data, len);
    guard_disarm();
    if (r == 0) {
        memcpy(s->want + s->nwant, data, len);
        s->nwant += len;
    }
    return r;
}

/* The reader does not read; the program writes LINES lines. */
static void write_lines(scene_t *s, int first, int count)
{
    char line[LINE_LEN];

    for (int i = first; i < first + count; i++) {
        make_line(line, i);
        cr_assert_eq(put(s, line, LINE_LEN), 0, "writer_write() of line %d "
                     "failed (%s) with a limit far above what was written",
                     i, strerror(errno));
    }
}

/* Everything in the pipe right now, without running the loop. */
static void read_pipe(scene_t *s)
{
    ssize_t n;

    while ((n = read(s->rd, s->got + s->ngot, 4096)) > 0)
        s->ngot += (size_t)n;
}

/* The reader comes back, stopping now and then, while the loop runs. */
static void reader_comes_back(scene_t *s)
{
    for (int i = 0; i < 200000 && (s->ngot < s->nwant ||
                                    writer_pending(s->w) > 0); i++) {
        if (i % 4 != 3) { /* every fourth round it takes a rest */
            ssize_t n = read(s->rd, s->got + s->ngot, 1000);
            if (n > 0)
                s->ngot += (size_t)n;
        }
        spin(s->loop);
    }
    read_pipe(s);
}

/* The reader got exactly what the writer took, in order. */
static void check_output(scene_t *s)
{
    cr_assert(s->ngot >= s->nwant || writer_pending(s->w) == 0 ||
              writer_error(s->w) != 0, "%zu bytes still wait in the writer "
              "though the reader reads everything: does the writer watch "
              "the descriptor (loop_add_writer()) while bytes wait?",
              writer_pending(s->w));
    size_t same = 0;
    while (same < s->ngot && same < s->nwant &&
           s->got[same] == s->want[same])
        same++;
    if (same == s->ngot && s->ngot < s->nwant)
        cr_assert_fail("the reader got %zu of the %zu bytes written, and "
                       "nothing waits in the writer: bytes were lost (when "
                       "write() takes only part of the bytes, the rest must "
                       "wait for the next turn)", s->ngot, s->nwant);
    cr_assert(same == s->nwant && s->ngot == s->nwant, "the output differs "
              "from byte %zu on (line %zu): expected \"%.31s\", got "
              "\"%.31s\": bytes were lost, repeated or reordered", same,
              same / LINE_LEN, s->want + same, s->got + same);
}

/* ---- the tests ---------------------------------------------------------- */

Test(writer, create_makes_the_descriptor_non_blocking_and_destroy_restores_it)
{
    int p[2];

    cr_assert_eq(pipe(p), 0);
    int before = fcntl(p[1], F_GETFL);
    loop_t *loop = fakeclock_loop();
    writer_t *w = writer_create(loop, p[1], 1000);
    cr_assert_not_null(w, "writer_create() returned NULL (%s)",
                       strerror(errno));
    cr_assert(fcntl(p[1], F_GETFL) & O_NONBLOCK, "the descriptor is still "
              "blocking after writer_create(): a write() to a full pipe "
              "would stall the whole loop (see O_NONBLOCK in fcntl(2))");
    writer_destroy(w);
    cr_assert_eq(fcntl(p[1], F_GETFL), before, "writer_destroy() did not "
                 "put the descriptor's flags back (O_NONBLOCK left set): "
                 "the shell that shares a standard output would find it "
                 "non-blocking");
    cr_assert_eq(fcntl(p[1], F_GETFD), 0, "writer_destroy() closed the "
                 "descriptor, which is the caller's");
    cr_assert_null(writer_create(loop, p[1], 0), "writer_create() with a "
                   "limit of 0 must fail (EINVAL)");
    loop_destroy(loop);
    close(p[0]);
    close(p[1]);
}

Test(writer, bytes_go_out_at_once_when_nothing_waits)
{
    scene_t s;

    open_scene(&s, fakeclock_loop(), 1000);
    cr_assert_eq(put(&s, "hello\n", 6), 0, "writer_write() failed (%s)",
                 strerror(errno));
    read_pipe(&s);
    cr_assert_eq(s.ngot, 6, "the pipe had room, and after writer_write() "
                 "returned it held %zu bytes, not 6: when nothing waits, "
                 "the bytes go out before writer_write() returns", s.ngot);
    cr_assert_eq(writer_pending(s.w), 0);
    cr_assert_eq(put(&s, "", 0), 0, "writer_write() of 0 bytes failed");
    close_scene(&s);
}

/* The reader stops; the program goes on writing, and the loop goes on
 * running its timers and its other readers. */
static int timer_ran, reader_ran;

static void on_timer(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
    timer_ran++;
}

static void on_input(loop_t *loop, void *arg)
{
    char c;
    (void)loop;
    if (read(*(int *)arg, &c, 1) == 1)
        reader_ran++;
}

Test(writer, a_full_pipe_stalls_neither_the_caller_nor_the_loop)
{
    scene_t s;
    loop_timer_t timer;
    int input[2];

    open_scene(&s, fakeclock_loop(), 2 * LINES * LINE_LEN);
    write_lines(&s, 0, LINES);
    cr_assert_gt(writer_pending(s.w), 0, "%d lines went to a pipe nobody "
                 "reads, and nothing waits in the writer: were bytes "
                 "dropped?", LINES);

    loop_timer_init(&timer);
    cr_assert_eq(loop_call_later(s.loop, &timer, 1.0, on_timer, NULL), 0);
    cr_assert_eq(pipe(input), 0);
    cr_assert_eq(loop_add_reader(s.loop, input[0], on_input, &input[0]), 0);
    cr_assert_eq(write(input[1], "x", 1), 1);
    guard_arm(10, "the loop did not come back while output waited for a "
                  "full pipe: does a callback of the writer block?");
    fakeclock_run_at(s.loop, 1.0);
    guard_disarm();
    cr_assert_eq(timer_ran, 1, "a timer due while output waited for the "
                 "pipe did not run");
    cr_assert_eq(reader_ran, 1, "a reader on another descriptor did not "
                 "run while output waited for the pipe");
    cr_assert_gt(writer_pending(s.w), 0, "nothing waits in the writer, "
                 "though the pipe is full and nobody read it: were bytes "
                 "dropped?");
    loop_remove_reader(s.loop, input[0]);
    close(input[0]);
    close(input[1]);
    close_scene(&s);
}

Test(writer, nothing_is_lost_or_reordered_when_the_reader_comes_back)
{
    scene_t s;

    open_scene(&s, fakeclock_loop(), 2 * LINES * LINE_LEN);
    write_lines(&s, 0, LINES);
    fakeclock_run_at(s.loop, 1.0);
    reader_comes_back(&s);
    check_output(&s);
    /* And again: the reader stops a second time. */
    write_lines(&s, LINES, LINES / 2);
    fakeclock_run_at(s.loop, 2.0);
    reader_comes_back(&s);
    check_output(&s);
    close_scene(&s);
}

Test(writer, new_bytes_wait_behind_older_ones)
{
    scene_t s;

    open_scene(&s, fakeclock_loop(), 2 * LINES * LINE_LEN);
    write_lines(&s, 0, LINES);
    /* The reader empties the pipe, and the program writes again before
     * the loop has had a turn: older bytes still wait in the writer. */
    read_pipe(&s);
    cr_assert_gt(writer_pending(s.w), 0);
    cr_assert_eq(put(&s, "the last line, written after the pipe drained\n",
                     46), 0, "writer_write() failed (%s)", strerror(errno));
    read_pipe(&s);
    cr_assert(s.ngot < 46 || memcmp(s.got + s.ngot - 46, "the last line",
                                    13) != 0,
              "bytes written while older bytes still waited in the writer "
              "came out before them: write at once only when nothing "
              "waits");
    reader_comes_back(&s);
    check_output(&s);
    close_scene(&s);
}

Test(writer, the_buffer_is_bounded_and_a_refused_write_is_refused_whole)
{
    enum { LIMIT = 1000 };
    scene_t s;
    char line[LINE_LEN];
    int refusals = 0;

    open_scene(&s, fakeclock_loop(), LIMIT);
    static const char big[LIMIT + 1];

    cr_assert_eq(put(&s, big, LIMIT + 1), -1, "writer_write() of %d "
                 "bytes, more than the limit of %d, was accepted: it must "
                 "be refused, even when the pipe could take it", LIMIT + 1,
                 LIMIT);
    cr_assert_eq(errno, ENOBUFS, "a refused write must fail with ENOBUFS, "
                 "not %s", strerror(errno));
    read_pipe(&s);
    cr_assert_eq(s.ngot + writer_pending(s.w), 0, "a refused write of %d "
                 "bytes sent %zu of them to the pipe and kept %zu: part of "
                 "it was taken, and the line was cut in half (refused means "
                 "refused whole)", LIMIT + 1, s.ngot, writer_pending(s.w));
    cr_assert_eq(writer_refused(s.w), LIMIT + 1, "writer_refused() is %zu "
                 "after one refused write of %d bytes: it counts the bytes "
                 "refused, not the calls", writer_refused(s.w), LIMIT + 1);
    for (int i = 0; i < LINES; i++) {
        size_t before = writer_pending(s.w), refused = writer_refused(s.w);
        make_line(line, i);
        int r = put(&s, line, LINE_LEN);
        size_t after = writer_pending(s.w);
        cr_assert_leq(after, LIMIT, "the writer holds %zu bytes, over its "
                      "limit of %d", after, LIMIT);
        if (r == 0)
            continue;
        refusals++;
        cr_assert_eq(errno, ENOBUFS, "writer_write() failed with %s; a "
                     "write over the limit fails with ENOBUFS",
                     strerror(errno));
        cr_assert_eq(after, before, "a refused write changed "
                     "writer_pending() from %zu to %zu: part of it was "
                     "taken, and the line was cut in half (refused means "
                     "refused whole)", before, after);
        cr_assert_eq(writer_refused(s.w), refused + LINE_LEN,
                     "writer_refused() grew by %zu for a refused write of "
                     "%d bytes", writer_refused(s.w) - refused, LINE_LEN);
        cr_assert_gt(before + LINE_LEN, LIMIT, "a write of %d bytes was "
                     "refused with %zu waiting and a limit of %d: it fit",
                     LINE_LEN, before, LIMIT);
    }
    cr_assert_gt(refusals, 0, "%d lines written to a pipe nobody reads, "
                 "none refused: the writer holds %zu bytes with a limit of "
                 "%d", LINES, writer_pending(s.w), LIMIT);
    fakeclock_run_at(s.loop, 1.0);
    reader_comes_back(&s);
    check_output(&s);
    close_scene(&s);
}

/* Iterations of a real-clock loop until a 0.1 s timer fires. */
static int rounds_until_timer(loop_t *loop)
{
    loop_timer_t timer;
    int rounds = 0;

    timer_ran = 0;
    loop_timer_init(&timer);
    cr_assert_eq(loop_call_later(loop, &timer, 0.1, on_timer, NULL), 0);
    guard_arm(10, "a 0.1 s timer did not fire within 10 s while output "
                  "waited: does a callback of the writer block the loop?");
    while (!timer_ran && rounds < 1000000) {
        loop_run_once(loop);
        rounds++;
    }
    guard_disarm();
    return rounds;
}

Test(writer, while_the_pipe_is_full_the_loop_sleeps)
{
    scene_t s;

    open_scene(&s, loop_create(NULL), 2 * LINES * LINE_LEN);
    write_lines(&s, 0, LINES);
    int rounds = rounds_until_timer(s.loop);
    cr_assert_leq(rounds, 20, "the loop went round %d times in the 0.1 s "
                  "before its timer, while the pipe stayed full: is the "
                  "writer retrying every iteration (call_soon, a timer of "
                  "0) instead of waiting until the descriptor is writable "
                  "(loop_add_writer())?", rounds);
    cr_assert_gt(writer_pending(s.w), 0);
    close_scene(&s);
}

Test(writer, an_idle_writer_costs_the_loop_nothing)
{
    scene_t s;

    open_scene(&s, loop_create(NULL), 2 * LINES * LINE_LEN);
    write_lines(&s, 0, LINES);
    reader_comes_back(&s);
    check_output(&s);
    cr_assert_eq(writer_pending(s.w), 0);
    int rounds = rounds_until_timer(s.loop);
    cr_assert_leq(rounds, 20, "the loop went round %d times in the 0.1 s "
                  "before its timer, with nothing waiting in the writer: "
                  "it still watches the descriptor though nothing waits "
                  "(an empty pipe is always writable)", rounds);
    cr_assert_eq(loop_remove_writer(s.loop, s.wr), 0, "the writer still "
                 "watches the descriptor though nothing waits");
    close_scene(&s);
}

Test(writer, a_reader_that_goes_away_ends_the_writer_with_epipe)
{
    scene_t s;

    open_scene(&s, fakeclock_loop(), 2 * LINES * LINE_LEN);
    write_lines(&s, 0, LINES);
    close(s.rd);
    s.rd = open("/dev/null", O_RDONLY); /* for close_scene() */
    fakeclock_run_at(s.loop, 1.0);
    cr_assert_eq(writer_error(s.w), EPIPE, "the reader closed the pipe, and "
                 "writer_error() is %d (%s), not EPIPE: a write() error "
                 "other than EAGAIN ends the writer", writer_error(s.w),
                 strerror(writer_error(s.w)));
    cr_assert_eq(writer_pending(s.w), 0, "%zu bytes still wait for a reader "
                 "that is gone: the writer must drop them",
                 writer_pending(s.w));
    cr_assert_eq(loop_remove_writer(s.loop, s.wr), 0, "the writer still "
                 "watches the descriptor after its reader went away: the "
                 "loop would call it at every turn");
    cr_assert_eq(writer_write(s.w, "more\n", 5), -1, "writer_write() after "
                 "the reader went away returned 0");
    cr_assert_eq(errno, EPIPE, "writer_write() after the reader went away "
                 "failed with %s, not EPIPE", strerror(errno));
    close_scene(&s);
}

Test(writer, a_reader_gone_before_a_write_ends_the_writer_at_once)
{
    scene_t s;

    open_scene(&s, fakeclock_loop(), 2 * LINES * LINE_LEN);
    close(s.rd); /* gone before anything was written: nothing waits */
    s.rd = open("/dev/null", O_RDONLY); /* for close_scene() */
    errno = 0;
    int r = writer_write(s.w, "first\n", 6);
    int err = errno;
    cr_assert_eq(r, -1, "writer_write() returned %d though the reader was "
                 "gone and write() failed with EPIPE at once: an error other "
                 "than EAGAIN ends the writer there and then, in "
                 "writer_write() too, not only in the writable callback", r);
    cr_assert_eq(err, EPIPE, "writer_write() to a pipe whose reader is gone "
                 "failed with %s, not EPIPE", strerror(err));
    cr_assert_eq(writer_error(s.w), EPIPE, "writer_error() is %d (%s) after "
                 "write() failed with EPIPE in writer_write(); it must be "
                 "EPIPE", writer_error(s.w), strerror(writer_error(s.w)));
    cr_assert_eq(writer_pending(s.w), 0, "%zu bytes wait for a reader that "
                 "is gone: a failed write() is not EAGAIN, nothing is kept",
                 writer_pending(s.w));
    cr_assert_eq(loop_remove_writer(s.loop, s.wr), 0, "the writer watches "
                 "the descriptor though its reader is gone: a failed write() "
                 "is not EAGAIN");
    close_scene(&s);
}
