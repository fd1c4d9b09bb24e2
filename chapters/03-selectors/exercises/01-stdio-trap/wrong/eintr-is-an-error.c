/* wrong: gives up when a signal interrupts read(): EINTR is returned as an error instead of making the read() again | expect: EINTR is no error */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE (2 * (2 + MSG_MAX))

struct msg_reader {
    int fd;
    size_t used;
    unsigned char buf[BUF_SIZE];
};

msg_reader_t *msg_reader_create(int fd)
{
    msg_reader_t *r = malloc(sizeof *r);
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    r->fd = fd;
    r->used = 0;
    return r;
}

int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg)
{
    ssize_t n;
    do
        n = read(r->fd, r->buf + r->used, sizeof r->buf - r->used);
    while (0);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    r->used += (size_t)n;

    size_t at = 0;
    while (r->used - at >= 2) {
        size_t len = (size_t)r->buf[at] << 8 | r->buf[at + 1];
        if (len > MSG_MAX) {
            errno = EMSGSIZE;
            return -1;
        }
        if (r->used - at - 2 < len)
            break;
        cb((const char *)r->buf + at + 2, len, arg);
        at += 2 + len;
    }
    memmove(r->buf, r->buf + at, r->used - at);
    r->used -= at;

    if (n == 0) {
        if (r->used != 0) {
            errno = EPROTO;
            return -1;
        }
        return 0;
    }
    return 1;
}

void msg_reader_destroy(msg_reader_t *r)
{
    free(r);
}
