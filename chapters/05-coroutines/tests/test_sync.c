#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "sync.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(lock, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(event, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(semaphore, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(queue, .init = setup, .fini = teardown, .timeout = 10);

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
    AWAIT_CATCH(co, sleep_start(&f->sleep, fx.loop, f->hold));
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
    AWAIT_CATCH(co, sleep_start(&f->sleep, fx.loop, 0.1));
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
        AWAIT(co, sleep_start(&f->sleep, fx.loop, 0.1));
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
