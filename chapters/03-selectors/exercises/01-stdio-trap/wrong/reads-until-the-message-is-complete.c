/* wrong: keeps calling read() until the whole message is there, which blocks when only part of it has come | expect: TIMED OUT after 10 s: msg_reader_on_readable() did not return: it waited inside read() */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct msg_reader {
    int fd;
    char data[MSG_MAX];
};

msg_reader_t *msg_reader_create(int fd)
{
    msg_reader_t *r = malloc(sizeof *r);
    if (r != NULL)
        r->fd = fd;
    return r;
}

/* Read exactly n bytes: 1 done, 0 end of input before any, -1 error. */
static int read_exactly(int fd, void *to, size_t n)
{
    size_t have = 0;
    while (have < n) {
        ssize_t got = read(fd, (char *)to + have, n - have);
        if (got == 0) {
            if (have == 0)
                return 0;
            errno = EPROTO;
            return -1;
        }
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        have += (size_t)got;
    }
    return 1;
}

int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg)
{
    unsigned char head[2];
    int rc = read_exactly(r->fd, head, 2);
    if (rc <= 0)
        return rc < 0 && errno == EAGAIN ? 1 : rc;
    size_t len = (size_t)head[0] << 8 | head[1];
    if (len > MSG_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    if ((rc = read_exactly(r->fd, r->data, len)) == 0)
        errno = EPROTO;
    if (rc <= 0)
        return -1;
    cb(r->data, len, arg);
    return 1;
}

void msg_reader_destroy(msg_reader_t *r)
{
    free(r);
}
