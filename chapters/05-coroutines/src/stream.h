/**
 * @file stream.h
 * @ingroup ch05
 * @brief Streams: a connection read with awaits and written with a
 *        buffered write and a drain (asyncio's StreamReader and
 *        StreamWriter, open_connection and start_server).
 *
 * One ::stream_t holds both halves of a connection. asyncio hands out two
 * objects, a reader and a writer, that share one transport; here they
 * share one descriptor and one selector registration, so they are one
 * struct. A program that reads in one Task and writes in another passes
 * the same stream_t to both.
 *
 * @code
 * // the body of chapter 01's echo loop, with awaits
 * for (;;) {
 *     CORO_AWAIT_CORO(co, stream_read(s, f->buf, sizeof f->buf));
 *     if ((f->n = (size_t)(intptr_t)co->in) == 0)
 *         break;                                   // end of stream
 *     if (stream_write(s, f->buf, f->n) < 0)
 *         CORO_FAIL(co, errno);
 *     AWAIT(co, stream_drain(s));                  // flow control
 * }
 * @endcode
 *
 * **Reading.** stream_read(), stream_readexactly(), stream_readline() and
 * stream_readuntil() are sub-coroutines, awaited with CORO_AWAIT_CORO (or
 * its _CATCH form): asyncio's reader methods are coroutines. Nothing reads
 * unless a read is awaited. Into the caller's buffer (stream_read(),
 * stream_readexactly()), the read() system call happens in the awaiting
 * Task's own step: until the read returns, the buffer is the caller's, and
 * callers may share one. Into the stream's buffer (stream_readline(),
 * stream_readuntil()), a read that waited gets its read() made by the
 * readiness callback, as asyncio's transport reads in its own. Their frame
 * lives in the stream, so one read operation at a time per stream (a
 * second one fails with EBUSY, where asyncio raises RuntimeError); await
 * the frame at once. Each read() asks the kernel for up to 16 KiB more
 * than the caller's buffer holds, and keeps what follows the caller's
 * bytes in the stream's buffer for the next read. A non-blocking
 * descriptor is then read again at once only after a read() that was not
 * short; after a short one (the kernel had fewer bytes than asked, so
 * most likely none now) or EAGAIN, the next read waits for readiness
 * first: an echo costs one read() and one send() per message, whatever
 * the size of the messages against the buffer's. A socket from
 * stream_open_connection() or a server is waited for before its first
 * read, as asyncio's are (a peer that has only just connected has most
 * likely sent nothing yet); one given to stream_init() is read first. A
 * blocking descriptor (stdin as a terminal or a pipe, which must stay
 * blocking: the flag is shared with other processes) is waited for first,
 * then read with exactly one read(). A regular file, or /dev/null (epoll refuses
 * both with EPERM), is always ready and read without waiting.
 *
 * **End of stream, as asyncio reports it.** stream_read() gives 0 bytes;
 * stream_readline() gives the last line without its '\\n', then 0;
 * stream_readexactly() and stream_readuntil() fail with ENODATA (asyncio's
 * IncompleteReadError; chosen because no read() on a socket, pipe or file
 * ever reports it, so it cannot be mistaken for a connection error), and
 * stream_partial() tells how many bytes did arrive. stream_at_eof() is
 * asyncio's at_eof().
 *
 * **Limit.** A line (or a readuntil chunk) whose bytes before the separator
 * are more than the limit (stream_set_limit(), default 65536, as asyncio)
 * fails with EMSGSIZE (asyncio's LimitOverrunError, turned into ValueError
 * by readline). Its bytes are dropped, up to and including its separator,
 * even if that arrives later, so the next readline returns the next line:
 * the stream goes on (stream_read() and stream_readexactly() take bytes
 * as they come, and end the dropping). The buffer never holds more than
 * the limit plus one read's worth.
 *
 * **Writing.** stream_write() is not a coroutine (nor is asyncio's). With
 * nothing queued it sends at once, from the caller's bytes (no copy when
 * the socket takes them all), and queues (copies) only what the socket
 * did not take; the queue is sent as the socket has room. stream_drain()
 * is the flow control: a Future that is finished at once while the queue
 * is at or below the high-water mark, else once it has fallen to the
 * low-water mark (stream_set_write_limits(); default 64 KiB and 16 KiB,
 * asyncio's).
 *
 * **Errors** are errno codes through the awaits, as everywhere in the
 * chapter (AWAIT and CORO_AWAIT_CORO raise, the _CATCH forms hand the
 * code in co->err). The first connection error (ECONNRESET, EPIPE, ...)
 * met by a read, a send or the queue's flush is stored: every later read
 * that needs the descriptor, write and drain fails with it (bytes already
 * buffered are still handed out first).
 *
 * **Cancellation** at any await loses no byte: a cancelled read leaves
 * what it had read in the stream's buffer for the next read (even the
 * bytes a readexactly had already put in the caller's buffer); a cancelled
 * drain leaves the queue as it was.
 *
 * **Selector registrations.** The stream registers its reader the first
 * time a read must wait and keeps it while reads come: a connection that
 * waits, reads, writes and waits again costs no epoll_ctl per message or
 * per line. When readiness arrives while nobody reads (the Task is busy
 * draining), the reader is removed then, lazily, so a level-triggered
 * selector does not report the same unread bytes on every iteration. The
 * writer is registered only while the queue holds bytes.
 *
 * **Memory.** The stream_t is caller storage (a connection's frame). The
 * stream's read buffer exists only while it holds bytes not yet handed
 * out (or the last line, until the next read call), and the write queue
 * only while it holds unsent bytes: an idle connection whose handler
 * awaits stream_read() into its own buffer holds no data buffer at all.
 * Like a descriptor, a stream must be closed (stream_close(), or
 * stream_abort()) before its storage goes, and with bytes queued it is
 * in use until stream_wait_closed() finishes. The server does this for
 * the connections it starts.
 *
 * **Thread-safety:** none. A stream, a server and a connect belong to the
 * loop's thread.
 */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "coro.h"
