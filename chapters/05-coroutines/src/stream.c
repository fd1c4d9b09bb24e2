/*
 * stream.c - streams on the loop (stub: the interface first, so that the
 * programs can be written against it; every operation fails with ENOSYS).
 */
#include "stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int fail_body(coro_t *co)
{
    CORO_BEGIN(co);
    CORO_FAIL(co, ENOSYS);
    CORO_END(co);
}

void stream_init(stream_t *s, loop_t *loop, int fd)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->fd = fd;
    s->limit = STREAM_LIMIT_DEFAULT;
    s->high = STREAM_HIGH_DEFAULT;
    s->low = STREAM_LOW_DEFAULT;
    future_init(&s->readable, loop);
    future_init(&s->drain, loop);
    future_init(&s->closed, loop);
}

void stream_set_limit(stream_t *s, size_t limit) { s->limit = (uint32_t)limit; }

void stream_set_write_limits(stream_t *s, size_t high, size_t low)
{
    s->high = (uint32_t)high;
    s->low = (uint32_t)low;
}

static coro_t *stub(stream_t *s)
{
    coro_init(&s->co, fail_body);
    return &s->co;
}

coro_t *stream_read(stream_t *s, void *buf, size_t n)
{
    (void)buf; (void)n;
    return stub(s);
}

coro_t *stream_readexactly(stream_t *s, void *buf, size_t n)
{
    (void)buf; (void)n;
    return stub(s);
}

coro_t *stream_readline(stream_t *s) { return stub(s); }

coro_t *stream_readuntil(stream_t *s, const void *sep, size_t seplen)
{
    (void)sep; (void)seplen;
    return stub(s);
}

const char *stream_line(const stream_t *s) { (void)s; return NULL; }
size_t stream_partial(const stream_t *s) { return s->partial; }
int stream_at_eof(const stream_t *s) { (void)s; return 0; }

int stream_write(stream_t *s, const void *data, size_t n)
{
    (void)s; (void)data; (void)n;
    errno = ENOSYS;
    return -1;
}

future_t *stream_drain(stream_t *s)
{
    future_init(&s->drain, s->loop);
    future_set_error(&s->drain, ENOSYS);
    return &s->drain;
}

int stream_write_eof(stream_t *s) { (void)s; errno = ENOSYS; return -1; }

void stream_close(stream_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (!future_done(&s->closed))
        future_set_result(&s->closed, NULL);
}

void stream_abort(stream_t *s) { stream_close(s); }
future_t *stream_wait_closed(stream_t *s) { return &s->closed; }

coro_t *stream_open_connection(stream_connect_t *c, loop_t *loop,
                               const char *host, unsigned short port,
                               stream_t *out)
{
    (void)loop; (void)host; (void)port; (void)out;
    coro_init(&c->co, fail_body);
    return &c->co;
}

int stream_server_listen(stream_server_t *srv, loop_t *loop,
                         const char *host, unsigned short port, char *where)
{
    (void)srv; (void)loop; (void)host; (void)port; (void)where;
    errno = ENOSYS;
    return -1;
}

void stream_server_on_error(stream_server_t *srv, stream_server_error_cb *fn,
                            void *arg)
{
    srv->on_error = fn;
    srv->on_error_arg = arg;
}

coro_t *stream_server_serve(stream_server_t *srv, task_group_t *group,
                            coro_fn *handler, size_t frame_size, void *arg)
{
    (void)group; (void)handler; (void)frame_size; (void)arg;
    coro_init(&srv->co, fail_body);
    return &srv->co;
}

void stream_server_close(stream_server_t *srv) { (void)srv; }
