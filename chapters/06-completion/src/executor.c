/*
 * executor.c - worker threads take jobs from a list, run them, and put
 * them on a "done" list; the loop thread finishes the Futures. The only
 * things shared between threads are the job lists, under one mutex, and
 * the loop's inbox (loop_post_threadsafe()), which wakes it.
 */
#include "executor.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

typedef struct job {
    executor_fn *fn;
    void *arg;
    void *result;
    future_t *future;          /* NULL once cancelled (loop thread only) */
    executor_t *ex;            /* its pool */
    int cancelled;             /* under ex->mutex: do not start it */
    future_callback_t record;  /* on *future: notices a cancellation */
    list_t link;               /* under ex->mutex: in todo, running or
                                * done */
} job_t;

struct executor {
    loop_t *loop;
    pthread_mutex_t mutex;
    pthread_cond_t cond;       /* workers wait here for jobs */
    list_t todo;               /* under mutex: jobs no worker took yet */
    list_t running;            /* under mutex: jobs a worker is running */
    list_t done;               /* under mutex: finished, for the loop */
    int stopping;              /* under mutex */
    int abandoned;             /* under mutex: shut down without waiting */
    unsigned refs;             /* under mutex, once abandoned: the workers
                                * still running, plus the loop's side */
    loop_post_t wake;          /* posts on_wake() to the loop */
    unsigned threads;
    pthread_t *tids;
    future_t **orphans;        /* room for executor_shutdown(ex, 0): one
                                * per worker, allocated up front so that
                                * shutting down never needs memory */
};

static void free_pool(executor_t *ex)
{
    pthread_cond_destroy(&ex->cond);
    pthread_mutex_destroy(&ex->mutex);
    free(ex->tids);
    free(ex->orphans);
    free(ex);
}

/* After executor_shutdown(ex, 0), the pool belongs to whoever is still
 * using it: the last worker to leave frees it. Before, it does nothing. */
static void release(executor_t *ex)
{
    pthread_mutex_lock(&ex->mutex);
    int last = ex->abandoned && --ex->refs == 0;
    pthread_mutex_unlock(&ex->mutex);
    if (last)
        free_pool(ex);
}

static void on_wake(loop_t *loop, void *arg);

/* [executor-wake] */
static void *worker(void *arg)
{
    executor_t *ex = arg;

    pthread_mutex_lock(&ex->mutex);
    for (;;) {
        if (list_empty(&ex->todo)) {
            if (ex->stopping)
                break;
            pthread_cond_wait(&ex->cond, &ex->mutex);
            continue;
        }
        job_t *job = LIST_ENTRY(ex->todo.next, job_t, link);
        if (job->cancelled) {        /* its Future was cancelled: skip */
            list_unlink(&job->link);
            free(job);
            continue;
        }
        list_move_tail(&ex->running, &job->link);
        pthread_mutex_unlock(&ex->mutex);
        job->result = job->fn(job->arg);        /* the blocking part */
        pthread_mutex_lock(&ex->mutex);
        if (ex->abandoned) {         /* nobody will collect it */
            list_unlink(&job->link);
            free(job);
            continue;
        }
        list_move_tail(&ex->done, &job->link);
        /* Wake the loop. One posted on_wake() collects every job done by
         * then: the post record lives in the pool, so a post still
         * pending is not made twice, and posting needs no memory: no
         * wake-up is lost, even out of memory. */
        loop_post_threadsafe(ex->loop, &ex->wake, on_wake, ex);
    }
    pthread_mutex_unlock(&ex->mutex);
    release(ex);
    return NULL;
}
/* [executor-wake] */

/* On the loop thread, posted by a worker: finish the jobs done, in the
 * order they were done. They are taken out under the mutex, all at once;
 * their Futures' callbacks run without it. The local list is dropped
 * with its jobs, so they are not unlinked one by one. */
static void on_wake(loop_t *loop, void *arg)
{
    executor_t *ex = arg;
    list_t done;

    (void)loop;
    list_init(&done);
    pthread_mutex_lock(&ex->mutex);
    list_splice_tail(&done, &ex->done);
    pthread_mutex_unlock(&ex->mutex);
    for (list_t *l = done.next, *next; l != &done; l = next) {
        job_t *job = LIST_ENTRY(l, job_t, link);

        next = l->next;
        if (job->future != NULL) {
            future_remove_done_callback(job->future, &job->record);
            future_set_result(job->future, job->result);
        }
        free(job);
    }
}

static void on_cancel(future_t *future, void *arg)
{
    job_t *job = arg;

    (void)future;
    job->future = NULL;   /* the result, when it comes, goes nowhere */
    /* And if no worker has taken it yet, none will: asyncio's
     * run_in_executor does not start a job cancelled before it began. */
    pthread_mutex_lock(&job->ex->mutex);
    job->cancelled = 1;
    pthread_mutex_unlock(&job->ex->mutex);
}

