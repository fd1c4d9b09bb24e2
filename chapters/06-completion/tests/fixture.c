/*
 * fixture.c - the unit tests' loop on a fake clock (see fixture.h).
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>

#include "proactor.h" /* chapter 06 */

static double fake_clock(void *arg)
{
    return *(double *)arg;
}

static void ignore(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

void fixture_start(fixture_t *fx)
{
    loop_options_t o = {0};

    fx->now = 1000.0;
    o.clock = fake_clock;
    o.clock_arg = &fx->now;
    fx->loop = loop_create(&o);
    cr_assert_not_null(fx->loop);
    /* chapter 06: with io_uring here, every test runs on the ring's wait
     * (the tests that need it skip themselves without). */
    (void)proactor_get(fx->loop);
    cr_assert_eq(pipe(fx->awake), 0);
    cr_assert_eq(write(fx->awake[1], "x", 1), 1);
    cr_assert_eq(loop_add_reader(fx->loop, fx->awake[0], ignore, NULL), 0);
}

void fixture_need_uring(void) /* chapter 06 */
{
    loop_t *loop = loop_create(NULL);
    proactor_t *p = loop != NULL ? proactor_get(loop) : NULL;
    int err = errno;

    loop_destroy(loop);
    if (p == NULL)
        cr_skip_test("%s", proactor_strerror(err));
}

void fixture_stop(fixture_t *fx)
{
    loop_remove_reader(fx->loop, fx->awake[0]);
    loop_destroy(fx->loop);
    close(fx->awake[0]);
    close(fx->awake[1]);
}

void fixture_settle(fixture_t *fx)
{
    for (int i = 0; i < 8; i++)
        loop_run_once(fx->loop);
}

void fixture_advance(fixture_t *fx, double dt)
{
    while (dt > 1e-9) {
        double step = dt < 0.001 ? dt : 0.001;

        fx->now += step;
        dt -= step;
        loop_run_once(fx->loop);
    }
    fixture_settle(fx);
}
