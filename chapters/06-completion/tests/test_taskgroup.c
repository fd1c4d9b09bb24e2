/*
 * test_taskgroup.c - task groups, on the fake clock.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>

#include "fixture.h"
#include "sleep.h"
#include "taskgroup.h"
#include "timeout.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(taskgroup, .init = setup, .fini = teardown, .timeout = 10);

/* A child: `steps` sleeps of `step_s`, then fails with `fail` (or returns).
 * Cancelled, it notes where, sleeps `cleanup_s` more if that is set (a
 * clean-up that awaits), then re-raises, or fails with `on_cancel` instead
 * when that is set. */
typedef struct kid {
    coro_t co;
    int steps;
    double step_s;
    int fail;
    int on_cancel;
    double cleanup_s;
    int done;
    int seen;
    sleeper_t sleep;
} kid_t;

static int kid_body(coro_t *co)
{
    kid_t *k = (kid_t *)co;

    CORO_BEGIN(co);
    for (k->done = 0; k->done < k->steps; k->done++) {
        AWAIT_CATCH(co, sleep_start(&k->sleep, k->step_s));
        if (co->err) {
            k->seen = co->err;
            if (k->cleanup_s > 0)
                AWAIT_CATCH(co, sleep_start(&k->sleep, k->cleanup_s));
            CORO_FAIL(co, k->on_cancel ? k->on_cancel : k->seen);
        }
    }
    if (k->fail)
        CORO_FAIL(co, k->fail);
    CORO_END(co);
}

/* The tests read the children's frames after they have finished, so each
 * child gets one more reference, never dropped: the frames stay readable
 * until the test process ends. */
static task_t *keep(task_t *t)
{
    return t != NULL ? task_retain(t) : NULL;
}

enum { MAX_KIDS = 4 };

/* The owner: starts `n` kids (as described in `spec`), leaves the group,
 * and keeps what that raised. */
typedef struct owner {
    coro_t co;
    task_group_t group;
    int n;
    kid_t spec[MAX_KIDS];
    kid_t *kids[MAX_KIDS];
    task_t *tasks[MAX_KIDS];  /* borrowed: valid while running */
    int abort_with;           /* the owner's own failure inside the group */
    int err;
    int left;
} owner_t;

static int owner_body(coro_t *co)
{
    owner_t *f = (owner_t *)co;

    CORO_BEGIN(co);
    task_group_init(&f->group, fx.loop);
    for (int i = 0; i < f->n; i++) {
        kid_t *k;

        f->tasks[i] = keep(task_group_create_task(&f->group, kid_body,
                                                  sizeof *k, (void **)&k));
        cr_assert_not_null(f->tasks[i]);
        k->steps = f->spec[i].steps;
        k->step_s = f->spec[i].step_s;
        k->fail = f->spec[i].fail;
        k->on_cancel = f->spec[i].on_cancel;
        k->cleanup_s = f->spec[i].cleanup_s;
        f->kids[i] = k;
    }
    if (f->abort_with)
        task_group_abort(&f->group, f->abort_with);
    AWAIT_CATCH(co, task_group_wait(&f->group));
    f->err = co->err;
    f->left = 1;
    cr_assert_eq(task_group_running(&f->group), 0, "left with kids running");
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_END(co);
}

