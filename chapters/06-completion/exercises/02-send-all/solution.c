/*
 * solution.c - exercise 02-send-all: every byte of a buffer, through as
 * many sends as the kernel needs, under one Future.
 */
#include "exercise.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct sendall {
    future_t future;        /* first: the Future is the sendall */
    proactor_op_t op;       /* the one send in the kernel, if any */
    proactor_t *p;
    int fd;
    const char *buf;
    size_t len;
    size_t sent;            /* the kernel has taken buf[0 .. sent) */
    int cancelled;          /* future_cancel() asked */
} sendall_t;

static void on_send(proactor_op_t *op, int res, void *arg);

/* Start the send of what is left, or end (after an error starting it). */
static void send_rest(sendall_t *s)
{
    future_t *f = proactor_send(&s->op, s->p, s->fd, s->buf + s->sent,
                                s->len - s->sent);
    if (future_done(f)) {   /* refused before the kernel saw it */
        int err = 0;
        future_result(f, NULL, &err);
        future_set_error(&s->future, err);
        return;
    }
    proactor_on_complete(&s->op, on_send, s);
}

/* One send's completion: it may have taken only part of what it was
 * given. Only now may the rest go, from where this one stopped. */
static void on_send(proactor_op_t *op, int res, void *arg)
{
    sendall_t *s = arg;
    (void)op;

    if (res > 0)
        s->sent += (size_t)res;
    if (s->sent == s->len)
        future_set_result(&s->future, (void *)(intptr_t)s->len);
    else if (res < 0)
        future_set_error(&s->future, -res); /* -ECANCELED: cancelled */
    else if (s->cancelled)
        future_set_cancelled(&s->future);
    else
        send_rest(s);
}

/* The Future's cancel: a request passed on to the send in the kernel; the
 * Future stays pending until that send's completion. */
static int cancel(future_t *future)
{
    sendall_t *s = (sendall_t *)future;

    s->cancelled = 1;
    future_cancel(&s->op.future);
    return 1;
}

future_t *sendall_start(loop_t *loop, int fd, const void *buf, size_t len)
{
    if (loop == NULL || (buf == NULL && len > 0)) {
        errno = EINVAL;
        return NULL;
    }
    proactor_t *p = proactor_get(loop);
    if (p == NULL)
        return NULL;
    sendall_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    future_init(&s->future, loop);
    s->future.cancel = cancel;
    s->p = p;
    s->fd = fd;
    s->buf = buf;
    s->len = len;
    if (len == 0)
        future_set_result(&s->future, (void *)(intptr_t)0);
    else
        send_rest(s);
    return &s->future;
}

size_t sendall_sent(future_t *f)
{
    return ((sendall_t *)f)->sent;
}

void sendall_free(future_t *f)
{
    free(f);
}
