/**
 * @file transport.h
 * @brief asyncio's transports and protocols over the callback loop: a
 *        socket transport that owns the write buffer, and a server that
 *        makes one per accepted client.
 *
 * The split is asyncio's. A *protocol* is what the program writes: a set of
 * callbacks told what happened (connection made, data received, end of
 * file, connection lost). A *transport* is what the library writes: it owns
 * the socket, does every recv() and send(), keeps what could not be sent
 * yet, and tells the protocol when its buffer is too full (pause_writing)
 * and when it has drained (resume_writing). The protocol never sees EAGAIN,
 * a partial send, or the selector.
 *
 * Flow control, as in asyncio: when the unsent bytes pass the high-water
 * mark the transport calls the protocol's pause_writing(); an echo protocol
 * answers by pausing reading, so a client that sends but never reads stops
 * being read from and the server's memory for it stays bounded (high-water
 * mark plus one read). Once a send() brings the buffer down to the
 * low-water mark, resume_writing() is called and reading resumes.
 *
 * Lifetime: a transport is freed by the loop right after its protocol's
 * connection_lost() returns, and it closes its socket then. After
 * transport_close() or transport_abort() the pointer stays valid until
 * that callback; writes are ignored.
 *
 * Not thread-safe, like the loop.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stddef.h>

#include "loop.h"

/** @brief Bytes read per recv(): the most one data_received() gets. */
#define TRANSPORT_READ_CHUNK 65536

/** @brief Default high-water mark of the write buffer (asyncio's). */
#define TRANSPORT_HIGH_WATER (64 * 1024)

/** @brief Default low-water mark of the write buffer (a quarter). */
#define TRANSPORT_LOW_WATER (16 * 1024)

/** @brief A socket transport; opaque. */
typedef struct transport transport_t;

/**
 * @brief A protocol: the callbacks a transport calls, in this order:
 *        connection_made, then any number of data_received (with pauses
 *        and resumes of writing in between), at most one eof_received, and
 *        exactly one connection_lost. @c state is the protocol's own
 *        per-connection pointer, given to every call.
 *
 * Every member except connection_made and data_received may be NULL.
 */
typedef struct protocol {
    /**
     * @brief The connection is up; keep @p transport to write to it.
     * @param transport the connection's transport.
     * @param state the protocol's state for this connection.
     */
    void (*connection_made)(transport_t *transport, void *state);
    /**
     * @brief Bytes arrived.
     * @param transport the connection's transport.
     * @param state the protocol's state.
     * @param data the bytes; valid only during the call.
     * @param len how many (> 0).
     */
    void (*data_received)(transport_t *transport, void *state,
                          const char *data, size_t len);
    /**
     * @brief The peer shut down its sending side.
     * @param transport the connection's transport.
     * @param state the protocol's state.
     * @return 1 to keep the connection open (to go on writing); 0 to let
     *         the transport close it, after the buffer is sent. NULL
     *         counts as 0.
     */
    int (*eof_received)(transport_t *transport, void *state);
    /**
     * @brief The write buffer passed the high-water mark.
     * @param transport the connection's transport.
     * @param state the protocol's state.
     */
    void (*pause_writing)(transport_t *transport, void *state);
    /**
     * @brief The write buffer drained to the low-water mark.
     * @param transport the connection's transport.
     * @param state the protocol's state.
     */
    void (*resume_writing)(transport_t *transport, void *state);
    /**
     * @brief The connection is over; free @p state here. Called once, as
     *        a callback of its own, never from inside another transport
     *        call.
     * @param transport the transport, valid until this returns.
     * @param state the protocol's state.
     * @param err 0 after a normal close, else the errno that ended it
     *        (ECONNRESET, EPIPE, ...).
     */
    void (*connection_lost)(transport_t *transport, void *state, int err);
} protocol_t;

/**
 * @brief Make a transport for a connected socket and start reading.
 *        Calls connection_made() before returning.
 * @param loop the loop.
 * @param fd a connected, non-blocking stream socket; the transport owns it
 *        from now on, even when this fails.
 * @param protocol the callbacks; must outlive the transport.
 * @param state the protocol's per-connection pointer.
 * @return the transport; NULL with errno set (the socket is closed then,
 *         and no protocol callback runs): ENOMEM, or ERANGE when the
 *         loop's select backend cannot watch a descriptor this large.
 */
transport_t *transport_create(loop_t *loop, int fd, const protocol_t *protocol,
                              void *state);

/**
 * @brief Send @p data: at once as far as the socket takes it, the rest
 *        from the write buffer when the socket is writable.
 * @param t a transport; ignored once closing.
 * @param data the bytes (copied if they cannot all go at once).
 * @param len how many.
 */
void transport_write(transport_t *t, const void *data, size_t len);

/**
 * @brief Shut down the sending side once the buffer is sent.
 * @param t a transport.
 */
