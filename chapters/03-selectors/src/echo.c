/*
 * echo.c - one connection's echo, driven by readiness events.
 *
 * Compare chapter 01's echo_serve(): the same recv/send loop, cut where it
 * would block. Every place it used to wait is now a return to the
 * selector, and the state that used to live in local variables (the bytes
 * not yet sent) lives in the connection.
 */
#include "echo.h"

#include "selector.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

void echo_init(echo_conn_t *c, int fd)
{
    c->fd = fd;
    c->buf = NULL;
    c->start = c->len = 0;
    c->peer_done = 0;
    c->interest = 0;
}

void echo_deinit(echo_conn_t *c)
{
    free(c->buf);
    c->buf = NULL;
}

size_t echo_pending(const echo_conn_t *c)
{
    return c->len - c->start;
}

/* [echo-interest] */
unsigned echo_interest(const echo_conn_t *c)
{
    unsigned events = 0;
    /* Backpressure: with a full buffer we stop reading, so an unread
     * client's bytes stay in the kernel and TCP slows the client down. */
    if (!c->peer_done && c->len < ECHO_BUFFER_MAX)
        events |= SELECTOR_READ;
    if (echo_pending(c) > 0)
        events |= SELECTOR_WRITE;
    return events;
}
/* [echo-interest] */

/* Everything sent and the client has finished: our turn to finish. */
static echo_status_t maybe_done(echo_conn_t *c)
{
    if (c->peer_done && echo_pending(c) == 0) {
        shutdown(c->fd, SHUT_WR);
        return ECHO_DONE;
    }
    return ECHO_OPEN;
}

/* [echo-readable] */
echo_status_t echo_on_readable(echo_conn_t *c)
{
    if (c->buf == NULL && (c->buf = malloc(ECHO_BUFFER_MAX)) == NULL)
        return ECHO_FAILED; /* errno is ENOMEM */
    size_t room = ECHO_BUFFER_MAX - c->len;
    ssize_t got = recv(c->fd, c->buf + c->len,
                       room < ECHO_CHUNK ? room : ECHO_CHUNK, 0);
    if (got < 0) {
        /* EAGAIN: someone else read first or the readiness was stale;
         * EINTR: a signal. Neither is a failure: wait again. */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return ECHO_OPEN;
        return ECHO_FAILED;
    }
    if (got == 0) {
        c->peer_done = 1;
        return maybe_done(c);
    }
    c->len += (size_t)got;
    return echo_on_writable(c);
}
/* [echo-readable] */

/* [echo-writable] */
echo_status_t echo_on_writable(echo_conn_t *c)
{
    while (echo_pending(c) > 0) {
        ssize_t sent = send(c->fd, c->buf + c->start, echo_pending(c),
                            MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return ECHO_OPEN; /* partial write: the rest waits */
            return ECHO_FAILED;   /* EPIPE, ECONNRESET: the client is gone */
        }
        c->start += (size_t)sent;
    }
    /* All sent: an idle connection keeps no buffer. */
    free(c->buf);
    c->buf = NULL;
    c->start = c->len = 0;
    return maybe_done(c);
}
/* [echo-writable] */
