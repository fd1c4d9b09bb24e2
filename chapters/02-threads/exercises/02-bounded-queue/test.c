/* Tests for exercise 02-bounded-queue. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bq_t q;

Test(bounded_queue, keeps_fifo_order, .timeout = 10)
{
    long v;
    cr_assert_eq(bq_init(&q, 4), 0);
    for (long i = 1; i <= 4; i++)
        cr_assert_eq(bq_put(&q, i), 0);
    for (long i = 1; i <= 4; i++) {
        cr_assert_eq(bq_get(&q, &v), 1);
        cr_assert_eq(v, i);
    }
    bq_destroy(&q);
}

static atomic_int put_done;

static void *put_one(void *arg)
{
    (void)arg;
    bq_put(&q, 99);
    atomic_store(&put_done, 1);
    return NULL;
}

Test(bounded_queue, put_waits_while_full, .timeout = 10)
{
    pthread_t t;
    long v;

    cr_assert_eq(bq_init(&q, 1), 0);
    cr_assert_eq(bq_put(&q, 1), 0);
    atomic_store(&put_done, 0);
    pthread_create(&t, NULL, put_one, NULL);
    pause_ms(200);
    cr_assert_eq(atomic_load(&put_done), 0, "bq_put did not wait for room");
    cr_assert_eq(bq_get(&q, &v), 1);
    cr_assert_eq(v, 1);
    pthread_join(t, NULL); /* the freed slot let it in */
    cr_assert_eq(bq_get(&q, &v), 1);
    cr_assert_eq(v, 99);
    bq_destroy(&q);
}

static void *get_until_closed(void *arg)
{
    long v, sum = 0;
    while (bq_get(&q, &v) == 1)
        sum += v;
    *(long *)arg = sum;
    return NULL;
}

Test(bounded_queue, close_drains_then_wakes_waiting_workers, .timeout = 10)
{
    pthread_t t[2];
    long sums[2] = {-1, -1};

    cr_assert_eq(bq_init(&q, 8), 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, get_until_closed, &sums[i]);
    cr_assert_eq(bq_put(&q, 5), 0);
    pause_ms(100);
    bq_close(&q);
    cr_assert_eq(bq_put(&q, 6), -1, "bq_put after bq_close must fail");
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(sums[0] + sums[1], 5);
    bq_destroy(&q);
}

#define PRODUCERS 4
#define PER_PRODUCER 20000L

/* Failed puts are counted, not asserted: a Criterion assertion outside the
 * test's own thread crashes the test instead of failing it readably. */
static atomic_long failed_puts;

static void *produce(void *arg)
{
    long base = *(long *)arg;
    for (long i = 1; i <= PER_PRODUCER; i++)
        if (bq_put(&q, base + i) != 0)
            atomic_fetch_add(&failed_puts, 1);
    return NULL;
}

Test(bounded_queue, many_producers_many_workers_lose_nothing, .timeout = 30)
{
    pthread_t producers[PRODUCERS], workers[3];
    long bases[PRODUCERS], sums[3] = {0, 0, 0}, want = 0;

    cr_assert_eq(bq_init(&q, 16), 0);
    for (int i = 0; i < 3; i++)
        pthread_create(&workers[i], NULL, get_until_closed, &sums[i]);
    for (int p = 0; p < PRODUCERS; p++) {
        bases[p] = p * 1000000L;
        for (long i = 1; i <= PER_PRODUCER; i++)
            want += bases[p] + i;
        pthread_create(&producers[p], NULL, produce, &bases[p]);
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(producers[p], NULL);
    bq_close(&q);
    for (int i = 0; i < 3; i++)
        pthread_join(workers[i], NULL);
    cr_assert_eq(atomic_load(&failed_puts), 0, "bq_put failed on an open queue");
    cr_assert_eq(sums[0] + sums[1] + sums[2], want);
    bq_destroy(&q);
}

Test(bounded_queue, a_waiting_worker_sleeps_instead_of_spinning, .timeout = 10)
{
    pthread_t t;
    clockid_t cpu;
    struct timespec used;
    long sum = -1;

    cr_assert_eq(bq_init(&q, 4), 0);
    cr_assert_eq(pthread_create(&t, NULL, get_until_closed, &sum), 0);
    cr_assert_eq(pthread_getcpuclockid(t, &cpu), 0);
    pause_ms(400); /* the worker waits on an empty queue all this time */
    cr_assert_eq(clock_gettime(cpu, &used), 0);
    bq_close(&q);
    pthread_join(t, NULL);

    double cpu_s = (double)used.tv_sec + (double)used.tv_nsec / 1e9;
    /* A condition variable wait uses almost no CPU; a spinning loop uses
     * most of a core even on a busy machine. */
    cr_assert_lt(cpu_s, 0.05, "the waiting worker used %.3f s of CPU in 0.4 s",
                 cpu_s);
    cr_assert_eq(sum, 0);
    bq_destroy(&q);
}
