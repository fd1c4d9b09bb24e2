/* Unit tests for input.c: every kind of line the hello contract names. */
#include "fib.h"
#include "input.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static input_kind_t parse(const char *text, unsigned *n)
{
    return input_parse_line(text, strlen(text), n);
}

Test(input, accepts_plain_natural_numbers)
{
    unsigned n = 999;
    cr_assert_eq(parse("0", &n), INPUT_NUMBER);
    cr_assert_eq(n, 0);
    cr_assert_eq(parse("7", &n), INPUT_NUMBER);
    cr_assert_eq(n, 7);
    cr_assert_eq(parse("007", &n), INPUT_NUMBER);
    cr_assert_eq(n, 7);
}

Test(input, allows_blanks_around_and_a_trailing_carriage_return)
{
    unsigned n = 0;
    cr_assert_eq(parse("  \t12 \t", &n), INPUT_NUMBER);
    cr_assert_eq(n, 12);
    cr_assert_eq(parse("12\r", &n), INPUT_NUMBER);
    cr_assert_eq(n, 12);
    cr_assert_eq(parse(" 12 \r", &n), INPUT_NUMBER);
    cr_assert_eq(n, 12);
}

Test(input, accepts_the_cap_and_refuses_one_above)
{
    char text[32];
    unsigned n = 0;

    snprintf(text, sizeof text, "%d", FIB_MAX_N);
    cr_assert_eq(parse(text, &n), INPUT_NUMBER);
    cr_assert_eq(n, FIB_MAX_N);
    snprintf(text, sizeof text, "%d", FIB_MAX_N + 1);
    cr_assert_eq(parse(text, &n), INPUT_ERR_ABOVE_CAP);
}

Test(input, tells_above_cap_from_too_large_for_the_type)
{
    unsigned n = 0;
    cr_assert_eq(parse("4294967295", &n), INPUT_ERR_ABOVE_CAP); /* UINT_MAX */
    cr_assert_eq(parse("4294967296", &n), INPUT_ERR_TOO_LARGE);
    cr_assert_eq(parse("99999999999999999999999", &n), INPUT_ERR_TOO_LARGE);
    /* 2^32 + 5 wraps to 5 in unsigned arithmetic: must not be accepted. */
    cr_assert_eq(parse("4294967301", &n), INPUT_ERR_TOO_LARGE);
}

Test(input, refuses_negative_numbers_with_their_own_error)
{
    unsigned n = 0;
    cr_assert_eq(parse("-1", &n), INPUT_ERR_NEGATIVE);
    cr_assert_eq(parse(" -40 ", &n), INPUT_ERR_NEGATIVE);
    cr_assert_eq(parse("-99999999999999999999", &n), INPUT_ERR_NEGATIVE);
    cr_assert_eq(parse("-0001", &n), INPUT_ERR_NEGATIVE);
}

Test(input, calls_a_signed_zero_not_a_number_rather_than_negative)
{
    unsigned n = 1234;
    cr_assert_eq(parse("-0", &n), INPUT_ERR_NOT_NUMBER);
    cr_assert_eq(parse(" -000 ", &n), INPUT_ERR_NOT_NUMBER);
    cr_assert_eq(n, 1234);
}

Test(input, refuses_what_is_not_a_natural_number)
{
    static const char *bad[] = {
        "abc", "12abc", "1 2", "+5", "0x10", "1e3", "1.5", "-", "--1",
        "-1x", "\xe4\xb8\x80", "12\r\r", "\r12", "\v12", "exit now", "EXIT",
    };
    unsigned n = 1234;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(parse(bad[i], &n), INPUT_ERR_NOT_NUMBER,
                     "line \"%s\" should not be a number", bad[i]);
    cr_assert_eq(n, 1234, "an error must not touch the output");
}

/* Regression: the parser used to stop at the overflow and never look at the
 * rest, so these were "too large" and "negative". Junk anywhere makes the
 * whole line not a number, however many digits come before it. */
Test(input, calls_overlong_digits_followed_by_junk_not_a_number)
{
    static const char *bad[] = {
        "99999999999x", "-99999999999x", "4294967296 x", "-4294967296-",
        "99999999999999999999999999999999.5", " 4294967296\x01 ",
    };
    unsigned n = 1234;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(parse(bad[i], &n), INPUT_ERR_NOT_NUMBER,
                     "line \"%s\" should not be a number", bad[i]);
    cr_assert_eq(n, 1234, "an error must not touch the output");
}

Test(input, treats_an_embedded_nul_byte_as_garbage)
{
    unsigned n = 0;
    cr_assert_eq(input_parse_line("1\0002", 3, &n), INPUT_ERR_NOT_NUMBER);
}

