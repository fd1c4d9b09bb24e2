/* Tests for exercise 03-race, on a fake clock. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "guard.h"
#include "sleep.h"
#include "task.h"

#define GUARD_S 10
#define GUARD_WHAT "a race test never returned: does the done callback " \
    "loop, waiting for something?"

static fixture_t fx;
/* Every test runs under the guard: armed before the loop is made,
 * disarmed after it is gone. */
static void setup(void)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    fixture_start(&fx);
}

static void teardown(void)
{
    fixture_stop(&fx);
    guard_disarm();
}

TestSuite(race, .init = setup, .fini = teardown, .timeout = 60);

typedef struct mirror {
    coro_t co;
    double delay;
    intptr_t value;
    int error;
    int cleaned_up;
    sleeper_t sleep;
    sleeper_t cleanup;
} mirror_t;

/* Answers after `delay`; when cancelled, takes 0.5 s to clean up. */
static int mirror_body(coro_t *co)
{
    mirror_t *f = (mirror_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sleep_start(&f->sleep, f->delay));
    if (co->err) {
        AWAIT(co, sleep_start(&f->cleanup, 0.5));
        f->cleaned_up = 1;
        CORO_FAIL(co, ECANCELED);
    }
    if (f->error)
        CORO_FAIL(co, f->error);
    CORO_RETURN(co, (void *)f->value);
    CORO_END(co);
}

static task_t *mirror(double delay, intptr_t value, int error, mirror_t **fp)
{
    task_t *t = task_create(fx.loop, mirror_body, sizeof **fp, (void **)fp);

    (*fp)->delay = delay;
    (*fp)->value = value;
    (*fp)->error = error;
    return t;
}

Test(race, the_fastest_result_wins_and_the_others_are_cancelled)
{
    mirror_t *f[3];
    task_t *t[3] = {mirror(1.0, 1, 0, &f[0]), mirror(0.2, 2, 0, &f[1]),
                    mirror(0.6, 3, 0, &f[2])};
    future_t *kids[3];
    future_callback_t records[3];
    race_t r;
    future_t *won;
    void *result = NULL;

    for (int i = 0; i < 3; i++)
        kids[i] = task_future(t[i]);
    won = race_start(&r, fx.loop, kids, 3, records);
    fixture_advance(&fx, 0.3);
    cr_assert_eq(future_state(kids[1]), FUTURE_RESULT, "the fastest child "
                 "(0.2 s) did not end with its result at 0.3 s: was the "
                 "winner cancelled too?");
    cr_assert(!future_done(won), "the race finished as soon as the winner "
              "did, while the losers still cleaned up (0.5 s): it must "
              "finish only once every child has finished");
    fixture_advance(&fx, 0.6);
    cr_assert(f[0]->cleaned_up && f[2]->cleaned_up, "the losers were not "
              "cancelled when the winner finished");
    cr_assert_eq(future_result(won, &result, NULL), FUTURE_OK, "the winner "
                 "returned a value, but the race did not finish with a "
                 "result (state %d): is the outcome taken from the first "
                 "child to finish, and from no later one?",
                 future_state(won));
    cr_assert_eq((intptr_t)result, 2, "the race's result is %ld, not the "
                 "winner's 2", (long)(intptr_t)result);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

Test(race, a_first_error_wins_too)
{
    mirror_t *f[2];
    task_t *t[2] = {mirror(1.0, 1, 0, &f[0]), mirror(0.1, 0, EHOSTUNREACH,
                                                     &f[1])};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};
    future_callback_t records[2];
    race_t r;
    int err = 0;
    future_t *won = race_start(&r, fx.loop, kids, 2, records);

    fixture_advance(&fx, 1.0);
    cr_assert_eq(future_result(won, NULL, &err), FUTURE_E_ERROR, "the first "
                 "child to finish failed, so the race must fail with its "
                 "error (state %d)", future_state(won));
    cr_assert_eq(err, EHOSTUNREACH, "the race failed with %d, not the "
                 "winner's EHOSTUNREACH", err);
    cr_assert(f[0]->cleaned_up, "the loser was not cancelled when the "
              "winner failed");
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

Test(race, plain_futures_cancelled_from_inside_the_callback)
{
    future_t a, b, c;
    future_t *kids[3] = {&a, &b, &c};
    future_callback_t records[3];
    race_t r;
    void *result = NULL;
    future_t *won;

    future_init(&a, fx.loop);
    future_init(&b, fx.loop);
    future_init(&c, fx.loop);
    won = race_start(&r, fx.loop, kids, 3, records);
    future_set_result(&b, (void *)42);
    cr_assert_eq(future_state(&a), FUTURE_CANCELLED, "a was not cancelled "
                 "when b won");
    cr_assert_eq(future_state(&c), FUTURE_CANCELLED, "c was not cancelled "
                 "when b won");
    cr_assert_eq(future_result(won, &result, NULL), FUTURE_OK, "b finished "
                 "first with 42, but the race ended in state %d: was the "
                 "winner recorded before the losers were cancelled? "
                 "(cancelling a plain Future runs its callbacks at once, "
                 "inside future_cancel())", future_state(won));
    cr_assert_eq((intptr_t)result, 42, "the race's result is %ld, not the "
                 "winner's 42", (long)(intptr_t)result);
}

/* A Task awaiting the race is cancelled and frees its frame: the race and
 * its records go with it, while the children (Tasks that take 0.5 s to
 * clean up) live on. Nothing may touch that storage afterwards, neither
 * before the winner is in nor while the losers clean up. */
typedef struct owner {
    race_t r;
    future_t *kids[2];
    future_callback_t records[2];
} owner_t;

static void cancel_then_reuse(double when)
{
    mirror_t *f[2];
    task_t *t[2] = {mirror(1.0, 1, 0, &f[0]), mirror(0.2, 2, 0, &f[1])};
    owner_t *o = malloc(sizeof *o);
    unsigned char *bytes = (unsigned char *)o;

    cr_assert_not_null(o);
    for (int i = 0; i < 2; i++)
        o->kids[i] = task_future(t[i]);
    race_start(&o->r, fx.loop, o->kids, 2, o->records);
    fixture_advance(&fx, when);
    cr_assert_eq(future_cancel(&o->r.future), 1, "cancelling a pending race "
                 "must succeed");
    cr_assert_eq(future_state(&o->r.future), FUTURE_CANCELLED, "cancelled, "
                 "the race must finish cancelled at once");
    memset(o, 0x5a, sizeof *o);           /* reused for something else */
    fixture_advance(&fx, 2.0);
    for (size_t i = 0; i < sizeof *o; i++)
        cr_assert_eq(bytes[i], 0x5a, "byte %zu of the freed storage was "
                     "written after the cancel", i);
    for (int i = 0; i < 2; i++) {
        cr_assert(future_done(task_future(t[i])), "child %d still runs "
                  "2 s after the race was cancelled", i);
        task_release(t[i]);
    }
    free(o);
}

Test(race, cancelled_before_the_winner_its_storage_is_never_touched)
{
    cancel_then_reuse(0.1);
}

Test(race, cancelled_while_the_losers_clean_up_its_storage_is_never_touched)
{
    cancel_then_reuse(0.3);
}
