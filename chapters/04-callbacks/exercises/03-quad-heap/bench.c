/*
 * bench.c - exercise 03-quad-heap: your 4-ary heap against the chapter's
 * binary heap (src/timers_heap.c), both through src/timers.h, on two
 * workloads:
 *
 *   fire:   arm N timers with random deadlines, then pop them all (what
 *           the chapter's `make bench` times through the loop);
 *   re-arm: with N timers armed, push a random one's deadline back, N
 *           times (an idle timeout re-armed on every read does this).
 *
 * It prints nanoseconds per timer, the best of a few runs, and the ratio
 * quad / binary (below 1: the 4-ary heap is faster). A benchmark, not a
 * test: it asserts nothing. See EXERCISE.md, "Measure it", to build it.
 */
#include "exercise.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd_state = 88172645463325252u;

static uint64_t rnd(void) /* xorshift64 */
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void setup(timers_t *t, const timers_ops_t *ops)
{
    timers_init(t, LOOP_TIMERS_HEAP);
    t->ops = ops;
}

static void arm(timers_t *t, loop_timer_t *tm, double when_s, uint64_t seq)
{
    tm->when_s = when_s;
    tm->seq = seq;
    if (timers_add(t, tm) < 0) {
        perror("timers_add");
        exit(1);
    }
}

/* Seconds per timer to arm @p n timers and pop them all. */
static double fire(const timers_ops_t *ops, loop_timer_t *tm, size_t n)
{
    timers_t t;
    double t0 = now_s();

    setup(&t, ops);
    for (size_t i = 0; i < n; i++)
        arm(&t, &tm[i], (double)(rnd() % 1000000), i);
    while (timers_pop(&t) != NULL)
        ;
    double dt = now_s() - t0;
    timers_deinit(&t);
    return dt / (double)n;
}

/* Seconds per re-arm, with @p n timers armed: remove one, add it back
 * later than it was (the not-yet-timed setup arms them all first). */
static double rearm(const timers_ops_t *ops, loop_timer_t *tm, size_t n)
{
    timers_t t;
    uint64_t seq = 0;

    setup(&t, ops);
    for (size_t i = 0; i < n; i++)
        arm(&t, &tm[i], (double)(rnd() % 1000000), seq++);
    double t0 = now_s();
    for (size_t k = 0; k < n; k++) {
        loop_timer_t *x = &tm[rnd() % n];
        timers_remove(&t, x);
        arm(&t, x, x->when_s + (double)(rnd() % 1000), seq++);
    }
    double dt = now_s() - t0;
    timers_deinit(&t);
    return dt / (double)n;
}

typedef double workload_fn(const timers_ops_t *, loop_timer_t *, size_t);

static double best_of(int runs, workload_fn *fn, const timers_ops_t *ops,
                      loop_timer_t *tm, size_t n)
{
    double best = 1e9;

    for (int r = 0; r < runs; r++) {
        double s = fn(ops, tm, n);
        best = s < best ? s : best;
    }
    return best;
}

int main(void)
{
    static const size_t sizes[] = {1000, 10000, 100000, 1000000};
    static const struct {
        const char *name;
        workload_fn *fn;
    } loads[] = {{"fire", fire}, {"re-arm", rearm}};
    loop_timer_t *tm = calloc(1000000, sizeof *tm);

    if (tm == NULL) {
        perror("calloc");
        return 1;
    }
    struct utsname u;
    char date[32] = "?";
    time_t today = time(NULL);

    if (uname(&u) < 0)
        u.machine[0] = u.sysname[0] = '\0';
    strftime(date, sizeof date, "%Y-%m-%d", localtime(&today));
    printf("# 4-ary heap (%s) against the binary heap (%s), ns per timer, "
           "best of 3\n# %s %s, %ld CPUs online, compiler %s, %s\n",
           quad_heap_ops.name, timers_heap_ops.name, u.sysname, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN), __VERSION__, date);
    printf("%-7s %9s %9s %9s %7s\n", "load", "N", "binary", "quad",
           "quad/bin");
    for (size_t l = 0; l < sizeof loads / sizeof loads[0]; l++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            double b = best_of(3, loads[l].fn, &timers_heap_ops, tm, n);
            double q = best_of(3, loads[l].fn, &quad_heap_ops, tm, n);
            printf("%-7s %9zu %9.1f %9.1f %7.2f\n", loads[l].name, n,
                   b * 1e9, q * 1e9, q / b);
        }
    }
    free(tm);
    return 0;
}
