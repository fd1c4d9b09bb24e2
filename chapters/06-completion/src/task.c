/*
 * task.c - the Task, the piece that turns "a coroutine that yields Futures"
 * into "code that runs by itself on the loop". The comments number the
 * steps of the 7-step flow (CHAPTER.md, "The idea") where they happen.
 */
#define _DEFAULT_SOURCE
#include "task.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

static unsigned next_id;
/* The Task whose step runs now. One loop per thread, so one variable per
 * thread is enough (asyncio keeps a dictionary keyed by loop). */
static _Thread_local task_t *current;

static int task_cancel_hook(future_t *future);
static void task_step(loop_t *loop, void *arg);

/* The frame follows the Task in the same block, aligned for anything;
 * its coro_t is at a fixed offset, so the Task keeps no pointer to it. */
#define FRAME_OFFSET \
    ((sizeof(task_t) + alignof(max_align_t) - 1) & \
     ~(alignof(max_align_t) - 1))
#define CORO_OF(t) ((coro_t *)((char *)(t) + FRAME_OFFSET))

/* A trace line, when the loop traces (loop_trace()); @p awaited, if not
 * NULL, is the Future the Task now awaits. */
static void trace(const task_t *t, const char *what, const void *awaited)
{
    FILE *out = loop_trace(t->future.loop);

    if (out == NULL)
        return;
    fprintf(out, "[%.6f] task %s#%u: %s", loop_time(t->future.loop),
            t->name, t->id, what);
    if (awaited != NULL)
        fprintf(out, " %p", awaited);
    fputc('\n', out);
}

/* The loop's pending Tasks, found again through its destroy hook: what
 * "Task was destroyed but it is pending" needs (asyncio keeps a weak set
 * of all tasks for the same purpose). A circular list around a sentinel,
 * so that a finishing Task unlinks itself without looking the list up. */
typedef struct registry {
    loop_hook_t hook;                   /* first: the hook is the registry */
    list_t all;                         /* task_t.pending links */
} registry_t;

#define TASK_OF(link) LIST_ENTRY(link, task_t, pending)

static void destroy_pending(loop_t *loop, loop_hook_t *hook)
{
    registry_t *reg = (registry_t *)hook;

    (void)loop;
    /* Unhook every wake-up first: a Task may await another one's Future,
     * and both are freed below. */
    for (list_t *l = reg->all.next; l != &reg->all; l = l->next) {
        task_t *t = TASK_OF(l);

        fprintf(stderr, "Task was destroyed but it is pending: %s#%u\n",
                t->name, t->id);
        if (t->waiting != NULL)
            future_remove_done_callback(t->waiting, &t->wakeup);
        t->waiting = NULL;
    }
    for (list_t *l; (l = list_first(&reg->all)) != NULL;) {
        list_unlink(l);
        task_release(TASK_OF(l));         /* the loop's reference */
    }
    free(reg);
}

/* The loop's registry, or NULL if no Task was ever created on it. */
static registry_t *registry_find(const loop_t *loop)
{
    return (registry_t *)loop_find_destroy_hook(loop, destroy_pending);
}

