/* Exercise 01-lost-update: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <pthread.h>

/** A running total shared by threads. */
typedef struct tally {
    pthread_mutex_t lock; /**< guards both fields below */
    volatile long total;  /**< sum of every n added */
    volatile long adds;   /**< how many times tally_add() was called */
} tally_t;

/** Start at zero. */
void tally_init(tally_t *t);

/** Add @p n; safe to call from many threads at once (once you fix it). */
void tally_add(tally_t *t, long n);

/** Release what tally_init() acquired. */
void tally_destroy(tally_t *t);

#endif
