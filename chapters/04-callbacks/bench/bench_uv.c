/*
 * bench_uv.c - the same two measurements with libuv, the C event loop
 * under Node.js (and uvloop), for comparison.
 *
 *   bench-uv timers N   N uv_timer_t with random timeouts under a second,
 *                       started, then fired by one uv_run(UV_RUN_NOWAIT)
 *                       after a second's sleep (the sleep is not timed)
 *   bench-uv idle N     N callbacks from 1,000 uv_idle_t handles
 *
 * Why uv_idle for call_soon: libuv has no queue of one-off callbacks. An
 * active idle handle's callback runs once per loop iteration, with no system
 * call of its own, and the loop polls without waiting while one is active:
 * that is what 1,000 self-re-queuing call_soon chains do on our loop.
 * uv_async_send() would be the wrong peer: it is for waking the loop from
 * another thread, and each send costs a write to an eventfd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t fired;

static void on_timer(uv_timer_t *t)
{
    (void)t;
    fired++;
}

static int bench_timers(size_t n)
{
    uv_loop_t *loop = uv_default_loop();
    uv_timer_t *timers = malloc(n * sizeof *timers);
    unsigned long long x = 88172645463325252ULL;
    uint64_t *timeout = malloc(n * sizeof *timeout);

    if (timers == NULL || timeout == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        timeout[i] = (x >> 11) % 1000; /* libuv counts milliseconds */
        uv_timer_init(loop, &timers[i]);
    }
    uv_update_time(loop);
    double start = now_s();
    for (size_t i = 0; i < n; i++)
        uv_timer_start(&timers[i], on_timer, timeout[i], 0);
    double armed = now_s() - start;
    struct timespec second = {1, 10 * 1000000L};
    nanosleep(&second, NULL); /* all due now; not timed */
    start = now_s();
    uv_run(loop, UV_RUN_NOWAIT); /* updates the time, runs the due timers */
    double took = armed + now_s() - start;
    if (fired != n) {
        fprintf(stderr, "bench-uv: %zu of %zu fired\n", fired, n);
        return 1;
    }
    printf("%.6f\n", took);
    return 0;
}

static size_t left;

static void on_idle(uv_idle_t *h)
{
    if (left == 0) {
        uv_idle_stop(h);
        return;
    }
    if (--left == 0)
        uv_stop(h->loop);
}

static int bench_idle(size_t n)
{
    uv_loop_t *loop = uv_default_loop();
    static uv_idle_t idle[1000];

    left = n;
    double start = now_s();
    for (int i = 0; i < 1000; i++) {
        uv_idle_init(loop, &idle[i]);
        uv_idle_start(&idle[i], on_idle);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    double took = now_s() - start;
    printf("%.6f\n", took);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "timers") == 0)
        return bench_timers(strtoul(argv[2], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "idle") == 0)
        return bench_idle(strtoul(argv[2], NULL, 10));
    fprintf(stderr, "usage: bench-uv timers N | idle N\n");
    return 2;
}
