/*
 * timespec.c - deadline arithmetic for condition-variable waits.
 */
#include "timespec.h"

struct timespec timespec_add_s(struct timespec ts, double s)
{
    long long ns = (long long)(s * 1e9);

    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec += (long)(ns % 1000000000LL);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int timespec_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec ||
           (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}
