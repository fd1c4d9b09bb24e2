/**
 * @file sync.h
 * @brief Synchronisation between coroutines of one loop: Lock, Event,
 *        Semaphore and a bounded Queue (asyncio.Lock, Event, Semaphore,
 *        Queue).
 *
 * One thread runs every coroutine, so there are no data races to guard
 * against: these exist to make a coroutine *wait* for another. Each wait
 * is a Future in a ::waiter_t the caller provides (a field of its frame),
 * kept in a FIFO list, so waiters are served in arrival order. A waiter
 * whose Task is cancelled leaves the list at once.
 *
 * Every wait returns the waiter's Future; when the thing is available
 * straight away, that Future is already finished and AWAIT does not
 * suspend. Ownership is handed over directly (release gives the Lock to
 * the first waiter; put gives the item to the first getter), so a newcomer
 * can never overtake a waiter.
 *
 * Ownership handed to a waiter is never lost to a cancellation: the
 * waiter's Future has finished, so its Task receives the Lock, unit or
 * item at this await and sees the cancellation at its next one (task.h).
 * A Condition waiter notified and then cancelled passes the notification
 * on to the next waiter.
 *
 * Misuse is reported, not ignored: releasing a Lock that is not held,
 * releasing a BoundedSemaphore past its bound, notifying without the
 * Lock, and task_done() called more often than items were put return -1
 * with errno set (asyncio raises RuntimeError or ValueError there).
 *
 * Not thread-safe: for one loop's coroutines only.
 *
 * Loop thread only (loop.h).
 */
#ifndef SYNC_H
#define SYNC_H

#include <stddef.h>

#include "coro.h"
#include "future.h"
#include "list.h"

struct waitq;

/** @brief One waiting coroutine; caller storage (its frame). */
typedef struct waiter {
    future_t future;          /**< finishes when the wait is over; first,
                                   so that its cancel finds the waiter */
    list_t link;              /**< in the queue's list (private) */
    struct waitq *queue;      /**< the list it is on, or NULL */
    void *item;               /**< Queue: the item a putter brings */
} waiter_t;

/** @brief A FIFO list of waiters: what every primitive here is made of
 *         (asyncio keeps a deque of Futures in each, for the same job). */
typedef struct waitq {
    list_t waiters; /**< waiter_t.link, oldest first */
    size_t count;   /**< how many */
} waitq_t;

/**
 * @brief Make an empty list.
 * @param q caller storage.
 */
void waitq_init(waitq_t *q);

/**
 * @brief Append a waiter: its Future is pending until waitq_wake() reaches
 *        it; if it is cancelled first, it leaves the list by itself.
 * @param q the list.
 * @param w caller storage, not in use.
 * @param loop the loop.
 * @return the waiter's Future, to await.
 */
future_t *waitq_wait(waitq_t *q, waiter_t *w, loop_t *loop);

/**
 * @brief Take the oldest waiter off the list and finish its Future with
 *        @p result (its done callbacks run now; its Task steps later).
 * @param q the list.
 * @param result the result to give it.
 * @return 1 if a waiter was woken, 0 if the list was empty.
 */
int waitq_wake(waitq_t *q, void *result);

/**
 * @brief A waiter that does not wait: its Future finished with @p result,
 *        so awaiting it does not suspend.
 * @param w caller storage, not in use.
 * @param loop the loop.
 * @param result the result.
 * @return the waiter's Future.
 */
future_t *waitq_ready(waiter_t *w, loop_t *loop, void *result);

/** @brief asyncio.Lock. */
typedef struct lock {
    loop_t *loop;    /**< the loop */
    int locked;      /**< held */
    waitq_t waiters; /**< acquirers waiting */
} lock_t;

/**
 * @brief Make an unlocked Lock.
 * @param lock caller storage.
 * @param loop the loop.
 */
void lock_init(lock_t *lock, loop_t *loop);

