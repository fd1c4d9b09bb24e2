/* test_monotonic.c - the programs' clock moves forward, in seconds. */
#include "monotonic.h"

#include <criterion/criterion.h>
#include <time.h>

Test(monotonic, never_goes_back_and_counts_seconds, .timeout = 10)
{
    double t0 = monotonic_s(), prev = t0;
    for (int i = 0; i < 1000; i++) {
        double t = monotonic_s();
        cr_assert_geq(t, prev);
        prev = t;
    }
    struct timespec pause = {0, 50 * 1000000L};
    while (nanosleep(&pause, &pause) != 0)
        ;
    double slept = monotonic_s() - t0;
    cr_assert_geq(slept, 0.049, "slept %.3f s", slept);
    cr_assert_lt(slept, 10.0);
}
