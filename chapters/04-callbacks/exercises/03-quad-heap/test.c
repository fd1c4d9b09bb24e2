/*
 * test.c - exercise 03-quad-heap: the 4-ary heap through src/timers.h.
 * After every operation the whole array is checked (heap order with four
 * children per slot, every index); a model test runs the same random
 * operations on the chapter's binary heap and compares every pop; a count
 * of moved timers tells a heap from a sorted array.
 */
#include "exercise.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

#define GUARD_S 30
#define GUARD_WHAT "the test did not finish: does an operation loop for " \
                   "ever (a slot that never changes in a move-up or " \
                   "move-down loop)?"

static void make_quad(timers_t *t)
{
    timers_init(t, LOOP_TIMERS_HEAP);
    t->ops = &quad_heap_ops;
}

static uint64_t next_seq;

static void arm(timers_t *t, loop_timer_t *timer, double when_s)
{
    size_t before = t->count;

    loop_timer_init(timer);
    timer->when_s = when_s;
    timer->seq = next_seq++;
    cr_assert_eq(timers_add(t, timer), 0, "timers_add() failed");
    cr_assert_eq(t->count, before + 1, "after timers_add(), count is %zu, "
                 "not %zu: add must count the new timer", t->count,
                 before + 1);
    cr_assert(timer->index < t->count && t->items[timer->index] == timer,
              "after timers_add(), the new timer's index (%zu) is not its "
              "slot", timer->index);
}

static unsigned rnd_state = 12345;

static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* Whether the array is in binary-heap order (parent of i at (i - 1) / 2). */
static int binary_order(const timers_t *t)
{
    for (size_t i = 1; i < t->count; i++)
        if (timers_before(t->items[i], t->items[(i - 1) / 2]))
            return 0;
    return 1;
}

/* Everything exercise.h promises, after the operation @p op ("add",
 * "pop" or "remove"); @p hole is the slot a removed timer left. */
static void check(const timers_t *t, const char *op, size_t hole)
{
    cr_assert_eq(t->first, 0, "after timers_%s(), t->first is %zu: the "
                 "heap keeps the earliest timer in slot 0 (timers_peek() "
                 "reads items[first])", op, t->first);
    for (size_t i = 0; i < t->count; i++)
        cr_assert_eq(t->items[i]->index, i, "after timers_%s(), the timer "
                     "in slot %zu says its index is %zu: every timer that "
                     "moves must be told its new slot (loop_cancel() finds "
                     "a timer by its index)", op, i, t->items[i]->index);
    for (size_t i = 1; i < t->count; i++) {
        size_t p = (i - 1) / 4;
        const loop_timer_t *child = t->items[i], *parent = t->items[p];
        if (!timers_before(child, parent))
            continue;
        cr_assert_neq(child->when_s, parent->when_s, "after timers_%s(), "
                      "slots %zu and %zu hold two timers due at %g in the "
                      "wrong order (the one armed later is the parent): "
                      "order with timers_before(), which breaks ties by "
                      "arming order", op, p, i, child->when_s);
        cr_assert_not(binary_order(t), "after timers_%s(), the timers are "
                      "in binary-heap order, not 4-ary: the parent of slot "
                      "i is (i - 1) / 4 and its children are 4i + 1 to "
                      "4i + 4", op);
        if (strcmp(op, "add") == 0)
            cr_assert_fail("after timers_add(), slot %zu (due %g) is due before "
                    "its parent in slot %zu (due %g): a new timer must move "
                    "up past every parent due after it", i, child->when_s,
                    p, parent->when_s);
        if (strcmp(op, "pop") == 0)
            cr_assert_fail("after timers_pop(), slot %zu (due %g) is due before "
                    "its parent in slot %zu (due %g): a timer moving down "
                    "must trade places with the earliest of its (up to "
                    "four) children", i, child->when_s, p, parent->when_s);
        cr_assert_fail("after timers_remove() of the timer in slot %zu, slot %zu "
                "(due %g) is due before its parent in slot %zu (due %g): "
                "the timer moved into the hole can belong higher up, not "
                "only lower", hole, i, child->when_s, p, parent->when_s);
    }
}

