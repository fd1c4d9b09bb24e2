/*
 * future.c - a Future is a small state machine plus a list of waiting
 * callbacks. The callback records are intrusive (they live in whoever
 * waits), so a Task waiting on a Future costs no allocation.
 */
#define _DEFAULT_SOURCE
#include "future.h"

#include <errno.h>

void future_init(future_t *future, loop_t *loop)
{
    future->state = FUTURE_PENDING;
    future->error = 0;
    future->result = NULL;
    future->loop = loop;
    list_init(&future->callbacks);
    future->cancel = NULL;
    future->sealed = 0;
    future->retrieved = 0;
}

/* [future-finish] */
static future_status_t finish(future_t *f, future_state_t state,
                              void *result, int error)
{
    if (f->state != FUTURE_PENDING)
        return FUTURE_E_FINISHED;
    if (f->sealed)
        return FUTURE_E_TASK;
    f->state = state;
    f->result = result;
    f->error = error;
    FILE *trace = LOOP_TRACING() ? loop_trace(f->loop) : NULL;
    if (trace != NULL)
        fprintf(trace, "[%.6f] future %p: %s\n", loop_time(f->loop),
                (void *)f, state == FUTURE_RESULT ? "result"
                : state == FUTURE_ERROR ? "error" : "cancelled");
    /* Unlink each record before calling it: the callback may free it,
     * re-use it on another Future, or add more callbacks to this one
     * (which are queued, since the Future is no longer pending). */
    while (!list_empty(&f->callbacks)) {
        future_callback_t *r =
            LIST_ENTRY(f->callbacks.next, future_callback_t, link);

        list_unlink(&r->link);
        r->future = NULL;
        r->cb(f, r->arg);
    }
    return FUTURE_OK;
}
/* [future-finish] */

future_status_t future_set_result(future_t *future, void *result)
{
    return finish(future, FUTURE_RESULT, result, 0);
}

future_status_t future_set_error(future_t *future, int error)
{
    if (error == ECANCELED)
        return finish(future, FUTURE_CANCELLED, NULL, ECANCELED);
    return finish(future, FUTURE_ERROR, NULL, error ? error : EIO);
}

future_status_t future_set_cancelled(future_t *future)
{
    return finish(future, FUTURE_CANCELLED, NULL, ECANCELED);
}

int future_cancel(future_t *future)
{
    if (future->state != FUTURE_PENDING)
        return 0;
    if (future->cancel)
        return future->cancel(future);
    future_set_cancelled(future);
    return 1;
}

int future_done(const future_t *future)
{
    return future->state != FUTURE_PENDING;
}

future_state_t future_state(const future_t *future)
{
    return (future_state_t)future->state;
}

future_status_t future_result(future_t *future, void **result,
                              int *error)
{
    switch (future->state) {
    case FUTURE_PENDING:
        return FUTURE_E_PENDING;
    case FUTURE_RESULT:
        future->retrieved = 1;
        if (result != NULL)
            *result = future->result;
        return FUTURE_OK;
    case FUTURE_ERROR:
        future->retrieved = 1;
        if (error != NULL)
            *error = future->error;
        return FUTURE_E_ERROR;
    case FUTURE_CANCELLED:
        break;
    }
    future->retrieved = 1;
    if (error != NULL)
        *error = ECANCELED;
    return FUTURE_E_CANCELLED;
}

/* A callback added after completion runs from the loop, not from inside
 * future_add_done_callback(): the caller may hold locks or be half-way
 * through building the state the callback reads. */
static void run_late(loop_t *loop, void *arg)
{
    future_callback_t *r = arg;
    future_t *f = r->future;

    (void)loop;
    r->future = NULL;
    r->cb(f, r->arg);
}

future_status_t future_add_done_callback(future_t *future,
                                         future_callback_t *record,
                                         future_cb *cb, void *arg)
{
    record->cb = cb;
    record->arg = arg;
    record->future = future;
    if (future->state != FUTURE_PENDING) {
        list_init(&record->link);        /* on no list: not removable */
        return loop_call_soon(future->loop, run_late, record) == 0
                   ? FUTURE_OK : FUTURE_E_NOMEM;
    }
    list_add_tail(&future->callbacks, &record->link);
    return FUTURE_OK;
}

int future_remove_done_callback(future_t *future, future_callback_t *record)
{
    /* "Still in the list", not "still pending": finish() walks the list
     * after the state has changed, and a callback it runs may take back
     * a record further down (gather does, on its first error). A record
     * queued by run_late() names the Future but is in no list. */
    if (record->future != future || !list_linked(&record->link))
        return 0;
    list_unlink(&record->link);
    record->future = NULL;
    return 1;
}

const char *future_strerror(future_status_t status)
{
    switch (status) {
    case FUTURE_OK:
        return "ok";
    case FUTURE_E_PENDING:
        return "the future is still pending: no result to read yet";
    case FUTURE_E_FINISHED:
        return "the future has already finished: it cannot be set twice";
    case FUTURE_E_ERROR:
        return "the future finished with an error";
    case FUTURE_E_CANCELLED:
        return "the future was cancelled";
    case FUTURE_E_NOMEM:
        return "out of memory queueing a callback";
    case FUTURE_E_TASK:
        return "a Task finishes only by its coroutine: its outcome cannot "
               "be set from outside";
    }
    return "unknown future status";
}
