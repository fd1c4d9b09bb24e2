/**
 * @file proactor.h
 * @brief Chapter 06: a proactor on io_uring. An operation (recv, send,
 *        accept, connect, read) is submitted to the kernel, and its
 *        completion finishes a Future: the same Futures chapter 05's
 *        coroutines await (asyncio's ProactorEventLoop on IOCP; here
 *        io_uring).
 *
 * Readiness (chapters 03-05) says "you may call recv() now"; completion
 * says "your recv() is done, here are the bytes". What that changes, and
 * what this interface makes explicit:
 *
 * - **Buffer ownership.** From submission until its completion arrives,
 *   an operation's buffer belongs to the kernel. Its Future finishes only
 *   with that completion, so a coroutine awaiting it cannot free or reuse
 *   the buffer too early: not even when it is cancelled.
 * - **Cancellation is a request.** Cancelling the Future submits
 *   IORING_OP_ASYNC_CANCEL and returns; the Future stays pending until the
 *   operation's own completion, which may still be a success: then the
 *   Future finishes with that result (no byte is lost), else cancelled.
 * - **A shared buffer pool.** A pending recv of its own needs a buffer of
 *   its own, held for as long as the peer is silent: 10,000 idle
 *   connections, 10,000 buffers. proactor_recv_pooled() instead lets the
 *   kernel pick a buffer from a pool (a registered buffer ring) when data
 *   arrives. An empty pool (the kernel says ENOBUFS) is not an error here:
 *   the recv waits, and is submitted again when a buffer comes back.
 * - **Batching.** Operations are queued in the submission ring and all
 *   handed to the kernel by the one io_uring_enter() of the loop's wait,
 *   which also waits for completions.
 * - **Multishot.** One accept or recv submission that completes many
 *   times (proactor_multishot_accept(), proactor_multishot_recv()).
 *
 * The loop: proactor_get() attaches a proactor to a loop, and from then
 * on the loop's phase 1 waits in io_uring (loop_set_wait()), not in the
 * selector. The selector keeps working for readers and writers (the
 * self-pipe of signals and threads): its epoll descriptor is one more
 * operation on the ring, a poll, re-armed each time it fires, so readers
 * stay level-triggered. That needs the epoll backend.
 *
 * Timers stay the loop's own heap, and the wait's timeout is the time to
 * the earliest one (not ring timeouts): chapter 04's timers, their fake
 * clock and their tests stay as they are; cancelling a timer costs no
 * system call and no submission; and a thousand armed timers cost the
 * ring nothing.
 *
 * Results are byte counts or descriptors, as intptr_t in the Future's
 * pointer; failures are errno codes (ECONNRESET, EPIPE, ...).
 * Not thread-safe: one proactor belongs to its loop's thread.
 */
#ifndef PROACTOR_H
#define PROACTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "future.h"
#include "loop.h"

/** @brief A loop's proactor; opaque, see proactor_get(). */
typedef struct proactor proactor_t;

/**
 * @brief Bytes per pool buffer by default: as much as chapter 05's one
 *        read() brings, so a 16 KiB message is one completion, one copy
 *        and one send, not four. Only the pages data is put in cost
 *        memory (the pool is mmap'd).
 */
#define PROACTOR_POOL_SIZE 16384

/** @brief Options for proactor_attach(); zero means the default. */
typedef struct proactor_options {
    unsigned entries;     /**< submission ring size (default 256) */
    unsigned pool_count;  /**< buffers in the pool, a power of two
                               (default 256) */
    size_t pool_size;     /**< bytes per pool buffer (default 16384) */
} proactor_options_t;

/** @brief What a proactor has done; for tests, benchmarks and traces. */
typedef struct proactor_stats {
    uint64_t enters;        /**< io_uring_enter() calls made */
    uint64_t submitted;     /**< entries handed to the kernel */
    uint64_t completions;   /**< completions reaped */
    uint64_t cancels;       /**< cancel requests submitted */
    uint64_t nobufs;        /**< recvs the kernel found the pool empty for */
    unsigned pool_free;     /**< pool buffers not lent out right now */
    unsigned in_flight;     /**< operations submitted, not yet completed */
} proactor_stats_t;

