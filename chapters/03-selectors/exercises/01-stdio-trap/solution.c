/* Exercise 01-stdio-trap: reference solution. */
#include "exercise.h"

#include <errno.h>

void line_reader_init(line_reader_t *r, int fd)
{
    r->fd = fd;
    r->in = NULL; /* no stdio: its buffer is where lines went missing */
    linebuf_init(&r->lb);
}

int line_reader_on_readable(line_reader_t *r, line_cb *cb, void *arg)
{
    ssize_t got = linebuf_read(&r->lb, r->fd); /* exactly one read() */
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
    /* Every complete line this read brought, not only the first. */
    const char *line;
    size_t len;
    while (linebuf_next(&r->lb, &line, &len))
        cb(line, len, arg);
    return got > 0;
}

void line_reader_deinit(line_reader_t *r)
{
    (void)r;
}
