/* wrong: each field is updated under the lock, but in two separate critical sections, so a reader can come in between | expect: it read in the middle of an update */
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
    pthread_mutex_unlock(&t->lock);
    pthread_mutex_lock(&t->lock);
    t->adds += 1;
    pthread_mutex_unlock(&t->lock);
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
