/*
 * test.c - the tests of exercise 01-lost-update.
 *
 * Races show up by chance, so each threaded test gives them many chances:
 * several trials, hundreds of thousands of calls per thread, all threads
 * released together by a barrier; the reader keeps reading for 2 s of
 * adding (or until it has caught a torn pair), however busy the machine
 * (a fixed number of calls can be over within a time slice or two). A
 * correct answer passes every time; a racy one fails in practice every
 * time.
 */
#include "exercise.h"
#include "guard.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

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

static void *add_many(void *arg)
{
    struct adder *a = arg;

    pthread_barrier_wait(&start_line); /* everyone starts together */
    for (long i = 0; i < a->times; i++)
        tally_add(&tally, a->n);
    return NULL;
}

static void start_adders(struct adder *a, int count)
{
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

static atomic_int stop_adding;

static void *add_until_stopped(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);
    while (!atomic_load(&stop_adding))
        tally_add(&tally, 1); /* so total == adds in every true snapshot */
    return NULL;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(lost_update, a_reader_never_sees_half_an_update)
{
    pthread_t adders[THREADS - 1];
    long reads = 0, bad = 0, bad_total = 0, bad_adds = 0;
    struct timespec t0;

    tally_init(&tally);
    atomic_store(&stop_adding, 0);
    pthread_barrier_init(&start_line, NULL, THREADS - 1);
    for (int i = 0; i < THREADS - 1; i++)
        cr_assert_eq(pthread_create(&adders[i], NULL, add_until_stopped,
                                    NULL), 0,
                     "the test could not start a thread");
    /* This thread reads while the others add; the assertion waits until
     * they are joined (Criterion asserts only in the test's own thread). */
    guard_arm(30, "tally_read() never returned while other threads were "
                   "adding: does every call unlock the mutex it locked?");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (bad == 0 && (reads % 1024 != 0 || seconds_since(&t0) < 2.0)) {
        long total, adds;
        tally_read(&tally, &total, &adds);
        reads++;
        if (total != adds && bad++ == 0) {
            bad_total = total;
            bad_adds = adds;
        }
    }
    atomic_store(&stop_adding, 1);
    guard_disarm();
    guard_arm(30, "the adding threads never finished: does every "
                   "tally_add() unlock the mutex it locked?");
    for (int i = 0; i < THREADS - 1; i++)
        pthread_join(adders[i], NULL);
    guard_disarm();
    pthread_barrier_destroy(&start_line);
    cr_assert_eq(bad, 0, "tally_read() returned total=%ld with adds=%ld "
                 "(every call added 1, so the two must be equal) after %ld "
                 "reads: it read in the middle of an update. "
                 LIKELY_CAUSE, bad_total, bad_adds, reads);
    tally_destroy(&tally);
}