static loop_timer_t *pop_checked(timers_t *t)
{
    size_t before = t->count;
    loop_timer_t *x = timers_pop(t);

    cr_assert_not_null(x, "timers_pop() returned NULL with %zu timers armed",
                       before);
    cr_assert_eq(t->count, before - 1, "timers_pop() left count at %zu, "
                 "not %zu", t->count, before - 1);
    cr_assert_eq(x->index, SIZE_MAX, "a popped timer still says it is in "
                 "slot %zu: it must say SIZE_MAX, or loop_cancel() would "
                 "try to remove it again", x->index);
    check(t, "pop", 0);
    return x;
}

static void remove_checked(timers_t *t, loop_timer_t *x)
{
    size_t before = t->count, hole = x->index;

    timers_remove(t, x);
    cr_assert_eq(t->count, before - 1, "timers_remove() left count at %zu, "
                 "not %zu", t->count, before - 1);
    cr_assert_eq(x->index, SIZE_MAX, "a removed timer still says it is in "
                 "slot %zu: it must say SIZE_MAX", x->index);
    check(t, "remove", hole);
}

Test(quad_heap, pops_in_deadline_order)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    timers_t t;
    loop_timer_t tm[13];
    double when[] = {5, 3, 8, 1, 9, 2, 7, 4, 6, 13, 11, 10, 12};

    make_quad(&t);
    for (int i = 0; i < 13; i++) {
        arm(&t, &tm[i], when[i]);
        check(&t, "add", 0);
    }
    cr_assert_eq(timers_peek(&t)->when_s, 1, "the earliest timer is not in "
                 "slot 0");
    for (int k = 1; k <= 13; k++) {
        loop_timer_t *x = pop_checked(&t);
        cr_assert_eq(x->when_s, k, "pop %d gave the timer due at %g, not %d",
                     k, x->when_s, k);
    }
    cr_assert_null(timers_pop(&t));
    timers_deinit(&t);
    guard_disarm();
}

Test(quad_heap, equal_deadlines_come_out_in_arming_order)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    timers_t t;
    loop_timer_t tm[60];

    make_quad(&t);
    for (int i = 0; i < 60; i++) {
        arm(&t, &tm[i], i % 3 == 0 ? 2.0 : 1.0);
        check(&t, "add", 0);
    }
    loop_timer_t *prev = NULL;
    while (t.count > 0) {
        loop_timer_t *x = pop_checked(&t);
        if (prev != NULL && prev->when_s == x->when_s)
            cr_assert_lt(prev->seq, x->seq, "two timers due at %g came out "
                         "in the wrong order (armed #%llu after #%llu): "
                         "equal deadlines leave in arming order", x->when_s,
                         (unsigned long long)x->seq,
                         (unsigned long long)prev->seq);
        prev = x;
    }
    timers_deinit(&t);
    guard_disarm();
}

Test(quad_heap, random_adds_keep_the_4_ary_order)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    enum { N = 1000 };
    static loop_timer_t tm[N];
    timers_t t;

    make_quad(&t);
    for (int i = 0; i < N; i++) {
        arm(&t, &tm[i], (double)(rnd() % 5000));
        check(&t, "add", 0);
    }
    timers_deinit(&t);
    for (int i = 0; i < N; i++)
        cr_assert_eq(tm[i].index, SIZE_MAX, "timers_deinit() left a timer "
                     "armed");
    guard_disarm();
}

Test(quad_heap, removing_from_anywhere_keeps_the_order)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    enum { N = 2000 };
    static loop_timer_t tm[N];
    static int gone[N];
    timers_t t;

    make_quad(&t);
    for (int i = 0; i < N; i++)
        arm(&t, &tm[i], (double)(rnd() % 1000));
    check(&t, "add", 0);
    for (int i = 0; i < N; i += 3) {
        remove_checked(&t, &tm[i]);
        gone[i] = 1;
    }
    loop_timer_t *prev = NULL;
    size_t popped = 0;
    while (t.count > 0) {
        loop_timer_t *x = pop_checked(&t);
        cr_assert_not(gone[x - tm], "a removed timer came out of "
                      "timers_pop()");
        if (prev != NULL)
            cr_assert_not(timers_before(x, prev), "timers_pop() gave a "
                          "timer due at %g after one due at %g", x->when_s,
                          prev->when_s);
        prev = x;
        popped++;
    }
    cr_assert_eq(popped, (size_t)(N - (N + 2) / 3));
    timers_deinit(&t);
    guard_disarm();
}

