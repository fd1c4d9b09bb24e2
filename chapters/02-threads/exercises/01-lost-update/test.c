/*
 * test.c - the tests of exercise 01-lost-update.
 *
 * Races show up by chance, so each threaded test gives them many chances:
 * several trials, hundreds of thousands of calls per thread, all threads
 * released together by a barrier. A correct answer passes every time; a
 * racy one fails in practice every time, even on a busy machine.
 */
#include "exercise.h"
#include "guard.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#define THREADS 4
#define ADDS 500000L
#define TRIALS 5

/* What every race found here comes down to, in the student's words. */
#define LIKELY_CAUSE                                                        \
    "Are both fields changed in one critical section, under the mutex in " \
    "the tally (the same mutex for every thread), and read under it too?"

static tally_t tally;
static pthread_barrier_t start_line;

struct adder {
    pthread_t thread;
    long n; /* what this thread adds each time */
    long times;
};

static atomic_int adders_done;

static void *add_many(void *arg)
{
    struct adder *a = arg;

    pthread_barrier_wait(&start_line); /* everyone starts together */
    for (long i = 0; i < a->times; i++)
        tally_add(&tally, a->n);
    atomic_fetch_add(&adders_done, 1);
    return NULL;
}

static void start_adders(struct adder *a, int count)
{
    atomic_store(&adders_done, 0);
    pthread_barrier_init(&start_line, NULL, (unsigned)count);
    for (int i = 0; i < count; i++)
        cr_assert_eq(pthread_create(&a[i].thread, NULL, add_many, &a[i]), 0,
                     "the test could not start a thread");
}

static void join_adders(struct adder *a, int count)
{
    guard_arm(30, "the adding threads never finished: does every "
                   "tally_add() unlock the mutex it locked?");
    for (int i = 0; i < count; i++)
        pthread_join(a[i].thread, NULL);
    guard_disarm();
    pthread_barrier_destroy(&start_line);
}

Test(lost_update, one_thread_counts_right)
{
    long total = -1, adds = -1;

    tally_init(&tally);
    guard_arm(10, "tally_add() or tally_read() never returned, with one "
                  "thread and no one else holding anything: does every "
                  "call unlock the mutex it locked?");
    for (long i = 1; i <= 1000; i++)
        tally_add(&tally, i);
    tally_read(&tally, &total, &adds);
    tally_read(&tally, &total, &adds);
    guard_disarm();
    cr_assert_eq(adds, 1000, "adds is %ld after 1000 calls of tally_add() "
                 "from one thread; it must count every call", adds);
    cr_assert_eq(total, 500500, "total is %ld after adding 1..1000 from one "
                 "thread; it must be 500500", total);
    tally_destroy(&tally);
}

Test(lost_update, no_update_is_lost_with_four_threads)
{
    struct adder a[THREADS];
    long want_total = 0;

    for (int i = 0; i < THREADS; i++) {
        a[i].n = i + 1;
        a[i].times = ADDS;
        want_total += a[i].n * ADDS;
    }
    for (int trial = 1; trial <= TRIALS; trial++) {
        long total, adds;

        tally_init(&tally);
        start_adders(a, THREADS);
        join_adders(a, THREADS);
        tally_read(&tally, &total, &adds);
        cr_assert_eq(adds, THREADS * ADDS,
                     "trial %d: adds is %ld, expected %ld: %ld updates to "
                     "adds were lost because two threads changed it at "
                     "once. " LIKELY_CAUSE, trial, adds, THREADS * ADDS,
                     THREADS * ADDS - adds);
        cr_assert_eq(total, want_total,
                     "trial %d: total is %ld, expected %ld: updates to "
                     "total were lost because two threads changed it at "
                     "once. " LIKELY_CAUSE, trial, total, want_total);
        tally_destroy(&tally);
    }
}

Test(lost_update, a_reader_never_sees_half_an_update)
{
    struct adder a[THREADS - 1];
    long reads = 0, bad = 0, bad_total = 0, bad_adds = 0;

    for (int i = 0; i < THREADS - 1; i++) {
        a[i].n = 1; /* so total == adds in every true snapshot */
        a[i].times = ADDS;
    }
    tally_init(&tally);
    start_adders(a, THREADS - 1);
    /* This thread reads while the others add; the assertion waits until
     * they are joined (Criterion asserts only in the test's own thread). */
    guard_arm(30, "tally_read() never returned while other threads were "
                   "adding: does every call unlock the mutex it locked?");
    while (atomic_load(&adders_done) < THREADS - 1) {
        long total, adds;
        tally_read(&tally, &total, &adds);
        reads++;
        if (total != adds && bad++ == 0) {
            bad_total = total;
            bad_adds = adds;
        }
    }
    guard_disarm();
    join_adders(a, THREADS - 1);
    cr_assert_eq(bad, 0, "tally_read() returned total=%ld with adds=%ld "
                 "(every call added 1, so the two must be equal), %ld times "
                 "in %ld reads: it read in the middle of an update. "
                 LIKELY_CAUSE, bad_total, bad_adds, bad, reads);
    tally_destroy(&tally);
}
