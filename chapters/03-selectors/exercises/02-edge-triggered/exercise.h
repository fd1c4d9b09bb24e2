/* Exercise 02-edge-triggered: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/** The most bytes one read() call may ask for. */
#define DRAIN_CHUNK 4096

/** Where the bytes read go. */
typedef struct drain_sink {
    char *data;  /**< caller's storage */
    size_t len;  /**< bytes stored so far */
    size_t cap;  /**< room in @c data */
    int eof;     /**< set when read() returned 0 */
} drain_sink_t;

/**
 * Edge-triggered epoll said @p fd (non-blocking) became readable. Append
 * what it has to @p sink, at most DRAIN_CHUNK bytes per read() call.
 * Returns 0, or -1 with errno set on a read error (or a full sink: ENOBUFS).
 */
int drain_on_readable(int fd, drain_sink_t *sink);

#endif
