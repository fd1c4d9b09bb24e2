/**
 * @file timespec.h
 * @brief Deadline arithmetic for pthread_cond_timedwait().
 *
 * pthread_cond_timedwait() takes an absolute deadline as a struct timespec,
 * not a duration. The ticker and the registry both turn "in s seconds" into
 * such a deadline; this is the one place that does it.
 */
#ifndef TIMESPEC_H
#define TIMESPEC_H

#include <time.h>

/**
 * @brief @p ts plus @p s seconds, with the nanoseconds kept below one second.
 * @param ts a time, as clock_gettime() gives it.
 * @param s seconds to add; must not be negative.
 * @return the later time.
 */
struct timespec timespec_add_s(struct timespec ts, double s);

/**
 * @brief Whether @p a is strictly earlier than @p b.
 * @param a a normalised time.
 * @param b another, on the same clock.
 * @return 1 if a < b, else 0.
 */
int timespec_before(struct timespec a, struct timespec b);

#endif
