/* wrong: end of input is always a clean end, even in the middle of a message, so a cut-off stream goes unnoticed | expect: input ended inside a message (4 of its 10 bytes came): that is an error */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct msg_reader {
    int fd;
    size_t len;
    unsigned char buf[4096];
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

int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg)
{
    ssize_t got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
    if (got < 0)
        return errno == EAGAIN || errno == EINTR ? 1 : -1;
    if (got == 0)
        return 0; /* the writer is done */
    r->len += (size_t)got;
    size_t at = 0;
    while (r->len - at >= 2) {
        size_t len = (size_t)r->buf[at] << 8 | r->buf[at + 1];
        if (len > MSG_MAX) {
            errno = EMSGSIZE;
            return -1;
        }
        if (r->len - at - 2 < len)
            break;
        cb((const char *)r->buf + at + 2, len, arg);
        at += 2 + len;
    }
    memmove(r->buf, r->buf + at, r->len - at);
    r->len -= at;
    return 1;
}

void msg_reader_destroy(msg_reader_t *r)
{
    free(r);
}
