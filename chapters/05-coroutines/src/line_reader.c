/*
 * line_reader.c - lines from a descriptor, for a coroutine: wait until it
 * is readable, read() once (so a blocking stdin never blocks the loop),
 * and hand out every complete line the buffer holds.
 */
#include "line_reader.h"

#include <errno.h>

#include "task.h"

#define INT_RESULT(n) ((void *)(intptr_t)(n))

void line_reader_init(line_reader_t *r, loop_t *loop, int fd)
{
    r->loop = loop;
    r->fd = fd;
    r->eof = 0;
    r->line = NULL;
    r->len = 0;
    linebuf_init(&r->buf);
}

/* [read-line] */
static int read_line_body(coro_t *co)
{
    line_reader_t *r = (line_reader_t *)co;

    CORO_BEGIN(co);
    while (!linebuf_next(&r->buf, &r->line, &r->len)) {
        ssize_t got;

        if (r->eof)
            CORO_RETURN(co, LINE_EOF);
        AWAIT(co, fd_wait_readable(&r->op, r->loop, r->fd));
        got = linebuf_read(&r->buf, r->fd);    /* one read(): no block */
        if (got == 0)
            r->eof = 1;
        else if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            CORO_FAIL(co, errno);
    }
    CORO_RETURN(co, INT_RESULT(r->len));
    CORO_END(co);
}
/* [read-line] */

coro_t *line_reader_next(line_reader_t *r)
{
    coro_init(&r->co, read_line_body);
    return &r->co;
}