/* The loop's registry, made by its first Task; NULL with errno ENOMEM. */
static registry_t *registry_of(loop_t *loop)
{
    registry_t *reg = registry_find(loop);

    if (reg != NULL)
        return reg;
    reg = malloc(sizeof *reg);
    if (reg == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    list_init(&reg->all);
    loop_add_destroy_hook(loop, &reg->hook, destroy_pending);
    return reg;
}

task_t *task_create(loop_t *loop, coro_fn *fn, size_t frame_size,
                    void **frame)
{
    if (frame_size < sizeof(coro_t)) {
        errno = EINVAL;
        return NULL;
    }
    registry_t *reg = registry_of(loop);
    if (reg == NULL)
        return NULL;
    task_t *t = malloc(FRAME_OFFSET + frame_size);
    if (t == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    /* Every field set by hand and only the frame zero-filled: calloc()
     * would clear the whole block, a third of the cost of a small Task. */
    future_init(&t->future, loop);
    t->future.cancel = task_cancel_hook;
    t->future.sealed = 1;                 /* finished by task_finish only */
    memset(CORO_OF(t), 0, frame_size);
    coro_init(CORO_OF(t), fn);
    t->waiting = NULL;
    t->wakeup.future = NULL;
    t->in = NULL;
    t->in_err = 0;
    t->cancel_requested = 0;
    t->cancelling = 0;
    t->woken = 0;
    t->refs = 2;                          /* the caller's and the loop's */
    t->id = ++next_id;
    t->name = "task";
    /* 1. wrap the coroutine in a Task; its first step starts it */
    if (loop_call_soon(loop, task_step, t) != 0) {
        free(t);
        return NULL;
    }
    list_add_tail(&reg->all, &t->pending); /* pending until it finishes */
    *frame = CORO_OF(t);
    return t;
}

future_t *task_future(task_t *task)
{
    return &task->future;
}

void task_set_name(task_t *task, const char *name)
{
    task->name = name;
}

task_t *task_retain(task_t *task)
{
    task->refs++;
    return task;
}

void task_release(task_t *task)
{
    if (task && --task->refs == 0) {
        /* The last chance to say that an error went unseen, which would
         * otherwise vanish without a trace (asyncio says it from the
         * Future's finaliser). */
        if (task->future.state == FUTURE_ERROR && !task->future.retrieved)
            fprintf(stderr, "Task exception was never retrieved: %s#%u: "
                    "%s\n", task->name, task->id,
                    strerror(task->future.error));
        free(task);
    }
}

/* Queue the Task's next step. The ready queue grows by doubling, so this
 * fails only when memory is exhausted, and nobody is left to tell: a
 * Task whose step cannot be queued would hang for ever, silently, so say
 * so and stop instead (the out-of-memory policy in loop.h). */
static void schedule_step(task_t *t)
{
    if (loop_call_soon(t->future.loop, task_step, t) != 0) {
        fprintf(stderr, "task %s#%u: out of memory queueing a step\n",
                t->name, t->id);
        abort();
    }
}

/* 6. the awaited Future finished: its done callback (this) queues the
 * Task's next step, carrying the outcome to the await point. */
static void task_wakeup(future_t *f, void *arg)
{
    task_t *t = arg;

    t->waiting = NULL;
    t->woken = 1;
    t->in = NULL;
    t->in_err = 0;
    future_result(f, &t->in, &t->in_err);
    schedule_step(t);
}

static void task_finish(task_t *t)
{
    coro_t *co = CORO_OF(t);

    if (LOOP_TRACING())
        trace(t, co->err ? "finished with an error" : "finished", NULL);
    t->future.sealed = 0;
    list_unlink(&t->pending);             /* no longer pending */
    /* A cancel that came while the coroutine ran and found no await to
     * interrupt still wins over a plain return (asyncio's _must_cancel):
     * whoever cancelled is told the Task was cancelled. */
    if (co->err == ECANCELED || (co->err == 0 && t->cancel_requested))
        future_set_cancelled(&t->future);
    else if (co->err)
        future_set_error(&t->future, co->err);
    else
        future_set_result(&t->future, co->out);
    task_release(t);                      /* the loop's reference */
}

/* [task-step] */
static void task_step(loop_t *loop, void *arg)
{
    task_t *t = arg;
    void *in = t->in;
    int err = t->in_err;

    (void)loop;
    if (t->cancel_requested && !t->woken) {
        t->cancel_requested = 0;
        if (CORO_OF(t)->resume == 0) {    /* never started: never will */
            CORO_OF(t)->err = ECANCELED;
            task_finish(t);
            return;
        }
        in = NULL;
        err = ECANCELED;
    }
    t->woken = 0;
    for (unsigned steps = 1;; steps++) {
        if (LOOP_TRACING())
            trace(t, "step", NULL);
        /* 1, 7. send the value in; the coroutine runs to its next await */
        current = t;
        coro_status_t status = coro_resume(CORO_OF(t), in, err);
        current = NULL;
        if (status == CORO_RETURNED) {
            task_finish(t);
            return;
        }
        future_t *awaited = CORO_OF(t)->out; /* 2. it yielded a Future */
        if (awaited == NULL) {                   /* sleep(0): just go round */
            t->in = NULL;
            t->in_err = 0;
            schedule_step(t);
            return;
        } else if (awaited == &t->future) {
            /* Awaiting itself (pending, since it runs) would wait for ever
             * and a cancel would chase its own tail: refuse at the await,
             * as asyncio does. */
            if (LOOP_TRACING())
                trace(t, "awaits itself: EDEADLK", NULL);
            in = NULL;
            err = EDEADLK;
        } else if (!future_done(awaited)) {
            /* 3. hang the wake-up on the Future; 4-5 happen elsewhere */
            t->waiting = awaited;
            future_add_done_callback(awaited, &t->wakeup, task_wakeup, t);
            if (LOOP_TRACING())
                trace(t, "awaits future", awaited);
            if (t->cancel_requested) {    /* held over from last step */
                t->cancel_requested = 0;
                if (!future_cancel(awaited))
                    t->cancel_requested = 1;
            }
            return;
        } else {
            in = NULL;                    /* finished already: go on */
            err = 0;
            future_result(awaited, &in, &err);
        }
        if (steps == TASK_STEP_BUDGET) {
            /* Fair share used up: carry the outcome over to a fresh step
             * at the back of the ready queue, as a wake-up would, so the
             * loop polls, runs timers and the other Tasks in between. */
            t->in = in;
            t->in_err = err;
            t->woken = 1;
            schedule_step(t);
            return;
        }
    }
}
/* [task-step] */

static int task_cancel_hook(future_t *future)
{
    task_t *t = (task_t *)future;

    if (LOOP_TRACING())
        trace(t, "cancel requested", NULL);
    if (t->cancelling < USHRT_MAX)
        t->cancelling++;
    /* A Future we await that takes the cancellation wakes us with
     * ECANCELED; otherwise the next step delivers it. */
    if (t->waiting && future_cancel(t->waiting))
        return 1;
    /* The step already queued carries a cancellation: this request is
     * the same one, not a second to deliver later (asyncio's step, too,
     * throws one CancelledError however often cancel() was called). */
    if (t->woken && t->in_err == ECANCELED)
        return 1;
    t->cancel_requested = 1;
    return 1;
}

int task_cancel(task_t *task)
{
    return future_cancel(&task->future);
}

size_t task_cancel_all(loop_t *loop)
{
    registry_t *reg = registry_find(loop);
    size_t n = 0;

    /* A cancel only queues steps and wakes, so nothing leaves the list
     * while it is walked. */
    if (reg == NULL)
        return 0;
    for (list_t *l = reg->all.next; l != &reg->all; l = l->next) {
        task_cancel(TASK_OF(l));
        n++;
    }
    return n;
}

size_t task_count_pending(loop_t *loop)
{
    registry_t *reg = registry_find(loop);
    size_t n = 0;

    if (reg == NULL)
        return 0;
    for (list_t *l = reg->all.next; l != &reg->all; l = l->next)
        n++;
    return n;
}

task_t *task_current(void)
{
    return current;
}

unsigned task_cancelling(const task_t *task)
{
    return task->cancelling;
}

unsigned task_uncancel(task_t *task)
{
    if (task->cancelling > 0 && --task->cancelling == 0)
        task->cancel_requested = 0;
    return task->cancelling;
}
