/* Exercise 02-deadlocked-client: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/**
 * @brief Send a message to an echo server and read its echo back.
 *
 * Single-threaded and blocking. Must work for any @p len, including many
 * mebibytes, and whatever sizes the server reads and echoes in.
 *
 * @param fd a connected, blocking stream socket to an echo server; the
 *        caller keeps ownership.
 * @param msg the @p len bytes to send.
 * @param len how many; may be 0.
 * @param[out] reply room for @p len bytes: the echo.
 * @return 0 when all @p len bytes came back; -1 on an error, or if the server
 *         closed the connection before the whole echo came back.
 */
int echo_roundtrip(int fd, const void *msg, size_t len, void *reply);

#endif
