/*
 * test.c - the tests of exercise 04-worker-pool.
 *
 * Jobs report what they did through atomics and one mutex of the test's;
 * only the test's own thread asserts. Every wait that a wrong answer could
 * make endless is bounded: by a guard (the test ends, naming what never
 * returned) or by a timed wait (the test fails, saying what never came).
 * "Waits" and "idle" are checked once the kernel shows the threads asleep
 * (exercises/asleep.h), not after a fixed pause.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid), for asleep.h */
#include "exercise.h"
#include "asleep.h"
#include "guard.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static void pause_ms(long ms)
{
    asleep_pause_ms(ms);
}

static pool_t *make_pool(size_t workers, size_t capacity)
{
    guard_arm(10, "pool_create() did not return");
    pool_t *p = pool_create(workers, capacity);
    guard_disarm();
    cr_assert_not_null(p, "pool_create(%zu, %zu) returned NULL (%s); it must "
                       "start the workers and return the pool", workers,
                       capacity, strerror(errno));
    return p;
}

static void submit_now(pool_t *p, pool_job_fn *fn, void *arg)
{
    guard_arm(10, "pool_submit() blocked while the queue had room: it may "
                  "only wait while the queue is full (or does a worker hold "
                  "the pool's lock while it runs a job?)");
    int r = pool_submit(p, fn, arg);
    guard_disarm();
    cr_assert_eq(r, 0, "pool_submit() on a running pool with room returned "
                 "%d (%s); it must queue the job and return 0", r,
                 strerror(errno));
}

static void shut_down(pool_t *p, unsigned seconds)
{
    guard_arm(seconds, "pool_shutdown() did not return: does it wake every "
                       "idle worker (not just one), and does each worker "
                       "check for shutdown while it waits?");
    pool_shutdown(p);
    guard_disarm();
}

/* ---- a job that counts its runs ------------------------------------- */

#define MANY 2000
static atomic_int runs[MANY];

static void count_run(void *arg)
{
    atomic_fetch_add(&runs[(intptr_t)arg], 1);
}

Test(worker_pool, refuses_zero_workers_or_zero_capacity)
{
    errno = 0;
    cr_assert_null(pool_create(0, 4), "pool_create(0, 4) must fail: a pool "
                   "with no worker would never run a job");
    cr_assert_eq(errno, EINVAL, "pool_create(0, 4) must set errno to EINVAL");
    errno = 0;
    cr_assert_null(pool_create(4, 0), "pool_create(4, 0) must fail: a queue "
                   "with no room could never take a job");
    cr_assert_eq(errno, EINVAL, "pool_create(4, 0) must set errno to EINVAL");
}

Test(worker_pool, every_job_runs_exactly_once)
{
    pool_t *p = make_pool(3, 4);

    guard_arm(30, "pool_submit() stayed blocked on a full queue while the "
                  "workers emptied it (a lost wake-up): does a worker that "
                  "takes a job wake a waiting submitter?");
    for (int i = 0; i < MANY; i++) {
        int r = pool_submit(p, count_run, (void *)(intptr_t)i);
        cr_assert_eq(r, 0, "pool_submit() of job %d returned %d (%s) on a "
                     "running pool; it must wait for room, then return 0",
                     i, r, strerror(errno));
    }
    guard_disarm();
    shut_down(p, 10);
    for (int i = 0; i < MANY; i++) {
        int n = atomic_load(&runs[i]);
        if (n == 0) {
            pause_ms(1000);
            cr_assert_eq(atomic_load(&runs[i]), 0, "job %d of %d ran only "
                         "after pool_shutdown() had returned: does it join "
                         "the workers? No job may run after it returns", i,
                         MANY);
            cr_assert(0, "job %d of %d never ran, yet pool_shutdown() "
                      "returned: jobs queued before pool_shutdown() never "
                      "ran. Workers must empty the queue before they exit",
                      i, MANY);
        }
        cr_assert_eq(n, 1, "job %d ran %d times: each job must run exactly "
                     "once (is the queue changed only under the lock?)", i, n);
    }
    pool_destroy(p);
}