Test(input, recognises_empty_lines_and_exit)
{
    unsigned n = 0;
    cr_assert_eq(parse("", &n), INPUT_EMPTY);
    cr_assert_eq(parse(" \t \r", &n), INPUT_EMPTY);
    cr_assert_eq(parse("exit", &n), INPUT_EXIT);
    cr_assert_eq(parse("  exit\r", &n), INPUT_EXIT);
}

Test(input, refuses_lines_over_the_maximum_length_whatever_they_hold)
{
    char text[INPUT_LINE_MAX + 2];
    unsigned n = 0;

    memset(text, ' ', sizeof text);
    text[0] = '5';
    cr_assert_eq(input_parse_line(text, INPUT_LINE_MAX, &n), INPUT_NUMBER);
    cr_assert_eq(input_parse_line(text, INPUT_LINE_MAX + 1, &n),
                 INPUT_ERR_TOO_LONG);
    /* The reader reports lengths beyond what it stored; only len matters. */
    cr_assert_eq(input_parse_line(text, 1000000, &n), INPUT_ERR_TOO_LONG);
}

Test(input, does_not_count_the_carriage_return_of_a_crlf_line_end)
{
    char text[INPUT_LINE_MAX + 2];
    unsigned n = 0;

    memset(text, ' ', sizeof text);
    text[0] = '5';
    text[INPUT_LINE_MAX] = '\r'; /* INPUT_LINE_MAX bytes of text, then CR */
    cr_assert_eq(input_parse_line(text, INPUT_LINE_MAX + 1, &n), INPUT_NUMBER);
    cr_assert_eq(n, 5);
    /* ...but a CR does not buy room for one more byte of text. */
    text[INPUT_LINE_MAX + 1] = '\r';
    cr_assert_eq(input_parse_line(text, INPUT_LINE_MAX + 2, &n),
                 INPUT_ERR_TOO_LONG);
    /* 80 digits and a CR: too large a number, not too long a line. */
    memset(text, '9', INPUT_LINE_MAX);
    cr_assert_eq(input_parse_line(text, INPUT_LINE_MAX + 1, &n),
                 INPUT_ERR_TOO_LARGE);
}

Test(input, has_a_message_for_every_error_and_none_otherwise)
{
    for (input_kind_t k = INPUT_ERR_NOT_NUMBER; k <= INPUT_ERR_TOO_LONG; k++)
        cr_expect_not_null(input_strerror(k));
    cr_expect_null(input_strerror(INPUT_NUMBER));
    cr_expect_null(input_strerror(INPUT_EMPTY));
    cr_expect_null(input_strerror(INPUT_EXIT));
}

/* A stream over a fixed string, for the reader. */
static FILE *stream_of(const char *text, size_t len)
{
    FILE *f = fmemopen((void *)text, len, "r");
    cr_assert_not_null(f);
    return f;
}

Test(input, reads_lines_one_at_a_time_and_the_last_without_newline)
{
    static const char text[] = "1\n\nexit\nlast";
    FILE *f = stream_of(text, sizeof text - 1);
    char buf[INPUT_LINE_MAX + 1];
    size_t len;

    cr_assert_eq(input_read_line(f, buf, &len), 1);
    cr_assert_eq(len, 1);
    cr_assert_eq(buf[0], '1');
    cr_assert_eq(input_read_line(f, buf, &len), 1);
    cr_assert_eq(len, 0);
    cr_assert_eq(input_read_line(f, buf, &len), 1);
    cr_assert_eq(len, 4);
    cr_assert_arr_eq(buf, "exit", 4);
    cr_assert_eq(input_read_line(f, buf, &len), 1);
    cr_assert_arr_eq(buf, "last", 4);
    cr_assert_eq(input_read_line(f, buf, &len), 0);
    fclose(f);
}

Test(input, skips_the_rest_of_a_long_line_and_reports_its_length)
{
    static char text[5000];
    memset(text, '9', 4000);
    memcpy(text + 4000, "\n12\n", 4);
    FILE *f = stream_of(text, 4004);
    char guard_before[16] = {0};
    char buf[INPUT_LINE_MAX + 1];
    char guard_after[16] = {0};
    size_t len;

    cr_assert_eq(input_read_line(f, buf, &len), 1);
    cr_assert_eq(len, 4000);
    cr_assert_eq(input_read_line(f, buf, &len), 1, "the next line survives");
    cr_assert_eq(len, 2);
    cr_assert_arr_eq(buf, "12", 2);
    for (int i = 0; i < 16; i++)
        cr_assert(guard_before[i] == 0 && guard_after[i] == 0);
    fclose(f);
}
