/*
 * transport.c - chapter 04: asyncio's socket transport and server, written
 * as callbacks on the loop.
 *
 * Chapter 03's echo.c was one state machine that knew both the socket and
 * the echo protocol. Here they are apart: this file knows sockets (recv,
 * send, EAGAIN, partial writes, shutdown, the write buffer, when to watch
 * for writability) and nothing about echo; the protocol knows echo and
 * nothing about sockets. The price is that control now flows through many
 * small callbacks, each seeing only its own slice of the story.
 */
#define _GNU_SOURCE /* accept4 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


/* Clients accepted per wake-up, so a flood of connections cannot keep the
 * loop from the clients it already has. */
#define ACCEPT_BATCH 128

/* [transport-struct] */
struct transport {
    loop_t *loop;
    int fd;                     /* owned: closed when the transport is freed */
    const protocol_t *protocol; /* borrowed */
    void *state;                /* the protocol's; borrowed */
    char *buf;                  /* unsent bytes [start, start + len); owned,
                                   NULL while empty (idle costs nothing) */
    size_t start, len, cap;
    size_t high, low;           /* flow-control marks */
    int made;                   /* connection_made() was called */
    int reading_paused;         /* by transport_pause_reading() */
    int eof_received;           /* recv() returned 0: reading is over */
    int eof_pending;            /* shut down writing once the buffer drains */
    int closing;                /* close or abort called: no more writes */
    int lost_queued;            /* connection_lost() is queued */
    int protocol_paused;        /* pause_writing() told, no resume yet */
    int err;                    /* what ended the connection, for lost() */
    server_t *server;           /* the server that made it, or NULL */
    transport_t *prev, *next;   /* in the server's list */
};
/* [transport-struct] */

struct server {
    loop_t *loop;
    int listen_fd; /* owned; -1 once closed */
    const protocol_t *protocol;
    protocol_factory_cb *factory;
    void *factory_arg;
    loop_timer_t backoff; /* resumes accepting after EMFILE and the like */
    int paused;           /* in a back-off episode (reported once) */
    transport_t *transports;
    size_t count;
    server_report_cb *report; /* the program's, or NULL */
    void *report_arg;
};

/* One read buffer for every transport: data_received() must be done with
 * the bytes before it returns, so nothing is ever kept in it. */
static char read_buf[TRANSPORT_READ_CHUNK];

static void on_readable(loop_t *loop, void *arg);
static void on_writable(loop_t *loop, void *arg);

/* ---- ending a connection ------------------------------------------------- */

static void server_forget(server_t *s, transport_t *t);

/* [lost] */
/* The last callback of a transport: tell the protocol, then free it all. */
static void call_connection_lost(loop_t *loop, void *arg)
{
    transport_t *t = arg;
    (void)loop;
    if (t->made && t->protocol->connection_lost)
        t->protocol->connection_lost(t, t->state, t->err);
    if (t->server)
        server_forget(t->server, t);
    close(t->fd);
    free(t->buf);
    free(t);
}

/* Stop watching the socket and queue connection_lost(), once. Queued, not
 * called: the protocol may be in the middle of a call on this transport
 * (an abort from inside data_received(), say) and must not be freed under
 * itself. */
static void finish(transport_t *t)
{
    loop_remove_reader(t->loop, t->fd);
    loop_remove_writer(t->loop, t->fd);
    t->closing = 1;
    if (t->lost_queued)
        return;
    t->lost_queued = 1;
    if (loop_call_soon(t->loop, call_connection_lost, t) < 0)
        call_connection_lost(t->loop, t); /* out of memory: at once */
}
/* [lost] */

/* A system call failed: drop the buffer and end with the error. */
static void fail(transport_t *t, int err)
{
    if (t->err == 0)
        t->err = err;
    t->len = 0;
    finish(t);
}

void transport_abort(transport_t *t)
{
    t->len = 0;
    finish(t);
}

void transport_close(transport_t *t)
{
    if (t->closing)
        return;
    t->closing = 1;
    loop_remove_reader(t->loop, t->fd);
    if (t->len == 0)
        finish(t); /* else on_writable() finishes once the buffer is out */
}

/* ---- reading ----------------------------------------------------------- */

/* [on-readable] */
/* One recv() per readiness: a fast client cannot starve the others, and
 * the level-triggered selector calls us again if more is waiting. */
