/* wrong: takes the timeout for a normal end, clearing the error, so the coroutine returns as if the client had said goodbye | expect: must end the coroutine with an error (ETIMEDOUT) */
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
        AWAIT_CATCH(co, sock_recv(&f->op, f->loop, f->fd, f->buf,
                                  sizeof f->buf));
        co->err = timeout_exit(&f->limit, co->err);  /* ETIMEDOUT if late */
        if (co->err == ETIMEDOUT)
            co->err = 0;  /* the client left: a normal end */
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
