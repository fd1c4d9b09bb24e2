/**
 * exercise.h - exercise 02-idle-timeout: the protocol your answer
 * implements, and the state it keeps per connection.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "loop.h"
#include "transport.h"

/** @brief Seconds without data after which a connection is closed. */
#define IDLE_TIMEOUT_S 10.0

/**
 * @brief One connection's state, made by idle_echo_factory() and freed by
 *        the protocol's connection_lost(). Add fields if you need more.
 */
typedef struct idle_conn {
    transport_t *transport; /**< the connection, kept by connection_made */
    loop_timer_t idle;      /**< caller storage for the idle timer
                                 (initialised by the factory) */
} idle_conn_t;

/**
 * @brief The echo protocol with an idle timeout.
 *
 * - Every byte received is written back, in order.
 * - A connection that receives nothing for IDLE_TIMEOUT_S seconds on the
 *   loop's clock is closed (transport_close(): the client reads end of
 *   file). The count starts when the connection is made and starts again
 *   at every data_received().
 * - However the connection ends (the timeout, the client closing, the
 *   client resetting it), once connection_lost() has returned the loop
 *   holds nothing of it: loop_timer_count() is back to what it was, and
 *   no callback of the loop ever runs on the freed state.
 */
extern const protocol_t idle_echo_protocol;

/**
 * @brief A new connection's state: calloc'ed, its timer initialised.
 * @param arg unused.
 * @return the state, or NULL when out of memory.
 */
void *idle_echo_factory(void *arg);

#endif
