/* wrong: each call locks a mutex of its own (a local variable), so nothing is shared and updates are lost | expect: the same mutex for every thread */
#include "exercise.h"

void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->total = 0;
    t->adds = 0;
}

void tally_add(tally_t *t, long n)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

    pthread_mutex_lock(&lock);
    t->total += n;
    t->adds += 1;
    pthread_mutex_unlock(&lock);
}

void tally_read(tally_t *t, long *total, long *adds)
{
    pthread_mutex_lock(&t->lock);
    *total = t->total;
    *adds = t->adds;
    pthread_mutex_unlock(&t->lock);
}

void tally_destroy(tally_t *t)
{
    pthread_mutex_destroy(&t->lock);
}
