/* Unit tests for options.c: the values --interval and --port accept. */
#include "options.h"

#include <criterion/criterion.h>
#include <sys/stat.h>
#include <unistd.h>

Test(options, parses_positive_decimal_intervals)
{
    double s = 0;
    cr_assert_eq(options_parse_interval("3", &s), 0);
    cr_assert_float_eq(s, 3.0, 1e-12);
    cr_assert_eq(options_parse_interval("0.25", &s), 0);
    cr_assert_float_eq(s, 0.25, 1e-12);
    cr_assert_eq(options_parse_interval(".5", &s), 0);
    cr_assert_float_eq(s, 0.5, 1e-12);
    cr_assert_eq(options_parse_interval("0.001", &s), 0);
    cr_assert_float_eq(s, 0.001, 1e-12);
    cr_assert_eq(options_parse_interval("2.", &s), 0);
    cr_assert_float_eq(s, 2.0, 1e-12);
}

Test(options, refuses_intervals_that_are_not_positive_decimals)
{
    static const char *bad[] = {
        "", "0", "0.0", ".", "-1", "+1", "1e3", "inf", "nan", "0x10",
        "1..2", "1.2.3", " 1", "1 ", "abc", "86401", "99999999999999999999",
        "0.0009", "0.0000000001",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double s = 42.0;
        cr_expect_eq(options_parse_interval(bad[i], &s), -1, "\"%s\"", bad[i]);
        cr_expect_float_eq(s, 42.0, 1e-12, "\"%s\" changed the output", bad[i]);
    }
}

Test(options, parses_ports_from_zero_to_65535)
{
    unsigned short p = 1;
    cr_assert_eq(options_parse_port("0", &p), 0);
    cr_assert_eq(p, 0);
    cr_assert_eq(options_parse_port("65535", &p), 0);
    cr_assert_eq(p, 65535);
    cr_assert_eq(options_parse_port("08080", &p), 0);
    cr_assert_eq(p, 8080);
}

Test(options, allows_any_number_of_leading_zeros_in_a_port)
{
    unsigned short p = 1;
    cr_assert_eq(options_parse_port("00080", &p), 0);
    cr_assert_eq(p, 80);
    cr_assert_eq(options_parse_port("000080", &p), 0);
    cr_assert_eq(p, 80);
    cr_assert_eq(options_parse_port("0000000000000000000065535", &p), 0);
    cr_assert_eq(p, 65535);
    cr_assert_eq(options_parse_port("000", &p), 0);
    cr_assert_eq(p, 0);
}

Test(options, refuses_bad_ports)
{
    static const char *bad[] = {"",      "65536", "-1",  "80x",
                                "x",     "123456", " 80", "0065536",
                                "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned short p = 7;
        cr_expect_eq(options_parse_port(bad[i], &p), -1, "\"%s\"", bad[i]);
        cr_expect_eq(p, 7);
    }
}

/* Is fd open on /dev/null? */
static int is_dev_null(int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 &&
           S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev;
}

Test(options, opens_closed_standard_descriptors_on_dev_null)
{
    /* Each test runs in its own process: closing 0 and 1 here is safe, but
     * put them back so that Criterion's own output still works. */
    int saved_in = dup(0), saved_out = dup(1);
    cr_assert(saved_in > 2 && saved_out > 2);
    close(0);
    close(1);
    cr_assert_eq(options_open_std_fds(), 0);
    cr_expect(is_dev_null(0), "fd 0 should be /dev/null");
    cr_expect(is_dev_null(1), "fd 1 should be /dev/null");
    /* The next descriptor opened is above 2 now. */
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_expect(p[0] > 2 && p[1] > 2);
    close(p[0]);
    close(p[1]);
    dup2(saved_in, 0);
    dup2(saved_out, 1);
    close(saved_in);
    close(saved_out);
}

Test(options, leaves_open_standard_descriptors_alone)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    int saved_in = dup(0);
    cr_assert_eq(dup2(p[0], 0), 0);
    struct stat before, after;
    cr_assert_eq(fstat(0, &before), 0);
    cr_assert_eq(options_open_std_fds(), 0);
    cr_assert_eq(fstat(0, &after), 0);
    cr_expect_eq(before.st_ino, after.st_ino, "fd 0 was replaced");
    cr_expect(!is_dev_null(0));
    dup2(saved_in, 0);
    close(saved_in);
    close(p[0]);
    close(p[1]);
}
