/* Exercise 01-idle-timeout: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

/**
 * @brief Echo like echo_serve(), but give up on a client that falls silent.
 *
 * Everything the client sends is echoed back, as echo_serve() does. When the
 * client sends nothing for @p idle_ms milliseconds, the call gives up on it.
 * The limit is on silence, not on the conversation: a client that keeps
 * sending is served however long it takes in total.
 *
 * @param fd a connected, blocking stream socket; the caller keeps ownership.
 * @param idle_ms the longest silence allowed, in milliseconds; > 0, and may
 *        be more than 1000.
 * @return 0 after a clean end of stream, as echo_serve(); -1 with errno
 *         ETIMEDOUT after @p idle_ms of silence (what the client sent before
 *         has been echoed); -1 with echo_serve()'s errno on other errors.
 */
int echo_serve_with_timeout(int fd, int idle_ms);

#endif
