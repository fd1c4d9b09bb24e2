/* Tests for exercise 01-lost-update. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <pthread.h>

#define THREADS 4
#define ADDS 1000000L
#define TRIALS 10 /* a race may hide in one run; not in ten */

static tally_t tally;
static pthread_barrier_t start_line;

static void *add_many(void *arg)
{
    long n = *(long *)arg;
    pthread_barrier_wait(&start_line); /* everyone starts together */
    for (long i = 0; i < ADDS; i++)
        tally_add(&tally, n);
    return NULL;
}

Test(lost_update, one_thread_counts_right)
{
    long one = 1;
    tally_init(&tally);
    pthread_barrier_init(&start_line, NULL, 1);
    add_many(&one);
    cr_assert_eq(tally.total, ADDS);
    cr_assert_eq(tally.adds, ADDS);
    pthread_barrier_destroy(&start_line);
    tally_destroy(&tally);
}

Test(lost_update, no_update_is_lost_with_four_threads, .timeout = 120)
{
    pthread_t threads[THREADS];
    long amounts[THREADS] = {1, 2, 3, 4};

    for (int trial = 0; trial < TRIALS; trial++) {
        tally_init(&tally);
        pthread_barrier_init(&start_line, NULL, THREADS);
        for (int i = 0; i < THREADS; i++)
            cr_assert_eq(pthread_create(&threads[i], NULL, add_many,
                                        &amounts[i]), 0);
        for (int i = 0; i < THREADS; i++)
            pthread_join(threads[i], NULL);
        cr_assert_eq(tally.adds, THREADS * ADDS,
                     "trial %d: adds: expected %ld, got %ld", trial,
                     THREADS * ADDS, tally.adds);
        cr_assert_eq(tally.total, 10 * ADDS,
                     "trial %d: total: expected %ld, got %ld", trial,
                     10 * ADDS, tally.total);
        pthread_barrier_destroy(&start_line);
        tally_destroy(&tally);
    }
}