#include "future.h"
#include "loop.h"
#include "net.h"
#include "taskgroup.h"

/** @brief Default line limit of stream_readline() / stream_readuntil(). */
#define STREAM_LIMIT_DEFAULT 65536
/** @brief Default high-water mark of the write queue (asyncio's). */
#define STREAM_HIGH_DEFAULT 65536
/** @brief Default low-water mark of the write queue (high / 4). */
#define STREAM_LOW_DEFAULT 16384

/**
 * @brief A stream's read buffer or write queue: one allocation, the
 *        indices in front of the bytes, so that a stream without buffered
 *        bytes holds a NULL pointer for each, not the indices too (a held
 *        connection costs less). Private to stream.c.
 */
typedef struct stream_buf {
    uint32_t head;         /**< first byte not handed out (not sent) */
    uint32_t end;          /**< end of the bytes */
    uint32_t cap;          /**< room in @c data */
    uint32_t line;         /**< read buffer: offset of the last line
                                handed out */
    uint32_t scan;         /**< read buffer, readuntil: bytes known to
                                hold no separator (saves rescanning) */
    char data[];           /**< the bytes */
} stream_buf_t;

/**
 * @brief A connection: both halves, in caller storage. Fields are private
 *        to stream.c; use the functions.
 */
typedef struct stream {
    loop_t *loop;          /**< the loop */
    int fd;                /**< the descriptor, owned; -1 once closed */
    int error;             /**< the stored connection error, or 0 */
    unsigned flags;        /**< state bits (stream.c) */
    uint32_t limit;        /**< readline / readuntil limit */
    uint32_t high;         /**< write queue high-water mark */
    uint32_t low;          /**< write queue low-water mark */
    /** read buffer, malloc'd, NULL when empty: [head, end) not handed out
     *  yet; [0, head) the last line handed out, kept until the next read
     *  call */
    stream_buf_t *rbuf;
    /** write queue, malloc'd, NULL when empty: [head, end) unsent */
    stream_buf_t *wbuf;
    size_t partial;        /**< see stream_partial() */
    /* the read operation in progress (one at a time) */
    coro_t co;             /**< its frame's head */
    future_t readable;     /**< what it awaits: the descriptor readable */
    union {
        char *dst;         /**< read / readexactly: the caller's buffer */
        const char *sep;   /**< readuntil: the separator (caller's) */
    };
    size_t want;           /**< bytes asked for; separator length */
    future_t drain;        /**< stream_drain()'s Future; once
                                stream_wait_closed() is asked,
                                its Future instead (one storage for
                                both: a held connection costs less) */
} stream_t;

