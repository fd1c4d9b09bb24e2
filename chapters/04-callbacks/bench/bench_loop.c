/*
 * bench_loop.c - chapter 04's loop, timed: one measurement per run, the
 * seconds it took printed on stdout (run_bench.py runs the peers the same
 * way and makes the table).
 *
 *   bench-loop timers heap|list N   arm N timers with random deadlines, all
 *                                   already due, then fire them all
 *   bench-loop soon N               N call_soon callbacks, in 1,000 chains
 *                                   that re-queue themselves
 *
 * Timers are armed with deadlines up to a second in the past, in random
 * order, so the structure has to sort all of them and the selector never
 * waits: what is timed is arming (call_at) plus firing (phase 3 and 4),
 * nothing else.
 */
#include "loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct fired {
    size_t count;
    double last_when;
    int out_of_order;
} fired_t;

typedef struct bench_timer {
    loop_timer_t timer;
    double when;
    fired_t *fired;
} bench_timer_t;

static void on_timer(loop_t *loop, void *arg)
{
    bench_timer_t *t = arg;
    (void)loop;
    if (t->when < t->fired->last_when)
        t->fired->out_of_order = 1;
    t->fired->last_when = t->when;
    t->fired->count++;
}

static int bench_timers(loop_timers_kind_t kind, size_t n)
{
    loop_options_t opt = {.timers = kind};
    loop_t *loop = loop_create(&opt);
    bench_timer_t *timers = malloc(n * sizeof *timers);
    fired_t fired = {0, -1e300, 0};
    unsigned long long x = 88172645463325252ULL; /* xorshift: no libc rand */

    if (loop == NULL || timers == NULL)
        return 1;
    double base = loop_time(loop) - 1.0;
    for (size_t i = 0; i < n; i++) { /* the deadlines, before the clock */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        timers[i].when = base + (double)(x >> 11) / 9007199254740992.0;
        timers[i].fired = &fired;
        loop_timer_init(&timers[i].timer);
    }
    double start = now_s();
    for (size_t i = 0; i < n; i++)
        loop_call_at(loop, &timers[i].timer, timers[i].when, on_timer,
                     &timers[i]);
    loop_run_once(loop);
    double took = now_s() - start;
    if (fired.count != n || fired.out_of_order) {
        fprintf(stderr, "bench-loop: %zu of %zu fired, %s\n", fired.count, n,
                fired.out_of_order ? "out of order" : "in order");
        return 1;
    }
    printf("%.6f\n", took);
    loop_destroy(loop);
    free(timers);
    return 0;
}

typedef struct chain {
    size_t left; /* callbacks still to run, over all chains */
} chain_t;

static void on_soon(loop_t *loop, void *arg)
{
    chain_t *c = arg;
    if (c->left == 0)
        return;
    if (--c->left == 0)
        loop_stop(loop);
    else
        loop_call_soon(loop, on_soon, c);
}

static int bench_soon(size_t n)
{
    loop_t *loop = loop_create(NULL);
    chain_t c = {n};

    if (loop == NULL)
        return 1;
    double start = now_s();
    for (int i = 0; i < 1000; i++)
        loop_call_soon(loop, on_soon, &c);
    loop_run_forever(loop);
    double took = now_s() - start;
    printf("%.6f\n", took);
    loop_destroy(loop);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "timers") == 0)
        return bench_timers(strcmp(argv[2], "list") == 0 ? LOOP_TIMERS_LIST
                                                         : LOOP_TIMERS_HEAP,
                            strtoul(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "soon") == 0)
        return bench_soon(strtoul(argv[2], NULL, 10));
    fprintf(stderr, "usage: bench-loop timers heap|list N | soon N\n");
    return 2;
}
