/*
 * test_sync.c - Lock, Event, Semaphore, Condition and Queue on the fake
 * clock.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "sleep.h"
#include "sync.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(lock, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(event, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(semaphore, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(queue, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(condition, .init = setup, .fini = teardown, .timeout = 10);

static char log_[256];

static void note(char c)
{
    size_t n = strlen(log_);

    log_[n] = c;
    log_[n + 1] = 0;
}

/* Takes the lock, holds it for `hold` seconds, notes its tag inside. */
static lock_t the_lock;

typedef struct locker {
    coro_t co;
    char tag;
    double hold;
    int err;
    waiter_t w;
    sleeper_t sleep;
} locker_t;

static int locker_body(coro_t *co)
{
    locker_t *f = (locker_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, lock_acquire(&the_lock, &f->w));
    if ((f->err = co->err))
        CORO_FAIL(co, co->err);            /* not ours: nothing to undo */
    note(f->tag);
    /* Holding the Lock across an await: catch, so that a cancellation
     * releases it on the way out (Python's `async with lock`). */
    AWAIT_CATCH(co, sleep_start(&f->sleep, f->hold));
    lock_release(&the_lock);
    if (co->err)
        CORO_FAIL(co, co->err);
    note((char)(f->tag - 'a' + 'A'));
    CORO_END(co);
}

static task_t *locker(char tag, double hold, locker_t **frame)
{
    locker_t *f;
    task_t *t = task_create(fx.loop, locker_body, sizeof *f, (void **)&f);

    f->tag = tag;
    f->hold = hold;
    if (frame)
        *frame = f;
    return t;
}

