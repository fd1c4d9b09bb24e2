/* Exercise 03-connect-timeout: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <sys/socket.h>

/**
 * Open a TCP connection to @p addr, giving up after @p timeout_ms
 * milliseconds instead of the minutes a plain connect() may wait.
 *
 * @param addr an IPv4 or IPv6 address and port.
 * @param len the size of @p addr.
 * @param timeout_ms the longest wait, 0 or more.
 * @return a connected stream socket, in blocking mode as socket() made
 *         it, owned by the caller; or -1 with errno set, and no descriptor
 *         left open: ETIMEDOUT when the connection was not made within
 *         @p timeout_ms; the reason the attempt failed (ECONNREFUSED when
 *         nobody listens, ENETUNREACH, ...); EINVAL for a negative
 *         @p timeout_ms; or what socket() reports.
 * @note A signal arriving during the wait does not end it early.
 */
int connect_timeout(const struct sockaddr *addr, socklen_t len,
                    int timeout_ms);

#endif
