/*
 * test_run.c - run(), asyncio.run's life cycle. The loop is run()'s own,
 * so the tests give it a fake clock that moves 1 ms each time it is read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "run.h"
#include "sleep.h"

TestSuite(run, .timeout = 10);

static double ticking_clock(void *arg)
{
    double *now = arg;

    return *now += 0.001;
}

static double now_s = 1000;
static const run_options_t fake = {
    .loop = {.clock = ticking_clock, .clock_arg = &now_s},
};

/* What a test's coroutines report back (run()'s frames are freed by the
 * time it returns). */
typedef struct report {
    int main_ran;
    int leftover_cleaned;
    int leftover_done_cleaning;
    loop_t *loop;
    executor_t *executor;
} report_t;

typedef struct leftover {
    coro_t co;
    report_t *report;
    sleeper_t sleep;
} leftover_t;

/* Left running by main: cancelled at the end, it cleans up with an await
 * of its own before it re-raises. */
static int leftover_body(coro_t *co)
{
    leftover_t *f = (leftover_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sleep_start(&f->sleep, f->report->loop, 1000));
    f->report->leftover_cleaned = co->err;
    AWAIT_CATCH(co, sleep_start(&f->sleep, f->report->loop, 0.01));
    f->report->leftover_done_cleaning = 1;
    CORO_FAIL(co, ECANCELED);
    CORO_END(co);
}

typedef struct main_frame {
    coro_t co;
    report_t *report;
    int fail;
    int leave_one;
    int use_executor;
    int raise_signal;
    sleeper_t sleep;
    future_t job;
} main_frame_t;

static void *answer_on_worker(void *arg)
{
    return (void *)((uintptr_t)arg * 2);
}

static int main_body(coro_t *co)
{
    main_frame_t *f = (main_frame_t *)co;

    CORO_BEGIN(co);
    f->report->main_ran = 1;
    if (f->leave_one) {
        leftover_t *l;
        task_t *t = task_create(f->report->loop, leftover_body, sizeof *l,
                                (void **)&l);

        l->report = f->report;
        task_release(t);              /* fire and forget: run() cleans up */
    }
    if (f->raise_signal)
        raise(SIGTERM);
    AWAIT(co, sleep_start(&f->sleep, f->report->loop,
                          f->raise_signal ? 1000 : 0.01));
    if (f->use_executor) {
        AWAIT(co, executor_submit(f->report->executor, &f->job,
                                  answer_on_worker, (void *)21));
        CORO_RETURN(co, co->in);
    }
    if (f->fail)
        CORO_FAIL(co, f->fail);
    CORO_RETURN(co, (void *)42);
    CORO_END(co);
}

typedef struct args {
    report_t *report;
    int fail, leave_one, use_executor, raise_signal, setup_fails;
} args_t;

static int setup(void *frame, loop_t *loop, executor_t *executor, void *arg)
{
    main_frame_t *f = frame;
    args_t *a = arg;

    if (a->setup_fails) {
        errno = EMFILE;
        return -1;
    }
    f->report = a->report;
    f->report->loop = loop;
    f->report->executor = executor;
    f->fail = a->fail;
    f->leave_one = a->leave_one;
    f->use_executor = a->use_executor;
    f->raise_signal = a->raise_signal;
    return 0;
}

Test(run, returns_the_main_coroutines_result)
{
    report_t rep = {0};
    args_t a = {.report = &rep};
    void *r = NULL;

    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &fake, &r,
                     NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)r, 42);
    cr_assert(rep.main_ran);
}

Test(run, returns_the_main_coroutines_error)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .fail = EPROTO};
    int err = 0;

    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &fake,
                     NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EPROTO);
}

Test(run, cancels_what_main_left_running_and_waits_for_its_clean_up)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .leave_one = 1};

    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &fake,
                     NULL, NULL), FUTURE_OK);
    cr_assert_eq(rep.leftover_cleaned, ECANCELED, "it was not cancelled");
    cr_assert(rep.leftover_done_cleaning, "its clean-up was cut short");
}

Test(run, gives_main_an_executor_when_asked)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .use_executor = 1};
    run_options_t o = fake;
    void *r = NULL;

    o.executor_threads = 1;
    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &o, &r,
                     NULL), FUTURE_OK);
    cr_assert_not_null(rep.executor);
    cr_assert_eq((intptr_t)r, 42);
}

Test(run, no_executor_unless_asked)
{
    report_t rep = {0};
    args_t a = {.report = &rep};

    run(main_body, sizeof(main_frame_t), setup, &a, &fake, NULL, NULL);
    cr_assert_null(rep.executor);
}

Test(run, a_failing_setup_never_runs_main_and_reports_its_error)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .setup_fails = 1};
    int err = 0;

    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &fake,
                     NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EMFILE);
    cr_assert(!rep.main_ran);
}

/* SIGTERM cancels the main Task: a clean end, not a death by signal. */
Test(run, a_stop_signal_cancels_main_when_asked)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .raise_signal = 1, .leave_one = 1};
    run_options_t o = fake;
    int err = 0;

    o.cancel_on_signals = 1;
    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &o, NULL,
                     &err), FUTURE_E_CANCELLED);
    cr_assert_eq(err, ECANCELED);
    cr_assert(rep.leftover_done_cleaning);
}
