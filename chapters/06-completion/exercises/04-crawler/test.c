/* Tests for exercise 04-crawler, on a fake clock with fake fetches. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "guard.h"

#define GUARD_S 10
#define GUARD_WHAT "the crawl never gave the loop back: does a worker " \
    "wait for something (a unit of the semaphore, a job) in a loop " \
    "without awaiting it?"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(crawler, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the fake fetch ---------------------------------------------------- */

/* How the fake server answers one URL. */
typedef struct plan {
    const char *url;
    double delay_s;
    intptr_t body;   /* the body, if error is 0 */
    int error;
} plan_t;

/* One fetch in flight or done. */
typedef struct fake {
    const plan_t *plan;
    future_t future;
    loop_timer_t timer;
    future_callback_t done;
    double started_s;
} fake_t;

#define MAX_FAKES 64
static fake_t fakes[MAX_FAKES];
static size_t fetches;        /* fetch() calls */
static size_t in_flight;      /* fetches not finished */
static size_t max_in_flight;  /* the most at once */
static semaphore_t limit;
static size_t limit_units;    /* what the test gave the semaphore */
static int held_too_few;      /* a fetch ran without its unit */

static void check_units(void)
{
    /* Units held = units given - units free; a waiter handed a unit
     * still counts as holding it. */
    if (limit_units - limit.value < in_flight)
        held_too_few = 1;
}

static void fake_answer(loop_t *loop, void *arg)
{
    fake_t *f = arg;

    (void)loop;
    if (f->plan->error)
        future_set_error(&f->future, f->plan->error);
    else
        future_set_result(&f->future, (void *)f->plan->body);
}

static void fake_done(future_t *future, void *arg)
{
    fake_t *f = arg;

    check_units();
    in_flight--;
    if (future_state(future) == FUTURE_CANCELLED)
        loop_cancel(fx.loop, &f->timer);
}

static future_t *fake_fetch(void *arg, const char *url)
{
    const plan_t *p = arg;
    fake_t *f;

    while (p->url != NULL && strcmp(p->url, url) != 0)
        p++;
    cr_assert_not_null(p->url, "fetch() was called with \"%s\", which is "
                       "not one of the URLs given", url);
    cr_assert_lt(fetches, MAX_FAKES, "more than %d fetches for a handful "
                 "of URLs: is a URL fetched again and again?", MAX_FAKES);
    f = &fakes[fetches++];
    f->plan = p;
    f->started_s = loop_time(fx.loop);
    future_init(&f->future, fx.loop);
    loop_timer_init(&f->timer);
    cr_assert_eq(loop_call_later(fx.loop, &f->timer, p->delay_s,
                                 fake_answer, f), 0);
    future_add_done_callback(&f->future, &f->done, fake_done, f);
    in_flight++;
    if (in_flight > max_in_flight)
        max_in_flight = in_flight;
    check_units();
    return &f->future;
}

static size_t times_fetched(const char *url)
{
    size_t n = 0;

    for (size_t i = 0; i < fetches; i++)
        n += strcmp(fakes[i].plan->url, url) == 0;
    return n;
}

/* ---- a crawl --------------------------------------------------------- */

#define MAX_URLS 8

typedef struct run {
    crawl_t c;
    const char *urls[MAX_URLS];
    void *bodies[MAX_URLS];
    int errors[MAX_URLS];
    task_t *task;
} run_t;

static void give_units(size_t units)
{
    semaphore_init(&limit, fx.loop, units);
    limit_units = units;
}

/* Start a crawl of every URL of @p plans. */
static void start(run_t *r, const plan_t *plans, size_t workers,
                  double timeout_s)
{
    memset(r, 0, sizeof *r);
    for (const plan_t *p = plans; p->url != NULL; p++)
        r->urls[r->c.n++] = p->url;
    for (size_t i = 0; i < MAX_URLS; i++) {
        r->bodies[i] = (void *)0x5ca1ab1e;  /* not NULL: must be written */
        r->errors[i] = -1;
    }
    r->c.loop = fx.loop;
    r->c.urls = r->urls;
    r->c.workers = workers;
    r->c.limit = &limit;
    r->c.timeout_s = timeout_s;
    r->c.fetch = fake_fetch;
    r->c.fetch_arg = (void *)plans;
    r->c.bodies = r->bodies;
    r->c.errors = r->errors;
    r->task = crawl_start(&r->c);
    cr_assert_not_null(r->task, "crawl_start() returned NULL (errno %d, "
                       "%s) for a valid crawl", errno, strerror(errno));
}

