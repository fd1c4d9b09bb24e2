/* wrong: awaits the timed read with a plain AWAIT, so the timeout error leaves the body before it reaches close() | expect: is close() reached on every way out? */
#include "exercise.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int idle_echo_body(coro_t *co)
{
    idle_echo_t *f = (idle_echo_t *)co;

    CORO_BEGIN(co);
    /* Catching forms: the socket must be closed whatever ends the loop
     * (try/finally); the error is then re-raised below. */
    for (;;) {
        if (timeout_enter(&f->limit, f->idle_s) != 0) {
            co->err = errno;
            break;
        }
        AWAIT(co, sock_recv(&f->op, f->loop, f->fd, f->buf,
                            sizeof f->buf));
        co->err = timeout_exit(&f->limit, co->err);
        if (co->err || co->in == 0)
            break;
        f->n = (size_t)(intptr_t)co->in;
        AWAIT_CATCH(co, sock_sendall(&f->op, f->loop, f->fd, f->buf, f->n));
        if (co->err)
            break;
    }
    close(f->fd);
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_END(co);
}
