/*
 * exercise.h - exercise 01-lost-update: the interface your answer implements.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <pthread.h>

/**
 * @brief A running total shared by threads: how much was added, and how
 *        many times. Caller storage, set up by tally_init().
 *
 * The counters are volatile so that the compiler performs every load and
 * store the code asks for (it may not merge a million additions into one);
 * volatile does not make anything atomic. Each sits on a cache line of its
 * own (64 bytes), as fields of a bigger struct would: a race then shows as
 * often as it does in real programs.
 */
typedef struct tally {
    pthread_mutex_t lock; /**< for your answer to use */
    _Alignas(64) volatile long total; /**< sum of every n passed to tally_add() */
    _Alignas(64) volatile long adds;  /**< how many times tally_add() was called */
} tally_t;

/** @brief Start at zero. Must not race with anything. */
void tally_init(tally_t *t);

/**
 * @brief Add @p n to the total and count one more call.
 *
 * Safe to call from any number of threads at once: no call is ever lost,
 * and no other thread ever sees @c total changed without @c adds (or the
 * reverse).
 */
void tally_add(tally_t *t, long n);

/**
 * @brief Read both fields as one snapshot.
 *
 * Safe to call while other threads call tally_add(): the pair returned is
 * one that the tally really held at some moment, never the total of one
 * moment with the count of another.
 *
 * @param t the tally.
 * @param total where to store the total.
 * @param adds where to store the number of calls.
 */
void tally_read(tally_t *t, long *total, long *adds);

/** @brief Release what tally_init() acquired. No thread may be using @p t. */
void tally_destroy(tally_t *t);

#endif
