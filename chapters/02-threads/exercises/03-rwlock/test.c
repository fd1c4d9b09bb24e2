/*
 * test.c - the tests of exercise 03-rwlock.
 *
 * The test's own thread takes the lock one way, other threads try the
 * other way: "must wait" is checked by seeing that they have not got in
 * once the kernel shows them asleep, and 0.3 s later (exercises/asleep.h),
 * "must get in" by joining them under a 10 s guard.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid), for asleep.h */
#include "exercise.h"
#include "asleep.h"
#include "guard.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static void pause_ms(long ms)
{
    asleep_pause_ms(ms);
}

static rw_t *rw;

/* Who is inside right now, and how often a reader and a writer, or two
 * writers, were inside together (each side counts itself in, then looks
 * at the other: with sequentially consistent atomics, at least one of two
 * that overlap sees the other). */
static atomic_int readers_in, writers_in, overlaps;

/* One thread that takes the lock, says so, holds it briefly, gives it
 * back. */
struct call {
    pthread_t thread;
    atomic_int in;
    atomic_int tid; /* the kernel's id of the thread, once it runs */
};

static void *reader(void *arg)
{
    struct call *c = arg;
    atomic_store(&c->tid, asleep_tid());
    rw_read_lock(rw);
    atomic_fetch_add(&readers_in, 1);
    if (atomic_load(&writers_in) > 0)
        atomic_fetch_add(&overlaps, 1);
    atomic_store(&c->in, 1);
    pause_ms(20);
    atomic_fetch_sub(&readers_in, 1);
    rw_read_unlock(rw);
    return NULL;
}

static void *writer(void *arg)
{
    struct call *c = arg;
    atomic_store(&c->tid, asleep_tid());
    rw_write_lock(rw);
    if (atomic_fetch_add(&writers_in, 1) > 0 || atomic_load(&readers_in) > 0)
        atomic_fetch_add(&overlaps, 1);
    atomic_store(&c->in, 1);
    pause_ms(20);
    atomic_fetch_sub(&writers_in, 1);
    rw_write_unlock(rw);
    return NULL;
}

static void start(struct call *c, void *(*fn)(void *))
{
    atomic_store(&c->in, 0);
    atomic_store(&c->tid, 0);
    cr_assert_eq(pthread_create(&c->thread, NULL, fn, c), 0,
                 "the test could not start a thread");
}

static void join(struct call *c, int n, const char *what_if_stuck)
{
    guard_arm(10, what_if_stuck);
    for (int i = 0; i < n; i++)
        pthread_join(c[i].thread, NULL);
    guard_disarm();
}

static void make_lock(void)
{
    rw = rw_create();
    cr_assert_not_null(rw, "rw_create() returned NULL");
}

/* The test thread's own holds must never block: nobody else holds it. */
static void take(void (*lock)(rw_t *))
{
    guard_arm(10, "the lock could not be taken although nobody held it: "
                  "did an earlier unlock leave it in a wrong state?");
    lock(rw);
    guard_disarm();
}

Test(rwlock, readers_hold_it_together)
{
    struct call r;

    make_lock();
    take(rw_read_lock);
    start(&r, reader);
    join(&r, 1, "a second reader waited while only a reader held the lock: "
                "readers must be able to hold it together");
    rw_read_unlock(rw);
    rw_destroy(rw);
}

Test(rwlock, a_writer_is_alone)
{
    struct call r, w;

    make_lock();
    take(rw_write_lock);
    start(&r, reader);
    start(&w, writer);
    asleep_wait(&r.tid);
    asleep_wait(&w.tid);
    int reader_in = atomic_load(&r.in), writer_in = atomic_load(&w.in);
    rw_write_unlock(rw);
    join(&r, 1, "a reader waiting for the writer never got in after "
                "rw_write_unlock(): does rw_write_unlock() wake the threads "
                "waiting for it?");
    join(&w, 1, "a writer waiting for the writer never got in after "
                "rw_write_unlock(): does rw_write_unlock() wake the threads "
                "waiting for it?");
    cr_assert_eq(reader_in, 0, "a reader got in while a writer held the "
                 "lock: a writer must be alone");
    cr_assert_eq(writer_in, 0, "a second writer got in while a writer held "
                 "the lock: a writer must be alone");
    rw_destroy(rw);
}