Test(lock, holders_take_turns_in_arrival_order)
{
    task_t *t[3];

    log_[0] = 0;
    lock_init(&the_lock, fx.loop);
    t[0] = locker('a', 0.1, NULL);
    t[1] = locker('b', 0.1, NULL);
    t[2] = locker('c', 0.1, NULL);
    fixture_advance(&fx, 1);
    cr_assert_str_eq(log_, "aAbBcC");
    cr_assert_eq(the_lock.locked, 0);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

Test(lock, a_waiter_cancelled_while_waiting_leaves_the_queue)
{
    locker_t *fb;
    task_t *t[3];

    log_[0] = 0;
    lock_init(&the_lock, fx.loop);
    t[0] = locker('a', 0.1, NULL);
    t[1] = locker('b', 0.1, &fb);
    t[2] = locker('c', 0.1, NULL);
    fixture_settle(&fx);
    task_cancel(t[1]);
    fixture_advance(&fx, 1);
    cr_assert_eq(fb->err, ECANCELED);
    cr_assert_str_eq(log_, "aAcC");
    cr_assert_eq(the_lock.locked, 0);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

Test(lock, a_newcomer_does_not_overtake_a_waiter)
{
    task_t *t[3];

    log_[0] = 0;
    lock_init(&the_lock, fx.loop);
    t[0] = locker('a', 0.1, NULL);
    t[1] = locker('b', 0.1, NULL);
    fixture_advance(&fx, 0.1);          /* a releases; b is handed it */
    t[2] = locker('c', 0.0, NULL);      /* c arrives before b has run */
    fixture_advance(&fx, 1);
    cr_assert_str_eq(log_, "aAbBcC");
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

static event_t the_event;

typedef struct eventer {
    coro_t co;
    char tag;
    waiter_t w;
} eventer_t;

static int eventer_body(coro_t *co)
{
    eventer_t *f = (eventer_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, event_wait(&the_event, &f->w));
    note(f->tag);
    CORO_END(co);
}

Test(event, set_wakes_every_waiter_in_order_and_later_waits_pass)
{
    task_t *t[3];
    eventer_t *f;

    log_[0] = 0;
    event_init(&the_event, fx.loop);
    t[0] = task_create(fx.loop, eventer_body, sizeof *f, (void **)&f);
    f->tag = 'x';
    t[1] = task_create(fx.loop, eventer_body, sizeof *f, (void **)&f);
    f->tag = 'y';
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "");
    event_set(&the_event);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "xy");
    t[2] = task_create(fx.loop, eventer_body, sizeof *f, (void **)&f);
    f->tag = 'z';
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "xyz");
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

static semaphore_t the_sem;
static int inside, most_inside;

typedef struct limited {
    coro_t co;
    waiter_t w;
    sleeper_t sleep;
} limited_t;

static int limited_body(coro_t *co)
{
    limited_t *f = (limited_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, semaphore_acquire(&the_sem, &f->w));
    if (++inside > most_inside)
        most_inside = inside;
    AWAIT_CATCH(co, sleep_start(&f->sleep, 0.1));
    inside--;
    semaphore_release(&the_sem);         /* whatever happened: finally */
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_END(co);
}

Test(semaphore, lets_at_most_its_value_in_at_once)
{
    enum { N = 10 };
    task_t *t[N];
    limited_t *f;

    inside = most_inside = 0;
    semaphore_init(&the_sem, fx.loop, 3);
    for (int i = 0; i < N; i++)
        t[i] = task_create(fx.loop, limited_body, sizeof *f, (void **)&f);
    fixture_advance(&fx, 0.05);
    cr_assert_eq(inside, 3);
    fixture_advance(&fx, 1);
    cr_assert_eq(most_inside, 3);
    cr_assert_eq(inside, 0);
    cr_assert_eq(the_sem.value, 3);
    for (int i = 0; i < N; i++) {
        cr_assert(future_done(task_future(t[i])));
        task_release(t[i]);
    }
}

static queue_t the_queue;

typedef struct producer {
    coro_t co;
    int i, n;
    int puts_done;
    waiter_t w;
} producer_t;

static int producer_body(coro_t *co)
{
    producer_t *f = (producer_t *)co;

    CORO_BEGIN(co);
    for (f->i = 1; f->i <= f->n; f->i++) {
        AWAIT(co, queue_put(&the_queue, &f->w, (void *)(intptr_t)f->i));
        f->puts_done++;
    }
    CORO_END(co);
}

typedef struct consumer {
    coro_t co;
    intptr_t got[16];
    int n, i;
    int err;
    waiter_t w;
    sleeper_t sleep;
} consumer_t;

static int consumer_body(coro_t *co)
{
    consumer_t *f = (consumer_t *)co;

    CORO_BEGIN(co);
    for (f->i = 0; f->i < f->n; f->i++) {
        AWAIT_CATCH(co, queue_get(&the_queue, &f->w));
        if ((f->err = co->err))
            CORO_FAIL(co, co->err);
        f->got[f->i] = (intptr_t)co->in;
        AWAIT(co, sleep_start(&f->sleep, 0.1));
    }
    CORO_END(co);
}

Test(queue, a_full_queue_holds_the_producer_back_and_order_is_kept)
{
    producer_t *p;
    consumer_t *c;
    task_t *tp, *tc;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 2), 0);
    tp = task_create(fx.loop, producer_body, sizeof *p, (void **)&p);
    p->n = 6;
    fixture_settle(&fx);
    cr_assert_eq(p->puts_done, 2, "the producer should wait when full");
    cr_assert_eq(queue_size(&the_queue), 2);
    tc = task_create(fx.loop, consumer_body, sizeof *c, (void **)&c);
    c->n = 6;
    fixture_advance(&fx, 1);
    cr_assert_eq(p->puts_done, 6);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(c->got[i], i + 1, "item %d out of order", i);
    cr_assert_eq(queue_size(&the_queue), 0);
    task_release(tp);
    task_release(tc);
    queue_deinit(&the_queue);
}

