/**
 * @file sock_watch.h
 * @brief A socket whose readability is watched across many waits, the
 *        selector registration kept in place between them.
 *
 * Loop thread only.
 */
#ifndef SOCK_WATCH_H
#define SOCK_WATCH_H

#include "future.h"

/**
 * @brief A socket whose readability is watched across many waits: the
 *        selector registration stays in place between them, so a
 *        connection that waits, reads, writes and waits again costs no
 *        selector call per message. Caller storage, fields private.
 *
 * sock_recv() registers the descriptor when it must wait and removes it
 * when done: two selector calls (epoll_ctl) per wait. A sock_watch_t
 * removes the registration lazily, only when readiness arrives while
 * nobody waits (so a connection busy sending stops hearing about input
 * it will not read yet). Because the loop may still be watching the
 * descriptor, close it with sock_watch_close(), never with close() alone.
 */
typedef struct sock_watch {
    future_t future;  /**< the wait in progress; finished when none is */
    loop_t *loop;     /**< the loop */
    int fd;           /**< the descriptor, non-blocking */
} sock_watch_t;

/**
 * @brief Start watching @p fd (nothing is registered until the first
 *        wait).
 * @param w caller storage.
 * @param loop the loop.
 * @param fd a non-blocking descriptor; @p w owns it from now on.
 */
void sock_watch_init(sock_watch_t *w, loop_t *loop, int fd);

/**
 * @brief Wait until the descriptor is readable, without reading and
 *        without holding a buffer. Readiness reported before this call
 *        (and not yet delivered) is dropped, so after a wake-up one read()
 *        will rarely, but may, still find nothing (EAGAIN): wait again.
 * @param w the watch, with no wait in progress.
 * @return the Future: result NULL once readable, or the error of the
 *         registration; cancelling it cancels the wait only.
 */
future_t *sock_readable(sock_watch_t *w);

/**
 * @brief Stop watching and close the descriptor.
 * @param w the watch, with no wait in progress.
 */
void sock_watch_close(sock_watch_t *w);

#endif
