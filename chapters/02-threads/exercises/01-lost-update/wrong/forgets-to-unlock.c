/* wrong: tally_add() locks and never unlocks, so the second call waits for ever | expect: does every call unlock the mutex it locked? */
#include "exercise.h"

void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->total = 0;
    t->adds = 0;
}

void tally_add(tally_t *t, long n)
{
    pthread_mutex_lock(&t->lock);
    t->total += n;
    t->adds += 1;
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