Test(queue, getters_are_served_in_arrival_order)
{
    consumer_t *c[3];
    producer_t *p;
    task_t *t[4];

    cr_assert_eq(queue_init(&the_queue, fx.loop, 1), 0);
    for (int i = 0; i < 3; i++) {
        t[i] = task_create(fx.loop, consumer_body, sizeof *c[i],
                           (void **)&c[i]);
        c[i]->n = 1;
    }
    fixture_settle(&fx);
    t[3] = task_create(fx.loop, producer_body, sizeof *p, (void **)&p);
    p->n = 3;
    fixture_advance(&fx, 0.5);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(c[i]->got[0], i + 1);
    for (int i = 0; i < 4; i++)
        task_release(t[i]);
    queue_deinit(&the_queue);
}

Test(queue, a_getter_cancelled_while_waiting_takes_nothing)
{
    consumer_t *c[2];
    producer_t *p;
    task_t *t[3];

    cr_assert_eq(queue_init(&the_queue, fx.loop, 4), 0);
    for (int i = 0; i < 2; i++) {
        t[i] = task_create(fx.loop, consumer_body, sizeof *c[i],
                           (void **)&c[i]);
        c[i]->n = 1;
    }
    fixture_settle(&fx);
    task_cancel(t[0]);
    fixture_settle(&fx);
    cr_assert_eq(c[0]->err, ECANCELED);
    t[2] = task_create(fx.loop, producer_body, sizeof *p, (void **)&p);
    p->n = 1;
    fixture_advance(&fx, 0.5);
    cr_assert_eq(c[1]->got[0], 1, "the item went to the cancelled getter");
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
    queue_deinit(&the_queue);
}

Test(queue, a_putter_cancelled_while_waiting_puts_nothing)
{
    producer_t *p;
    task_t *t;
    waiter_t w;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 1), 0);
    t = task_create(fx.loop, producer_body, sizeof *p, (void **)&p);
    p->n = 2;
    fixture_settle(&fx);
    cr_assert_eq(p->puts_done, 1);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq((intptr_t)queue_get(&the_queue, &w)->result, 1);
    cr_assert_eq(queue_size(&the_queue), 0);
    task_release(t);
    queue_deinit(&the_queue);
}

Test(semaphore, waiters_are_served_in_arrival_order)
{
    waiter_t w[3];

    semaphore_init(&the_sem, fx.loop, 0);
    for (int i = 0; i < 3; i++)
        cr_assert(!future_done(semaphore_acquire(&the_sem, &w[i])));
    for (int i = 0; i < 3; i++) {
        semaphore_release(&the_sem);
        cr_assert(future_done(&w[i].future), "waiter %d not served", i);
        for (int j = i + 1; j < 3; j++)
            cr_assert(!future_done(&w[j].future), "waiter %d jumped", j);
    }
    cr_assert_eq(the_sem.value, 0, "units were handed over, not counted");
}

Test(event, a_cancelled_waiter_leaves_and_the_others_still_wake)
{
    waiter_t a, b;

    event_init(&the_event, fx.loop);
    event_wait(&the_event, &a);
    event_wait(&the_event, &b);
    cr_assert_eq(the_event.waiters.count, 2);
    future_cancel(&a.future);
    cr_assert_eq(the_event.waiters.count, 1);
    event_set(&the_event);
    cr_assert_eq(future_state(&a.future), FUTURE_CANCELLED);
    cr_assert_eq(future_state(&b.future), FUTURE_RESULT);
}

/* ---- the sync kit a reader of asyncio expects (issue 11) -------------- */

Test(lock, releasing_a_lock_not_held_is_an_error)
{
    lock_init(&the_lock, fx.loop);
    errno = 0;
    cr_assert_eq(lock_release(&the_lock), -1);
    cr_assert_eq(errno, EPERM);
    cr_assert(!lock_locked(&the_lock));
}

