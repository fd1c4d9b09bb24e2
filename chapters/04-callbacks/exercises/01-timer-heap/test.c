/* Tests for exercise 01-timer-heap: the heap through timers.h, checked
 * against a model, with every timer's index checked after every step. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

static void make_heap(timers_t *t)
{
    timers_init(t, LOOP_TIMERS_HEAP);
    t->ops = &exercise_heap_ops;
}

static uint64_t seq;

static void arm(timers_t *t, loop_timer_t *timer, double when)
{
    loop_timer_init(timer);
    timer->when_s = when;
    timer->seq = seq++;
    cr_assert_eq(timers_add(t, timer), 0);
}

/* The heap property and every index, checked in full. */
static void check(const timers_t *t)
{
    for (size_t i = 0; i < t->count; i++) {
        cr_assert_eq(t->items[i]->index, i, "timer in slot %zu says %zu", i,
                     t->items[i]->index);
        if (i > 0)
            cr_assert_not(timers_before(t->items[i], t->items[(i - 1) / 2]),
                          "slot %zu is due before its parent", i);
    }
}

Test(timer_heap, pops_in_deadline_order, .timeout = 10)
{
    timers_t t;
    loop_timer_t tm[9];
    double when[] = {5, 3, 8, 1, 9, 2, 7, 4, 6};

    make_heap(&t);
    for (int i = 0; i < 9; i++) {
        arm(&t, &tm[i], when[i]);
        check(&t);
    }
    cr_assert_eq(timers_peek(&t)->when_s, 1);
    for (int k = 1; k <= 9; k++) {
        loop_timer_t *x = timers_pop(&t);
        cr_assert_not_null(x);
        cr_assert_eq(x->when_s, k, "pop %d gave %.0f", k, x->when_s);
        cr_assert_eq(x->index, SIZE_MAX);
        check(&t);
    }
    cr_assert_null(timers_pop(&t));
    timers_deinit(&t);
}

Test(timer_heap, equal_deadlines_come_out_in_arming_order, .timeout = 10)
{
    timers_t t;
    loop_timer_t tm[40];

    make_heap(&t);
    for (int i = 0; i < 40; i++)
        arm(&t, &tm[i], i % 3 == 0 ? 2.0 : 1.0);
    loop_timer_t *prev = NULL;
    while (t.count > 0) {
        loop_timer_t *x = timers_pop(&t);
        if (prev && prev->when_s == x->when_s)
            cr_assert_lt(prev->seq, x->seq, "a tie broke out of order");
        prev = x;
        check(&t);
    }
    timers_deinit(&t);
}

Test(timer_heap, removing_from_the_middle_keeps_the_order, .timeout = 10)
{
    enum { N = 2000 };
    static loop_timer_t tm[N];
    static int gone[N];
    timers_t t;
    unsigned r = 7;

    make_heap(&t);
    for (int i = 0; i < N; i++) {
        r = r * 1103515245u + 12345u;
        arm(&t, &tm[i], (double)((r >> 8) % 1000));
    }
    check(&t);
    /* Remove a third, from anywhere: some fillers must go up. */
    for (int i = 0; i < N; i += 3) {
        timers_remove(&t, &tm[i]);
        gone[i] = 1;
        cr_assert_eq(tm[i].index, SIZE_MAX);
    }
    check(&t);
    loop_timer_t *prev = NULL;
    size_t popped = 0;
    while (t.count > 0) {
        loop_timer_t *x = timers_pop(&t);
        cr_assert_not(gone[x - tm], "a removed timer came back");
        if (prev)
            cr_assert_not(timers_before(x, prev), "out of order");
        prev = x;
        popped++;
    }
    cr_assert_eq(popped, (size_t)(N - (N + 2) / 3));
    timers_deinit(&t);
}
