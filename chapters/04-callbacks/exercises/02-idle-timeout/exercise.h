/* Exercise 02-idle-timeout: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "loop.h"
#include "transport.h"

/** Seconds without data after which a connection is closed. */
#define IDLE_TIMEOUT_S 10.0

/** One connection's state: the transport and its idle timer. */
typedef struct idle_conn {
    transport_t *transport; /**< set by connection_made */
    loop_timer_t idle;      /**< fires IDLE_TIMEOUT_S after the last data */
} idle_conn_t;

/** The echo protocol with an idle timeout. */
extern const protocol_t idle_echo_protocol;

/** A new connection's state (calloc'ed; freed by connection_lost). */
void *idle_echo_factory(void *arg);

#endif
