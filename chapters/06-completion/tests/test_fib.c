/* Unit tests for fib.c. */
#include "fib.h"

#include <criterion/criterion.h>

Test(fib, starts_at_zero_and_one)
{
    cr_assert_eq(fib(0), 0);
    cr_assert_eq(fib(1), 1);
    cr_assert_eq(fib(2), 1);
}

Test(fib, matches_known_values)
{
    cr_assert_eq(fib(10), 55);
    cr_assert_eq(fib(20), 6765);
    cr_assert_eq(fib(30), 832040);
}

Test(fib, obeys_the_recurrence_up_to_the_cheap_values)
{
    for (unsigned n = 2; n <= 25; n++)
        cr_assert_eq(fib(n), fib(n - 1) + fib(n - 2), "at n=%u", n);
}

Test(fib, timed_version_returns_the_value_and_a_plausible_duration)
{
    double seconds = -1.0;
    cr_assert_eq(fib_timed(25, &seconds), 75025);
    cr_assert_geq(seconds, 0.0);
    cr_assert_lt(seconds, 60.0);
}