/**
 * @brief One operation, in caller storage (a coroutine's frame, a
 *        stream). Fields are private.
 *
 * Free or reuse it, and its buffer, only once its Future has finished:
 * that is when the kernel has let go of them.
 */
typedef struct proactor_op {
    future_t future;          /**< the outcome; first, so a pointer to
                                   the Future is a pointer to the op */
    proactor_t *proactor;     /**< its proactor */
    struct proactor_op *next; /**< on the list of recvs waiting for a
                                   pool buffer (private) */
    void *buf;                /**< the caller's buffer (connect: the
                                   address) */
    size_t len;               /**< its size */
    int fd;                   /**< the descriptor */
    int res;                  /**< the last completion's result */
    int bid;                  /**< the pool buffer it holds, or -1 */
    unsigned char kind;       /**< which operation (private) */
    unsigned char state;      /**< idle, in flight... (private) */
    unsigned char let_go;     /**< its owner let go of it (private) */
    /** @brief Called once per completion (multishot, or
     *         proactor_on_complete()), or NULL: the Future finishes. */
    void (*on_complete)(struct proactor_op *op, int res, void *arg);
    void *arg;                /**< for @c on_complete */
} proactor_op_t;

/**
 * @brief The loop's proactor, attached with the defaults on first use.
 * @param loop a loop whose selector is epoll, not running.
 * @return the proactor; NULL with errno set: ENOSYS or EPERM when the
 *         kernel (too old: no io_uring, or no registered buffer rings,
 *         before Linux 5.19) or a seccomp filter refuses io_uring,
 *         ENOTSUP for a loop on the select or poll backend, ENOMEM.
 */
proactor_t *proactor_get(loop_t *loop);

/**
 * @brief Attach a proactor with @p options (or return the one attached).
 * @param loop a loop, as for proactor_get().
 * @param options NULL for the defaults.
 * @return as proactor_get().
 */
proactor_t *proactor_attach(loop_t *loop, const proactor_options_t *options);

/**
 * @brief One line saying why io_uring cannot be used, for a program to
 *        print after proactor_get() failed.
 * @param err the errno proactor_get() set.
 * @return a static string.
 */
const char *proactor_strerror(int err);

/**
 * @brief Its counters.
 * @param p a proactor.
 * @param[out] stats filled in.
 */
void proactor_get_stats(const proactor_t *p, proactor_stats_t *stats);

/**
 * @brief Receive into the caller's buffer (owned by the kernel until the
 *        Future finishes).
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd a socket.
 * @param buf where to receive.
 * @param len its size, more than 0.
 * @return the Future: result the byte count (0 at end of stream).
 */
future_t *proactor_recv(proactor_op_t *op, proactor_t *p, int fd, void *buf,
                        size_t len);

/**
 * @brief Receive into a buffer the kernel picks from the pool when data
 *        arrives: a pending recv holds no memory.
 *
 * On success the bytes are at proactor_op_data(); the buffer is lent to
 * the caller until proactor_release(), which must come before @p op is
 * used again.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd a socket.
 * @return the Future: result the byte count (0 at end of stream).
 */
future_t *proactor_recv_pooled(proactor_op_t *op, proactor_t *p, int fd);

/**
 * @brief The pool buffer a pooled recv or a multishot recv completion
 *        filled, or NULL.
 * @param op the op.
 * @return the bytes; valid until proactor_release().
 */
const char *proactor_op_data(const proactor_op_t *op);

/**
 * @brief Give the op's pool buffer back (nothing if it holds none).
 * @param op the op.
 */
void proactor_release(proactor_op_t *op);

/**
 * @brief Read from any descriptor (a pipe, a terminal, a file) at its
 *        current position; it need not be non-blocking.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @param buf where to read; the kernel's until the Future finishes.
 * @param len its size.
 * @return the Future: result the byte count (0 at end of file).
 */
