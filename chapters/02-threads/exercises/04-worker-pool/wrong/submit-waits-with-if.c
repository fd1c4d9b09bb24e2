/* wrong: pool_submit() waits for room with `if` instead of `while`: woken, it goes on although another submitter took the slot first, and overwrites that job | expect: Does a submitter woken from its wait check again that there is room */
#include "exercise.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    pool_job_fn *fn;
    void *arg;
} job_t;

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t has_job;
    pthread_cond_t has_room;
    job_t *jobs;        /* ring of capacity */
    size_t capacity, head, count;
    int stopping;
    pthread_t *threads;
    size_t workers;     /* started */
};

static void *work(void *arg)
{
    pool_t *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->has_job, &p->lock);
        if (p->count == 0)
            break; /* stopping and nothing left */
        job_t j = p->jobs[p->head];
        p->head = (p->head + 1) % p->capacity;
        p->count--;
        pthread_cond_signal(&p->has_room);
        pthread_mutex_unlock(&p->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void stop_and_join(pool_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->has_job);
    pthread_cond_broadcast(&p->has_room);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->workers; i++)
        pthread_join(p->threads[i], NULL);
    p->workers = 0;
}

void pool_destroy(pool_t *p)
{
    if (p == NULL)
        return;
    pthread_cond_destroy(&p->has_room);
    pthread_cond_destroy(&p->has_job);
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
    p->capacity = queue_capacity;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->has_job, NULL);
    pthread_cond_init(&p->has_room, NULL);
    for (size_t i = 0; i < workers; i++) {
        int rc = pthread_create(&p->threads[i], NULL, work, p);
        if (rc != 0) {
            stop_and_join(p);
            pool_destroy(p);
            errno = rc;
            return NULL;
        }
        p->workers++;
    }
    return p;
}

int pool_submit(pool_t *p, pool_job_fn *fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    if (p->count == p->capacity && !p->stopping)
        pthread_cond_wait(&p->has_room, &p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        errno = ECANCELED;
        return -1;
    }
    p->jobs[(p->head + p->count) % p->capacity] = (job_t){fn, arg};
    p->count++;
    pthread_cond_signal(&p->has_job);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void pool_shutdown(pool_t *p)
{
    stop_and_join(p);
}