/**
 * @brief Make a stream on @p fd.
 *
 * Nothing is registered and nothing allocated: the first read that must
 * wait registers the reader. The descriptor's blocking flag is left as it
 * is (see the file comment).
 *
 * @param s caller storage.
 * @param loop the loop.
 * @param fd an open descriptor (socket, pipe, terminal, regular file);
 *        the stream owns it from now on and closes it in stream_close().
 */
void stream_init(stream_t *s, loop_t *loop, int fd);

/**
 * @brief Set the limit of stream_readline() and stream_readuntil():
 *        asyncio's `limit` argument of open_connection / start_server.
 * @param s a stream.
 * @param limit the longest line, in bytes before the separator (at least
 *        1; default ::STREAM_LIMIT_DEFAULT); values over 1 GiB are
 *        taken as 1 GiB.
 */
void stream_set_limit(stream_t *s, size_t limit);

/**
 * @brief Set the write queue's water marks: asyncio's
 *        transport.set_write_buffer_limits(high, low).
 * @param s a stream.
 * @param high stream_drain() waits while more than this is queued.
 * @param low it finishes once the queue has fallen to this (taken as
 *        @p high if larger).
 */
void stream_set_write_limits(stream_t *s, size_t high, size_t low);

/* ---- reading ------------------------------------------------------------ */

/**
 * @brief Read up to @p n bytes: asyncio's `await reader.read(n)`.
 *        `CORO_AWAIT_CORO(co, stream_read(s, buf, n))`.
 *
 * Bytes already in the stream's buffer are handed out without a system
 * call; otherwise it reads the descriptor straight into @p buf (no copy),
 * waiting for it if it has nothing.
 *
 * @param s a stream with no read in progress.
 * @param buf where to put them; valid until the await finishes.
 * @param n its size; 0 gives 0 at once. (asyncio's read(-1), "all until
 *        the end", has no counterpart: loop over stream_read().)
 * @return the frame to await: then co->in is the count, as intptr_t (0 at
 *         end of stream). Fails with EBUSY (a read is in progress), the
 *         stored connection error, the read()'s error, or ECANCELED.
 */
coro_t *stream_read(stream_t *s, void *buf, size_t n);

/**
 * @brief Read exactly @p n bytes: asyncio's `await reader.readexactly(n)`.
 *
 * @param s a stream with no read in progress.
 * @param buf room for @p n bytes; valid until the await finishes.
 * @param n how many.
 * @return the frame to await: then co->in is @p n. At end of stream
 *         before @p n bytes it fails with ENODATA (asyncio's
 *         IncompleteReadError): the stream_partial(s) bytes that did
 *         arrive are in @p buf. Cancelled (ECANCELED), it puts the bytes
 *         it had back into the stream for the next read. Other errors as
 *         stream_read(), with stream_partial() bytes in @p buf.
 */
coro_t *stream_readexactly(stream_t *s, void *buf, size_t n);

/**
 * @brief Read one line: asyncio's `await reader.readline()`.
 *
 * @param s a stream with no read in progress.
 * @return the frame to await: then co->in is the line's length
 *         (intptr_t) including its '\\n', and the bytes are at
 *         stream_line(s) until the next read call on @p s. At end of
 *         stream, the last bytes without a '\\n' (as asyncio), then 0.
 *         A line longer than the limit fails with EMSGSIZE and is dropped
 *         up to and including its '\\n' (see the file comment). Other
 *         errors as stream_read().
 */
coro_t *stream_readline(stream_t *s);

/**
 * @brief Read up to and including a separator: asyncio's
 *        `await reader.readuntil(separator)`.
 *
 * @param s a stream with no read in progress.
 * @param sep the separator; valid until the await finishes.
 * @param seplen its length, at least 1 (else the frame fails with EINVAL).
 * @return the frame to await: then co->in is the length including the
 *         separator, the bytes at stream_line(s). At end of stream before
 *         a separator it fails with ENODATA, the stream_partial(s) bytes
 *         that did arrive at stream_line(s) (asyncio's
 *         IncompleteReadError.partial). Over the limit: EMSGSIZE, as
 *         stream_readline() (asyncio's readuntil leaves the bytes in the
 *         buffer instead; here both drop them, so the stream goes on).
 */