future_t *proactor_read(proactor_op_t *op, proactor_t *p, int fd, void *buf,
                        size_t len);

/**
 * @brief proactor_recv_pooled() for any descriptor (a pipe, a terminal,
 *        a file): a read at its current position into a pool buffer.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @return the Future: result the byte count (0 at end of file).
 */
future_t *proactor_read_pooled(proactor_op_t *op, proactor_t *p, int fd);

/**
 * @brief Write once to any descriptor at its current position (a pipe, a
 *        terminal); the kernel owns @p buf until the Future finishes.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @param buf the bytes.
 * @param len how many.
 * @return the Future: result the bytes written, or an error.
 */
future_t *proactor_write(proactor_op_t *op, proactor_t *p, int fd,
                         const void *buf, size_t len);

/**
 * @brief Send once (MSG_NOSIGNAL): the kernel owns @p buf until the
 *        Future finishes. The count may be short; send the rest after.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @param buf the bytes.
 * @param len how many.
 * @return the Future: result the bytes sent, or an error (EPIPE, ...).
 */
future_t *proactor_send(proactor_op_t *op, proactor_t *p, int fd,
                        const void *buf, size_t len);

/**
 * @brief Accept one connection.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @return the Future: result the new descriptor (close-on-exec).
 */
future_t *proactor_accept(proactor_op_t *op, proactor_t *p, int fd);

/**
 * @brief Connect @p fd to @p addr (kept by the caller until the Future
 *        finishes).
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @param addr the address.
 * @param addrlen its length.
 * @return the Future: result 0, or the error (ECONNREFUSED, ...).
 */
future_t *proactor_connect(proactor_op_t *op, proactor_t *p, int fd,
                           const struct sockaddr *addr, socklen_t addrlen);

/**
 * @brief Have the completion of the op just started call
 *        @p cb(op, res, arg) (res: the result, or -errno; -ECANCELED
 *        once cancelled) instead of finishing its Future: for a layer
 *        whose Futures are its own (streams). Call it right after the
 *        proactor_* call that started @p op, if that did not finish the
 *        Future at once (no free entry: EBUSY).
 * @param op an op in flight.
 * @param cb the callback.
 * @param arg its argument.
 */
void proactor_on_complete(proactor_op_t *op,
                          void (*cb)(proactor_op_t *, int, void *),
                          void *arg);

/**
 * @brief Accept many connections with one submission: @p cb(op, fd, arg)
 *        runs for each (fd >= 0) or error (-errno). When the kernel ends
 *        it (an error, or proactor_cancel_multishot()), the last call has
 *        proactor_multishot_active(op) false; submit again to go on.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno set.
 */
int proactor_multishot_accept(proactor_op_t *op, proactor_t *p, int fd,
                              void (*cb)(proactor_op_t *, int, void *),
                              void *arg);

/**
 * @brief Receive many times with one submission, each into a pool
 *        buffer: @p cb(op, n, arg) runs for each completion with the byte
 *        count (the bytes at proactor_op_data(op), until the callback
 *        returns: the pool gets the buffer back then; the callback does
 *        not call proactor_release()), 0 at end of stream, or -errno.
 *        A multishot callback may free @p op on its last completion. It ends as proactor_multishot_accept() does; an empty
 *        pool ends it with -ENOBUFS.
 * @param op caller storage, not in use.
 * @param p the proactor.
 * @param fd the descriptor.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno set.
 */
int proactor_multishot_recv(proactor_op_t *op, proactor_t *p, int fd,
                            void (*cb)(proactor_op_t *, int, void *),
                            void *arg);

/**
 * @brief Whether a multishot op will complete again.
 * @param op an op.
 * @return 1 or 0.
 */
int proactor_multishot_active(const proactor_op_t *op);

/**
 * @brief Ask the kernel to stop a multishot op; its last completion
 *        follows (the op's storage stays in use until then).
 * @param op an op.
 */
void proactor_cancel_multishot(proactor_op_t *op);