Test(rwlock, a_writer_waits_for_the_reader_to_leave)
{
    struct call w;

    make_lock();
    take(rw_read_lock);
    start(&w, writer);
    asleep_wait(&w.tid);
    int writer_in = atomic_load(&w.in);
    rw_read_unlock(rw);
    join(&w, 1, "the writer never got in after the last reader left: does "
                "the last rw_read_unlock() wake a waiting writer?");
    cr_assert_eq(writer_in, 0, "a writer got in while a reader held the "
                 "lock: a writer must wait until every reader has left");
    rw_destroy(rw);
}

Test(rwlock, a_waiting_writer_keeps_new_readers_out)
{
    struct call w, r;

    make_lock();
    take(rw_read_lock);
    start(&w, writer);
    asleep_wait(&w.tid); /* the writer now waits for us */
    start(&r, reader);
    asleep_wait(&r.tid);
    int reader_in = atomic_load(&r.in);
    rw_read_unlock(rw);
    join(&w, 1, "the writer never got in after the last reader left: does "
                "the last rw_read_unlock() wake a waiting writer?");
    join(&r, 1, "a reader queued behind a writer never got in after the "
                "writer left: does rw_write_unlock() wake the readers?");
    cr_assert_eq(reader_in, 0, "a new reader got in while a writer was "
                 "waiting: with readers always arriving, the writer could "
                 "wait for ever. A reader that arrives while a writer waits "
                 "must wait behind it");
    rw_destroy(rw);
}

Test(rwlock, the_writer_leaving_lets_every_waiting_reader_in)
{
    struct call r[3];

    make_lock();
    take(rw_write_lock);
    for (int i = 0; i < 3; i++)
        start(&r[i], reader);
    for (int i = 0; i < 3; i++)
        asleep_wait(&r[i].tid); /* all three wait for the writer */
    rw_write_unlock(rw);
    join(r, 3, "only some of the readers waiting for the writer got in "
               "after rw_write_unlock(): does it wake all of them, not "
               "just one?");
    rw_destroy(rw);
}

Test(rwlock, the_writer_leaving_lets_in_readers_or_a_writer_not_both)
{
    struct call c[3];

    make_lock();
    atomic_store(&overlaps, 0);
    take(rw_write_lock);
    start(&c[0], reader);
    start(&c[1], writer);
    start(&c[2], writer);
    for (int i = 0; i < 3; i++)
        asleep_wait(&c[i].tid); /* a reader and two writers wait */
    rw_write_unlock(rw);
    join(c, 3, "a reader and two writers waited for the writer; after "
               "rw_write_unlock() they did not all get in, in turn");
    cr_assert_eq(atomic_load(&overlaps), 0, "after rw_write_unlock(), "
                 "threads that had waited were inside together (a reader "
                 "with a writer, or two writers) %d time(s): a thread woken "
                 "from a wait must check again that it may enter (someone "
                 "woken with it may have entered first)",
                 atomic_load(&overlaps));
    rw_destroy(rw);
}

/* Writers keep two counters equal, one step at a time; readers check. */
#define ROUNDS 20000
static volatile long first, second;
static atomic_long torn_reads;

static void *write_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        rw_write_lock(rw);
        first++;
        if (i % 64 == 0)
            sched_yield(); /* let the others try to get in meanwhile */
        second++;
        rw_write_unlock(rw);
    }
    return NULL;
}

static void *read_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        rw_read_lock(rw);
        if (first != second)
            atomic_fetch_add(&torn_reads, 1);
        rw_read_unlock(rw);
    }
    return NULL;
}

Test(rwlock, readers_never_see_a_write_half_done)
{
    pthread_t t[4];

    make_lock();
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL,
                                    i % 2 ? read_many : write_many, NULL), 0);
    guard_arm(60, "2 writers and 2 readers did not finish 20000 rounds each "
                  "in 60 s: a thread slept while the lock was free (a lost "
                  "wake-up: does every unlock wake whoever may now enter?)");
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    guard_disarm();
    cr_assert_eq(first, 2L * ROUNDS, "the writers made %ld increments, "
                 "expected %ld: two writers held the lock at the same time "
                 "(a thread woken from a wait must check again that it may "
                 "enter: someone else may have entered first)",
                 first, 2L * ROUNDS);
    cr_assert_eq(atomic_load(&torn_reads), 0, "readers saw a write half done "
                 "%ld times: a reader got in while a writer held the lock "
                 "(a thread woken from a wait must check again that it may "
                 "enter: someone else may have entered first)",
                 atomic_load(&torn_reads));
    rw_destroy(rw);
}
