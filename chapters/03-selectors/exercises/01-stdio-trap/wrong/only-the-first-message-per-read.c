/* wrong: hands out only the first complete message after each read(), leaving the others in its buffer where the selector cannot see them | expect: not just the first */
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
    if (got == 0) {
        if (r->len == 0)
            return 0;
        errno = EPROTO;
        return -1;
    }
    r->len += (size_t)got;
    if (r->len >= 2) {
        size_t len = (size_t)r->buf[0] << 8 | r->buf[1];
        if (len > MSG_MAX) {
            errno = EMSGSIZE;
            return -1;
        }
        if (r->len >= 2 + len) { /* one message per readiness */
            cb((const char *)r->buf + 2, len, arg);
            memmove(r->buf, r->buf + 2 + len, r->len - 2 - len);
            r->len -= 2 + len;
        }
    }
    return 1;
}

void msg_reader_destroy(msg_reader_t *r)
{
    free(r);
}
