/*
 * exercise.h - exercise 03-rwlock: the interface your answer implements.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

/** @brief A readers-writer lock; you define `struct rw` in answer.c. */
typedef struct rw rw_t;

/**
 * @brief Make an unlocked readers-writer lock.
 * @return the lock, or NULL with errno set (ENOMEM).
 */
rw_t *rw_create(void);

/** @brief Free the lock. Nobody may hold it or wait for it. */
void rw_destroy(rw_t *rw);

/**
 * @brief Take the lock for reading; waits (asleep) as long as needed.
 *
 * Any number of readers may hold the lock at once, but never while a
 * writer holds it. A reader that arrives while a writer is *waiting* waits
 * too, behind it: otherwise readers that keep overlapping could keep a
 * writer out for ever.
 */
void rw_read_lock(rw_t *rw);

/** @brief Give back a read hold taken with rw_read_lock(). */
void rw_read_unlock(rw_t *rw);

/**
 * @brief Take the lock for writing; waits (asleep) until no reader and no
 *        other writer holds it. Then the writer is alone.
 */
void rw_write_lock(rw_t *rw);

/** @brief Give back the hold taken with rw_write_lock(). */
void rw_write_unlock(rw_t *rw);

#endif