Test(lock, a_waiter_cancelled_while_waiting_is_skipped_in_fifo_order)
{
    waiter_t w[4];

    lock_init(&the_lock, fx.loop);
    cr_assert(future_done(lock_acquire(&the_lock, &w[0])));
    for (int i = 1; i < 4; i++)
        cr_assert(!future_done(lock_acquire(&the_lock, &w[i])));
    future_cancel(&w[1].future);
    cr_assert_eq(lock_release(&the_lock), 0);
    cr_assert_eq(future_state(&w[2].future), FUTURE_RESULT,
                 "the next waiter in line, past the cancelled one");
    cr_assert(!future_done(&w[3].future));
    cr_assert_eq(lock_release(&the_lock), 0);
    cr_assert_eq(future_state(&w[3].future), FUTURE_RESULT);
    cr_assert_eq(lock_release(&the_lock), 0);
    cr_assert(!lock_locked(&the_lock));
}

/* The Lock handed to a waiter whose Task is cancelled before it runs: the
 * Task still gets it at this await (and releases it on the way out, its
 * body catching as a `finally`); nobody is left waiting for ever. */
Test(lock, a_lock_handed_to_a_task_cancelled_before_it_runs_is_not_lost)
{
    locker_t *b, *c;
    task_t *tb, *tc;
    waiter_t mine;

    lock_init(&the_lock, fx.loop);
    log_[0] = 0;
    cr_assert(future_done(lock_acquire(&the_lock, &mine)));
    tb = locker('b', 0.1, &b);
    tc = locker('c', 0.1, &c);
    fixture_settle(&fx);                 /* b, c wait */
    lock_release(&the_lock);             /* handed to b ... */
    task_cancel(tb);                     /* ... cancelled before it runs */
    fixture_advance(&fx, 0.5);
    cr_assert_eq(future_state(task_future(tb)), FUTURE_CANCELLED);
    cr_assert_str_eq(log_, "bcC", "b got it (then its cancel), then c");
    cr_assert(!lock_locked(&the_lock));
    task_release(tc);
}

Test(semaphore, a_bounded_semaphore_refuses_a_release_past_its_bound)
{
    semaphore_t s;
    waiter_t w;

    bounded_semaphore_init(&s, fx.loop, 2);
    errno = 0;
    cr_assert_eq(semaphore_release(&s), -1);
    cr_assert_eq(errno, EOVERFLOW);
    cr_assert_eq(s.value, 2);
    cr_assert(future_done(semaphore_acquire(&s, &w)));
    cr_assert_eq(semaphore_release(&s), 0);
    cr_assert_eq(semaphore_release(&s), -1);
    semaphore_init(&s, fx.loop, 1);      /* a plain one just grows */
    cr_assert_eq(semaphore_release(&s), 0);
    cr_assert_eq(s.value, 2);
}

Test(semaphore, a_waiter_cancelled_while_waiting_gets_no_unit)
{
    waiter_t w[3];

    semaphore_init(&the_sem, fx.loop, 0);
    for (int i = 0; i < 3; i++)
        semaphore_acquire(&the_sem, &w[i]);
    future_cancel(&w[0].future);
    semaphore_release(&the_sem);
    cr_assert_eq(future_state(&w[1].future), FUTURE_RESULT);
    cr_assert(!future_done(&w[2].future));
    cr_assert_eq(the_sem.value, 0);
    future_cancel(&w[2].future);
    semaphore_release(&the_sem);
    cr_assert_eq(the_sem.value, 1, "nobody waits: the unit is kept");
}

Test(queue, an_unbounded_queue_never_makes_a_putter_wait)
{
    waiter_t w;
    void *item;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 0), 0);
    for (intptr_t i = 0; i < 1000; i++)
        cr_assert(future_done(queue_put(&the_queue, &w, (void *)i)));
    cr_assert_eq(queue_size(&the_queue), 1000);
    for (intptr_t i = 0; i < 1000; i++) {
        cr_assert_eq(queue_get_nowait(&the_queue, &item), 0);
        cr_assert_eq((intptr_t)item, i);
    }
    errno = 0;
    cr_assert_eq(queue_get_nowait(&the_queue, &item), -1);
    cr_assert_eq(errno, EAGAIN, "empty");
    queue_deinit(&the_queue);
}

