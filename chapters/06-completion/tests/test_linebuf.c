/*
 * test_linebuf.c - the line buffer that replaces stdio in chapter 03:
 * several lines per read, lines split across reads, over-long lines, and a
 * last line without a newline.
 */
#define _GNU_SOURCE /* pipe2 */
#include "input.h"
#include "linebuf.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void feed(int fd, const char *text)
{
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
}

static void expect_line(linebuf_t *lb, const char *want)
{
    const char *line;
    size_t len;
    cr_assert_eq(linebuf_next(lb, &line, &len), 1, "no line, expected '%s'", want);
    cr_assert_eq(len, strlen(want));
    cr_assert_arr_eq(line, want, len);
}

static void expect_none(linebuf_t *lb)
{
    const char *line;
    size_t len;
    cr_assert_eq(linebuf_next(lb, &line, &len), 0);
}

Test(linebuf, hands_out_every_line_of_one_read)
{
    int p[2];
    linebuf_t lb;
    cr_assert_eq(pipe(p), 0);
    linebuf_init(&lb);
    feed(p[1], "5\n6\n\n7");
    cr_assert_eq(linebuf_read(&lb, p[0]), 6);
    expect_line(&lb, "5");
    expect_line(&lb, "6");
    expect_line(&lb, "");
    expect_none(&lb); /* "7" is not finished yet */
    feed(p[1], "8\n");
    cr_assert_eq(linebuf_read(&lb, p[0]), 2);
    expect_line(&lb, "78");
    expect_none(&lb);
    close(p[0]);
    close(p[1]);
}

Test(linebuf, a_last_line_without_newline_counts_at_end_of_file)
{
    int p[2];
    linebuf_t lb;
    cr_assert_eq(pipe(p), 0);
    linebuf_init(&lb);
    feed(p[1], "1\nexit");
    close(p[1]);
    cr_assert_eq(linebuf_read(&lb, p[0]), 6);
    expect_line(&lb, "1");
    expect_none(&lb);
    cr_assert_eq(linebuf_read(&lb, p[0]), 0);
    expect_line(&lb, "exit");
    expect_none(&lb);
    cr_assert_eq(linebuf_read(&lb, p[0]), 0);
    expect_none(&lb);
    close(p[0]);
}

Test(linebuf, a_line_longer_than_the_buffer_is_counted_whole, .timeout = 10)
{
    int p[2];
    linebuf_t lb;
    cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
    linebuf_init(&lb);
    static char big[3 * LINEBUF_SIZE + 10];
    memset(big, 'x', sizeof big);
    cr_assert_eq(write(p[1], big, sizeof big), (ssize_t)sizeof big);
    feed(p[1], "\n42\n");
    const char *line;
    size_t len;
    int got = 0;
    while (linebuf_read(&lb, p[0]) > 0) {
        got = linebuf_next(&lb, &line, &len);
        if (got)
            break;
    }
    cr_assert_eq(got, 1);
    cr_assert_eq(len, sizeof big);
    unsigned n;
    cr_assert_eq(input_parse_line(line, len, &n), INPUT_ERR_TOO_LONG);
    expect_line(&lb, "42");
    close(p[0]);
    close(p[1]);
}

Test(linebuf, reports_eagain_on_an_empty_non_blocking_pipe)
{
    int p[2];
    linebuf_t lb;
    cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
    linebuf_init(&lb);
    cr_assert_eq(linebuf_read(&lb, p[0]), -1);
    cr_assert_eq(errno, EAGAIN);
    expect_none(&lb);
    close(p[0]);
    close(p[1]);
}
