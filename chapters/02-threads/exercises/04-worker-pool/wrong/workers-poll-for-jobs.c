/* wrong: an idle worker polls the queue in a loop (unlock, lock, look again) instead of sleeping on the condition variable | expect: instead of sleeping on a condition variable */
#include "exercise.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct job {
    pool_job_fn *fn;
    void *arg;
};

struct pool {
    pthread_mutex_t lock;  /* guards every field below but threads */
    pthread_cond_t room;   /* a slot freed, or shutting down */
    pthread_cond_t work;   /* a job queued, or shutting down */
    struct job *jobs;      /* ring of capacity; owned here */
    size_t capacity, head, count;
    int stopping;          /* set by pool_shutdown() */
    pthread_t *threads;    /* nthreads workers; owned here */
    size_t nthreads;
};

static void *worker_main(void *arg)
{
    pool_t *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping) { /* look again and again */
            pthread_mutex_unlock(&p->lock);
            pthread_mutex_lock(&p->lock);
        }
        if (p->count == 0) /* stopping, and nothing left to run */
            break;
        struct job job = p->jobs[p->head];
        p->head = (p->head + 1) % p->capacity;
        p->count--;
        pthread_cond_signal(&p->room);
        /* Never run a job with the lock held: the others must keep
         * taking jobs, and the job may call pool_submit(). */
        pthread_mutex_unlock(&p->lock);
        job.fn(job.arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void free_pool(pool_t *p)
{
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->room);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p->jobs);
    free(p);
}

pool_t *pool_create(size_t workers, size_t queue_capacity)
{
    if (workers == 0 || queue_capacity == 0) {
        errno = EINVAL;
        return NULL;
    }
    pool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->jobs = calloc(queue_capacity, sizeof *p->jobs);
    p->threads = calloc(workers, sizeof *p->threads);
    if (p->jobs == NULL || p->threads == NULL) {
        free(p->jobs);
        free(p->threads);
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->room, NULL);
    pthread_cond_init(&p->work, NULL);
    p->capacity = queue_capacity;
    for (; p->nthreads < workers; p->nthreads++) {
        int err = pthread_create(&p->threads[p->nthreads], NULL, worker_main, p);
        if (err != 0) { /* stop the ones already started, then give up */
            pool_shutdown(p);
            free_pool(p);
            errno = err;
            return NULL;
        }
    }
    return p;
}

int pool_submit(pool_t *p, pool_job_fn *fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    while (p->count == p->capacity && !p->stopping)
        pthread_cond_wait(&p->room, &p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        errno = ECANCELED;
        return -1;
    }
    p->jobs[(p->head + p->count) % p->capacity] = (struct job){fn, arg};
    p->count++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void pool_shutdown(pool_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work); /* every idle worker must see it */
    pthread_cond_broadcast(&p->room); /* and every waiting submitter */
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

void pool_destroy(pool_t *p)
{
    free_pool(p);
}
