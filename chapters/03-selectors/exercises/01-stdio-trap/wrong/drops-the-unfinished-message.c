/* wrong: empties its buffer after handing out the complete messages, so the first part of a message that came in pieces is lost | expect: a message that came in pieces was lost or garbled */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct msg_reader {
    int fd;
    unsigned char buf[4096];
};

msg_reader_t *msg_reader_create(int fd)
{
    msg_reader_t *r = malloc(sizeof *r);
    if (r != NULL)
        r->fd = fd;
    return r;
}

int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg)
{
    ssize_t got = read(r->fd, r->buf, sizeof r->buf);
    if (got < 0)
        return errno == EAGAIN || errno == EINTR ? 1 : -1;
    if (got == 0)
        return 0;
    size_t at = 0, have = (size_t)got;
    while (have - at >= 2) {
        size_t len = (size_t)r->buf[at] << 8 | r->buf[at + 1];
        if (len > MSG_MAX) {
            errno = EMSGSIZE;
            return -1;
        }
        if (have - at - 2 < len)
            break;
        cb((const char *)r->buf + at + 2, len, arg);
        at += 2 + len;
    }
    return 1; /* whatever is left is not a message yet */
}

void msg_reader_destroy(msg_reader_t *r)
{
    free(r);
}
