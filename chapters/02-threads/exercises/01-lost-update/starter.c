/*
 * answer.c - exercise 01-lost-update: your answer (see EXERCISE.md).
 *
 * As given, this is right for one thread and wrong for several.
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
    /* TODO(exercise): make this safe for many threads (see exercise.h). */
    t->total += n;
    t->adds += 1;
}

void tally_read(tally_t *t, long *total, long *adds)
{
    /* TODO(exercise): make this a true snapshot (see exercise.h). */
    *total = t->total;
    *adds = t->adds;
}

void tally_destroy(tally_t *t)
{
    pthread_mutex_destroy(&t->lock);
}
