/*
 * sock.c - each operation is "try the system call; if it would block, wait
 * for the descriptor and try again". The try-first order saves a trip
 * through the selector whenever data is already there.
 */
#define _GNU_SOURCE
#include "sock.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>


enum { OP_RECV, OP_SEND, OP_ACCEPT, OP_CONNECT };

#define INT_RESULT(n) ((void *)(intptr_t)(n))

/* One attempt. Returns 1 when the Future has finished, 0 to wait more. */
static int attempt(io_op_t *op)
{
    ssize_t n;

    for (;;) {
        switch (op->kind) {
        case OP_RECV:
            n = read(op->fd, op->buf, op->len);
            if (n >= 0) {
                future_set_result(&op->future, INT_RESULT(n));
                return 1;
            }
            break;
        case OP_SEND:
            n = send(op->fd, op->buf + op->done, op->len - op->done,
                     MSG_NOSIGNAL);
            if (n >= 0) {
                op->done += (size_t)n;
                if (op->done < op->len)
                    continue;
                future_set_result(&op->future, INT_RESULT(op->done));
                return 1;
            }
            break;
        case OP_ACCEPT:
            n = accept4(op->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (n >= 0) {
                future_set_result(&op->future, INT_RESULT(n));
                return 1;
            }
            if (errno == ECONNABORTED)     /* that one left: next */
                continue;
            break;
        default: {                         /* OP_CONNECT: now writable */
            int err = 0;
            socklen_t len = sizeof err;

            if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
            if (err)
                future_set_error(&op->future, err);
            else
                future_set_result(&op->future, NULL);
            return 1;
        }
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        future_set_error(&op->future, errno);
        return 1;
    }
}

static int writes(const io_op_t *op)
{
    return op->kind == OP_SEND || op->kind == OP_CONNECT;
}

static void on_ready(loop_t *loop, void *arg)
{
    (void)loop;
    attempt(arg);
}

/* Finished or cancelled: stop watching the descriptor. */
static void on_done(future_t *future, void *arg)
{
    io_op_t *op = arg;

    if (writes(op))
        loop_remove_writer(future->loop, op->fd);
    else
        loop_remove_reader(future->loop, op->fd);
}

/* [io-start] */
static future_t *start(io_op_t *op, loop_t *loop, int fd, int kind,
                       const void *buf, size_t len, int try_first)
{
    future_init(&op->future, loop);
    op->loop = loop;
    op->fd = fd;
    op->kind = kind;
    op->buf = (char *)buf;
    op->len = len;
    op->done = 0;
    if (try_first && attempt(op))
        return &op->future;              /* no wait, no selector */
    int rc = writes(op) ? loop_add_writer(loop, fd, on_ready, op)
                        : loop_add_reader(loop, fd, on_ready, op);
    if (rc < 0) {
        future_set_error(&op->future, errno);
        return &op->future;
    }
    future_add_done_callback(&op->future, &op->record, on_done, op);
    return &op->future;
}
/* [io-start] */

future_t *sock_recv(io_op_t *op, loop_t *loop, int fd, void *buf,
                    size_t len)
{
    return start(op, loop, fd, OP_RECV, buf, len, 1);
}

future_t *sock_sendall(io_op_t *op, loop_t *loop, int fd, const void *buf,
                       size_t len)
{
    return start(op, loop, fd, OP_SEND, buf, len, 1);
}

future_t *sock_accept(io_op_t *op, loop_t *loop, int fd)
{
    return start(op, loop, fd, OP_ACCEPT, NULL, 0, 1);
}

future_t *sock_connect(io_op_t *op, loop_t *loop, int fd,
                       const struct sockaddr *addr, socklen_t addrlen)
{
    int rc;

    while ((rc = connect(fd, addr, addrlen)) < 0 && errno == EINTR)
        ;
    if (rc < 0 && errno != EINPROGRESS) {
        future_init(&op->future, loop);
        future_set_error(&op->future, errno);
        return &op->future;
    }
    if (rc == 0) {
        future_init(&op->future, loop);
        future_set_result(&op->future, NULL);
        return &op->future;
    }
    return start(op, loop, fd, OP_CONNECT, NULL, 0, 0);
}