/**
 * @brief A pooled receive whose record the proactor keeps, in a table of
 *        its own (32 bytes an entry), so that its owner can go at any
 *        time, even while the kernel still has it: a stream's storage is
 *        freed with its connection, and a completion that arrives later
 *        must find nothing of it. A handle, not a pointer, names it.
 *        0 is no receive.
 */
typedef uint32_t proactor_rx_t;

/**
 * @brief Receive (a socket) or read (anything else) into a pool buffer;
 *        no Future, no caller storage.
 *
 * Its completion calls @p cb(arg, res) once: res the byte count (the
 * bytes at proactor_rx_data()), 0 at end of stream, -ECANCELED after
 * proactor_rx_cancel(), or -errno. The receive, and its pool buffer,
 * stay the caller's until proactor_rx_done(), which may be called in
 * @p cb or later. An empty pool is waited out, as for
 * proactor_recv_pooled().
 * @param p the proactor.
 * @param fd the descriptor.
 * @param is_socket 1: recv(); 0: read() at the current position.
 * @param cb the callback.
 * @param arg its argument.
 * @return the handle; 0 with errno set (EBUSY: no free entry; ENOMEM).
 */
proactor_rx_t proactor_rx_start(proactor_t *p, int fd, int is_socket,
                                void (*cb)(void *arg, int res), void *arg);

/**
 * @brief The bytes a completed receive brought.
 * @param p the proactor.
 * @param rx a receive whose callback has run.
 * @param[out] len how many (0 if none).
 * @return the bytes, valid until proactor_rx_done(); NULL if none.
 */
const char *proactor_rx_data(const proactor_t *p, proactor_rx_t rx,
                             size_t *len);

/**
 * @brief Ask the kernel to stop a receive in flight; its callback still
 *        comes, with -ECANCELED or, too late to cancel, the bytes.
 * @param p the proactor.
 * @param rx a receive whose callback has not run yet.
 */
void proactor_rx_cancel(proactor_t *p, proactor_rx_t rx);

/**
 * @brief Done with a completed receive: its pool buffer goes back, its
 *        handle is no longer valid.
 * @param p the proactor.
 * @param rx a receive whose callback has run.
 */
void proactor_rx_done(proactor_t *p, proactor_rx_t rx);

/**
 * @brief Let go of a receive in any state: no callback any more; one in
 *        the kernel is cancelled and cleans up after itself when it
 *        completes (its buffer back to the pool, its entry free). The
 *        handle is no longer valid.
 * @param p the proactor.
 * @param rx a receive.
 */
void proactor_rx_let_go(proactor_t *p, proactor_rx_t rx);

/**
 * @brief A block of PROACTOR_POOL_SIZE bytes for the caller's own
 *        buffers that come and go with every message (a stream's send
 *        queue while the kernel sends it): from the proactor's small
 *        cache when it has one, so that a message costs no malloc and
 *        free, and no page faults of a heap growing and shrinking under
 *        them.
 * @param p the proactor.
 * @return the block (malloc'd: it may be realloc'd or freed instead of
 *         given back); NULL with errno ENOMEM.
 */
void *proactor_block_get(proactor_t *p);

/**
 * @brief Give a block back: kept for the next proactor_block_get() (up
 *        to PROACTOR_BLOCKS_KEPT of them), else freed.
 * @param p the proactor.
 * @param block from proactor_block_get(), or any malloc'd block of at
 *        least PROACTOR_POOL_SIZE bytes; NULL does nothing.
 */
void proactor_block_put(proactor_t *p, void *block);

/** @brief How many blocks a proactor keeps at most (1 MiB). */
#define PROACTOR_BLOCKS_KEPT 64

/**
 * @brief Say that @p op's owner has let go of it while it may still be in
 *        the kernel: its callback, which then frees what the op lives in,
 *        gets its completions even when the loop is being destroyed
 *        before they arrive (other ops' callbacks are not called then).
 *        Cancel it as usual; this only marks it.
 * @param op an op with a completion callback (proactor_on_complete(),
 *        or multishot).
 */
void proactor_let_go(proactor_op_t *op);

#endif
