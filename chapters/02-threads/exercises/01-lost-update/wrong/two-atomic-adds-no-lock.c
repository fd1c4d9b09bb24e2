/* wrong: makes each field an atomic add of its own, with no lock: no update is lost, but a reader can see the total changed and not yet the count | expect: it read in the middle of an update */
#include "exercise.h"

void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->total = 0;
    t->adds = 0;
}

void tally_add(tally_t *t, long n)
{
    __atomic_fetch_add(&t->total, n, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&t->adds, 1, __ATOMIC_SEQ_CST);
}

void tally_read(tally_t *t, long *total, long *adds)
{
    *total = __atomic_load_n(&t->total, __ATOMIC_SEQ_CST);
    *adds = __atomic_load_n(&t->adds, __ATOMIC_SEQ_CST);
}

void tally_destroy(tally_t *t)
{
    pthread_mutex_destroy(&t->lock);
}
