/* wrong: producers and workers wait on one condition variable and each change wakes only one thread, which may be of the wrong kind: with a small queue everyone ends up asleep | expect: A wake-up went to a thread that could not go on */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>

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
    while (q->count == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->items[(q->head + q->count) % q->capacity] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int bq_get(bq_t *q, long *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    if (q->count == 0) {
        pthread_mutex_unlock(&q->lock);
        return 0;
    }
    *item = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 1;
}

void bq_close(bq_t *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}