static void on_readable(loop_t *loop, void *arg)
{
    transport_t *t = arg;
    (void)loop;
    ssize_t n = recv(t->fd, read_buf, sizeof read_buf, 0);

    if (n > 0) {
        t->protocol->data_received(t, t->state, read_buf, (size_t)n);
    } else if (n == 0) {
        t->eof_received = 1;
        loop_remove_reader(t->loop, t->fd);
        int keep_open = t->protocol->eof_received &&
                        t->protocol->eof_received(t, t->state);
        if (!keep_open)
            transport_close(t);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail(t, errno); /* ECONNRESET: the client is gone */
    }
}
/* [on-readable] */

static int want_reading(const transport_t *t)
{
    return !t->reading_paused && !t->eof_received && !t->closing;
}

void transport_pause_reading(transport_t *t)
{
    if (t->closing || t->reading_paused)
        return;
    t->reading_paused = 1;
    loop_remove_reader(t->loop, t->fd);
}

void transport_resume_reading(transport_t *t)
{
    if (!t->reading_paused)
        return;
    t->reading_paused = 0;
    if (want_reading(t) && loop_add_reader(t->loop, t->fd, on_readable, t) < 0)
        fail(t, errno);
}

int transport_is_reading_paused(const transport_t *t)
{
    return t->reading_paused;
}

/* ---- writing ----------------------------------------------------------- */

/* Keep @p len more bytes: slide what is left to the front, or grow. */
static int buffer_append(transport_t *t, const char *data, size_t len)
{
    if (t->start + t->len + len > t->cap) {
        if (t->start > 0) {
            memmove(t->buf, t->buf + t->start, t->len);
            t->start = 0;
        }
        if (t->len + len > t->cap) {
            size_t cap = t->cap ? t->cap : 4096;
            while (cap < t->len + len)
                cap *= 2;
            char *buf = realloc(t->buf, cap);
            if (buf == NULL)
                return -1;
            t->buf = buf;
            t->cap = cap;
        }
    }
    memcpy(t->buf + t->start + t->len, data, len);
    t->len += len;
    return 0;
}

/* [flow-control] */
static void maybe_pause_protocol(transport_t *t)
{
    if (t->len > t->high && !t->protocol_paused) {
        t->protocol_paused = 1;
        if (t->protocol->pause_writing)
            t->protocol->pause_writing(t, t->state);
    }
}

static void maybe_resume_protocol(transport_t *t)
{
    if (t->protocol_paused && t->len <= t->low) {
        t->protocol_paused = 0;
        if (t->protocol->resume_writing)
            t->protocol->resume_writing(t, t->state);
    }
}
/* [flow-control] */

/* [write] */
void transport_write(transport_t *t, const void *data, size_t len)
{
    size_t sent = 0;

    if (t->closing || t->eof_pending || len == 0)
        return;
    if (t->len == 0) { /* nothing queued: try at once, it usually all goes */
        ssize_t n = send(t->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR) {
            fail(t, errno); /* EPIPE, ECONNRESET: the client is gone */
            return;
        }
        sent = n > 0 ? (size_t)n : 0;
        if (sent == len)
            return;
    }
    int was_empty = t->len == 0;
    if (buffer_append(t, (const char *)data + sent, len - sent) < 0) {
        fail(t, ENOMEM);
        return;
    }
    if (was_empty && loop_add_writer(t->loop, t->fd, on_writable, t) < 0) {
        fail(t, errno);
        return;
    }
    maybe_pause_protocol(t);
}
/* [write] */

/* [on-writable] */
static void on_writable(loop_t *loop, void *arg)
{
    transport_t *t = arg;
    (void)loop;
    ssize_t n = send(t->fd, t->buf + t->start, t->len, MSG_NOSIGNAL);

    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fail(t, errno);
        return;
    }
    t->start += (size_t)n;
    t->len -= (size_t)n;
    maybe_resume_protocol(t); /* may write again, or close */
    if (t->len > 0 || t->lost_queued)
        return;
    loop_remove_writer(t->loop, t->fd);
    free(t->buf); /* an idle connection keeps no buffer */
    t->buf = NULL;
    t->start = t->cap = 0;
    if (t->closing)
        finish(t);
    else if (t->eof_pending)
        shutdown(t->fd, SHUT_WR);
}
/* [on-writable] */

void transport_write_eof(transport_t *t)
{
    if (t->closing || t->eof_pending)
        return;
    t->eof_pending = 1;
    if (t->len == 0)
        shutdown(t->fd, SHUT_WR);
}

size_t transport_write_buffer_size(const transport_t *t)
{
    return t->len;
}

void transport_set_write_buffer_limits(transport_t *t, size_t high,
                                       size_t low)
{
    t->high = high;
    t->low = low <= high ? low : high;
    maybe_pause_protocol(t);
    maybe_resume_protocol(t);
}

int transport_fd(const transport_t *t)
{
    return t->fd;
}