static task_t *owner(owner_t **frame)
{
    owner_t *f;
    task_t *t = task_create(fx.loop, owner_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    *frame = f;
    return t;
}

static void kid(owner_t *f, int steps, double step_s, int fail)
{
    f->spec[f->n].steps = steps;
    f->spec[f->n].step_s = step_s;
    f->spec[f->n].fail = fail;
    f->n++;
}

Test(taskgroup, leaving_waits_for_every_child)
{
    owner_t *f;
    task_t *t = owner(&f);

    kid(f, 1, 0.3, 0);
    kid(f, 1, 0.1, 0);
    kid(f, 2, 0.1, 0);
    fixture_advance(&fx, 0.25);
    cr_assert(!f->left, "left before the slowest child ended");
    fixture_advance(&fx, 0.1);
    cr_assert(f->left);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(future_state(task_future(t)), FUTURE_RESULT);
    task_release(t);
}

Test(taskgroup, an_empty_group_is_left_at_once)
{
    owner_t *f;
    task_t *t = owner(&f);

    fixture_settle(&fx);
    cr_assert(f->left);
    cr_assert_eq(f->err, 0);
    task_release(t);
}

/* The first failure cancels the others; the group fails with it; a later
 * failure (a child whose clean-up fails) is counted, not raised. */
Test(taskgroup, the_first_failure_cancels_the_rest_and_the_others_are_counted)
{
    owner_t *f;
    task_t *t = owner(&f);

    kid(f, 1, 0.1, EPIPE);
    kid(f, 3, 1.0, 0);
    kid(f, 3, 1.0, 0);
    f->spec[2].on_cancel = EIO;
    fixture_advance(&fx, 0.15);
    cr_assert(f->left, "still waiting after the first failure");
    cr_assert_eq(f->err, EPIPE);
    cr_assert_eq(f->kids[1]->seen, ECANCELED);
    cr_assert_eq(f->kids[1]->done, 0);
    cr_assert_eq(f->kids[2]->seen, ECANCELED);
    cr_assert_eq(task_group_failures(&f->group), 2);
    task_release(t);
}

/* The owner's own failure inside the group: the children are cancelled
 * and the group fails with the owner's error. */
Test(taskgroup, the_owners_own_failure_cancels_the_children)
{
    owner_t *f;
    task_t *t = owner(&f);

    kid(f, 3, 0.1, 0);
    f->abort_with = EILSEQ;
    fixture_settle(&fx);
    cr_assert(f->left);
    cr_assert_eq(f->err, EILSEQ);
    cr_assert_eq(future_state(task_future(f->tasks[0])), FUTURE_CANCELLED);
    cr_assert_eq(f->kids[0]->seen, 0, "cancelled before it started, it ran");
    cr_assert_eq(task_group_failures(&f->group), 0, "a child's failure?");
    task_release(t);
}

/* Errors travel: the owner's plain await would raise the child's error. */
Test(taskgroup, a_childs_error_is_the_owners_error)
{
    owner_t *f;
    task_t *t = owner(&f);
    int err = 0;

    kid(f, 2, 0.1, ENOSPC);
    fixture_advance(&fx, 0.3);
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ENOSPC);
    task_release(t);
}

Test(taskgroup, a_child_cancelled_from_outside_is_not_a_failure)
{
    owner_t *f;
    task_t *t = owner(&f);
    task_t *victim;

    kid(f, 1, 1.0, 0);
    kid(f, 2, 1.0, 0);
    fixture_settle(&fx);
    victim = f->tasks[1];
    cr_assert_eq(task_cancel(victim), 1);
    fixture_advance(&fx, 1.1);
    cr_assert(f->left);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(task_group_failures(&f->group), 0);
    cr_assert_eq(f->kids[0]->done, 1, "the other child was stopped");
    task_release(t);
}

/* Cancelling the owner cancels every child, wherever each one is. */
Test(taskgroup, cancelling_the_owner_cancels_every_child_at_any_await)
{
    for (int at = 0; at < 3; at++) {
        owner_t *f;
        task_t *t = owner(&f);

        kid(f, 3, 0.1, 0);
        kid(f, 3, 0.1, 0);
        fixture_advance(&fx, 0.05 + 0.1 * at);
        task_cancel(t);
        fixture_settle(&fx);
        cr_assert(f->left);
        cr_assert_eq(f->err, ECANCELED);
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(f->kids[i]->seen, ECANCELED);
            cr_assert_eq(f->kids[i]->done, at);
        }
        cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
        cr_assert_eq(loop_timer_count(fx.loop), 0);
        task_release(t);
    }
}

/* A child that fails while the owner is being cancelled: the error wins
 * over the cancellation (asyncio raises the ExceptionGroup). */
Test(taskgroup, a_failure_during_cancellation_wins)
{
    owner_t *f;
    task_t *t = owner(&f);
    int err = 0;

    kid(f, 3, 0.1, 0);
    f->spec[0].on_cancel = EIO;
    fixture_advance(&fx, 0.05);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EIO);
    task_release(t);
}

/* task_group_cancel(): "no longer wanted", a normal end. */
typedef struct stopper {
    coro_t co;
    task_group_t *group;
    sleeper_t sleep;
} stopper_t;

static int stopper_body(coro_t *co)
{
    stopper_t *f = (stopper_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, sleep_start(&f->sleep, 0.2));
    task_group_cancel(f->group);
    cr_assert_null(task_group_create_task(f->group, kid_body, sizeof(kid_t),
                                          (void **)&(kid_t *){NULL}));
    cr_assert_eq(errno, ECANCELED, "a child started into a closing group");
    CORO_END(co);
}

typedef struct stopping_owner {
    coro_t co;
    task_group_t group;
    kid_t *forever;
    int err;
} stopping_owner_t;

