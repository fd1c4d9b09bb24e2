/* Exercise 03-barrier: a reference solution. */
#include "exercise.h"

#include <stdint.h>

void barrier_init(barrier_t *b, loop_t *loop, size_t parties)
{
    b->loop = loop;
    b->parties = parties ? parties : 1;
    waitq_init(&b->waiting);
}

future_t *barrier_wait(barrier_t *b, waiter_t *w)
{
    size_t index = b->waiting.count;

    if (index + 1 < b->parties)
        return waitq_wait(&b->waiting, w, b->loop);
    for (intptr_t i = 0; waitq_wake(&b->waiting, (void *)i); i++)
        ;
    return waitq_ready(w, b->loop, (void *)(intptr_t)index);
}
