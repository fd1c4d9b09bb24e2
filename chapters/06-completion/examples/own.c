/*
 * own.c - chapter 05: a program of your own on this runtime.
 *
 * The shape every program here has, and nothing else: run() makes the
 * loop and runs the main coroutine; the main coroutine starts its work in
 * a task group and leaves the group when the work is done. Two counters
 * count down together, one step every 0.1 s. CHAPTER.md compiles it with
 * a plain cc command, to show which files and flags a program needs.
 */
/* [own] */
#include "proactor.h" /* chapter 06 */
#include "run.h"
#include "sleep.h"
#include "taskgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct counter {        /* a coroutine's frame: coro_t first */
    coro_t co;
    int id, left;
    sleeper_t tick;
} counter_t;

static int count_body(coro_t *co)
{
    counter_t *f = (counter_t *)co;

    CORO_BEGIN(co);
    for (f->left = 3; f->left > 0; f->left--) {
        printf("counter %d: %d\n", f->id, f->left);
        AWAIT(co, sleep_start(&f->tick, 0.1));
    }
    CORO_END(co);
}

typedef struct main_frame {
    coro_t co;
    task_group_t group;
} main_frame_t;

static int main_body(coro_t *co)
{
    main_frame_t *f = (main_frame_t *)co;
    counter_t *c;

    CORO_BEGIN(co);
    task_group_init(&f->group, running_loop());
    for (int i = 1; i <= 2; i++) {
        if (task_group_create_task(&f->group, count_body, sizeof *c,
                                   (void **)&c) == NULL) {
            task_group_abort(&f->group, errno);   /* raised at the wait */
            break;
        }
        c->id = i;                /* the rest of the frame is zero-filled */
    }
    AWAIT(co, task_group_wait(&f->group));   /* both done, or the error */
    CORO_END(co);
}

int main(void)
{
    int err = 0;

    if (run(main_body, sizeof(main_frame_t), NULL, NULL, NULL, NULL, &err)
        == FUTURE_OK)
        return 0;
    fprintf(stderr, "own: %s\n", proactor_strerror(err)); /* chapter 06 */
    return 1;
}
/* [own] */