executor_t *executor_create(loop_t *loop, unsigned threads)
{
    executor_t *ex = calloc(1, sizeof *ex);

    if (ex == NULL)
        return NULL;
    if (threads == 0)
        threads = 1;
    ex->loop = loop;
    list_init(&ex->todo);
    list_init(&ex->running);
    list_init(&ex->done);
    loop_post_init(&ex->wake);
    ex->tids = calloc(threads, sizeof *ex->tids);
    ex->orphans = calloc(threads, sizeof *ex->orphans);
    if (ex->tids == NULL || ex->orphans == NULL) {
        free(ex->tids);
        free(ex->orphans);
        free(ex);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&ex->mutex, NULL);
    pthread_cond_init(&ex->cond, NULL);
    /* A worker starts with every signal blocked (a new thread inherits its
     * creator's mask), so that a signal sent to the process reaches the
     * loop's thread, whose handlers expect it, never a worker. */
    sigset_t all, caller;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &caller);
    for (; ex->threads < threads; ex->threads++) {
        if (pthread_create(&ex->tids[ex->threads], NULL, worker, ex) != 0)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &caller, NULL);
    if (ex->threads == 0) {
        executor_destroy(ex);
        errno = EAGAIN;
        return NULL;
    }
    return ex;
}

/* Shutdown without waiting, under ex->mutex: a running job's worker will
 * free it when it ends, so its Future must let go of it now (its record
 * points into the job). Stores those Futures in @p out, which has room
 * for one per worker, and returns how many; the caller cancels them once
 * the mutex is released. */
static unsigned orphan_running(executor_t *ex, future_t **out)
{
    unsigned n = 0;

    for (list_t *l = ex->running.next; l != &ex->running; l = l->next) {
        job_t *job = LIST_ENTRY(l, job_t, link);
        if (job->future != NULL) {
            future_remove_done_callback(job->future, &job->record);
            out[n++] = job->future;
            job->future = NULL;
        }
    }
    return n;
}

void executor_shutdown(executor_t *ex, int wait)
{
    if (ex == NULL)
        return;
    /* Copied out: without waiting, the last worker frees the pool. */
    future_t **orphans = ex->orphans;
    unsigned n_orphans = 0;
    list_t todo;
    ex->orphans = NULL;
    list_init(&todo);
    pthread_mutex_lock(&ex->mutex);
    ex->stopping = 1;
    list_splice_tail(&todo, &ex->todo);
    if (!wait) {
        ex->abandoned = 1;
        ex->refs = ex->threads + 1;    /* each worker, and this function */
        n_orphans = orphan_running(ex, orphans);
    }
    pthread_cond_broadcast(&ex->cond);
    pthread_mutex_unlock(&ex->mutex);
    for (unsigned i = 0; i < ex->threads; i++) {
        if (wait)
            pthread_join(ex->tids[i], NULL);
        else
            pthread_detach(ex->tids[i]);
    }
    /* No worker posts any more (joined, or abandoned: they drop their
     * results). Withdraw a post still waiting, which would otherwise run
     * on a freed pool, and finish here what the workers did. */
    loop_cancel_threadsafe(ex->loop, on_wake, ex);
    on_wake(ex->loop, ex);
    /* After the lock: cancelling a Future runs callbacks, which must not
     * find the pool's mutex held. */
    for (unsigned i = 0; i < n_orphans; i++)
        future_set_cancelled(orphans[i]);
    free(orphans);
    for (list_t *l; (l = list_first(&todo)) != NULL;) {
        job_t *job = LIST_ENTRY(l, job_t, link);
        list_unlink(l);
        if (job->future != NULL) {
            future_remove_done_callback(job->future, &job->record);
            future_set_cancelled(job->future);
        }
        free(job);
    }
    if (wait)
        free_pool(ex);
    else
        release(ex);
}

void executor_destroy(executor_t *ex)
{
    executor_shutdown(ex, 1);
}

future_t *executor_submit(executor_t *ex, future_t *future, executor_fn *fn,
                          void *arg)
{
    job_t *job = malloc(sizeof *job);

    if (job == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    future_init(future, ex->loop);
    job->fn = fn;
    job->arg = arg;
    job->result = NULL;
    job->future = future;
    job->ex = ex;
    job->cancelled = 0;
    future_add_done_callback(future, &job->record, on_cancel, job);
    pthread_mutex_lock(&ex->mutex);
    list_add_tail(&ex->todo, &job->link);
    pthread_cond_signal(&ex->cond);
    pthread_mutex_unlock(&ex->mutex);
    return future;
}
