/* Tests for exercise 01-stdio-trap. */
#include "exercise.h"
#include "selector.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Every read() of the answer (and of linebuf.c) goes through here: the
 * exercise is linked with -Wl,--wrap=read (see ldflags). */
ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __wrap_read(int fd, void *buf, size_t count);
static int reads;

ssize_t __wrap_read(int fd, void *buf, size_t count)
{
    reads++;
    return __real_read(fd, buf, count);
}

typedef struct seen {
    char lines[8][32];
    int count;
} seen_t;

static void collect(const char *line, size_t len, void *arg)
{
    seen_t *s = arg;
    cr_assert_lt(s->count, 8);
    cr_assert_lt(len, sizeof s->lines[0]);
    memcpy(s->lines[s->count], line, len);
    s->lines[s->count][len] = '\0';
    s->count++;
}

/* One readiness: exactly one read(), as the exercise asks. */
static int on_readable(line_reader_t *r, seen_t *s)
{
    int before = reads;
    int rc = line_reader_on_readable(r, collect, s);
    cr_assert_eq(reads - before, 1, "%d read() calls for one readiness, "
                 "want exactly 1%s", reads - before,
                 reads == before ? " (stdio's own reads do not count: read "
                                   "with read())" : "");
    return rc;
}

/* Wait on the pipe and call the reader whenever it is readable, until
 * `want` lines came, end of input, or a quiet second; at most `rounds`
 * readinesses. */
static void pump(int fd, line_reader_t *r, seen_t *s, int want, int rounds)
{
    selector_t *sel = selector_create(SELECTOR_POLL);
    cr_assert_not_null(sel);
    cr_assert_eq(selector_register(sel, fd, SELECTOR_READ, NULL), 0);
    while (s->count < want && rounds-- > 0 && selector_select(sel, 1000) > 0)
        if (on_readable(r, s) <= 0)
            break;
    selector_destroy(sel);
}

Test(stdio_trap, every_line_of_one_write_is_handed_out, .timeout = 10)
{
    int p[2];
    line_reader_t r;
    seen_t s = {.count = 0};
    cr_assert_eq(pipe(p), 0);
    line_reader_init(&r, p[0]);
    cr_assert_eq(write(p[1], "1\n22\n333\n", 9), 9); /* one write, three lines */
    pump(p[0], &r, &s, 3, 100);
    cr_assert_eq(s.count, 3, "got %d of the 3 lines written at once: the "
                 "rest sit in a buffer the selector cannot see", s.count);
    cr_assert_str_eq(s.lines[0], "1");
    cr_assert_str_eq(s.lines[1], "22");
    cr_assert_str_eq(s.lines[2], "333");
    line_reader_deinit(&r);
    close(p[0]);
    close(p[1]);
}

Test(stdio_trap, a_line_split_over_two_writes_comes_out_whole, .timeout = 10)
{
    int p[2];
    line_reader_t r;
    seen_t s = {.count = 0};
    cr_assert_eq(pipe(p), 0);
    /* Non-blocking, so that an answer that waits for the newline fails
     * here instead of hanging. */
    cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    line_reader_init(&r, p[0]);
    cr_assert_eq(write(p[1], "4", 1), 1);
    pump(p[0], &r, &s, 1, 1); /* one readiness: "4" is read, not a line */
    cr_assert_eq(s.count, 0, "\"%s\" was handed out as a line, but no "
                 "newline has come yet: keep it for the next read", s.lines[0]);
    cr_assert_eq(write(p[1], "2\nexit", 6), 6);
    close(p[1]); /* end of input: "exit" has no newline but counts */
    pump(p[0], &r, &s, 2, 100);
    cr_assert_eq(s.count, 2, "got %d lines, want \"42\" and \"exit\"",
                 s.count);
    cr_assert_str_eq(s.lines[0], "42");
    cr_assert_str_eq(s.lines[1], "exit", "the last line has no newline but "
                     "counts, at end of input");
    line_reader_deinit(&r);
    close(p[0]);
}
