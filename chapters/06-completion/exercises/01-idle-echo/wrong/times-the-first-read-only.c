/* wrong: puts the time limit on the first read only, so a client that said one thing may stay silent for ever | expect: the silence after a message must count too */
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
    /* The client must say something soon after connecting. */
    if (timeout_enter(&f->limit, f->idle_s) != 0) {
        co->err = errno;
    } else {
        AWAIT_CATCH(co, sock_recv(&f->op, f->loop, f->fd, f->buf,
                                  sizeof f->buf));
        co->err = timeout_exit(&f->limit, co->err);  /* ETIMEDOUT if late */
    }
    while (!co->err && co->in != 0) {
        f->n = (size_t)(intptr_t)co->in;
        AWAIT_CATCH(co, sock_sendall(&f->op, f->loop, f->fd, f->buf, f->n));
        if (co->err)
            break;
        AWAIT_CATCH(co, sock_recv(&f->op, f->loop, f->fd, f->buf,
                                  sizeof f->buf));
    }
    close(f->fd);
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_END(co);
}
