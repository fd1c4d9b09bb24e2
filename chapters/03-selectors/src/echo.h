/**
 * @file echo.h
 * @brief The echo protocol on a non-blocking socket, one event at a time.
 *
 * Chapters 01-02 served a client with a loop that blocked in recv() and
 * send(). With a selector, nobody may block: each connection becomes a
 * small state machine that the selector drives. When the socket is
 * readable, echo_on_readable() does one recv(); when it is writable,
 * echo_on_writable() does one send(); echo_interest() says which events the
 * connection wants next. The bytes in between wait in the connection's own
 * buffer.
 *
 * Backpressure. The buffer holds at most ECHO_BUFFER_MAX bytes. A client
 * that sends but never reads fills it, and from then on echo_interest()
 * stops asking for SELECTOR_READ: the server leaves the client's bytes in
 * the kernel, the kernel's buffers fill, and TCP's flow control stops the
 * client. Memory per connection stays bounded, and the other connections
 * never notice. Once full, the buffer takes reads again only when it has
 * drained completely: bytes are sent from its front, and its space is
 * reused only when it is empty, so nothing is ever copied.
 */
#ifndef ECHO_H
#define ECHO_H

#include <stddef.h>

/** @brief Most bytes read from a client per recv() call. */
#define ECHO_CHUNK 16384

/** @brief Most unsent bytes one connection may hold (the backpressure bound). */
#define ECHO_BUFFER_MAX (64 * 1024)

/* [echo-conn] */
/** @brief Where a connection stands after handling an event. */
typedef enum echo_status {
    ECHO_OPEN,   /**< keep going: wait for echo_interest() events */
    ECHO_DONE,   /**< the client finished and got everything: close it */
    ECHO_FAILED, /**< the connection broke (errno says why): close it */
} echo_status_t;

/**
 * @brief One connection. Caller storage: echo_init() sets it up,
 *        echo_deinit() frees its buffer. The descriptor stays the caller's.
 */
typedef struct echo_conn {
    int fd;             /**< a connected, non-blocking stream socket */
    char *buf;          /**< unsent bytes, allocated only while there are
                             some (idle connections cost no buffer); owned */
    size_t start;       /**< first unsent byte in @c buf */
    size_t len;         /**< end of the unsent bytes in @c buf */
    int peer_done;      /**< the client shut down its sending side */
    unsigned interest;  /**< what the selector watches now; the caller's */
} echo_conn_t;
/* [echo-conn] */

/**
 * @brief Start serving a connection.
 * @param c caller storage.
 * @param fd a connected, non-blocking socket; the caller keeps ownership.
 */
void echo_init(echo_conn_t *c, int fd);

/**
 * @brief Free what the connection allocated (not its descriptor).
 * @param c a connection set up by echo_init().
 */
void echo_deinit(echo_conn_t *c);

/**
 * @brief The socket is readable: one recv() into the buffer, then try to
 *        send what is buffered at once (it usually goes: saves a wait).
 * @param c the connection.
 * @return where it stands; on ECHO_FAILED errno is set.
 */
echo_status_t echo_on_readable(echo_conn_t *c);

/**
 * @brief The socket is writable: send() as much of the buffer as it takes.
 * @param c the connection.
 * @return where it stands; on ECHO_FAILED errno is set.
 */
echo_status_t echo_on_writable(echo_conn_t *c);

/**
 * @brief Which events the connection waits for next.
 *
 * SELECTOR_READ while the client may still send and the buffer has room;
 * SELECTOR_WRITE while bytes wait to be sent. Never 0 for an open
 * connection: one of the two always holds.
 *
 * @param c the connection.
 * @return SELECTOR_READ, SELECTOR_WRITE or both.
 */
unsigned echo_interest(const echo_conn_t *c);

/**
 * @brief How many bytes wait to be sent back.
 * @param c the connection.
 * @return the count, at most ECHO_BUFFER_MAX.
 */
size_t echo_pending(const echo_conn_t *c);

#endif
