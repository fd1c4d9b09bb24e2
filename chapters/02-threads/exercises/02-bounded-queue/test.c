/*
 * test.c - the tests of exercise 02-bounded-queue.
 *
 * "Still blocked" is checked by waiting until the kernel shows the
 * calling thread asleep (exercises/asleep.h), then a little more, and
 * seeing that the call has not returned; "woke up" by joining the thread
 * under a guard of many seconds. Neither depends on how busy the machine
 * is: a correct answer never fails them, a wrong one always does.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid), for asleep.h */
#include "exercise.h"
#include "asleep.h"
#include "guard.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static bq_t q;

/* One call of bq_put() or bq_get() on a thread of its own. Results are
 * read by the test thread after the join (or through `done` before). */
struct call {
    pthread_t thread;
    long item;
    int result;
    atomic_int done;
    atomic_int tid; /* the kernel's id of the thread, once it runs */
};

static void *do_get(void *arg)
{
    struct call *c = arg;
    atomic_store(&c->tid, asleep_tid());
    c->result = bq_get(&q, &c->item);
    atomic_store(&c->done, 1);
    return NULL;
}

static void *do_put(void *arg)
{
    struct call *c = arg;
    atomic_store(&c->tid, asleep_tid());
    c->result = bq_put(&q, c->item);
    atomic_store(&c->done, 1);
    return NULL;
}

static void start(struct call *c, void *(*fn)(void *), long item)
{
    c->item = item;
    c->result = -2;
    atomic_store(&c->done, 0);
    atomic_store(&c->tid, 0);
    cr_assert_eq(pthread_create(&c->thread, NULL, fn, c), 0,
                 "the test could not start a thread");
}

/* Join @p n calls, all within one guard of 10 s. */
static void join(struct call *c, int n, const char *what_if_stuck)
{
    guard_arm(10, what_if_stuck);
    for (int i = 0; i < n; i++)
        pthread_join(c[i].thread, NULL);
    guard_disarm();
}

/* Calls that must not block: the queue has room (put) or items (get). */
static void put_now(long item)
{
    guard_arm(10, "bq_put() blocked on an open queue that had room: it may "
                  "only wait while the queue is full");
    int r = bq_put(&q, item);
    guard_disarm();
    cr_assert_eq(r, 0, "bq_put(%ld) on an open queue with room returned %d; "
                 "it must queue the item and return 0", item, r);
}

static void get_now(long want)
{
    long got = -1;
    guard_arm(10, "bq_get() blocked on a queue that held items: it may only "
                  "wait while the queue is empty");
    int r = bq_get(&q, &got);
    guard_disarm();
    cr_assert_eq(r, 1, "bq_get() returned %d while the queue still held "
                 "items; it must hand out the oldest one and return 1. If "
                 "the queue was closed: it returned 0 with items still "
                 "queued after bq_close(), which drops them; closing stops "
                 "new puts, not gets", r);
    cr_assert_eq(got, want, "bq_get() gave %ld, expected %ld: items must come "
                 "out in the order they went in, also after the ring wraps "
                 "around the end of the array", got, want);
}

static void get_end(void)
{
    long got = -1;
    guard_arm(10, "bq_get() did not return after bq_close(): does it check "
                  "`closed` while it waits?");
    int r = bq_get(&q, &got);
    guard_disarm();
    cr_assert_eq(r, 0, "bq_get() on a closed, empty queue returned %d; it "
                 "must return 0 (no more items, ever)", r);
}

/* What POSIX allows at any time: a wait that ends with no signal. */
static void spurious_wake_ups(long ms)
{
    for (long t = 0; t < ms; t += 5) {
        pthread_mutex_lock(&q.lock);
        pthread_cond_broadcast(&q.not_empty);
        pthread_cond_broadcast(&q.not_full);
        pthread_mutex_unlock(&q.lock);
        asleep_pause_ms(5);
    }
}

