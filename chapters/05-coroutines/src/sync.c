/*
 * sync.c: Lock, Event, Semaphore and Queue share one piece, a FIFO list
 * of waiters whose Futures are finished in arrival order.
 */
#include "sync.h"

#include <errno.h>
#include <stdlib.h>

static void waitq_unlink(waiter_t *w)
{
    waitq_t *q = w->queue;

    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    q->count--;
    w->next = w->prev = NULL;
    w->queue = NULL;
}

/* Cancelled (or woken, in which case it has left the list already). */
static void waiter_done(future_t *future, void *arg)
{
    waiter_t *w = arg;

    (void)future;
    if (w->queue)
        waitq_unlink(w);
}

/* [waitq-wait] */
future_t *waitq_wait(waitq_t *q, waiter_t *w, loop_t *loop)
{
    future_init(&w->future, loop);
    w->queue = q;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    q->count++;
    future_add_done_callback(&w->future, &w->record, waiter_done, w);
    return &w->future;
}

int waitq_wake(waitq_t *q, void *result)
{
    waiter_t *w = q->head;

    if (!w)
        return 0;
    waitq_unlink(w);
    future_set_result(&w->future, result);
    return 1;
}
/* [waitq-wait] */

future_t *waitq_ready(waiter_t *w, loop_t *loop, void *result)
{
    future_init(&w->future, loop);
    w->queue = NULL;
    future_set_result(&w->future, result);
    return &w->future;
}

void waitq_init(waitq_t *q)
{
    q->head = q->tail = NULL;
    q->count = 0;
}

void lock_init(lock_t *lock, loop_t *loop)
{
    lock->loop = loop;
    lock->locked = 0;
    waitq_init(&lock->waiters);
}

future_t *lock_acquire(lock_t *lock, waiter_t *w)
{
    if (!lock->locked) {
        lock->locked = 1;
        return waitq_ready(w, lock->loop, NULL);
    }
    return waitq_wait(&lock->waiters, w, lock->loop);
}

void lock_release(lock_t *lock)
{
    /* Hand over: the Lock stays locked, now the first waiter's. */
    if (!waitq_wake(&lock->waiters, NULL))
        lock->locked = 0;
}

void event_init(event_t *event, loop_t *loop)
{
    event->loop = loop;
    event->is_set = 0;
    waitq_init(&event->waiters);
}

future_t *event_wait(event_t *event, waiter_t *w)
{
    if (event->is_set)
        return waitq_ready(w, event->loop, NULL);
    return waitq_wait(&event->waiters, w, event->loop);
}

void event_set(event_t *event)
{
    event->is_set = 1;
    while (waitq_wake(&event->waiters, NULL))
        ;
}

void event_clear(event_t *event)
{
    event->is_set = 0;
}

void semaphore_init(semaphore_t *sem, loop_t *loop, size_t value)
{
    sem->loop = loop;
    sem->value = value;
    waitq_init(&sem->waiters);
}

future_t *semaphore_acquire(semaphore_t *sem, waiter_t *w)
{
    if (sem->value > 0) {
        sem->value--;
        return waitq_ready(w, sem->loop, NULL);
    }
    return waitq_wait(&sem->waiters, w, sem->loop);
}

void semaphore_release(semaphore_t *sem)
{
    if (!waitq_wake(&sem->waiters, NULL))
        sem->value++;
}

int queue_init(queue_t *q, loop_t *loop, size_t capacity)
{
    if (capacity == 0) {
        errno = EINVAL;
        return -1;
    }
    q->items = malloc(capacity * sizeof *q->items);
    if (!q->items)
        return -1;
    q->loop = loop;
    q->capacity = capacity;
    q->head = 0;
    q->count = 0;
    waitq_init(&q->getters);
    waitq_init(&q->putters);
    return 0;
}

void queue_deinit(queue_t *q)
{
    free(q->items);
    q->items = NULL;
}

static void ring_push(queue_t *q, void *item)
{
    q->items[(q->head + q->count) % q->capacity] = item;
    q->count++;
}

/* [queue-put] */
future_t *queue_put(queue_t *q, waiter_t *w, void *item)
{
    if (waitq_wake(&q->getters, item))  /* someone waits: straight to it */
        return waitq_ready(w, q->loop, NULL);
    if (q->count < q->capacity) {
        ring_push(q, item);
        return waitq_ready(w, q->loop, NULL);
    }
    w->item = item;                      /* full: wait for room */
    return waitq_wait(&q->putters, w, q->loop);
}
/* [queue-put] */

future_t *queue_get(queue_t *q, waiter_t *w)
{
    void *item;

    if (q->count == 0)
        return waitq_wait(&q->getters, w, q->loop);
    item = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    if (q->putters.head) {               /* room now: the oldest putter */
        ring_push(q, q->putters.head->item);
        waitq_wake(&q->putters, NULL);
    }
    return waitq_ready(w, q->loop, item);
}

size_t queue_size(const queue_t *q)
{
    return q->count;
}
