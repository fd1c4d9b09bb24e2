/* Unit tests for options.c: the values --interval and --port accept. */
#include "options.h"

#include <criterion/criterion.h>

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

Test(options, refuses_bad_ports)
{
    static const char *bad[] = {"", "65536", "-1", "80x", "x", "123456", " 80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned short p = 7;
        cr_expect_eq(options_parse_port(bad[i], &p), -1, "\"%s\"", bad[i]);
        cr_expect_eq(p, 7);
    }
}