Test(bounded_queue, keeps_fifo_order_across_the_wrap_around)
{
    cr_assert_eq(bq_init(&q, 3), 0);
    put_now(1);
    put_now(2);
    get_now(1);
    put_now(3);
    put_now(4); /* the ring wraps here */
    get_now(2);
    get_now(3);
    get_now(4);
    for (long i = 5; i <= 7; i++)
        put_now(i);
    for (long i = 5; i <= 7; i++)
        get_now(i);
    bq_destroy(&q);
}

Test(bounded_queue, put_waits_while_full_and_a_get_lets_it_in)
{
    struct call p;

    cr_assert_eq(bq_init(&q, 1), 0);
    put_now(1);
    start(&p, do_put, 99);
    asleep_wait(&p.tid);
    cr_assert_eq(atomic_load(&p.done), 0, "bq_put() returned %d while the "
                 "queue was full: it must wait (asleep) for a free slot",
                 p.result);
    get_now(1);
    join(&p, 1, "bq_put() stayed blocked after bq_get() freed a slot: "
                "does bq_get() wake a producer waiting for room?");
    cr_assert_eq(p.result, 0, "bq_put() returned %d after it got a slot; "
                 "it must return 0", p.result);
    get_now(99);
    bq_destroy(&q);
}

Test(bounded_queue, get_waits_while_empty_and_a_put_wakes_it)
{
    struct call g;

    cr_assert_eq(bq_init(&q, 4), 0);
    start(&g, do_get, 0);
    asleep_wait(&g.tid);
    cr_assert_eq(atomic_load(&g.done), 0, "bq_get() returned %d on an empty, "
                 "open queue: it must wait (asleep) for an item", g.result);
    put_now(7);
    join(&g, 1, "bq_get() stayed blocked after bq_put() added an item: "
                "does bq_put() wake a worker waiting for an item?");
    cr_assert_eq(g.result, 1, "bq_get() returned %d after an item arrived; "
                 "it must return 1", g.result);
    cr_assert_eq(g.item, 7, "bq_get() gave %ld, expected 7", g.item);
    bq_destroy(&q);
}

Test(bounded_queue, close_hands_out_what_is_left_then_says_no_more)
{
    cr_assert_eq(bq_init(&q, 4), 0);
    put_now(5);
    put_now(6);
    bq_close(&q);
    get_now(5);
    get_now(6);
    get_end();
    get_end(); /* and it stays that way */
    bq_destroy(&q);
}

Test(bounded_queue, put_after_close_is_refused)
{
    cr_assert_eq(bq_init(&q, 4), 0);
    bq_close(&q);
    guard_arm(10, "bq_put() blocked on a closed queue: it must return -1 at "
                  "once");
    int r = bq_put(&q, 1);
    guard_disarm();
    cr_assert_eq(r, -1, "bq_put() accepted an item after bq_close() (it "
                 "returned %d): it must refuse with -1 once the queue is "
                 "closed, full or not", r);
    get_end();
    bq_destroy(&q);
}

Test(bounded_queue, close_wakes_every_waiting_worker)
{
    struct call g[3];

    cr_assert_eq(bq_init(&q, 4), 0);
    for (int i = 0; i < 3; i++)
        start(&g[i], do_get, 0);
    for (int i = 0; i < 3; i++)
        asleep_wait(&g[i].tid); /* all three wait in bq_get() */
    bq_close(&q);
    join(g, 3, "a worker waiting in bq_get() did not return after "
               "bq_close(): does bq_close() wake every waiting thread, not "
               "just one, and does bq_get() check `closed` while it waits?");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(g[i].result, 0, "bq_get() woken by bq_close() on an "
                     "empty queue returned %d; it must return 0", g[i].result);
    }
    bq_destroy(&q);
}

