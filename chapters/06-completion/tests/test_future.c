/*
 * test_future.c - the Future's states, outcomes and done callbacks.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "fixture.h"
#include "future.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(future, .init = setup, .fini = teardown, .timeout = 10);

static int order[8];
static int norder;

static void note(future_t *f, void *arg)
{
    (void)f;
    order[norder++] = (int)(intptr_t)arg;
}

Test(future, callbacks_added_before_completion_run_in_order_when_it_completes)
{
    future_t f;
    future_callback_t a, b;

    norder = 0;
    future_init(&f, fx.loop);
    future_add_done_callback(&f, &a, note, (void *)1);
    future_add_done_callback(&f, &b, note, (void *)2);
    cr_assert_eq(norder, 0);
    cr_assert_eq(future_set_result(&f, (void *)42), FUTURE_OK);
    cr_assert_eq(norder, 2);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 2);
}

Test(future, callbacks_added_after_completion_are_queued_not_run_at_once)
{
    future_t f;
    future_callback_t a;

    norder = 0;
    future_init(&f, fx.loop);
    future_set_result(&f, NULL);
    cr_assert_eq(future_add_done_callback(&f, &a, note, (void *)7), FUTURE_OK);
    cr_assert_eq(norder, 0, "ran re-entrantly");
    loop_run_once(fx.loop);
    cr_assert_eq(norder, 1);
    cr_assert_eq(order[0], 7);
}

Test(future, setting_twice_is_a_reported_error_and_changes_nothing)
{
    future_t f;
    void *r = NULL;

    future_init(&f, fx.loop);
    cr_assert_eq(future_set_result(&f, (void *)1), FUTURE_OK);
    cr_assert_eq(future_set_result(&f, (void *)2), FUTURE_E_FINISHED);
    cr_assert_eq(future_set_error(&f, EIO), FUTURE_E_FINISHED);
    cr_assert_eq(future_result(&f, &r, NULL), FUTURE_OK);
    cr_assert_eq(r, (void *)1);
    cr_assert_str_eq(future_strerror(FUTURE_E_FINISHED),
                     "the future has already finished: it cannot be set twice");
}

Test(future, reading_a_pending_result_is_a_reported_error)
{
    future_t f;
    void *r = (void *)5;

    future_init(&f, fx.loop);
    cr_assert_eq(future_result(&f, &r, NULL), FUTURE_E_PENDING);
    cr_assert_eq(r, (void *)5);
    cr_assert_not_null(future_strerror(FUTURE_E_PENDING));
}

Test(future, an_error_is_read_back_with_its_code)
{
    future_t f;
    int err = 0;

    future_init(&f, fx.loop);
    future_set_error(&f, ECONNRESET);
    cr_assert_eq(future_state(&f), FUTURE_ERROR);
    cr_assert_eq(future_result(&f, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ECONNRESET);
}

Test(future, cancel_finishes_a_pending_future_and_runs_callbacks)
{
    future_t f;
    future_callback_t a;
    int err = 0;

    norder = 0;
    future_init(&f, fx.loop);
    future_add_done_callback(&f, &a, note, (void *)3);
    cr_assert_eq(future_cancel(&f), 1);
    cr_assert_eq(norder, 1);
    cr_assert_eq(future_result(&f, NULL, &err), FUTURE_E_CANCELLED);
    cr_assert_eq(err, ECANCELED);
}

Test(future, cancelling_a_finished_future_does_nothing)
{
    future_t f;

    future_init(&f, fx.loop);
    future_set_result(&f, (void *)9);
    cr_assert_eq(future_cancel(&f), 0);
    cr_assert_eq(future_state(&f), FUTURE_RESULT);
}

Test(future, a_removed_callback_does_not_run)
{
    future_t f;
    future_callback_t a, b;

    norder = 0;
    future_init(&f, fx.loop);
    future_add_done_callback(&f, &a, note, (void *)1);
    future_add_done_callback(&f, &b, note, (void *)2);
    cr_assert_eq(future_remove_done_callback(&f, &a), 1);
    cr_assert_eq(future_remove_done_callback(&f, &a), 0);
    future_set_result(&f, NULL);
    cr_assert_eq(norder, 1);
    cr_assert_eq(order[0], 2);
}
