/**
 * @file exercise.h
 * @brief Exercise 01-close-while-pending: a reader that always has a recv
 *        in the kernel, and a close that waits for it.
 *
 * A reader hands every chunk a socket receives to a callback, and keeps a
 * recv into the caller's buffer pending the rest of the time. Closing it
 * is the point of the exercise: on a completion loop the recv is the
 * kernel's until its own completion arrives (proactor.h, "Buffer
 * ownership", "Cancellation is a request").
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "proactor.h"

/** @brief A reader; opaque, the answer defines it. */
typedef struct reader reader_t;

/**
 * @brief Bytes received.
 * @param arg the pointer given to reader_open().
 * @param data where they are: the caller's buffer.
 * @param n how many, more than 0.
 */
typedef void reader_data_fn(void *arg, const char *data, size_t n);

/**
 * @brief The reader has ended, and let go of everything: no operation of
 *        it is in the kernel any more, the buffer is the caller's again,
 *        and the reader_t is freed (it must not be used after this).
 * @param arg the pointer given to reader_open().
 * @param err ECANCELED after reader_close(), whatever the last recv
 *        brought; else 0 at end of stream, or the errno of a recv that
 *        failed.
 */
typedef void reader_done_fn(void *arg, int err);

/**
 * @brief Start reading @p fd into @p buf.
 *
 * From now until @p on_done, a recv into @p buf is pending whenever the
 * reader is not inside @p on_data: each chunk received goes to
 * @p on_data, in order, then the next recv is started. End of stream or
 * a failed recv ends the reader (@p on_done, once). Nothing is called
 * back from inside reader_open().
 *
 * @param p the loop's proactor.
 * @param fd a socket (it stays the caller's: the reader never closes it).
 * @param buf the caller's buffer; the kernel's while a recv is pending.
 * @param len its size, more than 0.
 * @param on_data called with each chunk.
 * @param on_done called once, last.
 * @param arg for both callbacks.
 * @return the reader; NULL with errno EINVAL (a NULL pointer, len 0) or
 *         ENOMEM.
 */
reader_t *reader_open(proactor_t *p, int fd, char *buf, size_t len,
                      reader_data_fn *on_data, reader_done_fn *on_done,
                      void *arg);

/**
 * @brief Stop reading: after this, no recv is started any more, and
 *        @p on_done(arg, ECANCELED) comes once the reader has let go of
 *        the buffer (never from inside reader_close()).
 *
 * The pending recv may still complete with bytes (they arrived before
 * the cancel reached it): those bytes go to @p on_data first, they are
 * not lost. It may also complete with an end of stream or an error that
 * beat the cancel: @p on_done still says ECANCELED. May be called from inside @p on_data. Call it at most once,
 * and not after @p on_done.
 * @param r the reader.
 */
void reader_close(reader_t *r);

#endif
