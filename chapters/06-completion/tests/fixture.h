/*
 * fixture.h - a loop on a fake clock, for the unit tests. A pipe that always
 * holds a byte is registered as a reader, so the selector never sleeps:
 * time moves only when a test moves it.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include "loop.h"

/** The loop of the current test, its fake clock and the awake pipe. */
typedef struct fixture {
    loop_t *loop;
    double now;
    int awake[2];
} fixture_t;

void fixture_start(fixture_t *fx);
void fixture_stop(fixture_t *fx);
/* Run a few iterations without moving the clock. */
void fixture_settle(fixture_t *fx);
/* Move the clock forward by dt seconds, in steps of at most 1 ms, settling
 * after each step, so timers fire in order. */
void fixture_advance(fixture_t *fx, double dt);

/* chapter 06: skip the current test, saying why, where io_uring cannot
 * be used (a test whose code needs the ring). */
void fixture_need_uring(void);

#endif
