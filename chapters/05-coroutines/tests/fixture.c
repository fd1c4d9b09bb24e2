/*
 * fixture.c - the unit tests' loop on a fake clock (see fixture.h).
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <unistd.h>

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
    cr_assert_eq(pipe(fx->awake), 0);
    cr_assert_eq(write(fx->awake[1], "x", 1), 1);
    cr_assert_eq(loop_add_reader(fx->loop, fx->awake[0], ignore, NULL), 0);
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
