/*
 * bench_coro.c - what a task step costs, against three reference points.
 *
 * Prints one line per measurement, "name value unit", for run_bench.py to
 * put beside CPython asyncio and uvloop:
 *
 *   call        a same-thread call through a function pointer (the floor)
 *   swapcontext a round trip between two ucontext stacks (a stackful switch)
 *   pthread     a round trip between two threads (an OS switch, twice)
 *   one_task    one task awaiting sleep(0) over and over: ns per step
 *   many_tasks  10,000 tasks x 100 sleep(0): ns per step
 *   gather      create 100,000 trivial tasks and gather them: ns per task
 *   bytes       memory per suspended task, beyond its frame
 */
#define _GNU_SOURCE
#include "gather.h"
#include "loop.h"
#include "run.h"
#include "sync.h"
#include "task.h"

#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

/* The loop's own clock reader, so these times and the loop's agree. */
static double now_s(void)
{
    return loop_clock_monotonic(NULL);
}

/* ---- reference points ---------------------------------------------- */

static volatile long sink;

__attribute__((noinline)) static void plain_call(long i)
{
    sink += i;
}

static void (*volatile call_ptr)(long) = plain_call;

static double bench_call(long n)
{
    double t0 = now_s();

    for (long i = 0; i < n; i++)
        call_ptr(i);
    return (now_s() - t0) / (double)n * 1e9;
}

static ucontext_t main_ctx, other_ctx;

static void other_side(void)
{
    for (;;)
        swapcontext(&other_ctx, &main_ctx);
}

static double bench_swapcontext(long n)
{
    static char stack[64 * 1024];
    double t0;

    getcontext(&other_ctx);
    other_ctx.uc_stack.ss_sp = stack;
    other_ctx.uc_stack.ss_size = sizeof stack;
    other_ctx.uc_link = NULL;
    makecontext(&other_ctx, other_side, 0);
    t0 = now_s();
    for (long i = 0; i < n; i++)
        swapcontext(&main_ctx, &other_ctx);
    return (now_s() - t0) / (double)n * 1e9;
}

static sem_t ping, pong;

static void *ponger(void *arg)
{
    long n = (long)(intptr_t)arg;

    for (long i = 0; i < n; i++) {
        sem_wait(&ping);
        sem_post(&pong);
    }
    return NULL;
}

static double bench_pthread(long n)
{
    pthread_t t;
    double t0;

    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_create(&t, NULL, ponger, (void *)(intptr_t)n);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        sem_post(&ping);
        sem_wait(&pong);
    }
    pthread_join(t, NULL);
    return (now_s() - t0) / (double)n * 1e9;
}

/* ---- tasks ------------------------------------------------------------ */

typedef struct yielder {
    coro_t co;
    long i, n;
} yielder_t;

/* [bench-yielder] */
static int yielder_body(coro_t *co)
{
    yielder_t *f = (yielder_t *)co;

    CORO_BEGIN(co);
    for (f->i = 0; f->i < f->n; f->i++)
        AWAIT(co, NULL);                 /* asyncio.sleep(0) */
    CORO_END(co);
}
/* [bench-yielder] */

static double bench_steps(long tasks, long steps)
{
    loop_t *loop = loop_create(NULL);
    task_t **all = malloc((size_t)tasks * sizeof *all);
    future_t **futs = malloc((size_t)tasks * sizeof *futs);
    void **results = malloc((size_t)tasks * sizeof *results);
    gather_t g;
    double t0;

    for (long k = 0; k < tasks; k++) {
        yielder_t *f;

        all[k] = task_create(loop, yielder_body, sizeof *f, (void **)&f);
        f->n = steps;
        futs[k] = task_future(all[k]);
    }
    t0 = now_s();
    loop_run_until_complete(loop, gather_start(&g, loop, futs, (size_t)tasks,
                                               results), NULL, NULL);
    t0 = (now_s() - t0) / (double)(tasks * (steps + 1)) * 1e9;
    for (long k = 0; k < tasks; k++)
        task_release(all[k]);
    free(all);
    free(futs);
    free(results);
    loop_destroy(loop);
    return t0;
}