/**
 * @brief Acquire: `AWAIT(co, lock_acquire(&l, &f->w))`; once past it,
 *        the Lock is yours (a cancelled wait raises ECANCELED, and then
 *        it is not).
 * @param lock a Lock.
 * @param w caller storage, not in use.
 * @return the waiter's Future.
 */
future_t *lock_acquire(lock_t *lock, waiter_t *w);

/**
 * @brief Release: hand the Lock to the first waiter, or unlock it.
 * @param lock a held Lock.
 * @return 0; -1 with errno EPERM if it was not held (nothing changes).
 */
int lock_release(lock_t *lock);

/**
 * @brief Whether the Lock is held.
 * @param lock a Lock.
 * @return 1 or 0.
 */
int lock_locked(const lock_t *lock);

/** @brief asyncio.Event. */
typedef struct event {
    loop_t *loop;    /**< the loop */
    int is_set;      /**< the flag */
    waitq_t waiters; /**< waiting for the flag */
} event_t;

/**
 * @brief Make a cleared Event.
 * @param event caller storage.
 * @param loop the loop.
 */
void event_init(event_t *event, loop_t *loop);

/**
 * @brief Wait until the flag is set.
 * @param event an Event.
 * @param w caller storage, not in use.
 * @return the waiter's Future (finished already if the flag is set).
 */
future_t *event_wait(event_t *event, waiter_t *w);

/**
 * @brief Set the flag and wake every waiter.
 * @param event an Event.
 */
void event_set(event_t *event);

/**
 * @brief Clear the flag.
 * @param event an Event.
 */
void event_clear(event_t *event);

/** @brief asyncio.Semaphore and asyncio.BoundedSemaphore. */
typedef struct semaphore {
    loop_t *loop;    /**< the loop */
    size_t value;    /**< free units */
    size_t bound;    /**< BoundedSemaphore: the most units; 0: no bound */
    waitq_t waiters; /**< acquirers waiting */
} semaphore_t;

/**
 * @brief Make a Semaphore with @p value units.
 * @param sem caller storage.
 * @param loop the loop.
 * @param value initial units.
 */
void semaphore_init(semaphore_t *sem, loop_t *loop, size_t value);

/**
 * @brief Make a BoundedSemaphore: a Semaphore that refuses to be released
 *        more often than it was acquired (a bug a plain one hides by
 *        growing).
 * @param sem caller storage.
 * @param loop the loop.
 * @param value initial units, which is also the bound (at least 1).
 */
void bounded_semaphore_init(semaphore_t *sem, loop_t *loop, size_t value);

/**
 * @brief Take one unit, waiting if there is none.
 * @param sem a Semaphore.
 * @param w caller storage, not in use.
 * @return the waiter's Future.
 */
future_t *semaphore_acquire(semaphore_t *sem, waiter_t *w);

/**
 * @brief Give one unit back (to the first waiter if there is one).
 * @param sem a Semaphore.
 * @return 0; -1 with errno EOVERFLOW if a BoundedSemaphore would go past
 *         its bound (nothing changes).
 */
int semaphore_release(semaphore_t *sem);

/** @brief asyncio.Condition: wait for a notification, over a Lock. */
typedef struct condition {
    lock_t *lock;    /**< the Lock it belongs to (caller's) */
    waitq_t waiters; /**< waiting for a notification */
} condition_t;

/** @brief The frame of one condition_wait(); caller storage (a member of
 *         the awaiting frame). Fields private. */
typedef struct cond_wait {
    coro_t co;            /**< the sub-coroutine */
    condition_t *cond;    /**< the Condition */
    waiter_t w;           /**< the notification, then the Lock */
    int notified;         /**< a notify reached us */
    int err;              /**< the error to raise once the Lock is back */
} cond_wait_t;

/**
 * @brief Make a Condition over @p lock.
 * @param cond caller storage.
 * @param lock the Lock (held around wait and notify).
 */
void condition_init(condition_t *cond, lock_t *lock);

