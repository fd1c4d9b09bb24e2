/**
 * @file sock.h
 * @brief Awaitable descriptor operations (asyncio's loop.sock_recv,
 *        sock_sendall, sock_accept, sock_connect) and a line reader that
 *        is itself a coroutine.
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
 */
#ifndef SOCK_H
#define SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coro.h"
#include "future.h"
#include "linebuf.h"

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
 * @brief Wait until @p fd is readable, without reading: for a descriptor
 *        that may be blocking (a terminal or pipe on stdin, which we should
 *        not make non-blocking: the flag is shared with other processes),
 *        after which exactly one read() is safe.
 * @param op caller storage, not in use.
 * @param loop the loop.
 * @param fd the descriptor.
 * @return the Future: result NULL once readable.
 */
future_t *fd_wait_readable(io_op_t *op, loop_t *loop, int fd);

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

/**
 * @brief A socket whose readability is watched across many waits: the
 *        selector registration stays in place between them, so a
 *        connection that waits, reads, writes and waits again costs no
 *        selector call per message. Caller storage, fields private.
 *
 * sock_recv() registers the descriptor when it must wait and removes it
 * when done: two selector calls (epoll_ctl) per wait. A sock_watch_t
 * removes the registration lazily, only when readiness arrives while
 * nobody waits (so a connection busy sending stops hearing about input
 * it will not read yet). Because the loop may still be watching the
 * descriptor, close it with sock_watch_close(), never with close() alone.
 */
typedef struct sock_watch {
    future_t future;  /**< the wait in progress; finished when none is */
    loop_t *loop;     /**< the loop */
    int fd;           /**< the descriptor, non-blocking */
} sock_watch_t;

/**
 * @brief Start watching @p fd (nothing is registered until the first
 *        wait).
 * @param w caller storage.
 * @param loop the loop.
 * @param fd a non-blocking descriptor; @p w owns it from now on.
 */
void sock_watch_init(sock_watch_t *w, loop_t *loop, int fd);

/**
 * @brief Wait until the descriptor is readable, without reading and
 *        without holding a buffer. Readiness reported before this call
 *        (and not yet delivered) is dropped, so after a wake-up one read()
 *        will rarely, but may, still find nothing (EAGAIN): wait again.
 * @param w the watch, with no wait in progress.
 * @return the Future: result NULL once readable, or the error of the
 *         registration; cancelling it cancels the wait only.
 */
future_t *sock_readable(sock_watch_t *w);

/**
 * @brief Stop watching and close the descriptor.
 * @param w the watch, with no wait in progress.
 */
void sock_watch_close(sock_watch_t *w);

/** @brief Returned by a line reader at end of input. */
#define LINE_EOF ((void *)(intptr_t)-1)

/**
 * @brief A line reader: chapter 03's line buffer, which persists between
 *        lines, and the frame of the sub-coroutine that reads one line.
 */
typedef struct line_reader {
    coro_t co;         /**< the sub-coroutine's head */
    loop_t *loop;      /**< the loop */
    int fd;            /**< the descriptor (see fd_wait_readable()) */
    int eof;           /**< end of input seen */
    const char *line;  /**< the last line (in @c buf), no newline */
    size_t len;        /**< its full length (may exceed what was kept) */
    io_op_t op;        /**< the wait in progress */
    linebuf_t buf;     /**< bytes read, not yet handed out */
} line_reader_t;

/**
 * @brief Prepare a reader for @p fd.
 * @param r caller storage.
 * @param loop the loop.
 * @param fd the descriptor.
 */
void line_reader_init(line_reader_t *r, loop_t *loop, int fd);

/**
 * @brief The sub-coroutine that reads the next line:
 *        `CORO_AWAIT_CORO(co, line_reader_next(&f->reader))`.
 *
 * Then `co->in` is the line's length, with the line in the reader's
 * @c line (see linebuf_next() for what is kept of a very long line), or
 * ::LINE_EOF at end of input. A read error fails it, and so the awaiting
 * coroutine too (use CORO_AWAIT_CORO_CATCH to handle it).
 *
 * @param r a reader.
 * @return the frame to await.
 */
coro_t *line_reader_next(line_reader_t *r);

#endif
