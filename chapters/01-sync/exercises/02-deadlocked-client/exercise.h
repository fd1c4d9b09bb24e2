/* Exercise 02-deadlocked-client: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/**
 * Send @p len bytes of @p msg to an echo server over the connected, blocking
 * socket @p fd, and read the echo back into @p reply (room for @p len bytes).
 * Single-threaded and blocking. Must work for any len, including many
 * mebibytes. Returns 0 when all len bytes came back, -1 on error or if the
 * server closed early.
 */
int echo_roundtrip(int fd, const void *msg, size_t len, void *reply);

#endif