Test(bounded_queue, close_wakes_every_waiting_producer)
{
    struct call p[2];

    cr_assert_eq(bq_init(&q, 1), 0);
    put_now(1);
    for (int i = 0; i < 2; i++)
        start(&p[i], do_put, 10 + i);
    for (int i = 0; i < 2; i++)
        asleep_wait(&p[i].tid); /* both wait in bq_put() */
    bq_close(&q);
    join(p, 2, "a producer waiting in bq_put() did not return after "
               "bq_close(): does bq_close() wake every waiting thread, not "
               "just one, and does bq_put() check `closed` while it waits?");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(p[i].result, -1, "bq_put() woken by bq_close() returned "
                     "%d; it must return -1 (the item was not queued)",
                     p[i].result);
    }
    get_now(1);
    get_end();
    bq_destroy(&q);
}

Test(bounded_queue, waits_survive_spurious_wake_ups)
{
    struct call g, p;

    cr_assert_eq(bq_init(&q, 1), 0);
    start(&g, do_get, 0);
    asleep_wait(&g.tid); /* the wake-ups must reach it in its wait */
    spurious_wake_ups(500);
    cr_assert_eq(atomic_load(&g.done), 0, "bq_get() returned %d from an "
                 "empty, open queue after a spurious wake-up (the test "
                 "broadcast not_empty with nothing queued): after any "
                 "wake-up, check the queue again before taking an item",
                 g.result);
    put_now(8);
    join(&g, 1, "bq_get() stayed blocked after bq_put() added an item: "
                "does bq_put() wake a worker waiting for an item?");
    cr_assert_eq(g.item, 8, "bq_get() gave %ld, expected 8", g.item);

    put_now(1);
    start(&p, do_put, 2);
    asleep_wait(&p.tid);
    spurious_wake_ups(500);
    cr_assert_eq(atomic_load(&p.done), 0, "bq_put() returned %d into a full "
                 "queue after a spurious wake-up (the test broadcast "
                 "not_full with no slot free): after any wake-up, check the "
                 "queue again before storing an item", p.result);
    get_now(1);
    join(&p, 1, "bq_put() stayed blocked after bq_get() freed a slot: "
                "does bq_get() wake a producer waiting for room?");
    get_now(2);
    bq_destroy(&q);
}

#define PRODUCERS 4
#define WORKERS 3
#define PER_PRODUCER 20000L

/* Failures in other threads are counted, not asserted: Criterion asserts
 * only in the test's own thread. */
static atomic_long failed_puts;

struct worker {
    pthread_t thread;
    long sum, taken;
};

static void *produce(void *arg)
{
    long base = *(long *)arg;
    for (long i = 1; i <= PER_PRODUCER; i++)
        if (bq_put(&q, base + i) != 0)
            atomic_fetch_add(&failed_puts, 1);
    return NULL;
}

static void *consume(void *arg)
{
    struct worker *w = arg;
    long v;
    while (bq_get(&q, &v) == 1) {
        w->sum += v;
        w->taken++;
    }
    return NULL;
}

/* PRODUCERS put PER_PRODUCER items each through a queue of `capacity`,
 * WORKERS take them; `stuck` is what the guard says if they never finish. */
static void pass_items(size_t capacity, const char *stuck)
{
    pthread_t producers[PRODUCERS];
    struct worker workers[WORKERS];
    long bases[PRODUCERS], want = 0, sum = 0, taken = 0;

    cr_assert_eq(bq_init(&q, capacity), 0);
    for (int i = 0; i < WORKERS; i++) {
        workers[i].sum = workers[i].taken = 0;
        cr_assert_eq(pthread_create(&workers[i].thread, NULL, consume,
                                    &workers[i]), 0);
    }
    for (int p = 0; p < PRODUCERS; p++) {
        bases[p] = p * 1000000L;
        for (long i = 1; i <= PER_PRODUCER; i++)
            want += bases[p] + i;
        cr_assert_eq(pthread_create(&producers[p], NULL, produce, &bases[p]),
                     0);
    }
    guard_arm(30, stuck);
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(producers[p], NULL);
    guard_disarm();
    bq_close(&q);
    guard_arm(10, "workers did not return after bq_close(): does bq_close() "
                  "wake every waiting thread, and does bq_get() check "
                  "`closed` while it waits?");
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i].thread, NULL);
    guard_disarm();
    for (int i = 0; i < WORKERS; i++) {
        sum += workers[i].sum;
        taken += workers[i].taken;
    }
    cr_assert_eq(atomic_load(&failed_puts), 0, "bq_put() failed %ld times on "
                 "an open queue", atomic_load(&failed_puts));
    cr_assert_eq(taken, PRODUCERS * PER_PRODUCER, "the workers got %ld items, "
                 "%ld were put: items were lost or handed out twice (is every "
                 "field read and changed under the lock?)", taken,
                 PRODUCERS * PER_PRODUCER);
    cr_assert_eq(sum, want, "the items the workers got do not add up to the "
                 "items put: some were lost, some handed out twice");
    bq_destroy(&q);
}