Test(queue, an_unbounded_queue_keeps_the_order_when_it_grows_wrapped)
{
    void *item;
    intptr_t next = 0, got = 0;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 0), 0);
    /* Take some out first, so the ring has wrapped when it has to grow. */
    for (; next < 5; next++)
        cr_assert_eq(queue_put_nowait(&the_queue, (void *)next), 0);
    for (; got < 3; got++)
        cr_assert_eq(queue_get_nowait(&the_queue, &item), 0);
    for (; next < 40; next++)
        cr_assert_eq(queue_put_nowait(&the_queue, (void *)next), 0);
    for (; got < 40; got++) {
        cr_assert_eq(queue_get_nowait(&the_queue, &item), 0);
        cr_assert_eq((intptr_t)item, got);
    }
    cr_assert_eq(queue_size(&the_queue), 0);
    queue_deinit(&the_queue);
}

Test(queue, put_nowait_on_a_full_queue_fails_and_puts_nothing)
{
    void *item;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 1), 0);
    cr_assert_eq(queue_put_nowait(&the_queue, (void *)1), 0);
    errno = 0;
    cr_assert_eq(queue_put_nowait(&the_queue, (void *)2), -1);
    cr_assert_eq(errno, EAGAIN, "full");
    cr_assert_eq(queue_size(&the_queue), 1);
    cr_assert_eq(queue_get_nowait(&the_queue, &item), 0);
    cr_assert_eq((intptr_t)item, 1);
    queue_deinit(&the_queue);
}

Test(queue, join_waits_until_every_item_is_task_done)
{
    waiter_t j, w;
    void *item;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 0), 0);
    cr_assert(future_done(queue_join(&the_queue, &j)), "nothing put yet");
    queue_put_nowait(&the_queue, (void *)1);
    queue_put_nowait(&the_queue, (void *)2);
    queue_join(&the_queue, &j);
    queue_get_nowait(&the_queue, &item);
    queue_get(&the_queue, &w);
    cr_assert_eq(queue_task_done(&the_queue), 0);
    cr_assert(!future_done(&j.future), "one item still unfinished");
    cr_assert_eq(queue_task_done(&the_queue), 0);
    cr_assert(future_done(&j.future));
    errno = 0;
    cr_assert_eq(queue_task_done(&the_queue), -1, "called too many times");
    cr_assert_eq(errno, EINVAL);
    queue_deinit(&the_queue);
}

/* An item handed straight to a waiting getter whose Task is cancelled
 * before it runs: the getter still receives it at this await, and the
 * cancellation comes at its next one. */
Test(queue, an_item_handed_to_a_getter_cancelled_before_it_runs_is_received)
{
    consumer_t *c;
    task_t *t;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 1), 0);
    t = task_create(fx.loop, consumer_body, sizeof *c, (void **)&c);
    c->n = 2;
    fixture_settle(&fx);                 /* waiting in queue_get */
    cr_assert_eq(queue_put_nowait(&the_queue, (void *)7), 0);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(c->got[0], 7, "the item was lost");
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(queue_size(&the_queue), 0);
    task_release(t);
    queue_deinit(&the_queue);
}

Test(queue, a_getter_cancelled_before_its_first_step_leaves_the_item_queued)
{
    consumer_t *c;
    task_t *t;

    cr_assert_eq(queue_init(&the_queue, fx.loop, 1), 0);
    t = task_create(fx.loop, consumer_body, sizeof *c, (void **)&c);
    c->n = 1;
    task_cancel(t);
    cr_assert_eq(queue_put_nowait(&the_queue, (void *)7), 0);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(queue_size(&the_queue), 1);
    task_release(t);
    queue_deinit(&the_queue);
}

/* Condition: each waiter takes the Lock, waits, notes its tag (with the
 * Lock held again) and releases it, whatever happened. */
static lock_t cond_lock;
static condition_t the_cond;

typedef struct cwaiter {
    coro_t co;
    char tag;
    int err;
    waiter_t w;
    cond_wait_t cw;
} cwaiter_t;

