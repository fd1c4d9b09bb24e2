/* Exercise 01-lost-update: reference solution. */
#include "exercise.h"

void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->total = 0;
    t->adds = 0;
}

void tally_add(tally_t *t, long n)
{
    /* Both fields change under one lock, so no thread ever sees (or
     * overwrites) a half-done update. */
    pthread_mutex_lock(&t->lock);
    t->total += n;
    t->adds += 1;
    pthread_mutex_unlock(&t->lock);
}

void tally_destroy(tally_t *t)
{
    pthread_mutex_destroy(&t->lock);
}