static int stopping_owner_body(coro_t *co)
{
    stopping_owner_t *f = (stopping_owner_t *)co;
    stopper_t *s;

    CORO_BEGIN(co);
    task_group_init(&f->group, fx.loop);
    keep(task_group_create_task(&f->group, kid_body, sizeof *f->forever,
                                (void **)&f->forever));
    f->forever->steps = 1;
    f->forever->step_s = 1000;
    task_group_create_task(&f->group, stopper_body, sizeof *s, (void **)&s);
    s->group = &f->group;
    AWAIT_CATCH(co, task_group_wait(&f->group));
    f->err = co->err;
    cr_assert_null(task_group_create_task(&f->group, kid_body, sizeof(kid_t),
                                          (void **)&(kid_t *){NULL}));
    cr_assert_eq(errno, EINVAL, "a child started into a finished group");
    CORO_END(co);
}

Test(taskgroup, cancelling_the_group_ends_it_normally)
{
    stopping_owner_t *f;
    task_t *t = task_create(fx.loop, stopping_owner_body, sizeof *f,
                            (void **)&f);

    fixture_advance(&fx, 0.25);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(f->forever->seen, ECANCELED);
    cr_assert_eq(future_state(task_future(t)), FUTURE_RESULT);
    task_release(t);
}

/* Nested: a child owns a group of its own. */
typedef struct middle {
    coro_t co;
    owner_t inner;      /* run as a sub-coroutine: the inner group's owner */
} middle_t;

static int middle_body(coro_t *co)
{
    middle_t *f = (middle_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO(co, &f->inner.co);
    CORO_END(co);
}

typedef struct outer {
    coro_t co;
    task_group_t group;
    middle_t *middle;
    kid_t *sibling;
    int fail_inner;
    int err;
} outer_t;

static int outer_body(coro_t *co)
{
    outer_t *f = (outer_t *)co;

    CORO_BEGIN(co);
    task_group_init(&f->group, fx.loop);
    keep(task_group_create_task(&f->group, middle_body, sizeof *f->middle,
                                (void **)&f->middle));
    coro_init(&f->middle->inner.co, owner_body);
    kid(&f->middle->inner, 3, 0.1, 0);
    kid(&f->middle->inner, 1, 0.15, f->fail_inner);
    keep(task_group_create_task(&f->group, kid_body, sizeof *f->sibling,
                                (void **)&f->sibling));
    f->sibling->steps = 1;
    f->sibling->step_s = 10;
    AWAIT_CATCH(co, task_group_wait(&f->group));
    f->err = co->err;
    CORO_END(co);
}

Test(taskgroup, nested_an_inner_failure_reaches_the_outer_group)
{
    outer_t *f;
    task_t *t = task_create(fx.loop, outer_body, sizeof *f, (void **)&f);

    f->fail_inner = EBADMSG;
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->middle->inner.err, EBADMSG);
    cr_assert_eq(f->middle->inner.kids[0]->seen, ECANCELED);
    cr_assert_eq(f->sibling->seen, ECANCELED, "the sibling went on");
    cr_assert_eq(f->err, EBADMSG);
    task_release(t);
}

Test(taskgroup, nested_cancelling_the_top_reaches_the_grandchildren)
{
    outer_t *f;
    task_t *t = task_create(fx.loop, outer_body, sizeof *f, (void **)&f);

    fixture_advance(&fx, 0.05);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->middle->inner.kids[0]->seen, ECANCELED);
    cr_assert_eq(f->middle->inner.kids[1]->seen, ECANCELED);
    cr_assert_eq(f->sibling->seen, ECANCELED);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}

/* A group inside a timeout scope: the deadline cancels the owner, so the
 * whole group, and the scope says ETIMEDOUT. */
typedef struct bounded {
    coro_t co;
    owner_t body;
    timeout_scope_t scope;
    int err;
} bounded_t;

static int bounded_body(coro_t *co)
{
    bounded_t *f = (bounded_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, timeout_run(&f->scope, 0.25, &f->body.co));
    f->err = co->err;
    CORO_END(co);
}

Test(taskgroup, a_group_in_a_timeout_scope_is_cancelled_whole_at_the_deadline)
{
    bounded_t *f;
    task_t *t = task_create(fx.loop, bounded_body, sizeof *f, (void **)&f);

    coro_init(&f->body.co, owner_body);
    kid(&f->body, 5, 0.1, 0);
    kid(&f->body, 1, 10, 0);
    fixture_advance(&fx, 0.3);
    cr_assert_eq(f->body.kids[0]->done, 2);
    cr_assert_eq(f->body.kids[0]->seen, ECANCELED);
    cr_assert_eq(f->body.kids[1]->seen, ECANCELED);
    cr_assert_eq(f->body.err, ECANCELED);
    cr_assert_eq(f->err, ETIMEDOUT);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}

