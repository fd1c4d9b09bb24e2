/* Exercise 01-timer-heap: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "timers.h"

/** Your heap's operations: set t.ops to this after timers_init(). */
extern const timers_ops_t exercise_heap_ops;

#endif
