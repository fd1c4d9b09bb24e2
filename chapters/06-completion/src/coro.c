/*
 * coro.c - the driver behind the coroutine macros. coro_resume() is
 * Python's gen.send() plus the delegation that `yield from` does: it keeps
 * a pointer to the innermost suspended frame, so resuming a coroutine that
 * sits ten sub-coroutines deep costs one call, not ten.
 */
#include "coro.h"

#include <assert.h>

void coro_init(coro_t *co, coro_fn *fn)
{
    co->fn = fn;
    co->resume = 0;
    co->err = 0;
    co->caller = NULL;
    co->top = NULL;
    co->in = NULL;
    co->out = NULL;
}

int coro_finished(const coro_t *co)
{
    return co->resume == -1;
}

/* [coro-resume] */
coro_status_t coro_resume(coro_t *co, void *in, int err)
{
    coro_t *f = co->top != NULL ? co->top : co;

    assert(f->resume != -1 && "resuming a finished coroutine");
    f->in = in;
    f->err = err;
    for (;;) {
        int step = f->fn(f);

        if (step == CORO_STEP_YIELD) {          /* out to our caller */
            co->top = f == co ? NULL : f;
            co->out = f->out;
            return CORO_YIELDED;
        }
        if (step == CORO_STEP_CALL) {           /* down into a sub-frame */
            coro_t *sub = f->out;

            sub->caller = f;
            f = sub;
            continue;
        }
        if (f == co) {                          /* the outermost returned */
            co->top = NULL;
            return CORO_RETURNED;
        }
        f->caller->in = f->out;                 /* back up, with a value */
        f->caller->err = f->err;
        f = f->caller;
    }
}
/* [coro-resume] */
