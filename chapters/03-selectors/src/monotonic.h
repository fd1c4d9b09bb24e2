/**
 * @file monotonic.h
 * @brief The one clock the programs' deadlines use.
 *
 * Deadlines (the next hello, the end of an accept back-off) are computed on
 * CLOCK_MONOTONIC, which never jumps when someone sets the wall clock.
 * (selector.c keeps its own millisecond reading, so that the selector
 * files can be copied to the next chapter on their own.)
 */
#ifndef MONOTONIC_H
#define MONOTONIC_H

/**
 * @brief Seconds on CLOCK_MONOTONIC, from an unspecified start.
 * @return the current time; only differences between two calls mean
 *         anything.
 */
double monotonic_s(void);

#endif
