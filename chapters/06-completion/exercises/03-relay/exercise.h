/**
 * @file exercise.h
 * @brief Exercise 03-relay: two sockets joined through the proactor's
 *        buffer pool (the heart of a proxy, a port forwarder, an SSH
 *        tunnel).
 *
 * What the tests call; everything else is yours to write.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "proactor.h"

/** @brief A relay; opaque, the answer defines it. */
typedef struct relay relay_t;

/**
 * @brief The relay has ended and let go of everything: no operation of it
 *        is in the kernel, every pool buffer it took is back, and the
 *        relay_t is freed.
 * @param arg the pointer given to relay_start().
 * @param err 0 once both directions have ended normally; ECANCELED after
 *        relay_cancel(); else the errno of the first operation that failed.
 */
typedef void relay_done_fn(void *arg, int err);

/**
 * @brief Relay between the connected stream sockets @p a and @p b, both
 *        ways, until both directions have ended.
 *
 * - Every byte received on one is sent on the other, in order, none lost,
 *   none twice.
 * - The bytes travel in the proactor's pool: each direction receives with
 *   proactor_recv_pooled() and sends from that pool buffer itself (no
 *   buffer of the relay's own, no copy). A pool buffer goes back to the
 *   pool only once the kernel has sent all of its bytes.
 * - Each direction holds at most one pool buffer at a time: while the
 *   receiving side does not read, the relay stops reading the sending
 *   side (the kernel's socket buffers then push back on the sender), and
 *   an idle relay holds none.
 * - End of stream on one side, once all its bytes have been sent on: the
 *   other side is shut down for writing (shutdown(2), SHUT_WR), the
 *   other direction goes on, and the ended one starts nothing more.
 * - An operation that fails (a recv or a send) stops both directions;
 *   a stopped relay starts no operation.
 * - @p done is called exactly once, last, never from inside relay_start().
 *   The relay never closes @p a or @p b: they stay the caller's.
 *
 * @param p the loop's proactor.
 * @param a a connected stream socket.
 * @param b another.
 * @param done called once, when the relay has ended.
 * @param arg for @p done.
 * @return the relay; NULL with errno EINVAL (NULL @p p or @p done, a
 *         negative descriptor, @p a equal to @p b) or ENOMEM.
 */
relay_t *relay_start(proactor_t *p, int a, int b, relay_done_fn *done,
                     void *arg);

/**
 * @brief Stop the relay: both directions stop, and @p done(arg,
 *        ECANCELED) comes once every operation of the relay has completed
 *        (the bytes of a completion that beat the cancel are dropped).
 *        Call it at most once, and not after @p done.
 * @param r the relay.
 */
void relay_cancel(relay_t *r);

#endif