void transport_write_eof(transport_t *t);

/**
 * @brief Stop reading, send what is buffered, then close and call
 *        connection_lost(0).
 * @param t a transport; closing twice is harmless.
 */
void transport_close(transport_t *t);

/**
 * @brief Close at once, dropping unsent bytes; connection_lost() follows
 *        (with err 0 unless the transport already failed).
 * @param t a transport.
 */
void transport_abort(transport_t *t);

/**
 * @brief Stop calling data_received() until transport_resume_reading().
 * @param t a transport.
 */
void transport_pause_reading(transport_t *t);

/**
 * @brief Undo transport_pause_reading().
 * @param t a transport.
 */
void transport_resume_reading(transport_t *t);

/**
 * @brief Whether reading is paused.
 * @param t a transport.
 * @return 1 if paused by transport_pause_reading(), else 0.
 */
int transport_is_reading_paused(const transport_t *t);

/**
 * @brief Unsent bytes in the write buffer.
 * @param t a transport.
 * @return the count.
 */
size_t transport_write_buffer_size(const transport_t *t);

/**
 * @brief Set the flow-control marks.
 * @param t a transport.
 * @param high pause_writing() when the buffer grows past this.
 * @param low resume_writing() when it drains to this; at most @p high.
 */
void transport_set_write_buffer_limits(transport_t *t, size_t high,
                                       size_t low);

/**
 * @brief The transport's socket, for getpeername() and the like.
 * @param t a transport.
 * @return the descriptor (still the transport's).
 */
int transport_fd(const transport_t *t);

/**
 * @brief The loop a transport runs on.
 * @param t a transport.
 * @return its loop.
 */
loop_t *transport_loop(const transport_t *t);

/** @brief A server: a listening socket whose clients become transports. */
typedef struct server server_t;

/**
 * @brief Make a protocol's state for a new connection.
 * @param arg the pointer given to server_create().
 * @return the state, handed to every protocol call; NULL refuses the
 *         client (its socket is closed).
 */
typedef void *protocol_factory_cb(void *arg);

/**
 * @brief Start accepting on @p listen_fd.
 * @param loop the loop.
 * @param listen_fd a listening socket; the server owns it from now on
 *        (and makes it non-blocking).
 * @param protocol the callbacks of every connection.
 * @param factory makes each connection's state.
 * @param arg for @p factory.
 * @return the server; NULL with errno set (@p listen_fd is closed then).
 */
server_t *server_create(loop_t *loop, int listen_fd, const protocol_t *protocol,
                        protocol_factory_cb *factory, void *arg);

/**
 * @brief Out of descriptors, accept() fails at once, every time, and the
 *        listening socket stays readable: the server stops watching it
 *        for this long, then tries again.
 */
#define SERVER_ACCEPT_RETRY_S 0.1

/** @brief What happened to a server that its program may want to say. */
typedef enum server_event {
    SERVER_CLIENT_REFUSED,  /**< a client was accepted but cannot be served
                                 (its socket is closed); ERANGE: the select()
                                 backend cannot watch descriptors at or
                                 above FD_SETSIZE */
    SERVER_ACCEPT_PAUSED,   /**< accept() failed (EMFILE, ENFILE, ENOBUFS,
                                 ENOMEM): accepting stops and is retried
                                 every SERVER_ACCEPT_RETRY_S; told once
                                 per episode */
    SERVER_ACCEPT_RESUMED,  /**< a client accepted again after a pause */
    SERVER_WATCH_FAILED,    /**< after a pause, the listening socket could
                                 not be watched again: no more clients */
} server_event_t;

/**
 * @brief Told what happened (the library itself never prints: whether and
 *        how to report it is the program's business).
 * @param server the server.
 * @param event what happened.
 * @param err the errno behind it, or 0 (SERVER_ACCEPT_RESUMED).
 * @param arg the pointer given to server_set_report().
 */
typedef void server_report_cb(server_t *server, server_event_t event,
                              int err, void *arg);

/**
 * @brief Have @p cb told of the server's events; without one, nothing is
 *        said.
 * @param s a server.
 * @param cb the callback, or NULL.
 * @param arg its argument.
 */
void server_set_report(server_t *s, server_report_cb *cb, void *arg);

/**
 * @brief Stop accepting (the listening socket is closed) and abort every
 *        connection; their connection_lost() callbacks are queued and run
 *        in the next iteration of the loop.
 * @param s a server; closing twice is harmless.
 */
void server_close(server_t *s);

/**
 * @brief Live connections of a server.
 * @param s a server.
 * @return how many transports it made are not yet freed.
 */
size_t server_connection_count(const server_t *s);

/**
 * @brief Free a closed server once its connections are gone.
 * @param s a server after server_close() and one more loop iteration
 *        (server_connection_count() is 0), or NULL.
 */
void server_destroy(server_t *s);

#endif
