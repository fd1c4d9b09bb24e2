/*
 * sync.c - Lock, Event, Semaphore and Queue share one piece, a FIFO list
 * of waiters whose Futures are finished in arrival order.
 */
#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#include "task.h"

static void waitq_unlink(waiter_t *w)
{
    list_unlink(&w->link);
    w->queue->count--;
    w->queue = NULL;
}

/* The oldest waiter, or NULL. */
static waiter_t *waitq_first(const waitq_t *q)
{
    return q->count == 0 ? NULL : LIST_ENTRY(q->waiters.next, waiter_t, link);
}

/* [waitq-wait] */
/* A waiting Future's cancel (its Task was cancelled, or a timeout ran
 * out): it leaves the list, then finishes as cancelled. A woken one has
 * finished already, and future_cancel() never gets here. */
static int waiter_cancel(future_t *future)
{
    waiter_t *w = (waiter_t *)future;    /* the Future is its first member */

    if (w->queue != NULL)
        waitq_unlink(w);
    future_set_cancelled(future);
    return 1;
}

future_t *waitq_wait(waitq_t *q, waiter_t *w, loop_t *loop)
{
    future_init(&w->future, loop);
    w->future.cancel = waiter_cancel;
    w->queue = q;
    list_add_tail(&q->waiters, &w->link);
    q->count++;
    return &w->future;
}

