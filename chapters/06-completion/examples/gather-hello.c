/*
 * gather-hello.c - chapter 05: two coroutines run together with gather.
 *
 * The smallest whole program on this runtime, and the C twin of
 * python/gather_hello.py: two coroutines each sleep and then return a
 * string, a gather waits for both, a done callback on the gather prints
 * the results in argument order, and the loop is closed. Nothing else:
 * no signals, no task group (hello.c shows those). The two sleeps overlap,
 * so the program takes about 0.2 s, not 0.3 s.
 */
#include "gather.h"
#include "run.h"
#include "sleep.h"
#include "task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [gather-hello] */
/* A coroutine's frame: its coro_t first, then what must survive an await. */
typedef struct greeter {
    coro_t co;
    sleeper_t sleep;
} greeter_t;

static int hello_world(coro_t *co)
{
    greeter_t *f = (greeter_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, sleep_start(&f->sleep, 0.2));
    CORO_RETURN(co, "Hello World!");
    CORO_END(co);
}

static int hello_python(coro_t *co)
{
    greeter_t *f = (greeter_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, sleep_start(&f->sleep, 0.1));
    CORO_RETURN(co, "Hello Python!");
    CORO_END(co);
}

/* The gather's done callback: print its results, a list as Python would. */
static void print_results(future_t *gathered, void *arg)
{
    void *value;
    int err = 0;

    (void)arg;
    if (future_result(gathered, &value, &err) != FUTURE_OK) {
        fprintf(stderr, "gather-hello: %s\n", strerror(err));
        return;
    }
    char **results = value;
    printf("['%s', '%s']\n", results[0], results[1]);
}

/* loop.create_task(body()): a Task for a new coroutine (its frame needs
 * nothing filled in: the sleeps find their loop themselves). */
static task_t *start(loop_t *loop, coro_fn *body)
{
    greeter_t *f;

    return task_create(loop, body, sizeof *f, (void **)&f);
}

int main(void)
{
    loop_t *loop = loop_create(NULL);
    if (loop == NULL) {
        perror("gather-hello: loop_create");
        return 1;
    }
    task_t *tasks[2] = { start(loop, hello_world), start(loop, hello_python) };
    if (tasks[0] == NULL || tasks[1] == NULL) {
        perror("gather-hello: task_create");
        return 1;
    }
    future_t *children[2] = { task_future(tasks[0]), task_future(tasks[1]) };
    void *results[2];
    gather_t both;
    future_t *gathered = gather_start(&both, loop, children, 2, results);
    if (gathered == NULL) {
        perror("gather-hello: gather_start");
        return 1;
    }
    future_callback_t printer;
    future_add_done_callback(gathered, &printer, print_results, NULL);
    loop_run_until_complete(loop, gathered, NULL, NULL);
    task_release(tasks[0]);
    task_release(tasks[1]);
    loop_destroy(loop);
    return 0;
}
/* [gather-hello] */
