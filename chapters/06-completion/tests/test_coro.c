/*
 * test_coro.c - the coroutine macros and coro_resume(), without a loop.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "coro.h"

/* A generator that echoes with a running total: total += (yield total). */
typedef struct adder {
    coro_t co;
    intptr_t total;
} adder_t;

static int adder_body(coro_t *co)
{
    adder_t *f = (adder_t *)co;

    CORO_BEGIN(co);
    while (f->total < 100) {
        CORO_YIELD(co, (void *)f->total);
        f->total += (intptr_t)co->in;
    }
    CORO_RETURN(co, (void *)(f->total * 2));
    CORO_END(co);
}

Test(coro, send_passes_values_in_and_out_like_gen_send)
{
    adder_t a = {0};

    coro_init(&a.co, adder_body);
    cr_assert_eq(coro_resume(&a.co, NULL, 0), CORO_YIELDED);
    cr_assert_eq((intptr_t)a.co.out, 0);
    cr_assert_eq(coro_resume(&a.co, (void *)5, 0), CORO_YIELDED);
    cr_assert_eq((intptr_t)a.co.out, 5);
    cr_assert_eq(coro_resume(&a.co, (void *)10, 0), CORO_YIELDED);
    cr_assert_eq((intptr_t)a.co.out, 15);
    cr_assert_eq(coro_resume(&a.co, (void *)90, 0), CORO_RETURNED);
    cr_assert_eq((intptr_t)a.co.out, 210);
    cr_assert(coro_finished(&a.co));
}

Test(coro, an_error_thrown_in_arrives_at_the_yield)
{
    adder_t a = {0};

    coro_init(&a.co, adder_body);
    coro_resume(&a.co, NULL, 0);
    cr_assert_eq(coro_resume(&a.co, NULL, EIO), CORO_RETURNED);
    cr_assert_eq(a.co.err, EIO);
}

/* yield from: the outer frame delegates to two adders in turn and returns
 * the sum of their return values. */
typedef struct outer {
    coro_t co;
    adder_t sub;
    intptr_t sum;
    int i;
} outer_t;

static int outer_body(coro_t *co)
{
    outer_t *f = (outer_t *)co;

    CORO_BEGIN(co);
    for (f->i = 0; f->i < 2; f->i++) {
        f->sub.total = 90;
        coro_init(&f->sub.co, adder_body);
        CORO_AWAIT_CORO(co, &f->sub.co);
        f->sum += (intptr_t)co->in;
    }
    CORO_RETURN(co, (void *)f->sum);
    CORO_END(co);
}

Test(coro, yield_from_delegates_sends_and_returns_the_sub_result)
{
    outer_t o = {0};

    coro_init(&o.co, outer_body);
    cr_assert_eq(coro_resume(&o.co, NULL, 0), CORO_YIELDED);
    cr_assert_eq((intptr_t)o.co.out, 90, "the sub-generator's yield");
    /* The sent value reaches the sub-generator, not the outer frame. */
    cr_assert_eq(coro_resume(&o.co, (void *)20, 0), CORO_YIELDED);
    cr_assert_eq((intptr_t)o.co.out, 90, "second sub-generator started");
    cr_assert_eq(coro_resume(&o.co, (void *)30, 0), CORO_RETURNED);
    cr_assert_eq((intptr_t)o.co.out, 220 + 240);
}

/* Three levels deep: the innermost error surfaces through each level. */
typedef struct deep {
    coro_t co;
    struct deep *child;
    int level;
} deep_t;

static int deep_body(coro_t *co)
{
    deep_t *f = (deep_t *)co;

    CORO_BEGIN(co);
    if (f->child) {
        coro_init(&f->child->co, deep_body);
        CORO_AWAIT_CORO_CATCH(co, &f->child->co);
        if (co->err)
            CORO_FAIL(co, co->err + 1);
        CORO_RETURN(co, (void *)((intptr_t)co->in + 1));
    }
    CORO_YIELD(co, (void *)(intptr_t)f->level);
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

Test(coro, nested_sub_coroutines_return_values_and_errors_through_each_level)
{
    deep_t d[3] = {{.level = 0}, {.level = 1}, {.level = 2}};

    d[0].child = &d[1];
    d[1].child = &d[2];
    coro_init(&d[0].co, deep_body);
    cr_assert_eq(coro_resume(&d[0].co, NULL, 0), CORO_YIELDED);
    cr_assert_eq((intptr_t)d[0].co.out, 2, "the innermost yields");
    cr_assert_eq(coro_resume(&d[0].co, (void *)40, 0), CORO_RETURNED);
    cr_assert_eq((intptr_t)d[0].co.out, 42);

    coro_init(&d[0].co, deep_body);
    coro_resume(&d[0].co, NULL, 0);
    cr_assert_eq(coro_resume(&d[0].co, NULL, 100), CORO_RETURNED);
    cr_assert_eq(d[0].co.err, 102);
}

/* A yield that catches: the body sees the thrown error and carries on. */
typedef struct catcher {
    coro_t co;
    int seen;
} catcher_t;

static int catcher_body(coro_t *co)
{
    catcher_t *f = (catcher_t *)co;

    CORO_BEGIN(co);
    CORO_YIELD_CATCH(co, NULL);
    f->seen = co->err;
    CORO_YIELD(co, NULL);
    CORO_RETURN(co, (void *)1);
    CORO_END(co);
}

Test(coro, a_catching_yield_hands_the_error_to_the_body)
{
    catcher_t c = {0};

    coro_init(&c.co, catcher_body);
    coro_resume(&c.co, NULL, 0);
    cr_assert_eq(coro_resume(&c.co, NULL, EIO), CORO_YIELDED,
                 "caught: it goes on to its second yield");
    cr_assert_eq(c.seen, EIO);
    cr_assert_eq(coro_resume(&c.co, NULL, EPIPE), CORO_RETURNED,
                 "a plain yield raises");
    cr_assert_eq(c.co.err, EPIPE);
    cr_assert_null(c.co.out);
}