int waitq_wake(waitq_t *q, void *result)
{
    waiter_t *w = waitq_first(q);

    if (w == NULL)
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
    list_init(&q->waiters);
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

int lock_release(lock_t *lock)
{
    if (!lock->locked) {
        errno = EPERM;                   /* asyncio: "Lock is not acquired" */
        return -1;
    }
    /* Hand over: the Lock stays locked, now the first waiter's. */
    if (!waitq_wake(&lock->waiters, NULL))
        lock->locked = 0;
    return 0;
}

int lock_locked(const lock_t *lock)
{
    return lock->locked;
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
    sem->bound = 0;
    waitq_init(&sem->waiters);
}

void bounded_semaphore_init(semaphore_t *sem, loop_t *loop, size_t value)
{
    semaphore_init(sem, loop, value);
    sem->bound = value;
}

future_t *semaphore_acquire(semaphore_t *sem, waiter_t *w)
{
    if (sem->value > 0) {
        sem->value--;
        return waitq_ready(w, sem->loop, NULL);
    }
    return waitq_wait(&sem->waiters, w, sem->loop);
}

int semaphore_release(semaphore_t *sem)
{
    if (sem->waiters.count > 0) {             /* hand the unit over */
        waitq_wake(&sem->waiters, NULL);
        return 0;
    }
    if (sem->bound && sem->value >= sem->bound) {
        errno = EOVERFLOW;               /* released more than acquired */
        return -1;
    }
    sem->value++;
    return 0;
}

void condition_init(condition_t *cond, lock_t *lock)
{
    cond->lock = lock;
    waitq_init(&cond->waiters);
}

/* [condition-wait] */
static int cond_wait_body(coro_t *co)
{
    cond_wait_t *f = (cond_wait_t *)co;
    lock_t *lock = f->cond->lock;

    CORO_BEGIN(co);
    if (lock_release(lock) < 0)
        CORO_FAIL(co, EPERM);            /* waiting without the Lock */
    AWAIT_CATCH(co, waitq_wait(&f->cond->waiters, &f->w, lock->loop));
    f->notified = co->err == 0;
    f->err = co->err;
    /* The Lock comes back whatever happened (the caller's code after the
     * wait, or its clean-up, expects to hold it); a cancellation while
     * taking it back is kept for later, and taking it is tried again. */
    do {
        AWAIT_CATCH(co, lock_acquire(lock, &f->w));
        if (co->err)
            f->err = co->err;
    } while (co->err);
    if (f->err == ECANCELED && f->notified)
        condition_notify(f->cond, 1);    /* not ours to use: pass it on */
    if (f->err)
        CORO_FAIL(co, f->err);
    CORO_RETURN(co, NULL);
    CORO_END(co);
}
/* [condition-wait] */

coro_t *condition_wait(condition_t *cond, cond_wait_t *cw)
{
    coro_init(&cw->co, cond_wait_body);
    cw->cond = cond;
    cw->notified = 0;
    cw->err = 0;
    return &cw->co;
}

int condition_notify(condition_t *cond, size_t n)
{
    int woken = 0;

    if (!cond->lock->locked) {
        errno = EPERM;
        return -1;
    }
    while ((size_t)woken < n && waitq_wake(&cond->waiters, NULL))
        woken++;
    return woken;
}

int condition_notify_all(condition_t *cond)
{
    return condition_notify(cond, (size_t)-1);
}

int queue_init(queue_t *q, loop_t *loop, size_t capacity)
{
    q->size = capacity ? capacity : 8;   /* unbounded: grows from 8 */
    q->items = malloc(q->size * sizeof *q->items);
    if (q->items == NULL)
        return -1;
    q->loop = loop;
    q->capacity = capacity;
    q->head = 0;
    q->count = 0;
    q->unfinished = 0;
    waitq_init(&q->getters);
    waitq_init(&q->putters);
    event_init(&q->finished, loop);
    event_set(&q->finished);
    return 0;
}

void queue_deinit(queue_t *q)
{
    free(q->items);
    q->items = NULL;
}

/* Room for one more in the ring: always, when bounded (the caller checked
 * count < capacity); an unbounded queue doubles its ring when full. */
static int ring_grow(queue_t *q)
{
    if (q->count < q->size)
        return 0;
    size_t old = q->size;
    void **items = array_grow(q->items, &q->size, old + 1, sizeof *items);
    if (items == NULL)
        return -1;
    /* Full, so the ring wraps at the old end: move the part before head
     * to just after the old end, where the ring now goes on. */
    memcpy(items + old, items, q->head * sizeof *items);
    q->items = items;
    return 0;
}

static void ring_push(queue_t *q, void *item)
{
    q->items[(q->head + q->count) % q->size] = item;
    q->count++;
}

static void *ring_pop(queue_t *q)
{
    void *item = q->items[q->head];

    q->head = (q->head + 1) % q->size;
    q->count--;
    return item;
}

static int queue_full(const queue_t *q)
{
    return q->capacity && q->count >= q->capacity;
}

/* One more item in the queue's care until its task_done(). The event is
 * set exactly while none is unfinished: only the first one clears it. */
static void count_put(queue_t *q)
{
    if (q->unfinished++ == 0)
        event_clear(&q->finished);
}

/* [queue-put] */
future_t *queue_put(queue_t *q, waiter_t *w, void *item)
{
    if (queue_put_nowait(q, item) == 0)  /* a getter, or room */
        return waitq_ready(w, q->loop, NULL);
    if (errno == EAGAIN) {               /* full: wait for room */
        w->item = item;
        return waitq_wait(&q->putters, w, q->loop);
    }
    future_init(&w->future, q->loop);    /* no memory to grow */
    w->queue = NULL;
    future_set_error(&w->future, ENOMEM);
    return &w->future;
}
/* [queue-put] */

int queue_put_nowait(queue_t *q, void *item)
{
    if (q->getters.count > 0) {               /* someone waits: straight to it */
        count_put(q);
        waitq_wake(&q->getters, item);
        return 0;
    }
    if (queue_full(q)) {
        errno = EAGAIN;                  /* asyncio.QueueFull */
        return -1;
    }
    if (ring_grow(q) < 0) {
        errno = ENOMEM;
        return -1;
    }
    ring_push(q, item);
    count_put(q);
    return 0;
}

int queue_get_nowait(queue_t *q, void **item)
{
    if (q->count == 0) {
        errno = EAGAIN;                  /* asyncio.QueueEmpty */
        return -1;
    }
    *item = ring_pop(q);
    if (q->putters.count > 0) {               /* room now: the oldest putter */
        ring_push(q, waitq_first(&q->putters)->item);
        count_put(q);
        waitq_wake(&q->putters, NULL);
    }
    return 0;
}

future_t *queue_get(queue_t *q, waiter_t *w)
{
    void *item;

    if (q->count == 0)                   /* empty: wait for a putter */
        return waitq_wait(&q->getters, w, q->loop);
    queue_get_nowait(q, &item);
    return waitq_ready(w, q->loop, item);
}

int queue_task_done(queue_t *q)
{
    if (q->unfinished == 0) {
        errno = EINVAL;                  /* "task_done() called too many
                                          * times" */
        return -1;
    }
    if (--q->unfinished == 0)
        event_set(&q->finished);
    return 0;
}

future_t *queue_join(queue_t *q, waiter_t *w)
{
    return event_wait(&q->finished, w);
}

size_t queue_size(const queue_t *q)
{
    return q->count;
}
