/* Tests for exercise 03-barrier, on a fake clock. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "fixture.h"
#include "task.h"

static fixture_t fx;
static barrier_t bar;

static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(barrier, .init = setup, .fini = teardown, .timeout = 10);

typedef struct member {
    coro_t co;
    int rounds, i;
    intptr_t index[4];
    int passed;
    int err;
    waiter_t w;
} member_t;

static int member_body(coro_t *co)
{
    member_t *f = (member_t *)co;

    CORO_BEGIN(co);
    for (f->i = 0; f->i < f->rounds; f->i++) {
        AWAIT_CATCH(co, barrier_wait(&bar, &f->w));
        if ((f->err = co->err))
            CORO_FAIL(co, co->err);
        f->index[f->i] = (intptr_t)co->in;
        f->passed++;
    }
    CORO_END(co);
}

static task_t *member(int rounds, member_t **fp)
{
    task_t *t = task_create(fx.loop, member_body, sizeof **fp, (void **)fp);

    (*fp)->rounds = rounds;
    return t;
}

Test(barrier, nobody_passes_until_the_group_is_complete)
{
    member_t *f[3];
    task_t *t[3];

    barrier_init(&bar, fx.loop, 3);
    t[0] = member(1, &f[0]);
    t[1] = member(1, &f[1]);
    fixture_settle(&fx);
    cr_assert_eq(f[0]->passed + f[1]->passed, 0, "passed with 2 of 3");
    t[2] = member(1, &f[2]);
    fixture_settle(&fx);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(f[i]->passed, 1, "member %d still waits", i);
        cr_assert_eq(f[i]->index[0], i, "arrival index of member %d", i);
        task_release(t[i]);
    }
}

Test(barrier, it_is_cyclic)
{
    member_t *f[2];
    task_t *t[2];

    barrier_init(&bar, fx.loop, 2);
    t[0] = member(3, &f[0]);
    t[1] = member(3, &f[1]);
    fixture_settle(&fx);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(f[i]->passed, 3);
        task_release(t[i]);
    }
    cr_assert_eq(bar.waiting.count, 0);
}

Test(barrier, a_cancelled_waiter_no_longer_counts)
{
    member_t *f[3];
    task_t *t[3];

    barrier_init(&bar, fx.loop, 2);
    t[0] = member(1, &f[0]);
    fixture_settle(&fx);
    task_cancel(t[0]);
    fixture_settle(&fx);
    cr_assert_eq(f[0]->err, ECANCELED);
    t[1] = member(1, &f[1]);
    fixture_settle(&fx);
    cr_assert_eq(f[1]->passed, 0, "released with a cancelled partner");
    t[2] = member(1, &f[2]);
    fixture_settle(&fx);
    cr_assert_eq(f[1]->passed, 1);
    cr_assert_eq(f[2]->passed, 1);
    cr_assert_eq(f[1]->index[0], 0);
    cr_assert_eq(f[2]->index[0], 1);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

/* With one party every arrival completes a group: nobody ever waits. An
 * answer that always makes the first arrival wait fails here (and would
 * hang a real program). */
Test(barrier, with_one_party_nobody_waits, .timeout = 5)
{
    member_t *f;
    task_t *t;

    barrier_init(&bar, fx.loop, 1);
    t = member(3, &f);
    fixture_settle(&fx);
    cr_assert_eq(f->passed, 3, "passed %d of 3 rounds alone", f->passed);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(f->index[i], 0);
    cr_assert(future_done(task_future(t)));
    task_release(t);
}
