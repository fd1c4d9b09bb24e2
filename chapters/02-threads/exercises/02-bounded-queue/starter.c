/* Exercise 02-bounded-queue: your answer. See EXERCISE.md. */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>

int bq_init(bq_t *q, size_t capacity)
{
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

void bq_close(bq_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
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
    /* ---- TODO(exercise): your code here --------------------------------
     * Lock; wait on not_full while the queue is full and open; give up with
     * -1 if closed; store at (head + count) % capacity; signal not_empty.
     * ------------------------------------------------------------------- */
    (void)q;
    (void)item;
    errno = ENOSYS;
    return -1;
}

int bq_get(bq_t *q, long *item)
{
    /* ---- TODO(exercise): your code here --------------------------------
     * Lock; wait on not_empty while the queue is empty and open; return 0
     * if it is empty (so closed); take items[head]; signal not_full.
     * ------------------------------------------------------------------- */
    (void)q;
    (void)item;
    return 0;
}
