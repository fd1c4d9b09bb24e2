/* wrong: a reader enters whenever no writer holds the lock, even while a writer waits, so overlapping readers can starve a writer | expect: must wait behind it */
#include "exercise.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct rw {
    pthread_mutex_t lock;    /* guards the three counts */
    pthread_cond_t readers;  /* readers wait here for the writers to go */
    pthread_cond_t writers;  /* writers wait here for their turn */
    int reading;             /* readers holding the lock */
    int writing;             /* 1 while a writer holds it */
    int writers_waiting;     /* writers in rw_write_lock(), not yet in */
};

rw_t *rw_create(void)
{
    rw_t *rw = calloc(1, sizeof *rw);
    if (rw == NULL)
        return NULL;
    pthread_mutex_init(&rw->lock, NULL);
    pthread_cond_init(&rw->readers, NULL);
    pthread_cond_init(&rw->writers, NULL);
    return rw;
}

void rw_destroy(rw_t *rw)
{
    pthread_cond_destroy(&rw->writers);
    pthread_cond_destroy(&rw->readers);
    pthread_mutex_destroy(&rw->lock);
    free(rw);
}

void rw_read_lock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    while (rw->writing)
        pthread_cond_wait(&rw->readers, &rw->lock);
    rw->reading++;
    pthread_mutex_unlock(&rw->lock);
}

void rw_read_unlock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    if (--rw->reading == 0 && rw->writers_waiting > 0)
        pthread_cond_signal(&rw->writers); /* only one writer can enter */
    pthread_mutex_unlock(&rw->lock);
}

void rw_write_lock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    rw->writers_waiting++;
    while (rw->writing || rw->reading > 0)
        pthread_cond_wait(&rw->writers, &rw->lock);
    rw->writers_waiting--;
    rw->writing = 1;
    pthread_mutex_unlock(&rw->lock);
}

void rw_write_unlock(rw_t *rw)
{
    pthread_mutex_lock(&rw->lock);
    rw->writing = 0;
    if (rw->writers_waiting > 0)
        pthread_cond_signal(&rw->writers); /* writers first, as promised */
    else
        pthread_cond_broadcast(&rw->readers); /* all readers may enter */
    pthread_mutex_unlock(&rw->lock);
}
