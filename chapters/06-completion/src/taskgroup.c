/*
 * taskgroup.c - task groups: a Future that finishes when its last child
 * has, and a first failure that cancels the rest.
 *
 * The group's note on each child (a list link and a done-callback record)
 * lives in the child's own allocation, after its frame, so starting a
 * child costs no allocation beyond the Task's.
 */
#include "taskgroup.h"

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>

typedef struct member {
    task_group_t *group;
    future_callback_t done;           /* on the child's Task (its .future
                                         is the Task's while it runs) */
    list_t link;                      /* in group->children */
} member_t;

static task_t *task_of(future_t *f)
{
    return (task_t *)((char *)f - offsetof(task_t, future));
}

#define ROUND_UP(n, a) (((n) + (a) - 1) / (a) * (a))

static void finish(task_group_t *g)
{
    if (g->error)
        future_set_error(&g->done, g->error);
    else if (g->cancelled)
        future_set_cancelled(&g->done);
    else
        future_set_result(&g->done, NULL);
}

static void cancel_children(task_group_t *g)
{
    g->aborting = 1;
    for (list_t *l = g->children.next; l != &g->children; l = l->next)
        task_cancel(task_of(LIST_ENTRY(l, member_t, link)->done.future));
}

/* [group-child-done] */
static void child_done(future_t *future, void *arg)
{
    member_t *m = arg;
    task_group_t *g = m->group;
    int err = 0;

    list_unlink(&m->link);
    g->running--;
    if (future_result(future, NULL, &err) == FUTURE_E_ERROR) {
        g->failures++;
        if (g->error == 0) {          /* the first failure stops the rest */
            g->error = err;
            cancel_children(g);
        }
    }
    task_release(task_of(future));    /* m is gone with it, maybe */
    if (g->running == 0 && g->waiting)
        finish(g);
}
/* [group-child-done] */

static int group_cancel(future_t *future)
{
    task_group_t *g = (task_group_t *)future;

    g->cancelled = 1;
    cancel_children(g);
    if (g->running == 0)
        finish(g);
    return 1;
}

void task_group_init(task_group_t *g, loop_t *loop)
{
    future_init(&g->done, loop);
    g->done.cancel = group_cancel;
    g->loop = loop;
    list_init(&g->children);
    g->running = 0;
    g->failures = 0;
    g->error = 0;
    g->aborting = 0;
    g->cancelled = 0;
    g->waiting = 0;
}

task_t *task_group_create_task(task_group_t *g, coro_fn *fn,
                               size_t frame_size, void **frame)
{
    /* The record's own alignment, not max_align_t's: a frame of 312
     * bytes would otherwise pad 8 more, and malloc's 16-byte steps make
     * that 16 per child (per held connection, in a server). */
    size_t offset = ROUND_UP(frame_size, alignof(member_t));

    if (future_done(&g->done)) {
        errno = EINVAL;
        return NULL;
    }
    if (g->aborting) {
        errno = ECANCELED;
        return NULL;
    }
    task_t *t = task_create(g->loop, fn, offset + sizeof(member_t), frame);
    if (t == NULL)
        return NULL;
    member_t *m = (member_t *)((char *)*frame + offset);
    m->group = g;
    list_add_tail(&g->children, &m->link);
    g->running++;
    future_add_done_callback(task_future(t), &m->done, child_done, m);
    return t;
}

future_t *task_group_wait(task_group_t *g)
{
    g->waiting = 1;
    if (g->running == 0 && !future_done(&g->done))
        finish(g);
    return &g->done;
}

void task_group_cancel(task_group_t *g)
{
    cancel_children(g);
    if (g->running == 0 && g->waiting && !future_done(&g->done))
        finish(g);
}

void task_group_abort(task_group_t *g, int error)
{
    if (g->error == 0)
        g->error = error;
    task_group_cancel(g);
}

size_t task_group_failures(const task_group_t *g)
{
    return g->failures;
}

size_t task_group_running(const task_group_t *g)
{
    return g->running;
}
