/**
 * exercise.h - exercise 03-quad-heap: a third structure behind the loop's
 * timer interface (src/timers.h), a 4-ary min-heap.
 *
 * Use it as the binary heap's stand-in: timers_init(&t, LOOP_TIMERS_HEAP),
 * then t.ops = &quad_heap_ops. timers.c keeps the shared part (the array
 * and its growth, peek, the dispatch); your file holds the three
 * operations of timers_ops_t.
 *
 * What must hold after every operation (the tests check all of it):
 * - t->first is 0, and the armed timers are t->items[0 .. t->count);
 * - 4-ary heap order: for every slot i > 0, the timer in slot i is not due
 *   before (timers_before()) the timer in slot (i - 1) / 4, its parent.
 *   A slot's children are the slots 4i + 1 to 4i + 4 that exist;
 * - every armed timer's @c index is its slot; a timer that was removed or
 *   popped has @c index SIZE_MAX;
 * - each operation moves O(log n) timers (a timer moves when its slot
 *   changes), not O(n).
 *
 * The operations, as timers.h states them:
 * - add(t, timer): insert an unarmed timer whose @c when_s and @c seq are
 *   set; timers_add() has already made room for one more in t->items;
 * - remove(t, timer): take out a timer that is armed in @p t, wherever it
 *   sits;
 * - pop(t): take out and return the earliest timer (t is not empty).
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "timers.h"

/** @brief The 4-ary heap's operations, for timers_t::ops. */
extern const timers_ops_t quad_heap_ops;

#endif
