/* wrong: bq_get() polls the queue with a short sleep between looks (usleep) instead of sleeping on the condition variable until signalled | expect: it polls (sleeps a little, then looks again) */
#define _DEFAULT_SOURCE /* usleep() */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int bq_init(bq_t *q, size_t capacity)
{
    if (capacity == 0) {
        errno = EINVAL;
        return -1;
    }
    q->items = malloc(capacity * sizeof *q->items);
    if (q->items == NULL)
        return -1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    q->capacity = capacity;
    q->head = 0;
    q->count = 0;
    q->closed = 0;
    return 0;
}

void bq_destroy(bq_t *q)
{
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->lock);
    free(q->items);
}

int bq_put(bq_t *q, long item)
{
    pthread_mutex_lock(&q->lock);
    /* A loop, not an if: the wait may end spuriously, or another producer
     * may have taken the slot between the signal and our waking. */
    while (q->count == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->items[(q->head + q->count) % q->capacity] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty); /* one item: one worker is enough */
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int bq_get(bq_t *q, long *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed) { /* look again every 1 ms */
        pthread_mutex_unlock(&q->lock);
        usleep(1000);
        pthread_mutex_lock(&q->lock);
    }
    if (q->count == 0) { /* closed and drained; items left go out first */
        pthread_mutex_unlock(&q->lock);
        return 0;
    }
    *item = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    pthread_cond_signal(&q->not_full); /* one slot: one producer */
    pthread_mutex_unlock(&q->lock);
    return 1;
}

void bq_close(bq_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    /* Every waiter must see the change, not just one of each kind. */
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}