/* A group can never be left with children running: cancelled, it is left
 * only once the slowest child has unwound, however long its clean-up
 * awaits. (So the wait is the group's end: there is nothing to deinit.) */
Test(taskgroup, a_cancelled_group_is_left_only_once_every_child_has_unwound)
{
    owner_t *f;
    task_t *t = owner(&f);

    kid(f, 3, 0.1, 0);
    kid(f, 3, 0.1, 0);
    f->spec[1].cleanup_s = 0.5;
    fixture_advance(&fx, 0.05);
    task_cancel(t);
    fixture_advance(&fx, 0.4);
    cr_assert(!f->left, "left while a child was still cleaning up");
    cr_assert_eq(task_group_running(&f->group), 1);
    cr_assert_eq(f->kids[0]->seen, ECANCELED);
    fixture_advance(&fx, 0.2);
    cr_assert(f->left);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);
}

/* Several failures: the group raises the first (asyncio's TaskGroup would
 * raise them all in an ExceptionGroup; C has none). The later ones are
 * not lost silently: the group counts them, retrieves them (so no "never
 * retrieved" warning when their Tasks are freed), and a child the owner
 * still holds tells its own. */
typedef struct failing_owner {
    coro_t co;
    task_group_t group;
    task_t *held;             /* the owner's own reference to one child */
    size_t failures;
    int err;
    int held_err;
} failing_owner_t;

static int failing_owner_body(coro_t *co)
{
    failing_owner_t *f = (failing_owner_t *)co;
    static const int fail_now[] = {EPIPE, 0, 0};
    static const int fail_on_cancel[] = {0, EIO, ENOSPC};

    CORO_BEGIN(co);
    task_group_init(&f->group, fx.loop);
    for (int i = 0; i < 3; i++) {
        kid_t *k;
        task_t *t = task_group_create_task(&f->group, kid_body, sizeof *k,
                                           (void **)&k);

        cr_assert_not_null(t);
        k->steps = i == 0 ? 1 : 3;
        k->step_s = i == 0 ? 0.1 : 1.0;
        k->fail = fail_now[i];
        k->on_cancel = fail_on_cancel[i];
        if (i == 2)
            f->held = task_retain(t);
    }
    AWAIT_CATCH(co, task_group_wait(&f->group));
    f->err = co->err;
    f->failures = task_group_failures(&f->group);
    future_result(task_future(f->held), NULL, &f->held_err);
    task_release(f->held);
    CORO_END(co);
}

static void quiet_setup(void)
{
    cr_redirect_stderr();
    setup();
}

Test(taskgroup, later_failures_are_counted_retrieved_and_told_by_the_child,
     .init = quiet_setup)
{
    failing_owner_t *f;
    task_t *t = task_create(fx.loop, failing_owner_body, sizeof *f,
                            (void **)&f);

    fixture_advance(&fx, 0.15);
    cr_assert(future_done(task_future(t)));
    cr_assert_eq(f->err, EPIPE, "the first failure is the group's");
    cr_assert_eq(f->failures, 3, "every failing child is counted");
    cr_assert_eq(f->held_err, ENOSPC, "a held child tells its own error");
    task_release(t);
    fixture_settle(&fx);
    fflush(stderr);
    cr_assert_stderr_eq_str("", "a failure the group retrieved was "
                            "reported as never retrieved");
}

/* The group's note on a child lives in the child's own allocation and
 * costs it the note's size, no padding besides: a server holds one such
 * allocation per connection. A frame of 312 bytes (a multiple of 8, not
 * of 16) is where padding to max_align_t would show. */
Test(taskgroup, a_child_costs_its_task_the_groups_note_and_no_padding)
{
    task_group_t g;
    void *frame;
    task_t *alone = task_create(fx.loop, kid_body, 312, &frame);
    task_t *child;

    task_group_init(&g, fx.loop);
    child = task_group_create_task(&g, kid_body, 312, &frame);
    cr_assert_not_null(alone);
    cr_assert_not_null(child);
    size_t extra = malloc_usable_size(child) - malloc_usable_size(alone);
    cr_assert_leq(extra, 64, "%zu bytes for the note", extra);
    task_cancel(alone);
    task_release(alone);
    fixture_settle(&fx);
    cr_assert_eq(task_group_running(&g), 0);
}
