/* Exercise 04-idle-timeout: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "gather.h"
#include "sock.h"
#include "task.h"
#include "timeout.h"

/** The frame of one connection's coroutine (fill in loop, fd, idle_s). */
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

/** The coroutine body: YOUR PART. */
int idle_echo_body(coro_t *co);

#endif