coro_t *stream_readuntil(stream_t *s, const void *sep, size_t seplen);

/**
 * @brief The bytes of the last stream_readline() / stream_readuntil()
 *        (not NUL-terminated: use the length it returned, or
 *        stream_partial() after ENODATA).
 * @param s a stream.
 * @return a pointer into the stream's buffer, valid until the next read
 *         call on @p s or stream_close(); NULL if there is none.
 */
const char *stream_line(const stream_t *s);

/**
 * @brief How many bytes the last failed read had (asyncio's
 *        IncompleteReadError.partial, as a count): for readexactly, in
 *        the caller's buffer; for readuntil, at stream_line().
 * @param s a stream.
 * @return the count; 0 after a read that did not fail.
 */
size_t stream_partial(const stream_t *s);

/**
 * @brief asyncio's at_eof(): the end of stream was seen and every byte
 *        before it has been handed out.
 * @param s a stream.
 * @return 1 or 0.
 */
int stream_at_eof(const stream_t *s);

/* ---- writing ------------------------------------------------------------ */

/**
 * @brief Write @p n bytes: asyncio's `writer.write(data)` (not awaited).
 *
 * With nothing queued, sends at once (send() with MSG_NOSIGNAL on a
 * socket, so a vanished peer gives EPIPE, not SIGPIPE; write() on other
 * descriptors) and queues only what was not taken; with bytes queued
 * already, appends to the queue, keeping the order. It never waits:
 * follow it with stream_drain() so a peer that reads slowly holds back
 * the writer instead of growing the queue. On a blocking descriptor the
 * send itself may block, as a plain write() would.
 *
 * @param s a stream.
 * @param data the bytes; the stream copies what it queues.
 * @param n how many (0 does nothing).
 * @return 0; -1 with errno: EPIPE after stream_write_eof() or
 *         stream_close(), the stored connection error (the send's own
 *         error is stored and returned too), ENOMEM when the queue could
 *         not grow (nothing of @p data is queued then), or what
 *         registering the writer reports.
 */
int stream_write(stream_t *s, const void *data, size_t n);

/**
 * @brief How many bytes are queued, not yet sent: asyncio's
 *        transport.get_write_buffer_size().
 * @param s a stream.
 * @return the count.
 */
size_t stream_write_buffer_size(const stream_t *s);

/**
 * @brief Flow control: asyncio's `await writer.drain()`.
 *        `AWAIT(co, stream_drain(s))`.
 *
 * @param s a stream with no drain in progress.
 * @return its Future (storage in the stream): finished at once while the
 *         queue is at or below the high-water mark, else once it has
 *         fallen to the low-water mark. It fails with the stored
 *         connection error once one is known (EPIPE, ECONNRESET), EPIPE
 *         after stream_close(), EBUSY if a drain is already waiting (one
 *         at a time; asyncio allows several) or if stream_wait_closed()
 *         was asked before stream_close() (the two share storage: drain
 *         first, then wait for the close). Cancelling it leaves the
 *         queue as it is.
 */
future_t *stream_drain(stream_t *s);

/**
 * @brief Close the writing half once the queue is sent (shutdown
 *        SHUT_WR): asyncio's `writer.write_eof()`. The peer reads end of
 *        stream; reading goes on.
 * @param s a stream.
 * @return 0 (also when called again); -1 with errno: EPIPE after
 *         stream_close(), ENOTSOCK on a descriptor that is not a socket,
 *         or the stored connection error.
 */
int stream_write_eof(stream_t *s);

/**
 * @brief Close: asyncio's `writer.close()`. Send what is queued, then
 *        close the descriptor.
 *
 * From now on reads give end of stream (a read waiting in another Task
 * wakes up and returns as at the end of stream), writes and drains fail
 * with EPIPE, and the read buffer is freed. The reader is unregistered at
 * once. With nothing queued the descriptor is closed now and the stream
 * refers to nothing (its storage may go); otherwise the writer goes on
 * until the queue is sent or the connection fails, and the stream must
 * stay in place until stream_wait_closed() finishes. Calling it again
 * does nothing.
 *
 * @param s a stream.
 */
void stream_close(stream_t *s);

/**
 * @brief Close at once, dropping what is queued: asyncio's
 *        `transport.abort()`. As stream_close() otherwise; a waiting
 *        drain fails with EPIPE.
 * @param s a stream.
 */
