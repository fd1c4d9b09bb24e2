/* Exercise 01-lost-update: your answer. See EXERCISE.md. */
#include "exercise.h"

void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->total = 0;
    t->adds = 0;
}

void tally_add(tally_t *t, long n)
{
    /* ---- TODO(exercise): your code here --------------------------------
     * Correct for one thread, wrong for two: each line below is a load, an
     * add and a store that another thread can cut into.
     * ------------------------------------------------------------------- */
    t->total += n;
    t->adds += 1;
}

void tally_destroy(tally_t *t)
{
    pthread_mutex_destroy(&t->lock);
}
