/**
 * @file sock.h
 * @brief Awaitable descriptor operations (asyncio's loop.sock_recv,
 *        sock_sendall, sock_accept, sock_connect).
 *
 * Each operation is a Future in caller storage (an ::io_op_t in the
 * frame). It first tries the system call; if that would block
 * (EAGAIN), it registers a reader or writer on the loop, retries when the
 * descriptor is ready, and finishes the Future. Removing the reader or
 * writer happens in one place, the Future's own done callback, so it also
 * happens when the waiting Task is cancelled. This is the "register before
 * the yield, unregister after it" of a hand-written asyncio, done once for
 * everyone.
 *
 * Results are byte counts or descriptors, passed as intptr_t in the
 * Future's pointer; failures are errno codes (ECONNRESET, EPIPE, ...).
 * Sockets must be non-blocking. Only one read and one write may be in
 * flight per descriptor (the loop has one reader and one writer per fd).
 * Each wait registers the descriptor and removes it after (two selector
 * calls): a socket read many times over is cheaper as a stream
 * (stream.h), which keeps its registration.
 *
 * Loop thread only.
 */
#ifndef SOCK_H
#define SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "future.h"

/** @brief One operation in progress; caller storage, fields private. */
typedef struct io_op {
    future_t future;          /**< the outcome */
    loop_t *loop;             /**< the loop */
    int fd;                   /**< the descriptor */
    int kind;                 /**< which operation */
    char *buf;                /**< data to read into or send */
    size_t len;               /**< its length */
    size_t done;              /**< bytes sent so far */
    future_callback_t record; /**< removes the watcher when finished */
} io_op_t;

/**
 * @brief Read up to @p len bytes from a non-blocking socket.
 * @param op caller storage, not in use.
 * @param loop the loop.
 * @param fd the descriptor.
 * @param buf where to read; valid until the Future finishes.
 * @param len its size, more than 0.
 * @return the Future: result the byte count (0 at end of stream).
 */
future_t *sock_recv(io_op_t *op, loop_t *loop, int fd, void *buf,
                    size_t len);

/**
 * @brief Send all @p len bytes, waiting for room as often as needed
 *        (backpressure: the awaiting coroutine sends nothing more, and
 *        reads nothing more, until its peer has taken these).
 * @param op caller storage, not in use.
 * @param loop the loop.
 * @param fd a non-blocking socket (MSG_NOSIGNAL: a vanished peer gives
 *        EPIPE, not a SIGPIPE).
 * @param buf the data; valid until the Future finishes.
 * @param len its length.
 * @return the Future: result @p len, or an error such as EPIPE.
 */
future_t *sock_sendall(io_op_t *op, loop_t *loop, int fd, const void *buf,
                       size_t len);

/**
 * @brief Accept a connection on a non-blocking listening socket.
 * @param op caller storage, not in use.
 * @param loop the loop.
 * @param fd the listening socket.
 * @return the Future: result the new descriptor (non-blocking,
 *         close-on-exec); errors such as EMFILE are reported.
 */
future_t *sock_accept(io_op_t *op, loop_t *loop, int fd);

/**
 * @brief Connect a non-blocking socket.
 * @param op caller storage, not in use.
 * @param loop the loop.
 * @param fd the socket.
 * @param addr the address.
 * @param addrlen its length.
 * @return the Future: result 0, or the error (ECONNREFUSED, ...).
 */
future_t *sock_connect(io_op_t *op, loop_t *loop, int fd,
                       const struct sockaddr *addr, socklen_t addrlen);

#endif