/* ---- submitters and workers crowding a queue of one slot ------------ */

#define SUBMITTERS 3
#define CROWD 5000
static atomic_long crowd_runs, crowd_failed;
static atomic_int crowd_each[SUBMITTERS * CROWD]; /* runs of each job */
static pool_t *crowd_pool;

static void crowd_job(void *arg)
{
    atomic_fetch_add(&crowd_each[(intptr_t)arg], 1);
    atomic_fetch_add(&crowd_runs, 1);
}

static void *crowd_submit(void *arg)
{
    intptr_t first = (intptr_t)arg * CROWD;
    for (intptr_t i = first; i < first + CROWD; i++)
        if (pool_submit(crowd_pool, crowd_job, (void *)i) != 0)
            atomic_fetch_add(&crowd_failed, 1);
    return NULL;
}

Test(worker_pool, a_queue_of_one_slot_never_stalls)
{
    /* With one slot, submitters and workers take turns at every job, and a
     * wake-up that reaches the wrong kind of thread stalls them all. */
    pool_t *p = crowd_pool = make_pool(4, 1);
    pthread_t t[SUBMITTERS];
    for (intptr_t i = 0; i < SUBMITTERS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, crowd_submit, (void *)i), 0);
    guard_arm(30, "3 submitters and 4 workers stalled passing 15000 jobs "
                  "through a queue of 1 slot: every thread asleep with work "
                  "to do. A wake-up went to a thread that could not go on "
                  "(a worker woken when the queue was still empty, or a "
                  "submitter when it was still full), while the one that "
                  "could go on slept: is each wake-up sure to reach a "
                  "thread waiting for what just changed?");
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(t[i], NULL);
    guard_disarm();
    shut_down(p, 10);
    cr_assert_eq(atomic_load(&crowd_failed), 0, "pool_submit() failed %ld "
                 "times on a running pool", atomic_load(&crowd_failed));
    for (int i = 0; i < SUBMITTERS * CROWD; i++) {
        int n = atomic_load(&crowd_each[i]);
        cr_assert_eq(n, 1, "with 3 submitters on a queue of 1 slot, a job "
                     "ran %d times (%ld runs in all for %d jobs): jobs were "
                     "lost or run twice. Does a submitter woken from its "
                     "wait check again that there is room (another may "
                     "have taken the slot first), and is the queue changed "
                     "only under the lock?", n,
                     atomic_load(&crowd_runs), SUBMITTERS * CROWD);
    }
    pool_destroy(p);
}

/* ---- jobs that meet: are they really running at the same time? ------ */

static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond;
static int arrived, released;
static pthread_t met_on[8];

static void timed_wait_ms(long ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&meet_cond, &meet_lock, &deadline);
}

static void init_meeting(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&meet_cond, &attr);
    pthread_condattr_destroy(&attr);
    arrived = released = 0;
}

/* Arrive, then wait (at most 10 s) until the test releases everyone. */
static void meet(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&meet_lock);
    met_on[arrived++] = pthread_self();
    pthread_cond_broadcast(&meet_cond);
    for (int i = 0; i < 100 && !released; i++)
        timed_wait_ms(100);
    pthread_mutex_unlock(&meet_lock);
}

Test(worker_pool, four_workers_run_four_jobs_at_the_same_time)
{
    init_meeting();
    pool_t *p = make_pool(4, 4);
    for (int i = 0; i < 4; i++)
        submit_now(p, meet, NULL);

    pthread_mutex_lock(&meet_lock);
    for (int i = 0; i < 100 && arrived < 4; i++)
        timed_wait_ms(100);
    int together = arrived;
    released = 1;
    pthread_cond_broadcast(&meet_cond);
    pthread_mutex_unlock(&meet_lock);

    cr_assert_eq(together, 4, "only %d of 4 jobs were running at the same "
                 "time in a pool of 4 workers (the test waited 10 s for the "
                 "rest): does a worker hold the pool's lock while it runs a "
                 "job, or did pool_create() start fewer threads?", together);
    for (int i = 0; i < 4; i++) {
        cr_assert(!pthread_equal(met_on[i], pthread_self()), "a job ran on "
                  "the thread that called pool_submit(); jobs must run on "
                  "the pool's workers");
        for (int j = 0; j < i; j++)
            cr_assert(!pthread_equal(met_on[i], met_on[j]), "two of the 4 "
                      "jobs running at once were on the same thread?");
    }
    shut_down(p, 10);
    pool_destroy(p);
}