Test(bounded_queue, many_producers_and_workers_lose_nothing)
{
    pass_items(16, "4 producers and 3 workers did not get through 80000 "
                   "items in 30 s: a thread slept while it had work (a lost "
                   "wake-up: does every put wake a worker, and every get a "
                   "producer?)");
}

Test(bounded_queue, a_queue_of_one_slot_never_stalls)
{
    /* With one slot, producers and workers take turns at every item, and
     * a wake-up that reaches the wrong kind of thread stalls them all. */
    pass_items(1, "4 producers and 3 workers stalled passing 80000 items "
                  "through a queue of 1 slot: every thread asleep with work "
                  "to do. A wake-up went to a thread that could not go on "
                  "(a worker woken when the queue was still empty, or a "
                  "producer when it was still full), while the one that "
                  "could go on slept: is each wake-up sure to reach a "
                  "thread waiting for what just changed?");
}

static double cpu_seconds(clockid_t cpu)
{
    struct timespec used;
    cr_assert_eq(clock_gettime(cpu, &used), 0);
    return (double)used.tv_sec + (double)used.tv_nsec / 1e9;
}

Test(bounded_queue, a_waiting_worker_sleeps_instead_of_spinning)
{
    struct call g;
    clockid_t cpu;

    cr_assert_eq(bq_init(&q, 4), 0);
    start(&g, do_get, 0);
    cr_assert_eq(pthread_getcpuclockid(g.thread, &cpu), 0);
    asleep_wait(&g.tid); /* a spinning one never is: 5 s, then on */
    long woke = asleep_wakeups(atomic_load(&g.tid));
    cr_assert_geq(woke, 0, "the test could not read the thread's "
                  "/proc/self/task/<id>/status (not Linux?)");
    double cpu_s = cpu_seconds(cpu);
    asleep_pause_ms(1000); /* nobody touches the queue all this time */
    woke = asleep_wakeups(atomic_load(&g.tid)) - woke;
    cpu_s = cpu_seconds(cpu) - cpu_s;
    bq_close(&q);
    join(&g, 1, "bq_get() did not return after bq_close(): does it "
                "check `closed` while it waits?");

    /* In pthread_cond_wait() the thread sleeps until it is signalled: no
     * wake-up, microseconds of CPU. Polling with a sleep between looks
     * wakes up at every look; polling without one takes a large share of
     * a core even on a busy machine (and seldom sleeps at all). */
    cr_assert_leq(woke, 2, "the worker waiting in bq_get() on an empty "
                  "queue that nobody touched woke up %ld times in 1 s: it "
                  "polls (sleeps a little, then looks again) instead of "
                  "sleeping in pthread_cond_wait() until a bq_put() or "
                  "bq_close() signals it", woke);
    cr_assert_lt(cpu_s, 0.02, "the worker waiting in bq_get() on an empty "
                 "queue used %.3f s of CPU in 1 s: it spins instead of "
                 "sleeping in pthread_cond_wait()", cpu_s);
    bq_destroy(&q);
}
