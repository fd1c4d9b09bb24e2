/*
 * answer.c - exercise 02-bounded-queue: your answer (see EXERCISE.md).
 *
 * bq_init() and bq_destroy() are given; bq_put(), bq_get() and bq_close()
 * are yours. Their contracts are in exercise.h.
 */
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
    /* TODO(exercise) */
    (void)q;
    (void)item;
    errno = ENOSYS;
    return -1;
}

int bq_get(bq_t *q, long *item)
{
    /* TODO(exercise) */
    (void)q;
    (void)item;
    return 0;
}

void bq_close(bq_t *q)
{
    /* TODO(exercise) */
    (void)q;
}