/* ---- a job that holds its worker until the test opens a gate -------- */

static atomic_int gate_open, gate_started, quick_runs;

static void hold_until_open(void *arg)
{
    (void)arg;
    atomic_store(&gate_started, 1);
    for (int i = 0; i < 2000 && !atomic_load(&gate_open); i++)
        pause_ms(10); /* at most 20 s, whatever the answer does */
}

static void quick(void *arg)
{
    (void)arg;
    atomic_fetch_add(&quick_runs, 1);
}

struct submit_call {
    pthread_t thread;
    pool_t *pool;
    int result;
    atomic_int done;
    atomic_int tid;
};

static void *submit_on_a_thread(void *arg)
{
    struct submit_call *c = arg;
    atomic_store(&c->tid, asleep_tid());
    c->result = pool_submit(c->pool, quick, NULL);
    atomic_store(&c->done, 1);
    return NULL;
}

Test(worker_pool, submit_waits_while_the_queue_is_full)
{
    pool_t *p = make_pool(1, 2);
    struct submit_call c = {.pool = p, .result = -2};

    submit_now(p, hold_until_open, NULL);
    guard_arm(10, "the first job never started: does a worker take jobs "
                  "from the queue and run them?");
    while (!atomic_load(&gate_started))
        pause_ms(1);
    guard_disarm();
    submit_now(p, quick, NULL); /* the queue holds 2: now it is full */
    submit_now(p, quick, NULL);
    cr_assert_eq(pthread_create(&c.thread, NULL, submit_on_a_thread, &c), 0);
    asleep_wait(&c.tid);
    int early = atomic_load(&c.done);
    atomic_store(&gate_open, 1);
    guard_arm(10, "pool_submit() stayed blocked after the worker took a job "
                  "from the full queue: does taking a job wake a waiting "
                  "submitter?");
    pthread_join(c.thread, NULL);
    guard_disarm();
    cr_assert_eq(early, 0, "pool_submit() returned (%d) while the queue was "
                 "full (capacity 2, the only worker busy): it must wait for "
                 "room, so that a fast producer cannot fill memory",
                 c.result);
    cr_assert_eq(c.result, 0, "pool_submit() returned %d once there was "
                 "room; it must return 0", c.result);
    shut_down(p, 10);
    cr_assert_eq(atomic_load(&quick_runs), 3, "%d of the 3 jobs queued "
                 "behind the busy one ran before pool_shutdown() returned; "
                 "it must run them all", atomic_load(&quick_runs));
    pool_destroy(p);
}

/* ---- shutdown ------------------------------------------------------- */

static atomic_int slow_done;

static void slow(void *arg)
{
    (void)arg;
    pause_ms(10);
    atomic_fetch_add(&slow_done, 1);
}

Test(worker_pool, shutdown_runs_every_queued_job_and_joins_the_workers)
{
    pool_t *p = make_pool(2, 64);
    for (int i = 0; i < 40; i++)
        submit_now(p, slow, NULL);
    shut_down(p, 30); /* most of the 40 are still queued when it starts */
    int at_return = atomic_load(&slow_done);
    if (at_return < 40) {
        pause_ms(1000);
        int later = atomic_load(&slow_done);
        cr_assert_neq(later, at_return, "pool_shutdown() returned with %d of "
                      "40 jobs run, and none ran after: jobs queued before "
                      "pool_shutdown() never ran. Workers must empty the "
                      "queue before they exit", at_return);
        cr_assert(0, "pool_shutdown() returned while jobs were still running (%d "
                "of 40 done when it returned, %d a second later): does it "
                "join the workers? No job may run after it returns",
                at_return, later);
    }
    pool_destroy(p);
}

