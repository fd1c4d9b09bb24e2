/*
 * test_run.c - run(), asyncio.run's life cycle. The loop is run()'s own,
 * so the tests give it a fake clock that moves 1 ms each time it is read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h" /* chapter 06 */
#include "run.h"
#include "sleep.h"

TestSuite(run, .init = fixture_need_uring, .timeout = 10); /* chapter 06 */

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
    AWAIT_CATCH(co, sleep_start(&f->sleep, 1000));
    f->report->leftover_cleaned = co->err;
    AWAIT_CATCH(co, sleep_start(&f->sleep, 0.01));
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
    int late_signal;
    sleeper_t sleep;
    future_t job;
} main_frame_t;

static void *answer_on_worker(void *arg)
{
    return (void *)((uintptr_t)arg * 2);
}

/* Sends SIGTERM to the process once run() is shutting down (main has
 * returned without awaiting this job, and run() waits for it). */
static atomic_int sigterm_job_started;

static void *sigterm_later(void *arg)
{
    struct timespec pause = {0, 100 * 1000 * 1000};

    (void)arg;
    atomic_store(&sigterm_job_started, 1);
    nanosleep(&pause, NULL);
    kill(getpid(), SIGTERM);
    return NULL;
}

static int main_body(coro_t *co)
{
    main_frame_t *f = (main_frame_t *)co;

    CORO_BEGIN(co);
    f->report->main_ran = 1;
    if (f->late_signal) {
        executor_submit(f->report->executor, &f->job, sigterm_later, NULL);
        while (!atomic_load(&sigterm_job_started))
            AWAIT(co, NULL);          /* running, so run() will wait */
        CORO_RETURN(co, NULL);
    }
    if (f->leave_one) {
        leftover_t *l;
        task_t *t = task_create(running_loop(), leftover_body, sizeof *l,
                                (void **)&l);

        l->report = f->report;
        task_release(t);              /* fire and forget: run() cleans up */
    }
    if (f->raise_signal)
        raise(SIGTERM);
    AWAIT(co, sleep_start(&f->sleep, f->raise_signal ? 1000 : 0.01));
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
    int late_signal;
} args_t;

static int setup(void *frame, executor_t *executor, void *arg)
{
    main_frame_t *f = frame;
    args_t *a = arg;

    if (a->setup_fails) {
        errno = EMFILE;
        return -1;
    }
    f->report = a->report;
    f->report->executor = executor;
    f->fail = a->fail;
    f->leave_one = a->leave_one;
    f->use_executor = a->use_executor;
    f->raise_signal = a->raise_signal;
    f->late_signal = a->late_signal;
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

/* Also main's running_loop() is run()'s loop: the Task it starts there is
 * one that run() cancels at the end. */
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

static sigset_t stop_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

/* run() blocks the stop signals while it shuts down; the caller gets its
 * own mask back, or it would never hear SIGINT again. */
Test(run, gives_the_caller_its_signal_mask_back)
{
    report_t rep = {0};
    args_t a = {.report = &rep};
    run_options_t o = fake;
    sigset_t stop = stop_signals(), after;

    o.cancel_on_signals = 1;
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &o, NULL,
                     NULL), FUTURE_OK);
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    cr_assert(!sigismember(&after, SIGINT), "SIGINT left blocked");
    cr_assert(!sigismember(&after, SIGTERM), "SIGTERM left blocked");
}

/* A caller that blocks one keeps it blocked, and one that comes during
 * the shutdown is left pending: the caller's to take. */
Test(run, leaves_a_callers_blocked_signal_blocked_and_a_late_one_pending)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .late_signal = 1};
    run_options_t o = fake;
    sigset_t term, after, pending;

    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    o.cancel_on_signals = 1;
    o.executor_threads = 1;
    o.executor_wait = 1;
    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &o, NULL,
                     NULL), FUTURE_OK);
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    cr_assert(sigismember(&after, SIGTERM), "SIGTERM unblocked");
    sigpending(&pending);
    cr_assert(sigismember(&pending, SIGTERM), "the late SIGTERM was taken");
    cr_assert_eq(sigwaitinfo(&term, NULL), SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL);
}

