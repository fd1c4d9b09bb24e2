/*
 * solution.c - exercise 01-lost-update: the reference answer.
 */
#include "exercise.h"

void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->total = 0;
    t->adds = 0;
}

void tally_add(tally_t *t, long n)
{
    /* One lock, held across both updates: another thread sees either
     * neither change or both, and no load-add-store is cut into. */
    pthread_mutex_lock(&t->lock);
    t->total += n;
    t->adds += 1;
    pthread_mutex_unlock(&t->lock);
}

void tally_read(tally_t *t, long *total, long *adds)
{
    /* The same lock: no tally_add() can run between the two loads. */
    pthread_mutex_lock(&t->lock);
    *total = t->total;
    *adds = t->adds;
    pthread_mutex_unlock(&t->lock);
}

void tally_destroy(tally_t *t)
{
    pthread_mutex_destroy(&t->lock);
}
