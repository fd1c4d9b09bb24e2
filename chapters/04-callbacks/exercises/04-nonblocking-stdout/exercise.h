/**
 * exercise.h - exercise 04-nonblocking-stdout: the entry points of the
 * writer your answer builds, as the tests call them.
 *
 * A writer sends bytes to one descriptor (standard output, a pipe, a
 * socket) through the loop, so that a reader who stops reading stalls
 * nobody: the bytes the descriptor does not take wait in the writer and
 * go out when it is writable again, while every other callback of the
 * loop runs as before.
 *
 * The program ignores SIGPIPE (the tests do, and so does Python at
 * start-up), so a write to a pipe whose reader is gone fails with EPIPE
 * instead of killing the process.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "loop.h"

/** @brief A writer; you define struct writer in your answer. */
typedef struct writer writer_t;

/**
 * @brief Start writing to @p fd through @p loop.
 *
 * Makes @p fd non-blocking for as long as the writer lives;
 * writer_destroy() puts its file status flags back as they were (a
 * standard output is shared with the shell that started the program).
 *
 * @param loop the loop; it must outlive the writer.
 * @param fd an open descriptor for writing; still the caller's, never
 *        closed by the writer.
 * @param limit the most bytes the writer may hold back (> 0); see
 *        writer_write().
 * @return the writer; NULL with errno set (EINVAL for a zero limit,
 *         ENOMEM, or what fcntl() reports).
 */
writer_t *writer_create(loop_t *loop, int fd, size_t limit);

/**
 * @brief Write @p len bytes of @p data, never blocking.
 *
 * - When nothing waits in the writer, the bytes go to the descriptor
 *   before this returns, as far as it takes them. What it does not take
 *   waits in the writer and goes out, without any further call, when the
 *   descriptor becomes writable again.
 * - Every byte taken reaches the descriptor once, in the order given.
 * - The bound: the call is refused when writer_pending() + @p len would
 *   exceed the limit. It is refused whole (none of its bytes is written
 *   or kept, so a line written in one call is never cut in half): it
 *   fails with ENOBUFS and writer_refused() grows by @p len. The decision
 *   is made before anything is written.
 * - The writer watches the descriptor only while bytes wait: with nothing
 *   waiting it costs the loop nothing.
 * - When write() fails for good (not EAGAIN, not EINTR; EPIPE when the
 *   reader is gone), the writer drops what waits, stops watching, and is
 *   ended: see writer_error(). If that write() is this call's own, this
 *   call fails with its error.
 *
 * @param w a writer.
 * @param data the bytes (copied if they must wait).
 * @param len how many; 0 does nothing and returns 0.
 * @return 0 when the bytes were taken (written, or kept to be written);
 *         -1 with errno ENOBUFS (refused), or with the error that ended
 *         the writer.
 */
int writer_write(writer_t *w, const void *data, size_t len);

/**
 * @brief Bytes taken by writer_write() and not yet written.
 * @param w a writer.
 * @return the count.
 */
size_t writer_pending(const writer_t *w);

/**
 * @brief Bytes refused by writer_write() (ENOBUFS) since the writer was
 *        made.
 * @param w a writer.
 * @return the count.
 */
size_t writer_refused(const writer_t *w);

/**
 * @brief The error that ended the writer, or 0 while it works.
 * @param w a writer.
 * @return 0, or the errno of the write() that failed for good.
 */
int writer_error(const writer_t *w);

/**
 * @brief Drop what waits, stop watching the descriptor, restore its file
 *        status flags, and free the writer. The descriptor stays open.
 * @param w a writer, or NULL.
 */
void writer_destroy(writer_t *w);

#endif