/* A SIGTERM that comes while run() is shutting down (its handlers gone)
 * must not kill the process: the program has decided to end already. */
Test(run, a_stop_signal_during_the_shutdown_changes_nothing)
{
    report_t rep = {0};
    args_t a = {.report = &rep, .late_signal = 1};
    run_options_t o = fake;
    sigset_t stop = stop_signals();

    o.cancel_on_signals = 1;
    o.executor_threads = 1;
    o.executor_wait = 1;
    signal(SIGTERM, SIG_DFL);          /* a program's own: death */
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &o, NULL,
                     NULL), FUTURE_OK);
}

/* What a program calls before run() so that a stop signal arriving after
 * run() has returned stays pending instead of killing it. */
Test(run, run_block_stop_signals_blocks_them_and_run_keeps_that_mask)
{
    report_t rep = {0};
    args_t a = {.report = &rep};
    run_options_t o = fake;
    sigset_t stop = stop_signals(), after, pending;

    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    cr_assert_eq(run_block_stop_signals(), 0);
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    cr_assert(sigismember(&after, SIGINT), "SIGINT not blocked");
    cr_assert(sigismember(&after, SIGTERM), "SIGTERM not blocked");
    o.cancel_on_signals = 1;
    cr_assert_eq(run(main_body, sizeof(main_frame_t), setup, &a, &o, NULL,
                     NULL), FUTURE_OK);
    signal(SIGTERM, SIG_DFL);          /* a program's own: death */
    raise(SIGTERM);                    /* after run(): must not kill */
    sigpending(&pending);
    cr_assert(sigismember(&pending, SIGTERM), "the SIGTERM was not kept");
    cr_assert_eq(sigwaitinfo(&stop, NULL), SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
}

/* running_loop(): the loop of the Task whose step runs, whichever loop
 * that is; NULL where no Task runs. */
typedef struct asker {
    coro_t co;
    loop_t *seen;
    loop_t *seen_after_await;
} asker_t;

static int asker_body(coro_t *co)
{
    asker_t *f = (asker_t *)co;

    CORO_BEGIN(co);
    f->seen = running_loop();
    AWAIT(co, NULL);
    f->seen_after_await = running_loop();
    CORO_END(co);
}

static void ask_in_callback(loop_t *loop, void *arg)
{
    (void)loop;
    *(loop_t **)arg = running_loop();
}

Test(run, running_loop_is_the_loop_of_the_running_task)
{
    double now_a = 0, now_b = 0;
    loop_options_t oa = {.clock = ticking_clock, .clock_arg = &now_a};
    loop_options_t ob = {.clock = ticking_clock, .clock_arg = &now_b};
    loop_t *a = loop_create(&oa), *b = loop_create(&ob);
    asker_t *fa, *fb;
    loop_t *in_callback = a;

    cr_assert_not_null(a);
    cr_assert_not_null(b);
    task_t *ta = task_create(a, asker_body, sizeof *fa, (void **)&fa);
    task_t *tb = task_create(b, asker_body, sizeof *fb, (void **)&fb);
    cr_assert_eq(loop_run_until_complete(b, task_future(tb), NULL, NULL),
                 FUTURE_OK);
    cr_assert_eq(loop_run_until_complete(a, task_future(ta), NULL, NULL),
                 FUTURE_OK);
    cr_assert_eq(fa->seen, a, "a Task on loop a was told another loop");
    cr_assert_eq(fb->seen, b, "a Task on loop b was told another loop");
    cr_assert_eq(fa->seen_after_await, a);
    cr_assert_eq(fb->seen_after_await, b);
    cr_assert_null(running_loop(), "outside a Task there is none");
    loop_call_soon(a, ask_in_callback, &in_callback);
    loop_run_once(a);
    cr_assert_null(in_callback, "a plain callback is in no Task");
    task_release(ta);
    task_release(tb);
    loop_destroy(b);
    loop_destroy(a);
}