static void assert_finished_well(run_t *r)
{
    int err = 0;
    void *result = (void *)1;
    future_status_t st;

    cr_assert(held_too_few == 0, "a fetch was in flight while its worker "
              "held no unit of the semaphore: is the unit given back "
              "before the fetch has finished, or never taken?");
    st = future_result(task_future(r->task), &result, &err);
    cr_assert_neq(st, FUTURE_E_ERROR, "the crawl failed with error %d (%s): "
                  "a failed fetch is data (errors[i]), not the end of the "
                  "crawl. Did a plain AWAIT on the fetch let its error "
                  "travel up and end the worker?", err, strerror(err));
    cr_assert(fetches >= r->c.n, "only %zu of the %zu URLs were fetched, "
              "and %zu of the semaphore's %zu units are free: did a fetch "
              "that failed or timed out give its unit back?", fetches,
              r->c.n, limit.value, limit_units);
    cr_assert(future_done(task_future(r->task)), "the crawl has not "
              "finished, though every fetch has had time to end");
    cr_assert_eq(st, FUTURE_OK, "the crawl ended cancelled, though nobody "
                 "cancelled it");
    cr_assert_null(result, "the crawl's result is %p; it must be NULL (the "
                   "outcomes are in bodies and errors)", result);
    cr_assert_eq(limit.value, limit_units, "the crawl is over, but the "
                 "semaphore has %zu of its %zu units: a unit was taken and "
                 "never given back", limit.value, limit_units);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "the crawl is over, but "
                 "%zu timer(s) are still armed", loop_timer_count(fx.loop));
}

static void assert_outcome(run_t *r, size_t i, intptr_t body, int error)
{
    cr_assert_eq(r->errors[i], error, "errors[%zu] (URL \"%s\") is %d, not "
                 "%d. Is the URL's index kept where every worker shares it "
                 "(a static, or a local read after an await) instead of in "
                 "the worker's frame?", i, r->urls[i], r->errors[i], error);
    cr_assert_eq((intptr_t)r->bodies[i], body, "bodies[%zu] (URL \"%s\") "
                 "is %p, not %p. Is the URL's index kept where every worker "
                 "shares it (a static, or a local read after an await) "
                 "instead of in the worker's frame?", i, r->urls[i],
                 r->bodies[i], (void *)body);
}

static void reset(void)
{
    memset(fakes, 0, sizeof fakes);
    fetches = in_flight = max_in_flight = 0;
    held_too_few = 0;
}

/* ---- the tests --------------------------------------------------------- */

Test(crawler, every_url_gets_its_body_at_its_own_index)
{
    static const plan_t plans[] = {
        {"a", 0.5, 10, 0}, {"b", 0.1, 20, 0}, {"c", 0.3, 30, 0},
        {"d", 0.2, 40, 0}, {"e", 0.1, 50, 0}, {NULL, 0, 0, 0}};
    run_t r;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(10);
    start(&r, plans, 3, 10.0);
    fixture_advance(&fx, 2.0);
    assert_finished_well(&r);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(times_fetched(plans[i].url), 1, "URL \"%s\" was "
                     "fetched %zu times, not once", plans[i].url,
                     times_fetched(plans[i].url));
        assert_outcome(&r, i, plans[i].body, 0);
    }
    task_release(r.task);
    guard_disarm();
}

/* Six URLs of 1 s each. */
static const plan_t six[] = {
    {"a", 1.0, 1, 0}, {"b", 1.0, 2, 0}, {"c", 1.0, 3, 0},
    {"d", 1.0, 4, 0}, {"e", 1.0, 5, 0}, {"f", 1.0, 6, 0}, {NULL, 0, 0, 0}};