void stream_abort(stream_t *s);

/**
 * @brief Wait until the descriptor is closed: asyncio's
 *        `await writer.wait_closed()`.
 * @param s a stream.
 * A drain still waiting when this is asked after stream_close() fails
 * with EPIPE (the close goes on sending the queue); asked before
 * stream_close() while a drain waits, it fails with EBUSY.
 *
 * @return its Future (storage in the stream, shared with
 *         stream_drain()'s), result NULL once closed.
 *         Cancelling it (the awaiting Task is cancelled) aborts the
 *         stream (stream_abort()): the frame that holds the stream is
 *         about to go, and nothing may then refer to it (asyncio leaves
 *         the transport to flush on its own).
 */
future_t *stream_wait_closed(stream_t *s);

/* ---- clients ------------------------------------------------------------ */

struct addrinfo;

/** @brief The state of stream_open_connection(), in caller storage
 *         (usually the awaiting frame); fields private. */
typedef struct stream_connect {
    coro_t co;              /**< the sub-coroutine's head */
    loop_t *loop;           /**< the loop */
    stream_t *out;          /**< initialised once connected */
    struct addrinfo *list;  /**< getaddrinfo's answer, freed at the end */
    struct addrinfo *ai;    /**< the address being tried */
    int fd;                 /**< the socket being connected, or -1 */
    int err;                /**< resolution error, or the last connect's */
    future_t writable;      /**< the wait for the connect to finish */
} stream_connect_t;

/**
 * @brief Connect to @p host : @p port and make a stream of it:
 *        asyncio.open_connection(host, port).
 *        `CORO_AWAIT_CORO(co, stream_open_connection(&f->conn, loop,
 *        "localhost", 8888, &f->stream))`.
 *
 * @p host is a numeric IPv4 or IPv6 address or a name; a name is resolved
 * with getaddrinfo() here, on the loop thread (asyncio resolves in its
 * executor): instant for numbers and /etc/hosts, but a DNS lookup blocks
 * the loop while it lasts. Each address is tried in turn (non-blocking
 * connect, waited for as asyncio's sock_connect), as asyncio does without
 * happy eyeballs.
 *
 * @param c caller storage, not in use; valid until the await finishes.
 * @param loop the loop.
 * @param host the host (copied: it need not outlive the call).
 * @param port the port.
 * @param out caller storage for the stream: initialised (stream_init())
 *        on success only.
 * @return the frame to await: result NULL; or it fails with the last
 *         address's connect error (ECONNREFUSED, ETIMEDOUT, ...),
 *         EADDRNOTAVAIL when the name does not resolve, ENOMEM, or
 *         ECANCELED (the socket being connected is closed).
 */
coro_t *stream_open_connection(stream_connect_t *c, loop_t *loop,
                               const char *host, unsigned short port,
                               stream_t *out);

/* ---- servers ------------------------------------------------------------ */

/**
 * @brief The head of every connection handler's frame: what the server
 *        fills in before the handler's first step.
 *
 * @code
 * typedef struct echo_conn {
 *     stream_conn_t conn;   // first: co, stream, arg
 *     char buf[16384];
 *     size_t n;
 * } echo_conn_t;
 * @endcode
 */
typedef struct stream_conn {
    coro_t co;          /**< first, as in every frame */
    stream_t stream;    /**< initialised on the accepted socket */
    void *arg;          /**< the server's handler_arg */
    struct stream_server *server; /**< private: the server (its handler
                                       and error hook) */
} stream_conn_t;

/**
 * @brief What the server reports instead of printing (library code never
 *        prints a program's name).
 * @param arg the pointer given to stream_server_on_error().
 * @param err the errno code.
 * @param what "accept" (the accept() failed: EMFILE, ENFILE, ENOBUFS,
 *        ENOMEM make the server pause ::STREAM_ACCEPT_RETRY_S; other
 *        transient errors are skipped), "accepting" (@p err 0: after a
 *        pause for one of those four, accept() works again),
 *        "watch" (the loop cannot watch
 *        the accepted descriptor: ERANGE past FD_SETSIZE with select; it
 *        was closed), "task" (no Task could be made for a connection:
 *        ENOMEM, it was closed and the server pauses), or "handler" (a
 *        handler failed with @p err: asyncio logs "Unhandled exception in
 *        client_connected_cb"; the other connections go on).
 */