/**
 * @brief Wait for a notification: `CORO_AWAIT_CORO(co,
 *        condition_wait(&c, &f->cw))`, with the Lock held.
 *
 * Releases the Lock, waits until notified, and takes the Lock back before
 * it returns, whatever happened (cancelled, it still re-acquires, then
 * raises ECANCELED; if it had been notified, it notifies the next waiter
 * so that the notification is not lost). Not holding the Lock: fails with
 * EPERM.
 *
 * @param cond a Condition.
 * @param cw caller storage, not in use.
 * @return the frame to await.
 */
coro_t *condition_wait(condition_t *cond, cond_wait_t *cw);

/**
 * @brief Wake up to @p n waiters, oldest first (each then re-acquires the
 *        Lock in turn).
 * @param cond a Condition whose Lock is held.
 * @param n how many.
 * @return how many were woken; -1 with errno EPERM without the Lock.
 */
int condition_notify(condition_t *cond, size_t n);

/**
 * @brief Wake every waiter.
 * @param cond a Condition whose Lock is held.
 * @return as condition_notify().
 */
int condition_notify_all(condition_t *cond);

/** @brief A FIFO queue of pointers: asyncio.Queue(maxsize). */
typedef struct queue {
    loop_t *loop;      /**< the loop */
    void **items;      /**< ring buffer (allocated) */
    size_t capacity;   /**< the bound; 0: none */
    size_t size;       /**< the ring buffer's size */
    size_t head;       /**< index of the oldest item */
    size_t count;      /**< items held */
    size_t unfinished; /**< items put and not yet task_done() */
    waitq_t getters;   /**< waiting for an item (only while empty) */
    waitq_t putters;   /**< waiting for room (only while full) */
    event_t finished;  /**< set while unfinished == 0: join() waits */
} queue_t;

/**
 * @brief Make an empty queue.
 * @param q caller storage.
 * @param loop the loop.
 * @param capacity the bound; 0 for none (asyncio's default: puts never
 *        wait, the buffer grows).
 * @return 0; -1 with errno ENOMEM.
 */
int queue_init(queue_t *q, loop_t *loop, size_t capacity);

/**
 * @brief Free the ring buffer. No coroutine may still wait on it.
 * @param q a queue.
 */
void queue_deinit(queue_t *q);

/**
 * @brief Put @p item, waiting while the queue is full (backpressure).
 * @param q a queue.
 * @param w caller storage, not in use.
 * @param item the item.
 * @return the waiter's Future; if it is cancelled, the item was not put.
 */
future_t *queue_put(queue_t *q, waiter_t *w, void *item);

/**
 * @brief Get the oldest item, waiting while the queue is empty; the
 *        item is the Future's result.
 * @param q a queue.
 * @param w caller storage, not in use.
 * @return the waiter's Future.
 */
future_t *queue_get(queue_t *q, waiter_t *w);

/**
 * @brief Put without waiting: Queue.put_nowait().
 * @param q a queue.
 * @param item the item.
 * @return 0; -1 with errno EAGAIN if the queue is full (nothing put), or
 *         ENOMEM.
 */
int queue_put_nowait(queue_t *q, void *item);

/**
 * @brief Get without waiting: Queue.get_nowait().
 * @param q a queue.
 * @param item receives the oldest item.
 * @return 0; -1 with errno EAGAIN if the queue is empty.
 */
int queue_get_nowait(queue_t *q, void **item);

/**
 * @brief Say that an item got earlier is fully handled: Queue.task_done().
 * @param q a queue.
 * @return 0; -1 with errno EINVAL if called more often than items were
 *         put.
 */
int queue_task_done(queue_t *q);

/**
 * @brief Wait until every item put has been task_done(): Queue.join().
 * @param q a queue.
 * @param w caller storage, not in use.
 * @return the waiter's Future (finished already if nothing is unfinished).
 */
future_t *queue_join(queue_t *q, waiter_t *w);

/**
 * @brief Items held.
 * @param q a queue.
 * @return the count.
 */
size_t queue_size(const queue_t *q);

#endif