static int cwaiter_body(coro_t *co)
{
    cwaiter_t *f = (cwaiter_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, lock_acquire(&cond_lock, &f->w));
    CORO_AWAIT_CORO_CATCH(co, condition_wait(&the_cond, &f->cw));
    f->err = co->err;
    cr_assert(lock_locked(&cond_lock), "the wait gives the Lock back");
    if (!f->err)
        note(f->tag);
    lock_release(&cond_lock);
    if (f->err)
        CORO_FAIL(co, f->err);
    CORO_END(co);
}

static task_t *cwaiter(char tag, cwaiter_t **frame)
{
    task_t *t = task_create(fx.loop, cwaiter_body, sizeof **frame,
                            (void **)frame);

    (*frame)->tag = tag;
    return t;
}

Test(condition, notify_wakes_waiters_one_at_a_time_in_fifo_order)
{
    cwaiter_t *f[3];
    task_t *t[3];
    waiter_t mine;

    lock_init(&cond_lock, fx.loop);
    condition_init(&the_cond, &cond_lock);
    log_[0] = 0;
    for (int i = 0; i < 3; i++)
        t[i] = cwaiter((char)('a' + i), &f[i]);
    fixture_settle(&fx);
    cr_assert(!lock_locked(&cond_lock), "waiting releases the Lock");
    errno = 0;
    cr_assert_eq(condition_notify(&the_cond, 1), -1, "without the Lock");
    cr_assert_eq(errno, EPERM);
    cr_assert(future_done(lock_acquire(&cond_lock, &mine)));
    cr_assert_eq(condition_notify(&the_cond, 1), 1);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "", "woken, but the Lock is still ours");
    lock_release(&cond_lock);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "a");
    cr_assert(future_done(lock_acquire(&cond_lock, &mine)));
    cr_assert_eq(condition_notify_all(&the_cond), 2);
    lock_release(&cond_lock);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "abc");
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

Test(condition, a_waiter_cancelled_while_waiting_gets_the_lock_back_and_raises)
{
    cwaiter_t *f;
    task_t *t;

    lock_init(&cond_lock, fx.loop);
    condition_init(&the_cond, &cond_lock);
    log_[0] = 0;
    t = cwaiter('a', &f);
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert(!lock_locked(&cond_lock));
    cr_assert_eq(the_cond.waiters.count, 0);
    task_release(t);
}

Test(condition, a_notified_waiter_then_cancelled_passes_the_notification_on)
{
    cwaiter_t *f[2];
    task_t *t[2];
    waiter_t mine;

    lock_init(&cond_lock, fx.loop);
    condition_init(&the_cond, &cond_lock);
    log_[0] = 0;
    for (int i = 0; i < 2; i++)
        t[i] = cwaiter((char)('a' + i), &f[i]);
    fixture_settle(&fx);
    cr_assert(future_done(lock_acquire(&cond_lock, &mine)));
    cr_assert_eq(condition_notify(&the_cond, 1), 1);   /* a is notified */
    task_cancel(t[0]);                                  /* ... and cancelled */
    fixture_settle(&fx);
    lock_release(&cond_lock);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t[0])), FUTURE_CANCELLED);
    cr_assert_str_eq(log_, "b", "the notification went to b");
    cr_assert(!lock_locked(&cond_lock));
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

static int lockless_body(coro_t *co)
{
    cwaiter_t *f = (cwaiter_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, condition_wait(&the_cond, &f->cw));
    f->err = co->err;
    CORO_END(co);
}

Test(condition, waiting_without_the_lock_fails_with_eperm)
{
    cwaiter_t *f;
    task_t *t;

    lock_init(&cond_lock, fx.loop);
    condition_init(&the_cond, &cond_lock);
    t = task_create(fx.loop, lockless_body, sizeof *f, (void **)&f);
    fixture_settle(&fx);
    cr_assert_eq(f->err, EPERM);
    cr_assert_eq(the_cond.waiters.count, 0);
    task_release(t);
}
