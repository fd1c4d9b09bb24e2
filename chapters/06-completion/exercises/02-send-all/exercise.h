/**
 * @file exercise.h
 * @brief Exercise 02-send-all: send a whole buffer on a completion loop,
 *        one Future for all of it.
 *
 * proactor_send() sends once, and its completion may say that the kernel
 * took only part of the bytes. sendall_start() is the operation a program
 * wants instead (asyncio's sock_sendall(), a stream's drain): every byte,
 * in order, or an error; and a cancellation that, like every cancellation
 * on a completion loop, is a request.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "future.h"
#include "proactor.h"

/**
 * @brief Send the @p len bytes at @p buf on @p fd, all of them, in order.
 *
 * The Future finishes:
 * - with the result @p len (as intptr_t) once the kernel has taken every
 *   byte (@p len 0: nothing is sent, and the Future comes back
 *   finished with 0);
 * - with the error of a send that failed (EPIPE, ECONNRESET, ...): then
 *   nothing more is sent;
 * - cancelled, after future_cancel() on it: the send in the kernel at
 *   that moment is cancelled, no send is started after it, and the Future
 *   finishes only once that send's own completion has arrived. (If that
 *   send turns out to have taken the last bytes, the result is @p len.)
 *
 * Until the Future has finished, @p buf is the kernel's: the caller keeps
 * it, unchanged; sendall_start() does not copy it.
 *
 * @param loop the loop; its proactor (proactor_get()) sends.
 * @param fd a connected stream socket.
 * @param buf the bytes.
 * @param len how many.
 * @return the Future, which the caller gives back with sendall_free();
 *         NULL with errno EINVAL (no loop; a NULL @p buf with @p len
 *         more than 0), ENOMEM, or proactor_get()'s errno.
 */
future_t *sendall_start(loop_t *loop, int fd, const void *buf, size_t len);

/**
 * @brief How many bytes the kernel has taken so far: the first
 *        sendall_sent() bytes of the buffer, and those alone, reached the
 *        socket.
 * @param f a Future from sendall_start().
 * @return the count; once the Future has finished, its final value.
 */
size_t sendall_sent(future_t *f);

/**
 * @brief Free what sendall_start() allocated.
 * @param f a Future from sendall_start(), finished.
 */
void sendall_free(future_t *f);

#endif
