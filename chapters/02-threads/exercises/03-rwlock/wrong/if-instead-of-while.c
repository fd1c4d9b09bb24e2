/* wrong: waits with `if` instead of `while`, and an unlock wakes readers and a writer together: a woken thread enters without checking again that it may | expect: a thread woken from a wait must check again that it may enter */
#include "exercise.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct rw {
    pthread_mutex_t lock;
    pthread_cond_t can_read;
    pthread_cond_t can_write;
    int readers;          /* holding for reading */
    int writing;          /* a writer holds it */
    int writers_waiting;
};

rw_t *rw_create(void)
{
    rw_t *rw = calloc(1, sizeof *rw);
    if (rw == NULL)
        return NULL;
    pthread_mutex_init(&rw->lock, NULL);
    pthread_cond_init(&rw->can_read, NULL);
    pthread_cond_init(&rw->can_write, NULL);
    return rw;
}

void rw_destroy(rw_t *rw)
{
    if (rw == NULL)
        return;
    pthread_cond_destroy(&rw->can_write);
    pthread_cond_destroy(&rw->can_read);
    pthread_mutex_destroy(&rw->lock);
    free(rw);
}

void rw_read_lock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    if (rw->writing || rw->writers_waiting > 0)
        pthread_cond_wait(&rw->can_read, &rw->lock);
    rw->readers++;
    pthread_mutex_unlock(&rw->lock);
}

void rw_read_unlock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    if (--rw->readers == 0)
        pthread_cond_signal(&rw->can_write);
    pthread_mutex_unlock(&rw->lock);
}

void rw_write_lock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    rw->writers_waiting++;
    if (rw->writing || rw->readers > 0)
        pthread_cond_wait(&rw->can_write, &rw->lock);
    rw->writers_waiting--;
    rw->writing = 1;
    pthread_mutex_unlock(&rw->lock);
}

void rw_write_unlock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    rw->writing = 0;
    pthread_cond_signal(&rw->can_write);
    pthread_cond_broadcast(&rw->can_read);
    pthread_mutex_unlock(&rw->lock);
}