static double bench_gather(long tasks)
{
    loop_t *loop = loop_create(NULL);
    task_t **all = malloc((size_t)tasks * sizeof *all);
    future_t **futs = malloc((size_t)tasks * sizeof *futs);
    void **results = malloc((size_t)tasks * sizeof *results);
    gather_t g;
    double t0 = now_s();

    for (long k = 0; k < tasks; k++) {
        yielder_t *f;

        all[k] = task_create(loop, yielder_body, sizeof *f, (void **)&f);
        f->n = 0;                        /* returns at its first step */
        futs[k] = task_future(all[k]);
    }
    loop_run_until_complete(loop, gather_start(&g, loop, futs, (size_t)tasks,
                                               results), NULL, NULL);
    for (long k = 0; k < tasks; k++)
        task_release(all[k]);
    t0 = (now_s() - t0) / (double)tasks * 1e9;
    free(all);
    free(futs);
    free(results);
    loop_destroy(loop);
    return t0;
}

/* A task suspended on an Event: its frame is the coro_t head plus the
 * waiter it awaits with. */
typedef struct sleeper_frame {
    coro_t co;
    event_t *event;
    waiter_t w;
} sleeper_frame_t;

static int wait_body(coro_t *co)
{
    sleeper_frame_t *f = (sleeper_frame_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, event_wait(f->event, &f->w));
    CORO_END(co);
}

/* Create @p tasks tasks that suspend on one Event; returns the heap bytes
 * in use while they all wait, compared with before, then finishes them. */
static size_t suspended_bytes(loop_t *loop, task_t **all, long tasks)
{
    event_t ev;
    size_t before, during;

    event_init(&ev, loop);
    before = mallinfo2().uordblks;
    for (long k = 0; k < tasks; k++) {
        sleeper_frame_t *f;

        all[k] = task_create(loop, wait_body, sizeof *f, (void **)&f);
        f->event = &ev;
    }
    loop_run_once(loop);                 /* every task now suspended */
    during = mallinfo2().uordblks;
    event_set(&ev);
    loop_run_once(loop);                 /* all of them finish */
    for (long k = 0; k < tasks; k++)
        task_release(all[k]);
    return during - before;
}

static double bench_bytes(long tasks, double *frame_bytes)
{
    loop_t *loop = loop_create(NULL);
    task_t **all = malloc((size_t)tasks * sizeof *all);
    size_t bytes;

    suspended_bytes(loop, all, tasks);   /* grows the ready queue once */
    bytes = suspended_bytes(loop, all, tasks);
    free(all);
    loop_destroy(loop);
    /* The frame's own locals (event pointer, waiter) are the program's;
     * what is left is the runtime's cost: task, coro_t head, malloc. */
    *frame_bytes = (double)(sizeof(sleeper_frame_t) - sizeof(coro_t));
    return (double)bytes / (double)tasks - *frame_bytes;
}

/* The machine is shared: the fastest of a few runs is the least disturbed. */
static double min2(double a, double b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    double frame;

    if (argc > 1) {                      /* one measurement, for profiling */
        for (int i = 0; i < 20; i++)
            bench_gather(100000);
        return 0;
    }
    (void)argv;
    printf("call %.2f ns\n", bench_call(100000000));
    printf("swapcontext %.1f ns\n", bench_swapcontext(2000000));
    printf("pthread %.0f ns\n", bench_pthread(200000));
    printf("one_task %.1f ns\n",
           min2(bench_steps(1, 1000000), bench_steps(1, 1000000)));
    printf("many_tasks %.1f ns\n",
           min2(min2(bench_steps(10000, 100), bench_steps(10000, 100)),
                bench_steps(10000, 100)));
    bench_gather(100000);                /* warm the heap up once */
    printf("gather %.1f ns\n",
           min2(bench_gather(100000), bench_gather(100000)));
    printf("bytes %.0f B\n", bench_bytes(100000, &frame));
    printf("frame %.0f B\n", frame);
    return 0;
}