Test(crawler, no_more_fetches_at_once_than_the_semaphore_has_units)
{
    run_t r;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(2);
    start(&r, six, 4, 10.0);
    fixture_advance(&fx, 3.5);
    cr_assert_leq(max_in_flight, 2, "%zu fetches were in flight at once "
                  "with a semaphore of 2 units: does every fetch take a "
                  "unit before it starts?", max_in_flight);
    cr_assert_eq(max_in_flight, 2, "never more than one fetch at a time, "
                 "with 4 workers and 2 units: the crawl must fetch "
                 "several URLs at once");
    assert_finished_well(&r);
    for (size_t i = 0; i < 6; i++)
        assert_outcome(&r, i, six[i].body, 0);
    task_release(r.task);
    guard_disarm();
}

Test(crawler, no_more_fetches_at_once_than_workers)
{
    run_t r;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(10);
    start(&r, six, 2, 10.0);
    fixture_advance(&fx, 3.5);
    cr_assert_leq(max_in_flight, 2, "%zu fetches were in flight at once "
                  "with workers = 2: a crawl may not have more than "
                  "`workers` fetches in flight, however many units the "
                  "semaphore has", max_in_flight);
    cr_assert_eq(max_in_flight, 2, "never more than one fetch at a time, "
                 "with 2 workers and 10 units: the crawl must fetch "
                 "several URLs at once");
    assert_finished_well(&r);
    task_release(r.task);
    guard_disarm();
}

Test(crawler, two_crawls_share_one_semaphore)
{
    static const plan_t one[] = {
        {"a", 1.0, 1, 0}, {"b", 1.0, 2, 0}, {"c", 1.0, 3, 0}, {NULL, 0, 0, 0}};
    static const plan_t two[] = {
        {"x", 1.0, 7, 0}, {"y", 1.0, 8, 0}, {"z", 1.0, 9, 0}, {NULL, 0, 0, 0}};
    run_t r1, r2;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(2);
    start(&r1, one, 2, 10.0);
    start(&r2, two, 2, 10.0);
    fixture_advance(&fx, 3.5);
    cr_assert_leq(max_in_flight, 2, "%zu fetches were in flight at once "
                  "across two crawls sharing a semaphore of 2 units: does "
                  "each crawl take its units from the caller's semaphore "
                  "(crawl_t::limit), not from one of its own?",
                  max_in_flight);
    assert_finished_well(&r1);
    assert_finished_well(&r2);
    for (size_t i = 0; i < 3; i++) {
        assert_outcome(&r1, i, one[i].body, 0);
        assert_outcome(&r2, i, two[i].body, 0);
    }
    task_release(r1.task);
    task_release(r2.task);
    guard_disarm();
}

Test(crawler, a_failed_fetch_is_recorded_and_the_others_go_on)
{
    static const plan_t plans[] = {
        {"a", 0.1, 1, 0}, {"b", 0.2, 0, ECONNREFUSED}, {"c", 0.3, 3, 0},
        {"d", 0.05, 0, EHOSTUNREACH}, {"e", 0.1, 5, 0}, {NULL, 0, 0, 0}};
    run_t r;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(1);
    start(&r, plans, 2, 10.0);
    fixture_advance(&fx, 2.0);
    assert_finished_well(&r);
    for (size_t i = 0; i < 5; i++)
        assert_outcome(&r, i, plans[i].error ? 0 : plans[i].body,
                       plans[i].error);
    task_release(r.task);
    guard_disarm();
}

Test(crawler, a_slow_fetch_times_out_is_cancelled_and_frees_its_unit)
{
    static const plan_t plans[] = {
        {"slow", 5.0, 1, 0}, {"b", 0.1, 2, 0}, {"c", 0.1, 3, 0},
        {NULL, 0, 0, 0}};
    run_t r;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(1);
    start(&r, plans, 2, 1.0);
    fixture_advance(&fx, 0.9);
    cr_assert_eq(future_state(&fakes[0].future), FUTURE_PENDING, "the "
                 "fetch of \"slow\" ended before its timeout of 1 s");
    fixture_advance(&fx, 0.2);
    cr_assert_eq(future_state(&fakes[0].future), FUTURE_CANCELLED, "the "
                 "fetch of \"slow\" was not cancelled when its 1 s were up");
    fixture_advance(&fx, 1.0);
    assert_finished_well(&r);
    assert_outcome(&r, 0, 0, ETIMEDOUT);
    assert_outcome(&r, 1, 2, 0);
    assert_outcome(&r, 2, 3, 0);
    task_release(r.task);
    guard_disarm();
}

