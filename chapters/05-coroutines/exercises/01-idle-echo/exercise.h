/* Exercise 01-idle-echo: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "sock.h"
#include "task.h"
#include "timeout.h"

/** The frame of one connection's coroutine; the caller fills in loop, fd
 *  and idle_s, the rest is the body's. */
typedef struct idle_echo {
    coro_t co;          /**< the head */
    loop_t *loop;       /**< the loop */
    int fd;             /**< the connection, non-blocking; closed at exit */
    double idle_s;      /**< how long the client may stay silent */
    size_t n;           /**< bytes in buf */
    io_op_t op;         /**< the read or send in progress */
    timeout_scope_t limit; /**< for timeout_enter(), if you want it */
    char buf[4096];     /**< what was read, to send back */
} idle_echo_t;

/**
 * @brief Echo what the client on @c fd sends, and drop it when it goes
 *        silent.
 *
 * Every byte received is sent back, in order. When a wait for data lasts
 * @c idle_s seconds on the loop's clock (each wait timed on its own; the
 * time spent sending back is not silence), the socket is closed and the
 * coroutine fails with ETIMEDOUT. End of input closes the socket and returns NULL;
 * any other ending (a socket error, a cancellation: ECANCELED) closes the
 * socket and fails with that error. However it ends, no timer and no
 * reader of it is left on the loop.
 *
 * @param co the frame, an idle_echo_t.
 * @return see coro.h.
 */
int idle_echo_body(coro_t *co);

#endif
