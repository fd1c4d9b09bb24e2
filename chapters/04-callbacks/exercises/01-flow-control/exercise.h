/**
 * exercise.h - exercise 01-flow-control: the relay your answer completes.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "transport.h"

/** One side of a relay: what it receives goes out on the other side. */
typedef struct relay_side {
    transport_t *transport;   /**< this side's, set by connection_made */
    struct relay_side *other; /**< the other side; NULL once it is gone */
} relay_side_t;

/**
 * @brief The relay protocol, with flow control. Its state is a
 *        relay_side_t.
 *
 * - Bytes read on one side are written to the other, in order, none lost.
 * - While one side's peer reads nothing, the relay's write buffer towards
 *   it stays below TRANSPORT_HIGH_WATER + TRANSPORT_READ_CHUNK bytes,
 *   however much the other peer sends: the rest stays in the kernel and
 *   the sender is pushed back.
 * - Once that peer reads again, everything flows as before: no reading
 *   stays paused once the buffers have drained.
 * - When one side's connection is lost, the other is closed after it has
 *   sent what it holds.
 */
extern const protocol_t relay_protocol;

/**
 * @brief Relay two connected, non-blocking sockets through @p loop: bytes
 *        read on one are written to the other, both ways.
 * @param loop the loop.
 * @param fd_a one socket (owned from now on).
 * @param fd_b the other (owned from now on).
 * @param a set to the transport of @p fd_a.
 * @param b set to the transport of @p fd_b.
 * @return 0; -1 if out of memory (both sockets closed).
 */
int relay_start(loop_t *loop, int fd_a, int fd_b, transport_t **a,
                transport_t **b);

#endif