Test(worker_pool, shutdown_of_an_idle_pool_returns_promptly)
{
    pool_t *p = make_pool(4, 4);
    asleep_wait_others(); /* every worker is asleep, waiting for work */
    shut_down(p, 10);
    pool_destroy(p);
}

static atomic_int never;

static void must_not_run(void *arg)
{
    (void)arg;
    atomic_store(&never, 1);
}

Test(worker_pool, submit_after_shutdown_is_refused)
{
    pool_t *p = make_pool(2, 4);
    shut_down(p, 10);
    errno = 0;
    guard_arm(10, "pool_submit() blocked after pool_shutdown(): it must "
                  "return -1 at once");
    int r = pool_submit(p, must_not_run, NULL);
    guard_disarm();
    cr_assert_eq(r, -1, "pool_submit() accepted a job after pool_shutdown() "
                 "(it returned %d): it must refuse with -1, errno ECANCELED",
                 r);
    cr_assert_eq(errno, ECANCELED, "pool_submit() after pool_shutdown() "
                 "returned -1 but set errno to %d (%s); it must be ECANCELED",
                 errno, strerror(errno));
    pause_ms(100);
    cr_assert_eq(atomic_load(&never), 0, "a job refused by pool_submit() ran "
                 "anyway");
    pool_destroy(p);
}

/* ---- a job that submits a job --------------------------------------- */

static pool_t *nested_pool;
static atomic_int inner_ran, inner_result = -2;

static void inner(void *arg)
{
    (void)arg;
    atomic_store(&inner_ran, 1);
}

static void outer(void *arg)
{
    (void)arg;
    atomic_store(&inner_result, pool_submit(nested_pool, inner, NULL));
}

Test(worker_pool, a_job_can_submit_a_job)
{
    nested_pool = make_pool(2, 4);
    submit_now(nested_pool, outer, NULL);
    guard_arm(10, "a job that called pool_submit() never got its job run: "
                  "does a worker hold the pool's lock while it runs a job?");
    while (!atomic_load(&inner_ran))
        pause_ms(1);
    guard_disarm();
    cr_assert_eq(atomic_load(&inner_result), 0, "pool_submit() from inside "
                 "a job returned %d; it must return 0",
                 atomic_load(&inner_result));
    shut_down(nested_pool, 10);
    pool_destroy(nested_pool);
}

Test(worker_pool, idle_workers_sleep_instead_of_spinning)
{
    struct timespec before, after;

    pool_t *p = make_pool(4, 4);
    asleep_wait_others(); /* a spinning pool never is: 5 s, then on */
    long woke = asleep_wakeups_of_others();
    cr_assert_geq(woke, 0, "the test could not read /proc/self/task "
                  "(not Linux?)");
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
    pause_ms(1000); /* no job: the workers have nothing to do */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
    woke = asleep_wakeups_of_others() - woke;
    double cpu_s = (double)(after.tv_sec - before.tv_sec) +
                   (double)(after.tv_nsec - before.tv_nsec) / 1e9;
    shut_down(p, 10);
    /* Sleeping workers cost microseconds of CPU and no wake-up; workers
     * that poll take a large share of a core even on a busy machine, or,
     * with a sleep between looks, wake up at every look. */
    cr_assert_lt(cpu_s, 0.05, "an idle pool of 4 workers used %.3f s of CPU "
                 "in 1 s: its workers poll the queue instead of sleeping on "
                 "a condition variable", cpu_s);
    cr_assert_leq(woke, 8, "an idle pool of 4 workers woke up %ld times in "
                  "1 s with no job to run: its workers poll the queue (sleep "
                  "a little, then look again) instead of sleeping on a "
                  "condition variable until a job or the shutdown comes",
                  woke);
    pool_destroy(p);
}
