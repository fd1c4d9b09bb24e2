/* wrong: awaits the fetch with a plain AWAIT, as if its error could be looked at afterwards; the error ends the worker, and the crawl with it | expect: a failed fetch is data */
#include "exercise.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "timeout.h"

/* The crawl's own coroutine: it owns the job queue and the workers, and
 * outlives them (it waits for each), so a worker may point into it. */
typedef struct crawler {
    coro_t co;
    crawl_t c;          /* a copy of the caller's description */
    queue_t jobs;       /* URL index + 1 (never NULL), all put at start */
    int queue_made;     /* jobs needs queue_deinit() */
    task_t **workers;   /* the worker Tasks (allocated) */
    size_t count;       /* how many of them were started */
    size_t i;           /* loop index across awaits */
    int failure;        /* why the crawl stops early (ECANCELED), or 0 */
} crawler_t;

/* One worker: takes jobs until there are none left. Every field it needs
 * after an await is here, not in a local (coro.h, ground rule 1). */
typedef struct worker {
    coro_t co;
    crawler_t *crawl;   /* the crawl it works for */
    size_t job;         /* the URL being fetched */
    future_t *fetch;    /* its Future */
    waiter_t w;         /* for the semaphore */
    wait_for_t timeout; /* wait_for's frame */
} worker_t;

static int worker_body(coro_t *co)
{
    worker_t *f = (worker_t *)co;
    crawl_t *c = &f->crawl->c;  /* recomputed at every resumption */
    void *item;                 /* read before any await: a local will do */

    CORO_BEGIN(co);
    /* Every job was put before any worker started: when the queue is
     * empty, the work is done. */
    while (queue_get_nowait(&f->crawl->jobs, &item) == 0) {
        f->job = (size_t)(intptr_t)item - 1;
        /* Cancelled while waiting for a unit: no unit is ours, and the
         * plain await ends the worker, as it should. */
        AWAIT(co, semaphore_acquire(c->limit, &f->w));
        f->fetch = c->fetch(c->fetch_arg, c->urls[f->job]);
        /* The unit goes back however the fetch ends: catch, release,
         * then decide. */
        CORO_AWAIT_CORO(co, wait_for(&f->timeout, f->fetch, c->timeout_s));
        semaphore_release(c->limit);
        /* Nobody else cancels a fetch: ECANCELED is this worker's own
         * cancellation, which must end it, not count as a failed URL. */
        if (co->err == ECANCELED)
            CORO_FAIL(co, ECANCELED);
        c->bodies[f->job] = co->err ? NULL : co->in;
        c->errors[f->job] = co->err;
    }
    CORO_END(co);
}

/* Queue every job and start the workers; 0, or -1 with errno. */
static int crawler_setup(crawler_t *f)
{
    size_t want = f->c.workers < f->c.n ? f->c.workers : f->c.n;

    if (queue_init(&f->jobs, f->c.loop, 0) != 0)  /* 0: no bound */
        return -1;
    f->queue_made = 1;
    for (size_t i = 0; i < f->c.n; i++)
        if (queue_put_nowait(&f->jobs, (void *)(intptr_t)(i + 1)) != 0)
            return -1;
    f->workers = calloc(want > 0 ? want : 1, sizeof *f->workers);
    if (f->workers == NULL)
        return -1;
    for (; f->count < want; f->count++) {
        worker_t *w;
        task_t *t = task_create(f->c.loop, worker_body, sizeof *w,
                                (void **)&w);

        if (t == NULL)
            return -1;
        task_set_name(t, "crawl-worker");
        w->crawl = f;
        f->workers[f->count] = t;
    }
    return 0;
}

static void crawler_teardown(crawler_t *f)
{
    for (size_t i = 0; i < f->count; i++)
        task_release(f->workers[i]);
    free(f->workers);
    if (f->queue_made)
        queue_deinit(&f->jobs);
}

static int crawler_body(coro_t *co)
{
    crawler_t *f = (crawler_t *)co;

    CORO_BEGIN(co);
    if (crawler_setup(f) != 0)
        f->failure = errno;
    for (f->i = 0; f->i < f->count && !f->failure; f->i++) {
        AWAIT_CATCH(co, task_future(f->workers[f->i]));
        f->failure = co->err;
    }
    if (f->failure) {
        /* Cancelled (or out of memory): no worker may outlive the crawl.
         * Cancel them all, then wait until each has let go of its unit. */
        for (f->i = 0; f->i < f->count; f->i++)
            task_cancel(f->workers[f->i]);
        for (f->i = 0; f->i < f->count; f->i++)
            AWAIT_CATCH(co, task_future(f->workers[f->i]));
    }
    crawler_teardown(f);
    if (f->failure)
        CORO_FAIL(co, f->failure);
    CORO_RETURN(co, NULL);
    CORO_END(co);
}

task_t *crawl_start(const crawl_t *c)
{
    crawler_t *f;
    task_t *t;

    if (c == NULL || c->loop == NULL || c->workers == 0 || c->limit == NULL
        || c->fetch == NULL || (c->n > 0 && (c->urls == NULL
                                             || c->bodies == NULL
                                             || c->errors == NULL))) {
        errno = EINVAL;
        return NULL;
    }
    /* Nothing is allocated before the body runs: a crawl cancelled before
     * its first step never runs it, and would leak what was. */
    t = task_create(c->loop, crawler_body, sizeof *f, (void **)&f);
    if (t == NULL)
        return NULL;
    task_set_name(t, "crawl");
    f->c = *c;
    return t;
}
