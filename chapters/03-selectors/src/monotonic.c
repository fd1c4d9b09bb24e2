/*
 * monotonic.c - the programs' clock.
 */
#include "monotonic.h"

#include <time.h>

double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