typedef void stream_server_error_cb(void *arg, int err, const char *what);

/** @brief Seconds the server pauses accepting when out of descriptors or
 *         memory (asyncio waits 1 s; a short pause resumes sooner once
 *         a descriptor is free, and costs one accept() per pause). */
#define STREAM_ACCEPT_RETRY_S 0.1

/** @brief A listening server, in caller storage; fields private. */
typedef struct stream_server {
    coro_t co;                  /**< stream_server_serve()'s frame */
    loop_t *loop;               /**< the loop */
    int fd;                     /**< the listening socket, or -1 */
    unsigned flags;             /**< state bits (stream.c) */
    future_t wait;              /**< readable, retry time, or closed */
    loop_timer_t retry;         /**< the pause after EMFILE and the like */
    task_group_t *group;        /**< where connections run */
    coro_fn *handler;           /**< their body */
    size_t frame_size;          /**< their frame's size */
    void *arg;                  /**< stream_conn_t::arg */
    unsigned batch;             /**< accepts since the last yield */
    stream_server_error_cb *on_error; /**< the report hook, or NULL */
    void *on_error_arg;         /**< its argument */
} stream_server_t;

/**
 * @brief Open a listening TCP socket (non-blocking): the first half of
 *        asyncio.start_server().
 * @param srv caller storage.
 * @param loop the loop.
 * @param host a numeric IPv4 or IPv6 address or a name (see net_listen()).
 * @param port 0 lets the kernel choose.
 * @param[out] where "HOST:PORT" as bound, NET_ADDRSTR_MAX bytes (may be
 *        NULL).
 * The socket is registered with the loop at once (as asyncio's
 * start_server does), so a loop that cannot watch it fails here.
 *
 * @return 0; -1 with errno set: as net_listen(), or ERANGE when the loop
 *         cannot watch the socket (select, past FD_SETSIZE).
 */
int stream_server_listen(stream_server_t *srv, loop_t *loop,
                         const char *host, unsigned short port,
                         char *where);

/**
 * @brief Have the server report its errors through @p fn (none: they are
 *        only counted by nothing and dropped).
 * @param srv a server.
 * @param fn the hook, or NULL.
 * @param arg its argument.
 */
void stream_server_on_error(stream_server_t *srv, stream_server_error_cb *fn,
                            void *arg);

/**
 * @brief Accept connections until cancelled: asyncio's
 *        Server.serve_forever(). `CORO_AWAIT_CORO_CATCH(co,
 *        stream_server_serve(&f->srv, &f->group, conn_body,
 *        sizeof(conn_frame_t), f))`.
 *
 * Each connection becomes a Task in @p group (shutdown = cancel the
 * group), whose frame, @p frame_size bytes, zero-filled, begins with a
 * ::stream_conn_t with the stream initialised on the accepted socket.
 * Around the handler the server keeps the stream's lifetime and the
 * group's peace: when the handler returns, a stream it left open is
 * closed (its queue sent: the Task waits for that); when it fails, the
 * error goes to the hook ("handler"), the stream is aborted and the Task
 * ends normally, so one broken connection does not cancel the others;
 * when it is cancelled, the stream is aborted and the Task ends
 * cancelled.
 *
 * @param srv a listening server, not serving.
 * @param group a group, in its owner's frame; it must outlive the serve.
 * @param handler the connection's body.
 * @param frame_size its frame's size, at least sizeof(stream_conn_t).
 * @param arg stream_conn_t::arg of every connection.
 * @return the frame to await: it returns NULL once stream_server_close()
 *         is called, fails with ECANCELED when its Task is cancelled, or
 *         with the error that ended it (the group cannot take Tasks any
 *         more: ECANCELED or EINVAL; the listening socket broke).
 */
coro_t *stream_server_serve(stream_server_t *srv, task_group_t *group,
                            coro_fn *handler, size_t frame_size, void *arg);

/**
 * @brief Stop listening: close the listening socket (asyncio's
 *        Server.close()). A serve waiting for a connection returns; the
 *        connections already accepted go on, in their group.
 * @param srv a server (calling it again does nothing).
 */
void stream_server_close(stream_server_t *srv);

#endif