/* Cancel a crawl of six 1 s URLs at 0.5 s. */
static void cancel_midway(size_t workers, size_t units)
{
    run_t r;
    size_t before;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(units);
    start(&r, six, workers, 10.0);
    fixture_advance(&fx, 0.5);
    cr_assert_eq(task_cancel(r.task), 1, "the crawl had already ended at "
                 "0.5 s, with six URLs of 1 s each to fetch");
    fixture_settle(&fx);
    cr_assert_eq(in_flight, 0, "%zu fetch(es) still in flight after the "
                 "crawl was cancelled and the loop ran a few turns: "
                 "cancelling the crawl must cancel them. Does a worker take "
                 "its own cancellation (ECANCELED at its await) for a "
                 "failed fetch, and go on?", in_flight);
    cr_assert_eq(future_state(task_future(r.task)), FUTURE_CANCELLED,
                 "the crawl was cancelled, but has not ended cancelled "
                 "after the loop ran a few turns");
    cr_assert_eq(limit.value, units, "after the cancel, the semaphore has "
                 "%zu of its %zu units: a worker cancelled during its fetch "
                 "kept its unit", limit.value, units);
    cr_assert_eq(limit.waiters.count, 0, "after the cancel, %zu worker(s) "
                 "still wait for a unit of the semaphore",
                 limit.waiters.count);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "after the cancel, %zu "
                 "timer(s) are still armed", loop_timer_count(fx.loop));
    before = fetches;
    fixture_advance(&fx, 5.0);
    cr_assert_eq(fetches, before, "a fetch started after the crawl was "
                 "cancelled and had ended");
    task_release(r.task);
    guard_disarm();
}

Test(crawler, cancelled_while_fetching_it_stops_everything)
{
    cancel_midway(2, 5);
}

Test(crawler, cancelled_while_workers_wait_for_units_it_stops_everything)
{
    cancel_midway(4, 1);
}

Test(crawler, an_empty_list_finishes_at_once)
{
    static const plan_t none[] = {{NULL, 0, 0, 0}};
    run_t r;

    guard_arm(GUARD_S, GUARD_WHAT);
    reset();
    give_units(1);
    start(&r, none, 3, 1.0);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(r.task)), FUTURE_RESULT, "a "
                 "crawl of no URL must finish, with result NULL, without "
                 "the clock moving");
    cr_assert_eq(fetches, 0, "a crawl of no URL called fetch() %zu times",
                 fetches);
    task_release(r.task);
    guard_disarm();
}

Test(crawler, bad_arguments_are_refused)
{
    crawl_t c = {0};
    const char *urls[1] = {"a"};
    void *bodies[1];
    int errors[1];

    guard_arm(GUARD_S, GUARD_WHAT);
    give_units(1);
    c.loop = fx.loop;
    c.urls = urls;
    c.n = 1;
    c.workers = 1;
    c.limit = &limit;
    c.timeout_s = 1.0;
    c.fetch = fake_fetch;
    c.bodies = bodies;
    c.errors = errors;
    c.workers = 0;
    errno = 0;
    cr_assert_null(crawl_start(&c), "crawl_start() accepted workers = 0 "
                   "(nothing could ever be fetched)");
    cr_assert_eq(errno, EINVAL, "workers = 0: errno must be EINVAL");
    c.workers = 1;
    c.limit = NULL;
    errno = 0;
    cr_assert_null(crawl_start(&c), "crawl_start() accepted limit = NULL");
    cr_assert_eq(errno, EINVAL, "limit = NULL: errno must be EINVAL");
    c.limit = &limit;
    c.bodies = NULL;
    errno = 0;
    cr_assert_null(crawl_start(&c), "crawl_start() accepted bodies = NULL "
                   "with one URL");
    cr_assert_eq(errno, EINVAL, "bodies = NULL: errno must be EINVAL");
    guard_disarm();
}
