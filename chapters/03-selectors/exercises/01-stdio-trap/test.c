/* Tests for exercise 01-stdio-trap. */
#include "exercise.h"
#include "selector.h"

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

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

/* Wait on the pipe and call the reader whenever it is readable, until
 * `want` lines came, end of input, or a quiet second. */
static void pump(int fd, line_reader_t *r, seen_t *s, int want)
{
    selector_t *sel = selector_create(SELECTOR_POLL);
    cr_assert_not_null(sel);
    cr_assert_eq(selector_register(sel, fd, SELECTOR_READ, NULL), 0);
    while (s->count < want && selector_select(sel, 1000) > 0)
        if (line_reader_on_readable(r, collect, s) <= 0)
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
    pump(p[0], &r, &s, 3);
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
    line_reader_init(&r, p[0]);
    cr_assert_eq(write(p[1], "4", 1), 1);
    cr_assert_eq(write(p[1], "2\nexit", 6), 6);
    close(p[1]); /* end of input: "exit" has no newline but counts */
    pump(p[0], &r, &s, 2);
    cr_assert_eq(s.count, 2);
    cr_assert_str_eq(s.lines[0], "42");
    cr_assert_str_eq(s.lines[1], "exit");
    line_reader_deinit(&r);
    close(p[0]);
}