loop_t *transport_loop(const transport_t *t)
{
    return t->loop;
}

/* ---- making one -------------------------------------------------------- */

static transport_t *transport_new(loop_t *loop, int fd,
                                  const protocol_t *protocol)
{
    transport_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    t->loop = loop;
    t->fd = fd;
    t->protocol = protocol;
    t->high = TRANSPORT_HIGH_WATER;
    t->low = TRANSPORT_LOW_WATER;
    if (loop_add_reader(loop, fd, on_readable, t) < 0) {
        int err = errno;
        close(fd);
        free(t);
        errno = err;
        return NULL;
    }
    return t;
}

static void transport_start(transport_t *t, void *state)
{
    t->state = state;
    t->made = 1;
    t->protocol->connection_made(t, state);
}

transport_t *transport_create(loop_t *loop, int fd, const protocol_t *protocol,
                              void *state)
{
    transport_t *t = transport_new(loop, fd, protocol);
    if (t != NULL)
        transport_start(t, state);
    return t;
}

/* ---- the server -------------------------------------------------------- */

static void server_forget(server_t *s, transport_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        s->transports = t->next;
    if (t->next)
        t->next->prev = t->prev;
    s->count--;
}

/* Tell the program, if it asked to be told. */
static void report(server_t *s, server_event_t event, int err)
{
    if (s->report != NULL)
        s->report(s, event, err, s->report_arg);
}

/* The socket is registered before the factory runs, so a client the loop
 * cannot watch (ERANGE under select) is refused before any state exists. */
static void start_client(server_t *s, int fd)
{
    transport_t *t = transport_new(s->loop, fd, s->protocol);
    if (t == NULL) {
        report(s, SERVER_CLIENT_REFUSED, errno);
        return;
    }
    t->server = s;
    t->next = s->transports;
    if (s->transports)
        s->transports->prev = t;
    s->transports = t;
    s->count++;
    void *state = s->factory(s->factory_arg);
    if (state == NULL)
        transport_abort(t); /* never made: no protocol callback */
    else
        transport_start(t, state);
}

static void on_accept(loop_t *loop, void *arg);

static void resume_accepting(loop_t *loop, void *arg)
{
    server_t *s = arg;
    if (s->listen_fd >= 0 &&
        loop_add_reader(loop, s->listen_fd, on_accept, s) < 0)
        report(s, SERVER_WATCH_FAILED, errno);
}

/* [on-accept] */
static void on_accept(loop_t *loop, void *arg)
{
    server_t *s = arg;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (s->paused)
                report(s, SERVER_ACCEPT_RESUMED, 0);
            s->paused = 0;
            start_client(s, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM: accept() would fail again at
         * once. Stop watching the socket for a moment; a timer resumes.
         * Told once per episode, not at every retry. */
        if (!s->paused)
            report(s, SERVER_ACCEPT_PAUSED, errno);
        s->paused = 1;
        loop_remove_reader(loop, s->listen_fd);
        loop_call_later(loop, &s->backoff, SERVER_ACCEPT_RETRY_S, resume_accepting,
                        s);
        return;
    }
}
/* [on-accept] */

server_t *server_create(loop_t *loop, int listen_fd, const protocol_t *protocol,
                        protocol_factory_cb *factory, void *arg)
{
    server_t *s = calloc(1, sizeof *s);
    int fl = fcntl(listen_fd, F_GETFL);

    if (s == NULL || fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        loop_add_reader(loop, listen_fd, on_accept, s) < 0) {
        int err = s == NULL ? ENOMEM : errno;
        free(s);
        close(listen_fd);
        errno = err;
        return NULL;
    }
    s->loop = loop;
    s->listen_fd = listen_fd;
    s->protocol = protocol;
    s->factory = factory;
    s->factory_arg = arg;
    loop_timer_init(&s->backoff);
    return s;
}

void server_close(server_t *s)
{
    if (s->listen_fd >= 0) {
        loop_remove_reader(s->loop, s->listen_fd);
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    loop_cancel(s->loop, &s->backoff);
    for (transport_t *t = s->transports; t != NULL; t = t->next)
        transport_abort(t); /* connection_lost() is queued, not called */
}

void server_set_report(server_t *s, server_report_cb *cb, void *arg)
{
    s->report = cb;
    s->report_arg = arg;
}

size_t server_connection_count(const server_t *s)
{
    return s->count;
}

void server_destroy(server_t *s)
{
    if (s == NULL)
        return;
    server_close(s);
    for (transport_t *t = s->transports; t != NULL; t = t->next)
        t->server = NULL; /* misuse (connections left): do not crash */
    free(s);
}
