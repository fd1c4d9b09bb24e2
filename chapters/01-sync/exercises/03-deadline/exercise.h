/* Exercise 03-deadline: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>
#include <sys/types.h>

/**
 * @brief Send a request, read one reply line, all before a deadline.
 *
 * The whole call, sending and receiving together, takes at most
 * @p deadline_ms milliseconds (plus the scheduler's slack), however the
 * server behaves: silent, slow to read, or answering one byte at a time.
 * It reads no byte past the reply's newline, so whatever the server sent
 * after it is still in the socket for the next call.
 *
 * @param fd a connected, blocking stream socket; the caller keeps ownership
 *        (its socket options may be changed).
 * @param request a NUL-terminated string, sent as it is (it normally ends
 *        with a newline); any length.
 * @param[out] reply room for @p cap bytes: the reply line without its
 *        newline, NUL-terminated.
 * @param cap the size of @p reply; at least 2.
 * @param deadline_ms the time allowed for the whole call; > 0.
 * @return the reply's length (without the newline); -1 with errno set:
 *         ETIMEDOUT when the deadline passed first; EMSGSIZE when the line
 *         does not fit in @p cap - 1 bytes (nothing is written past
 *         @p reply[cap - 1]); ECONNRESET when the server closed before a
 *         whole line came; another errno from a failed send or receive.
 *         After -1 the connection's state is unknown: close it.
 */
ssize_t ask_with_deadline(int fd, const char *request, char *reply,
                          size_t cap, int deadline_ms);

#endif
