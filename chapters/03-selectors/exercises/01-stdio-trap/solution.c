/* Exercise 01-stdio-trap: reference solution. */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for one whole message and then some: after the complete messages
 * are handed out, what is left is less than one message, so a read always
 * has room. */
#define BUF_SIZE 4096

struct msg_reader {
    int fd;
    size_t len;                   /* bytes in buf, from its start */
    unsigned char buf[BUF_SIZE];  /* our buffer: the selector cannot see it,
                                     so we empty it of every whole message
                                     after each read */
};

msg_reader_t *msg_reader_create(int fd)
{
    msg_reader_t *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    r->fd = fd;
    r->len = 0;
    return r;
}

/* Hand out every complete message at the front of the buffer; keep the
 * rest, moved to the front. */
static int deliver(msg_reader_t *r, msg_cb *cb, void *arg)
{
    size_t at = 0;
    while (r->len - at >= 2) {
        size_t len = (size_t)r->buf[at] << 8 | r->buf[at + 1];
        if (len > MSG_MAX) {
            errno = EMSGSIZE;
            return -1;
        }
        if (r->len - at - 2 < len)
            break; /* not all here yet */
        cb((const char *)r->buf + at + 2, len, arg);
        at += 2 + len;
    }
    memmove(r->buf, r->buf + at, r->len - at);
    r->len -= at;
    return 0;
}

int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg)
{
    ssize_t got;
    do
        got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
    if (got == 0) {
        if (r->len == 0)
            return 0;
        errno = EPROTO; /* the stream ended inside a message */
        return -1;
    }
    r->len += (size_t)got;
    return deliver(r, cb, arg) < 0 ? -1 : 1;
}

void msg_reader_destroy(msg_reader_t *r)
{
    free(r);
}
