/**
 * @file echo.h
 * @brief The echo protocol, served the synchronous way.
 */
#ifndef ECHO_H
#define ECHO_H

/** @brief Bytes read from a client per recv() call. */
#define ECHO_CHUNK 16384

/**
 * @brief Echo everything a connected client sends until it stops sending.
 *
 * Reads a chunk, sends all of it back, repeats. When the client shuts down
 * its sending side (recv() returns 0) every byte has already gone back, so
 * this shuts down our sending side too and returns 0. Blocks for as long as
 * the client keeps the connection open: while it runs, nobody else is
 * served. That is the problem chapter 01 exists to show.
 *
 * @param fd a connected, blocking stream socket; the caller keeps ownership
 *        and closes it.
 * @return 0 after a clean end of stream; -1 with errno set if the
 *         connection failed (ECONNRESET, EPIPE, ...).
 */
int echo_serve(int fd);

#endif