/* The chapter's binary heap is the model: the same operations on both,
 * with twin timers, must pop the same timers in the same order. Re-arming
 * (a remove, then an add with a later deadline) is what idle timeouts and
 * periodic timers do all day. */
Test(quad_heap, behaves_like_the_binary_heap_on_random_operations)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    enum { N = 3000, OPS = 30000 };
    static loop_timer_t quad[N], bin[N];
    timers_t tq, tb;

    make_quad(&tq);
    timers_init(&tb, LOOP_TIMERS_HEAP);
    for (int i = 0; i < N; i++) {
        loop_timer_init(&quad[i]);
        loop_timer_init(&bin[i]);
    }
    for (int op = 0; op < OPS; op++) {
        int i = (int)(rnd() % N);
        unsigned what = rnd() % 4;
        if (what < 2 || quad[i].index == SIZE_MAX) {
            /* add, or re-arm: remove first if armed */
            if (quad[i].index != SIZE_MAX) {
                timers_remove(&tq, &quad[i]);
                timers_remove(&tb, &bin[i]);
            }
            quad[i].when_s = bin[i].when_s = (double)(op + rnd() % 2000);
            quad[i].seq = bin[i].seq = next_seq++;
            cr_assert_eq(timers_add(&tq, &quad[i]), 0);
            cr_assert_eq(timers_add(&tb, &bin[i]), 0);
        } else if (what == 2) {
            timers_remove(&tq, &quad[i]);
            timers_remove(&tb, &bin[i]);
        } else if (tb.count > 0) {
            loop_timer_t *q = timers_pop(&tq), *b = timers_pop(&tb);
            cr_assert_not_null(q, "timers_pop() returned NULL with %zu "
                               "timers armed", tb.count + 1);
            cr_assert_eq(q - quad, b - bin, "operation %d: timers_pop() "
                         "gave the timer due at %g (armed #%llu); the "
                         "earliest was due at %g (armed #%llu)", op,
                         q->when_s, (unsigned long long)q->seq, b->when_s,
                         (unsigned long long)b->seq);
        }
        cr_assert_eq(tq.count, tb.count, "operation %d: %zu timers armed, "
                     "the binary heap has %zu", op, tq.count, tb.count);
        if (op % 1000 == 0)
            check(&tq, what == 3 ? "pop" : what == 2 ? "remove" : "add", 0);
    }
    timers_deinit(&tq);
    timers_deinit(&tb);
    guard_disarm();
}

/* A sorted array is in heap order too, but it moves every timer behind
 * the one added or removed. Count the moves: a timer moved when its
 * index changed. */
static size_t moves_since(const loop_timer_t *tm, size_t *seen, size_t n)
{
    size_t moved = 0;

    for (size_t i = 0; i < n; i++) {
        moved += tm[i].index != seen[i];
        seen[i] = tm[i].index;
    }
    return moved;
}

Test(quad_heap, each_operation_moves_O_log_n_timers)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    enum { N = 4096, LEVELS = 7 }; /* a 4-ary tree of 4096 has 7 levels */
    static loop_timer_t tm[N];
    static size_t seen[N];
    timers_t t;
    size_t moved = 0;

    make_quad(&t);
    for (size_t i = 0; i < N; i++)
        seen[i] = SIZE_MAX;
    /* Each new timer is due before all the others: it goes to the top. */
    for (int i = 0; i < N; i++) {
        arm(&t, &tm[i], (double)(N - i));
        moved += moves_since(tm, seen, N);
    }
    cr_assert_leq(moved, (size_t)N * (LEVELS + 1), "adding %d timers, each "
                  "due before all the others, moved timers %zu times, %zu "
                  "per add: a 4-ary heap moves at most one timer per level "
                  "(is each operation O(log n), or does it keep the whole "
                  "array sorted?)", N, moved, moved / N);
    moved = 0;
    for (int i = 0; i < N / 2; i++) {
        timers_pop(&t);
        moved += moves_since(tm, seen, N);
    }
    cr_assert_leq(moved, (size_t)N / 2 * (LEVELS + 2), "popping %d timers "
                  "moved timers %zu times, %zu per pop: a 4-ary heap moves "
                  "at most one timer per level (is each operation O(log n), "
                  "or does it keep the whole array sorted?)", N / 2, moved,
                  moved / (N / 2));
    timers_deinit(&t);
    guard_disarm();
}
